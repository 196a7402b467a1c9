"""Messages: every type round-trips, payload layouts match docs/protocol.md section 2 byte for byte."""
import struct

import pytest
from hypothesis import given, settings, strategies as st

from bliss.protocol import messages as m
from bliss.protocol.framing import FrameDecoder

AXES3 = tuple(m.AxisConfig(-2800 + k, 2800 - k, 1000 + k) for k in range(3))
STAT3 = tuple(m.AxisStatus(-5 + k, 100 * k, int(m.AxisState.ENABLED), k) for k in range(3))

EXAMPLES = [
    m.Hello(), m.Ping(b""), m.Ping(bytes(range(32))), m.Move(1, -2800, 20000), m.Stop(), m.Stop(2),
    m.Hold(0xFF), m.Status(), m.Config(2, 100, -10, 10), m.Heartbeat(), m.Reset(), m.ClearFaults(1),
    m.Inject(m.InjectKind.STALL, 0, 50), m.Ack(m.MsgType.MOVE), m.Nack(m.MsgType.MOVE, m.ErrorCode.SOFT_LIMIT),
    m.HelloInfo(1, 2, 3, 1, 3, 0xBEEF, AXES3), m.Pong(b"\x00\x00x"),
    m.StatusInfo(123456, 0xBEEF, 7, 3, 3, STAT3), m.Event(m.EventKind.MOVE_DONE, 0, 0xFFFF),
]


def test_every_message_type_has_an_example():
    assert {type(x).TYPE for x in EXAMPLES} == set(m.MESSAGE_CLASSES)


@pytest.mark.parametrize("msg", EXAMPLES, ids=lambda x: type(x).__name__)
def test_roundtrip_through_the_wire(msg):
    frame = m.encode_message(msg, seq=4242)
    got = FrameDecoder().feed(frame.encode())
    assert len(got) == 1 and got[0].seq == 4242 and got[0].version == m.PROTO_VERSION
    assert m.decode_frame(got[0]) == msg


# Layouts written out independently of the dataclasses' own formats.
@pytest.mark.parametrize("msg, raw", [
    (m.Move(1, -2, 1000), bytes([1]) + (-2).to_bytes(4, "little", signed=True) + (1000).to_bytes(2, "little")),
    (m.Config(0, 0x1234, -1, 2), b"\x00\x34\x12" + b"\xff\xff\xff\xff" + b"\x02\x00\x00\x00"),
    (m.Inject(1, 2, 0x0102), b"\x01\x02\x02\x01"),
    (m.Nack(3, 5), b"\x03\x05"),
    (m.Event(1, 0, 0xABCD), b"\x01\x00\xcd\xab"),
    (m.HelloInfo(1, 2, 3, 1, 1, 0x0102, (m.AxisConfig(-1, 1, 1000),)),
     bytes([1, 2, 3, 1, 1, 2, 1]) + struct.pack("<iiH", -1, 1, 1000)),
    (m.StatusInfo(0x01020304, 0x0506, 0x0708, 0x02, 1, (m.AxisStatus(-3, 4, 5, 6),)),
     bytes([4, 3, 2, 1, 6, 5, 8, 7, 2, 1]) + struct.pack("<iiBB", -3, 4, 5, 6)),
])
def test_payload_layout(msg, raw):
    assert msg.to_payload() == raw
    assert type(msg).from_payload(raw) == msg


def test_largest_messages_fit_max_payload():
    # HELLO_INFO and STATUS_INFO with 3 axes are the largest payloads of version 1
    assert len(m.HelloInfo(0, 0, 0, 1, 3, 0, AXES3).to_payload()) == 7 + 3 * 10 <= m.MAX_PAYLOAD
    assert len(m.StatusInfo(0, 0, 0, 0, 3, STAT3).to_payload()) == 10 + 3 * 10 <= m.MAX_PAYLOAD


@pytest.mark.parametrize("cls, payload", [
    (m.Move, b"\x00" * 6), (m.Stop, b""), (m.Ack, b"\x01\x02"), (m.Hello, b"\x00"),
    (m.Ping, bytes(33)), (m.HelloInfo, bytes([1, 0, 0, 1, 3, 0, 0])),  # 3 axes announced, none sent
    (m.StatusInfo, bytes(9)),
])
def test_wrong_length_rejected(cls, payload):
    with pytest.raises(m.MessageError):
        cls.from_payload(payload)


@pytest.mark.parametrize("msg", [m.Move(256, 0, 0), m.Move(0, 2**31, 0), m.Move(0, 0, 70000),
                                 m.Ping(bytes(33))])
def test_out_of_range_fields_refused_on_encode(msg):
    with pytest.raises(m.MessageError):
        msg.to_payload()


def test_unknown_type():
    with pytest.raises(m.MessageError, match="0x55"):
        m.decode_message(0x55, b"")


def test_constants_match_the_document():
    assert (m.PROTO_VERSION, m.MAX_PAYLOAD, m.RATE_MIN, m.RATE_MAX) == (1, 64, 100, 20_000)
    # HARD_LIMIT is 10 mm / 3.5 um per step, rounded down (docs/protocol.md section 3)
    assert m.HARD_LIMIT == int(10e-3 / 3.5e-6)
    assert m.DEFAULT_SOFT_LIMIT < m.HARD_LIMIT
    assert m.HEARTBEAT_PERIOD_S < m.WATCHDOG_TIMEOUT_S / 2


i32 = st.integers(-2**31, 2**31 - 1)
u8, u16 = st.integers(0, 255), st.integers(0, 65535)


@settings(max_examples=150, deadline=None)
@given(st.one_of(
    st.builds(m.Move, u8, i32, u16), st.builds(m.Config, u8, u16, i32, i32),
    st.builds(m.Inject, u8, u8, u16), st.builds(m.Event, u8, u8, u16), st.builds(m.Nack, u8, u8),
    st.builds(m.Ping, st.binary(max_size=32)),
    st.integers(0, 4).flatmap(lambda n: st.builds(
        m.StatusInfo, st.integers(0, 2**32 - 1), u16, u16, u8, st.just(n),
        st.lists(st.builds(m.AxisStatus, i32, i32, u8, u8), min_size=n, max_size=n).map(tuple))),
    st.integers(0, 5).flatmap(lambda n: st.builds(
        m.HelloInfo, u8, u8, u8, u8, u8.map(lambda _: n), u16,
        st.lists(st.builds(m.AxisConfig, i32, i32, u16), min_size=n, max_size=n).map(tuple))),
), u16)
def test_property_roundtrip(msg, seq):
    frame = m.encode_message(msg, seq)
    (got,) = FrameDecoder().feed(frame.encode())
    assert got.seq == seq and m.decode_frame(got) == msg
