"""Messages of the actuator-board protocol, version 1 (docs/protocol.md sections 2-4).

Every message is a frozen dataclass with ``TYPE`` (its :class:`MsgType`), ``to_payload()`` and a
``from_payload(bytes)`` classmethod. :func:`encode_message` / :func:`decode_message` go between a message
and a :class:`~bliss.protocol.framing.Frame`. All multi-byte integers are little-endian.
"""
from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field, fields
from typing import ClassVar

from .framing import MAX_PAYLOAD, Frame

__all__ = [
    "PROTO_VERSION", "MAX_PAYLOAD", "RATE_MIN", "RATE_MAX", "DEFAULT_DRIVE_HZ", "HARD_LIMIT",
    "DEFAULT_SOFT_LIMIT", "STALL_CYCLES", "HEARTBEAT_PERIOD_S", "WATCHDOG_TIMEOUT_S",
    "COMMAND_TIMEOUT_S", "COMMAND_RETRIES", "BOOT_ANNOUNCE_S", "UART_BAUD", "ALL_AXES", "N_AXES",
    "MsgType", "ErrorCode", "InjectKind", "EventKind", "AxisState", "AxisFault", "BoardFlag",
    "MessageError", "Hello", "Ping", "Move", "Stop", "Hold", "Status", "Config", "Heartbeat", "Reset",
    "ClearFaults", "Inject", "Ack", "Nack", "AxisConfig", "HelloInfo", "Pong", "AxisStatus",
    "StatusInfo", "Event", "MESSAGE_CLASSES", "COMMAND_TYPES", "encode_message", "decode_message",
    "decode_frame",
]

# ---- constants (docs/protocol.md) -------------------------------------------------------------------
#: Protocol version carried in every header (section 5).
PROTO_VERSION = 1
#: Drive-rate range in Hz: inchworm phase drive 0.1-20 kHz (section 3; Rauf et al., JMEMS 31(1), 2022).
RATE_MIN = 100
RATE_MAX = 20_000
#: Default drive rate, Hz (about 3.5 mm/s of shuttle travel, section 3).
DEFAULT_DRIVE_HZ = 1_000
#: Hard travel limit, steps: +-10 mm payload offset / 3.5 um per step (section 3).
HARD_LIMIT = 2_857
#: Default soft limits, steps (+-, section 3).
DEFAULT_SOFT_LIMIT = 2_800
#: Commanded cycles without travel before STALL/STUCK is flagged (section 3).
STALL_CYCLES = 50
#: Host heartbeat period while connected, s (section 4).
HEARTBEAT_PERIOD_S = 0.200
#: Board watchdog timeout without a valid host frame, s (section 4).
WATCHDOG_TIMEOUT_S = 1.000
#: Host reply timeout before resending the same frame, s (section 4).
COMMAND_TIMEOUT_S = 0.250
#: Resends of the same frame after the first try (section 4).
COMMAND_RETRIES = 3
#: The board announces EVENT BOOT within this time of starting, s (section 4).
BOOT_ANNOUNCE_S = 0.100
#: UART speed, baud, 8N1 (section 4; ignored on USB CDC-ACM and ptys).
UART_BAUD = 115_200
#: Axis code for "all axes" (section 2).
ALL_AXES = 0xFF
#: Axes of the BLISS board: 0 payload X, 1 payload Y, 2 roll vane (section 2).
N_AXES = 3


class MsgType(enum.IntEnum):
    HELLO = 0x01
    PING = 0x02
    MOVE = 0x03
    STOP = 0x04
    HOLD = 0x05
    STATUS = 0x06
    CONFIG = 0x07
    HEARTBEAT = 0x08
    RESET = 0x09
    CLEAR_FAULTS = 0x0A
    INJECT = 0x70
    ACK = 0x80
    NACK = 0x81
    HELLO_INFO = 0x82
    PONG = 0x83
    STATUS_INFO = 0x84
    EVENT = 0xA0


