"""Test-only protocol-v1 client for the firmware tests (tests/test_firmware_*.py); not the host codec.

Deliberately separate from bliss/protocol (the real host codec): it frames with the
`cobs` and `crc` PyPI packages, so the C firmware is checked against third-party COBS and CRC.
"""
from __future__ import annotations

import os
import select
import struct
import time

from cobs import cobs
from crc import Calculator, Crc16

CRC = Calculator(Crc16.IBM_3740)  # = CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection

HELLO, PING, MOVE, STOP, HOLD, STATUS, CONFIG, HEARTBEAT, RESET, CLEAR_FAULTS = range(1, 11)
INJECT = 0x70
ACK, NACK, HELLO_INFO, PONG, STATUS_INFO, EVENT = 0x80, 0x81, 0x82, 0x83, 0x84, 0xA0
EVT_BOOT, EVT_FAULT, EVT_WATCHDOG, EVT_MOVE_DONE = 1, 2, 3, 4


def encode(type_: int, seq: int, payload: bytes = b"", version: int = 1) -> bytes:
    body = struct.pack("<BBHB", version, type_, seq & 0xFFFF, len(payload)) + payload
    body += CRC.checksum(body).to_bytes(2, "big")
    return cobs.encode(body) + b"\x00"


def decode(frame: bytes) -> tuple[int, int, bytes]:
    body = cobs.decode(frame)
    assert CRC.checksum(body[:-2]) == int.from_bytes(body[-2:], "big"), "board sent a bad CRC"
    version, type_, seq, n = struct.unpack("<BBHB", body[:5])
    assert version == 1 and n == len(body) - 7, f"bad header {body[:5].hex()}"
    return type_, seq, body[5:-2]


class Link:
    """Raw pty link to the emulated board (not pyserial: it flushes pending input on open)."""

    def __init__(self, port: str):
        # The emulator already put the pty in raw mode; tty.setraw would flush (TCSAFLUSH) the
        # EVENT BOOT waiting in the input queue, so the mode is left alone here.
        self.fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
        self.buf = b""
        self.seq = 0
        self.events: list[tuple[int, int, int]] = []  # (event, axis, data)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def read_frame(self, timeout: float = 1.0) -> tuple[int, int, bytes] | None:
        deadline = time.monotonic() + timeout
        while b"\x00" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                self.buf += os.read(self.fd, 4096)
        frame, self.buf = self.buf.split(b"\x00", 1)
        return decode(frame)

    def read_reply(self, timeout: float = 1.0) -> tuple[int, int, bytes]:
        """Next non-EVENT frame; EVENTs on the way are kept in self.events."""
        deadline = time.monotonic() + timeout
        while True:
            f = self.read_frame(max(0.0, deadline - time.monotonic()))
            assert f is not None, "no reply from the board"
            if f[0] == EVENT:
                self.events.append(struct.unpack("<BBH", f[2]))
                continue
            return f

    def wait_event(self, event: int, timeout: float = 2.0) -> tuple[int, int, int]:
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e[0] == event:
                    self.events.remove(e)
                    return e
            f = self.read_frame(max(0.0, deadline - time.monotonic()))
            assert f is not None, f"no EVENT {event} within {timeout} s (events: {self.events})"
            if f[0] == EVENT:
                self.events.append(struct.unpack("<BBH", f[2]))

    def hello_until_answered(self, wait_s: float = 20.0) -> tuple[int, bytes] | None:
        """Resend one HELLO frame (same seq, after a resynchronising 0x00; the board answers a repeat
        from its stored reply) every second until the board answers it: (type, payload), or None after
        ``wait_s`` [s]. QEMU starts slowly on a busy machine; the first frame goes out at once on
        purpose (a host talking during boot must be heard)."""
        self.seq = (self.seq + 1) & 0xFFFF
        frame = b"\x00" + encode(HELLO, self.seq, b"")
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            self.write(frame)
            try:
                rtype, rseq, payload = self.read_reply(timeout=1.0)
            except AssertionError:  # no reply within the second
                continue
            if rseq == self.seq:
                return rtype, payload
        return None

    def command(self, type_: int, payload: bytes = b"", timeout: float = 1.0) -> tuple[int, bytes]:
        self.seq = (self.seq + 1) & 0xFFFF
        self.write(encode(type_, self.seq, payload))
        rtype, rseq, rpayload = self.read_reply(timeout)
        assert rseq == self.seq, f"reply seq {rseq} != command seq {self.seq}"
        return rtype, rpayload

    def status(self) -> dict:
        t, p = self.command(STATUS)
        assert t == STATUS_INFO
        uptime, boot_id, rx_bad, flags, n = struct.unpack("<IHHBB", p[:10])
        axes = [struct.unpack("<iiBB", p[10 + 10 * i: 20 + 10 * i]) for i in range(n)]
        return {"uptime_ms": uptime, "boot_id": boot_id, "rx_bad": rx_bad, "flags": flags,
                "axes": [dict(zip(("position", "target", "state", "faults"), a)) for a in axes]}
