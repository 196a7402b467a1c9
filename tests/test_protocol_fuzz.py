"""Property tests: the streaming decoder survives random and mutated byte streams.

Claims checked: no exception and bounded work on any input; a frame whose body was corrupted is rejected
and counted (single-bit errors are always caught by CRC-16/CCITT-FALSE, which detects every error
burst of up to 16 bits); after a 0x00 the next good frame is accepted, whatever came before.
"""
from hypothesis import given, settings, strategies as st
from cobs import cobs

from bliss.protocol.framing import MAX_ENCODED, MAX_PAYLOAD, Frame, FrameDecoder

frames_st = st.builds(Frame, st.just(1), st.integers(0, 255), st.integers(0, 65535),
                      st.binary(max_size=MAX_PAYLOAD))
chunking = st.lists(st.integers(1, 100), min_size=1, max_size=20)


def feed_chunked(dec, data, sizes):
    out, i, k = [], 0, 0
    while i < len(data):
        n = sizes[k % len(sizes)]
        out += dec.feed(data[i:i + n])
        i, k = i + n, k + 1
    return out


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4000), chunking)
def test_random_bytes_never_crash_and_buffer_stays_bounded(data, sizes):
    dec = FrameDecoder()
    got = feed_chunked(dec, data, sizes)
    assert len(dec._buf) <= MAX_ENCODED
    for f in got:  # anything accepted re-encodes to a valid frame
        assert f.encode()[:-1] in data
    # and after the junk, a delimiter plus a good frame always gets through
    good = Frame(1, 0x83, 77, b"ok")
    assert dec.feed(b"\x00" + good.encode()) == [good]


@settings(max_examples=300, deadline=None)
@given(st.lists(frames_st, min_size=1, max_size=8), st.data())
def test_single_bit_flip_in_body_is_rejected_and_counted(frames, data):
    victim = data.draw(st.integers(0, len(frames) - 1))
    body = bytearray(frames[victim].body())
    bit = data.draw(st.integers(0, len(body) * 8 - 1))
    body[bit // 8] ^= 1 << (bit % 8)
    wires = [f.encode() for f in frames]
    wires[victim] = cobs.encode(bytes(body)) + b"\x00"
    dec = FrameDecoder()
    got = feed_chunked(dec, b"".join(wires), data.draw(chunking))
    assert got == frames[:victim] + frames[victim + 1:]
    assert dec.rejected == 1 and dec.accepted == len(frames) - 1


@settings(max_examples=300, deadline=None)
@given(st.lists(frames_st, min_size=2, max_size=6), st.data())
def test_wire_level_mutations_lose_at_most_the_touched_frames(frames, data):
    frames = [Frame(f.version, f.type, i, f.payload) for i, f in enumerate(frames)]  # all distinct
    wires = [bytearray(f.encode()) for f in frames]
    victim = data.draw(st.integers(0, len(frames) - 2))
    w = wires[victim]
    kind = data.draw(st.sampled_from(["flip", "drop", "insert", "zero", "truncate", "garbage"]))
    pos = data.draw(st.integers(0, len(w) - 2))  # never touch the victim's own delimiter
    if kind == "flip":
        w[pos] ^= data.draw(st.integers(1, 255))
    elif kind == "drop":
        del w[pos]
    elif kind == "insert":
        w.insert(pos, data.draw(st.integers(1, 255)))
    elif kind == "zero":
        w[pos] = 0
    elif kind == "truncate":
        del w[max(pos, 1):-1]  # keep >= 1 byte: an empty chunk is idle fill, not a frame
    else:
        w[pos:pos] = data.draw(st.binary(min_size=1, max_size=300))
    dec = FrameDecoder()
    got = feed_chunked(dec, b"".join(bytes(x) for x in wires), data.draw(chunking))
    # every frame not touched arrives, in order; the touched one is either rejected (and counted) or,
    # for a mutation that cancels out (e.g. a garbage run with its own 0x00), nothing false gets in
    others = frames[:victim] + frames[victim + 1:]
    assert [f for f in got if f != frames[victim]] == others
    assert all(f in frames for f in got)
    assert dec.rejected >= (1 if frames[victim] not in got else 0)