class ErrorCode(enum.IntEnum):
    BAD_VERSION = 1
    UNKNOWN_TYPE = 2
    BAD_LENGTH = 3
    BAD_AXIS = 4
    SOFT_LIMIT = 5
    BAD_RATE = 6
    AXIS_FAULT = 7
    BUSY = 8
    BAD_ARG = 9


class InjectKind(enum.IntEnum):
    CLEAR = 0
    STUCK = 1
    STALL = 2
    RESET = 3
    MISS = 4


class EventKind(enum.IntEnum):
    BOOT = 1
    FAULT = 2
    WATCHDOG = 3
    MOVE_DONE = 4


class AxisState(enum.IntFlag):
    MOVING = 0x01
    HOLDING = 0x02
    ENABLED = 0x04


class AxisFault(enum.IntFlag):
    STALL = 0x01
    STUCK = 0x02
    WATCHDOG = 0x04
    LIMIT = 0x08
    MISSED = 0x10


class BoardFlag(enum.IntFlag):
    WATCHDOG_TRIPPED = 0x01
    EMULATED = 0x02


class MessageError(ValueError):
    """A payload does not match its message type (wrong length, unknown type, value out of range)."""


def _enum_or_int(enum_cls, value: int):
    try:
        return enum_cls(value)
    except ValueError:
        return value


# ---- message base ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Msg:
    TYPE: ClassVar[MsgType]
    _FMT: ClassVar[struct.Struct] = struct.Struct("<")

    def to_payload(self) -> bytes:
        try:
            return self._FMT.pack(*(getattr(self, f.name) for f in fields(self)))
        except struct.error as exc:
            raise MessageError(f"{self.TYPE.name}: field out of range ({exc})") from None

    @classmethod
    def from_payload(cls, payload: bytes):
        if len(payload) != cls._FMT.size:
            raise MessageError(
                f"{cls.TYPE.name} payload must be {cls._FMT.size} bytes, got {len(payload)}")
        return cls(*cls._FMT.unpack(payload))


# ---- host -> board ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hello(_Msg):
    TYPE: ClassVar[MsgType] = MsgType.HELLO


@dataclass(frozen=True)
class Ping(_Msg):
    """PING with 0-32 bytes echoed back in PONG."""
    TYPE: ClassVar[MsgType] = MsgType.PING
    MAX_DATA: ClassVar[int] = 32
    data: bytes = b""

    def to_payload(self) -> bytes:
        if len(self.data) > self.MAX_DATA:
            raise MessageError(f"PING carries at most {self.MAX_DATA} bytes, got {len(self.data)}")
        return bytes(self.data)

    @classmethod
    def from_payload(cls, payload: bytes):
        if len(payload) > cls.MAX_DATA:
            raise MessageError(f"PING carries at most {cls.MAX_DATA} bytes, got {len(payload)}")
        return cls(bytes(payload))


@dataclass(frozen=True)
class Move(_Msg):
    TYPE: ClassVar[MsgType] = MsgType.MOVE
    _FMT: ClassVar[struct.Struct] = struct.Struct("<BiH")
    axis: int
    target: int  # steps
    rate: int = 0  # Hz; 0 = the axis's configured drive_hz


@dataclass(frozen=True)
class Stop(_Msg):
    TYPE: ClassVar[MsgType] = MsgType.STOP
    _FMT: ClassVar[struct.Struct] = struct.Struct("<B")
    axis: int = ALL_AXES


@dataclass(frozen=True)
class Hold(_Msg):
    TYPE: ClassVar[MsgType] = MsgType.HOLD
    _FMT: ClassVar[struct.Struct] = struct.Struct("<B")
    axis: int = ALL_AXES


@dataclass(frozen=True)
class Status(_Msg):
    TYPE: ClassVar[MsgType] = MsgType.STATUS


@dataclass(frozen=True)
class Config(_Msg):
    TYPE: ClassVar[MsgType] = MsgType.CONFIG
    _FMT: ClassVar[struct.Struct] = struct.Struct("<BHii")
    axis: int
    drive_hz: int
    soft_min: int
    soft_max: int


@dataclass(frozen=True)
class Heartbeat(_Msg):
    TYPE: ClassVar[MsgType] = MsgType.HEARTBEAT


