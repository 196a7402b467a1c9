"""Frame codec: published check values, frame layout, rejection rules of docs/protocol.md section 1."""
import struct

import pytest
from cobs import cobs

from bliss.protocol.framing import (
    MAX_ENCODED, MAX_PAYLOAD, MAX_WIRE, Frame, FrameDecoder, FrameError, crc16, decode_body, encode_frame,
)


# ---- reference vectors (/work/shared/reference.md "Link-layer test vectors") -------------------------
def test_crc16_ccitt_false_check_value():
    assert crc16(b"123456789") == 0x29B1


def test_crc16_empty_is_init_value():
    # no bytes processed: the register keeps its init value 0xFFFF and xorout is 0
    assert crc16(b"") == 0xFFFF


@pytest.mark.parametrize("raw, enc", [
    (bytes.fromhex("00"), bytes.fromhex("0101")),
    (bytes.fromhex("0000"), bytes.fromhex("010101")),
    (bytes.fromhex("11220033"), bytes.fromhex("0311220233")),
])
def test_cobs_vectors(raw, enc):
    assert cobs.encode(raw) == enc
    assert cobs.decode(enc) == raw


# ---- layout ------------------------------------------------------------------------------------------
def test_frame_layout_by_hand():
    """Build the wire bytes independently from the spec text and compare."""
    payload = bytes([0x00, 0x10, 0x00])
    head = struct.pack("<BBHB", 1, 0x03, 0x1234, len(payload))  # version, type, seq (LE), len
    body = head + payload
    c = crc16(body)
    body += bytes([c >> 8, c & 0xFF])  # CRC high byte first
    want = cobs.encode(body) + b"\x00"
    assert encode_frame(1, 0x03, 0x1234, payload) == want
    assert want.count(0) == 1 and want[-1] == 0


def test_roundtrip_and_sizes():
    f = Frame(1, 0x84, 65535, bytes(range(MAX_PAYLOAD)))
    wire = f.encode()
    assert len(wire) <= MAX_WIRE == 73
    assert decode_body(wire[:-1]) == f


@pytest.mark.parametrize("kw", [dict(seq=65536), dict(seq=-1), dict(type_=256),
                                dict(payload=bytes(MAX_PAYLOAD + 1))])
def test_frame_rejects_out_of_range_fields(kw):
    args = dict(version=1, type_=1, seq=0, payload=b"")
    args.update(kw)
    with pytest.raises(ValueError):
        encode_frame(args["version"], args["type_"], args["seq"], args["payload"])


# ---- rejection rules -----------------------------------------------------------------------------------
def _body(version=1, type_=2, seq=7, payload=b"ab", length=None, crc_xor=0):
    head = struct.pack("<BBHB", version, type_, seq, len(payload) if length is None else length)
    c = crc16(head + payload) ^ crc_xor
    return head + payload + struct.pack(">H", c)


@pytest.mark.parametrize("body, reason", [
    (_body(crc_xor=0x0001), "crc"),
    (_body(length=3), "length"),
    (_body(length=1), "length"),
    (bytes(6), "short"),
])
def test_decode_body_rejects(body, reason):
    with pytest.raises(FrameError) as ei:
        decode_body(cobs.encode(body))
    assert ei.value.reason == reason


def test_decode_body_rejects_bad_cobs():
    # code byte 0x05 promises 4 data bytes but only 2 follow
    with pytest.raises(FrameError) as ei:
        decode_body(bytes([0x05, 0x01, 0x02]))
    assert ei.value.reason == "cobs"


def test_other_version_is_decoded_not_rejected():
    # the board answers NACK BAD_VERSION to a readable header, so the codec must hand it up
    f = decode_body(cobs.encode(_body(version=2)))
    assert f.version == 2


# ---- streaming decoder ---------------------------------------------------------------------------------
def test_decoder_any_chunking():
    frames = [Frame(1, t, s, bytes([s % 256]) * (s % 9)) for s, t in enumerate([1, 2, 3, 0x80, 0xA0] * 4)]
    stream = b"".join(f.encode() for f in frames)
    for size in (1, 2, 3, 7, 73, len(stream)):
        d = FrameDecoder()
        got = []
        for i in range(0, len(stream), size):
            got += d.feed(stream[i:i + size])
        assert got == frames, size
        assert d.rejected == 0 and d.accepted == len(frames)


def test_decoder_resyncs_after_garbage_and_counts():
    good = Frame(1, 2, 9, b"hi")
    d = FrameDecoder()
    out = d.feed(b"\x13\x37garbage\x00" + good.encode())
    assert out == [good]
    assert d.rejected == 1


def test_decoder_joined_mid_frame():
    good = Frame(1, 6, 1)
    wire = good.encode()
    d = FrameDecoder()
    assert d.feed(wire[3:] + wire) == [good]  # the tail of a frame is dropped, the next one accepted
    assert d.rejected == 1


def test_decoder_overlong_dropped_before_decoding_and_buffer_bounded():
    d = FrameDecoder()
    d.feed(b"\x01" * 10_000)  # no delimiter for a long time
    assert len(d._buf) <= MAX_ENCODED
    assert d.rejected_by_reason == {"too_long": 1}
    good = Frame(1, 2, 3, b"x")
    assert d.feed(b"\x01\x01\x00" + good.encode()) == [good]
    assert d.rejected == 1  # the overlong run is counted once, its tail up to 0x00 is part of it


def test_decoder_ignores_idle_delimiters():
    d = FrameDecoder()
    assert d.feed(b"\x00\x00\x00") == []
    assert d.rejected == 0
