"""Link layer of the actuator-board protocol (docs/protocol.md section 1, version 1).

wire = COBS(body) 0x00, body = header(5) | payload(len) | crc16(2, big-endian),
header = version u8 | type u8 | seq u16 (little-endian) | len u8.

COBS comes from the ``cobs`` package (Cheshire & Baker 1999), the CRC-16/CCITT-FALSE from the ``crc``
package. Everything here is pure Python on ``bytes``: no serial port, no threads.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

import crc as _crc
from cobs import cobs as _cobs

__all__ = [
    "HEADER_SIZE", "CRC_SIZE", "MAX_PAYLOAD", "MAX_BODY", "MAX_ENCODED", "MAX_WIRE", "MIN_BODY",
    "DELIMITER", "FrameError", "Frame", "crc16", "encode_frame", "decode_body", "FrameDecoder",
]

#: Header bytes: version u8, type u8, seq u16, len u8 (docs/protocol.md section 1).
HEADER_SIZE = 5
#: CRC bytes at the end of the body, big-endian (docs/protocol.md section 1).
CRC_SIZE = 2
#: Largest payload in bytes (docs/protocol.md section 3, ``MAX_PAYLOAD``).
MAX_PAYLOAD = 64
#: Smallest valid body: header + CRC, no payload (docs/protocol.md "shorter than 7 bytes").
MIN_BODY = HEADER_SIZE + CRC_SIZE
#: Largest body: 5 + 64 + 2 = 71 bytes.
MAX_BODY = HEADER_SIZE + MAX_PAYLOAD + CRC_SIZE
#: Largest COBS-encoded body (COBS adds one byte per started 254-byte block): 72 bytes.
MAX_ENCODED = MAX_BODY + 1
#: Largest frame on the wire, with its 0x00 delimiter: 73 bytes (docs/protocol.md section 1).
MAX_WIRE = MAX_ENCODED + 1
#: Frame delimiter byte.
DELIMITER = b"\x00"

_HEADER = struct.Struct("<BBHB")
_CRC = struct.Struct(">H")

# CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, xorout 0 (docs/protocol.md section 1);
# the crc package calls this parameter set IBM_3740, we spell the parameters out so the intent is plain.
_CCITT_FALSE = _crc.Configuration(
    width=16, polynomial=0x1021, init_value=0xFFFF, final_xor_value=0x0000,
    reverse_input=False, reverse_output=False,
)
_CRC_CALC = _crc.Calculator(_CCITT_FALSE, optimized=True)


class FrameError(ValueError):
    """A received frame is malformed; ``reason`` is a short machine-readable tag."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Frame:
    """One decoded frame: header fields and the raw payload (message decoding is in ``messages``)."""

    version: int
    type: int
    seq: int
    payload: bytes = b""

    def __post_init__(self):
        if not 0 <= self.version <= 0xFF:
            raise ValueError(f"frame version {self.version} does not fit in u8")
        if not 0 <= self.type <= 0xFF:
            raise ValueError(f"frame type {self.type} does not fit in u8")
        if not 0 <= self.seq <= 0xFFFF:
            raise ValueError(f"frame seq {self.seq} does not fit in u16 (0..65535)")
        if len(self.payload) > MAX_PAYLOAD:
            raise ValueError(f"payload of {len(self.payload)} bytes exceeds MAX_PAYLOAD={MAX_PAYLOAD}")

    def body(self) -> bytes:
        """Header + payload + CRC (before COBS)."""
        head = _HEADER.pack(self.version, self.type, self.seq, len(self.payload)) + bytes(self.payload)
        return head + _CRC.pack(crc16(head))

    def encode(self) -> bytes:
        """The frame as sent on the wire: COBS(body) followed by the 0x00 delimiter."""
        return _cobs.encode(self.body()) + DELIMITER


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of ``data`` (check value ``crc16(b"123456789") == 0x29B1``)."""
    return _CRC_CALC.checksum(bytes(data))


def encode_frame(version: int, type_: int, seq: int, payload: bytes = b"") -> bytes:
    """Wire bytes (with trailing 0x00) of one frame."""
    return Frame(version, type_, seq, bytes(payload)).encode()


def decode_body(encoded: bytes) -> Frame:
    """Decode one COBS-encoded body (without its 0x00 delimiter) into a :class:`Frame`.

    Raises :class:`FrameError` (reason ``too_long``, ``cobs``, ``short``, ``length`` or ``crc``).
    The header version is *not* checked here: a reader decides what to do with other versions.
    """
    if len(encoded) > MAX_ENCODED:
        raise FrameError("too_long", f"encoded frame of {len(encoded)} bytes exceeds {MAX_ENCODED}")
    try:
        body = _cobs.decode(bytes(encoded))
    except _cobs.DecodeError as exc:
        raise FrameError("cobs", f"COBS decoding failed: {exc}") from None
    if len(body) < MIN_BODY:
        raise FrameError("short", f"frame body of {len(body)} bytes is shorter than {MIN_BODY}")
    version, type_, seq, length = _HEADER.unpack_from(body)
    if length > MAX_PAYLOAD or HEADER_SIZE + length + CRC_SIZE != len(body):
        raise FrameError("length", f"header len={length} disagrees with a body of {len(body)} bytes")
    (sent,) = _CRC.unpack_from(body, len(body) - CRC_SIZE)
    calc = crc16(body[:-CRC_SIZE])
    if sent != calc:
        raise FrameError("crc", f"CRC mismatch: frame says 0x{sent:04X}, computed 0x{calc:04X}")
    return Frame(version, type_, seq, body[HEADER_SIZE:HEADER_SIZE + length])


@dataclass
class FrameDecoder:
    """Streaming receiver: feed it bytes in any chunking, get whole frames back.

    Bytes accumulate until a 0x00 delimiter. A chunk longer than a frame can be is dropped as soon as it
    is seen (the buffer never grows past :data:`MAX_ENCODED` bytes) and the decoder discards everything
    up to the next 0x00, so it resynchronises on the frame after it. Every rejected frame is counted in
    ``rejected`` and, by reason, in ``rejected_by_reason``; empty chunks (two delimiters in a row, idle
    line fill) are ignored and not counted.
    """

    accepted: int = 0
    rejected: int = 0
    rejected_by_reason: dict = field(default_factory=dict)
    _buf: bytearray = field(default_factory=bytearray, repr=False)
    _discarding: bool = field(default=False, repr=False)

    def _reject(self, reason: str) -> None:
        self.rejected += 1
        self.rejected_by_reason[reason] = self.rejected_by_reason.get(reason, 0) + 1

    def feed(self, data: bytes) -> list[Frame]:
        """Consume ``data``; return the frames completed by it (possibly none), oldest first."""
        frames: list[Frame] = []
        start = 0
        data = bytes(data)
        n = len(data)
        while start < n:
            end = data.find(0, start)
            chunk = data[start:] if end < 0 else data[start:end]
            if not self._discarding:
                if len(self._buf) + len(chunk) > MAX_ENCODED:
                    self._buf.clear()
                    self._discarding = True
                    self._reject("too_long")
                else:
                    self._buf += chunk
            if end < 0:
                break
            # delimiter reached: a complete candidate frame (unless we were discarding)
            if self._discarding:
                self._discarding = False
            elif self._buf:
                try:
                    frames.append(decode_body(self._buf))
                    self.accepted += 1
                except FrameError as exc:
                    self._reject(exc.reason)
                self._buf.clear()
            start = end + 1
        return frames

    def reset(self) -> None:
        """Forget any partial frame (the counters are kept)."""
        self._buf.clear()
        self._discarding = False