@dataclass(frozen=True)
class Reset(_Msg):
    TYPE: ClassVar[MsgType] = MsgType.RESET


@dataclass(frozen=True)
class ClearFaults(_Msg):
    TYPE: ClassVar[MsgType] = MsgType.CLEAR_FAULTS
    _FMT: ClassVar[struct.Struct] = struct.Struct("<B")
    axis: int = ALL_AXES


@dataclass(frozen=True)
class Inject(_Msg):
    TYPE: ClassVar[MsgType] = MsgType.INJECT
    _FMT: ClassVar[struct.Struct] = struct.Struct("<BBH")
    kind: int
    axis: int
    param: int = 0


# ---- board -> host ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ack(_Msg):
    TYPE: ClassVar[MsgType] = MsgType.ACK
    _FMT: ClassVar[struct.Struct] = struct.Struct("<B")
    cmd_type: int


@dataclass(frozen=True)
class Nack(_Msg):
    TYPE: ClassVar[MsgType] = MsgType.NACK
    _FMT: ClassVar[struct.Struct] = struct.Struct("<BB")
    cmd_type: int
    error: int

    def describe(self) -> str:
        cmd = _enum_or_int(MsgType, self.cmd_type)
        err = _enum_or_int(ErrorCode, self.error)
        cmd_s = cmd.name if isinstance(cmd, MsgType) else f"type 0x{self.cmd_type:02X}"
        err_s = err.name if isinstance(err, ErrorCode) else f"error {self.error}"
        return f"{cmd_s} refused: {err_s}"


@dataclass(frozen=True)
class AxisConfig:
    """Per-axis part of HELLO_INFO."""
    soft_min: int
    soft_max: int
    drive_hz: int


_AXIS_CONFIG = struct.Struct("<iiH")
_AXIS_STATUS = struct.Struct("<iiBB")


def _parse_axes(cls, rec: struct.Struct, payload: bytes, offset: int, n_axes: int, what: str):
    want = offset + n_axes * rec.size
    if len(payload) != want:
        raise MessageError(f"{what} with n_axes={n_axes} must be {want} bytes, got {len(payload)}")
    return tuple(cls(*rec.unpack_from(payload, offset + k * rec.size)) for k in range(n_axes))


@dataclass(frozen=True)
class HelloInfo(_Msg):
    TYPE: ClassVar[MsgType] = MsgType.HELLO_INFO
    _HEAD: ClassVar[struct.Struct] = struct.Struct("<BBBBBH")
    fw_major: int
    fw_minor: int
    fw_patch: int
    proto: int
    n_axes: int
    boot_id: int
    axes: tuple = field(default_factory=tuple)

    @property
    def fw_version(self) -> str:
        return f"{self.fw_major}.{self.fw_minor}.{self.fw_patch}"

    def to_payload(self) -> bytes:
        if len(self.axes) != self.n_axes:
            raise MessageError(f"HELLO_INFO n_axes={self.n_axes} but {len(self.axes)} axis records")
        try:
            out = self._HEAD.pack(self.fw_major, self.fw_minor, self.fw_patch, self.proto, self.n_axes,
                                  self.boot_id)
            out += b"".join(_AXIS_CONFIG.pack(a.soft_min, a.soft_max, a.drive_hz) for a in self.axes)
        except struct.error as exc:
            raise MessageError(f"HELLO_INFO: field out of range ({exc})") from None
        if len(out) > MAX_PAYLOAD:
            raise MessageError(f"HELLO_INFO of {len(out)} bytes exceeds MAX_PAYLOAD={MAX_PAYLOAD}")
        return out

    @classmethod
    def from_payload(cls, payload: bytes):
        if len(payload) < cls._HEAD.size:
            raise MessageError(f"HELLO_INFO must be at least {cls._HEAD.size} bytes, got {len(payload)}")
        head = cls._HEAD.unpack_from(payload)
        axes = _parse_axes(AxisConfig, _AXIS_CONFIG, payload, cls._HEAD.size, head[4], "HELLO_INFO")
        return cls(*head, axes=axes)


@dataclass(frozen=True)
class Pong(Ping):
    TYPE: ClassVar[MsgType] = MsgType.PONG


@dataclass(frozen=True)
class AxisStatus:
    """Per-axis part of STATUS_INFO."""
    position: int
    target: int
    state: int
    faults: int

    @property
    def moving(self) -> bool:
        return bool(self.state & AxisState.MOVING)

    @property
    def holding(self) -> bool:
        return bool(self.state & AxisState.HOLDING)

    @property
    def enabled(self) -> bool:
        return bool(self.state & AxisState.ENABLED)

    def fault_names(self) -> list[str]:
        return [f.name for f in AxisFault if self.faults & f]

    def state_names(self) -> list[str]:
        return [s.name for s in AxisState if self.state & s]


@dataclass(frozen=True)
class StatusInfo(_Msg):
    TYPE: ClassVar[MsgType] = MsgType.STATUS_INFO
    _HEAD: ClassVar[struct.Struct] = struct.Struct("<IHHBB")
    uptime_ms: int
    boot_id: int
    rx_bad: int
    board_flags: int
    n_axes: int
    axes: tuple = field(default_factory=tuple)

    @property
    def watchdog_tripped(self) -> bool:
        return bool(self.board_flags & BoardFlag.WATCHDOG_TRIPPED)

    @property
    def emulated(self) -> bool:
        return bool(self.board_flags & BoardFlag.EMULATED)

    def to_payload(self) -> bytes:
        if len(self.axes) != self.n_axes:
            raise MessageError(f"STATUS_INFO n_axes={self.n_axes} but {len(self.axes)} axis records")
        try:
            out = self._HEAD.pack(self.uptime_ms, self.boot_id, self.rx_bad, self.board_flags,
                                  self.n_axes)
            out += b"".join(_AXIS_STATUS.pack(a.position, a.target, a.state, a.faults)
                            for a in self.axes)
        except struct.error as exc:
            raise MessageError(f"STATUS_INFO: field out of range ({exc})") from None
        if len(out) > MAX_PAYLOAD:
            raise MessageError(f"STATUS_INFO of {len(out)} bytes exceeds MAX_PAYLOAD={MAX_PAYLOAD}")
        return out

    @classmethod
    def from_payload(cls, payload: bytes):
        if len(payload) < cls._HEAD.size:
            raise MessageError(f"STATUS_INFO must be at least {cls._HEAD.size} bytes, got {len(payload)}")
        head = cls._HEAD.unpack_from(payload)
        axes = _parse_axes(AxisStatus, _AXIS_STATUS, payload, cls._HEAD.size, head[4], "STATUS_INFO")
        return cls(*head, axes=axes)


@dataclass(frozen=True)
class Event(_Msg):
    TYPE: ClassVar[MsgType] = MsgType.EVENT
    _FMT: ClassVar[struct.Struct] = struct.Struct("<BBH")
    event: int
    axis: int
    data: int


MESSAGE_CLASSES: dict[int, type] = {cls.TYPE: cls for cls in (
    Hello, Ping, Move, Stop, Hold, Status, Config, Heartbeat, Reset, ClearFaults, Inject,
    Ack, Nack, HelloInfo, Pong, StatusInfo, Event)}

#: Host-to-board command types.
COMMAND_TYPES = frozenset(t for t in MESSAGE_CLASSES if t < 0x80)


def encode_message(msg, seq: int, version: int = PROTO_VERSION) -> Frame:
    """The :class:`Frame` carrying ``msg`` with sequence number ``seq``."""
    return Frame(version, int(msg.TYPE), seq, msg.to_payload())


def decode_message(type_: int, payload: bytes):
    """Message object for a (type, payload) pair; :class:`MessageError` when they do not fit."""
    cls = MESSAGE_CLASSES.get(type_)
    if cls is None:
        raise MessageError(f"unknown message type 0x{type_:02X}")
    return cls.from_payload(bytes(payload))


def decode_frame(frame: Frame):
    """Message object carried by ``frame`` (the header version is not checked here)."""
    return decode_message(frame.type, frame.payload)
