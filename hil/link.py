"""Serial link to an actuator board: pyserial port, reader thread, received-frame queue, frame log.

``Link.open(url)`` accepts anything ``serial.serial_for_url`` does: ``/dev/ttyACM0``, a pty path such as
``/dev/pts/7`` (or a symlink to one), ``socket://host:port``, ``loop://``. A reader thread feeds bytes to
a :class:`~bliss.protocol.framing.FrameDecoder` and puts each decoded :class:`Frame` on ``link.frames``
(a ``queue.Queue``). When the port fails (cable pulled, emulator gone) the reader stops, ``link.alive``
turns False and ``link.error`` says why; the driver decides whether to reopen.

With ``log_path`` every frame sent or received is appended as one line,
``<UTC ISO time> <TX|RX|BAD> <hex of wire bytes> <decoded message>``, flushed and fsync'ed per line so the
log survives a crash or a pulled cable.
"""
from __future__ import annotations

import datetime as _dt
import os
import queue
import threading

import serial

from bliss.protocol.framing import Frame, FrameDecoder
from bliss.protocol.messages import UART_BAUD, MessageError, MsgType, decode_frame

__all__ = ["LinkError", "Link", "FrameLog", "describe_frame"]

#: Reader poll period, s: bounds how long close() waits for the reader thread (our choice).
_READ_TIMEOUT_S = 0.02


class LinkError(OSError):
    """The serial port cannot be opened or has gone away."""


def describe_frame(frame: Frame) -> str:
    """Human-readable one-line description of a frame (used by the log and the CLI)."""
    try:
        kind = MsgType(frame.type).name
    except ValueError:
        kind = f"type=0x{frame.type:02X}"
    try:
        body = repr(decode_frame(frame))
    except MessageError as exc:
        body = f"<undecodable: {exc}>"
    return f"v{frame.version} {kind} seq={frame.seq} {body}"


class FrameLog:
    """Append-only text log, one flushed + fsync'ed line per frame. Thread safe."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self._fh = open(self.path, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, direction: str, wire: bytes, text: str) -> None:
        stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")
        line = f"{stamp} {direction} {wire.hex()} {text}\n"
        with self._lock:
            if self._fh.closed:
                return
            self._fh.write(line)
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.close()


class Link:
    """An open serial link. Use :meth:`open`; close with :meth:`close` or as a context manager."""

    def __init__(self, port: serial.SerialBase, url: str, log: FrameLog | None = None):
        self.url = url
        self._port = port
        self._log = log
        self._own_log = False
        self.decoder = FrameDecoder()
        self.frames: "queue.Queue[Frame]" = queue.Queue()
        self.alive = True
        self.error: str | None = None
        self.bytes_rx = 0
        self.bytes_tx = 0
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read_loop, name=f"link-reader {url}", daemon=True)
        self._reader.start()

    @classmethod
    def open(cls, url: str, log_path: str | os.PathLike | None = None, baudrate: int = UART_BAUD,
             log: FrameLog | None = None) -> "Link":
        """Open ``url`` (8N1 at ``baudrate``; the rate is ignored on USB CDC-ACM and ptys)."""
        # exclusive: an advisory lock on device paths, so two programs cannot drive one board (their
        # sequence numbers and heartbeats would interleave); URL handlers other than plain paths ignore it
        exclusive = True if "://" not in url else None
        try:
            port = serial.serial_for_url(url, baudrate=baudrate, bytesize=8, parity="N", stopbits=1,
                                         timeout=_READ_TIMEOUT_S, write_timeout=1.0, exclusive=exclusive)
        except (serial.SerialException, OSError, ValueError) as exc:
            if "exclusively lock" in str(exc):
                raise LinkError(f"serial port {url!r} is in use by another program (bliss board, screen, "
                                "minicom?); close it first") from None
            raise LinkError(f"cannot open serial port {url!r} ({exc}); check the path and that the board is plugged in") from None
        own = False
        if log is None and log_path is not None:
            log, own = FrameLog(log_path), True
        link = cls(port, url, log)
        link._own_log = own
        return link

    # -- receiving ---------------------------------------------------------------------------------
    def _read_loop(self) -> None:
        port = self._port
        while not self._stop.is_set():
            try:
                data = port.read(max(1, port.in_waiting))
            except Exception as exc:  # noqa: BLE001 - any port failure ends the reader
                if not self._stop.is_set():
                    self.error = f"serial port {self.url!r} failed: {exc}"
                    self.alive = False
                return
            if not data:
                continue
            self.bytes_rx += len(data)
            bad_before = self.decoder.rejected
            for frame in self.decoder.feed(data):
                if self._log is not None:
                    self._log.write("RX", frame.encode(), describe_frame(frame))
                self.frames.put(frame)
            if self._log is not None and self.decoder.rejected != bad_before:
                self._log.write("BAD", data, f"rejected={self.decoder.rejected} "
                                f"by_reason={self.decoder.rejected_by_reason}")

    def recv(self, timeout: float | None = None) -> Frame | None:
        """Next received frame, or None after ``timeout`` seconds."""
        try:
            return self.frames.get(timeout=timeout)
        except queue.Empty:
            return None

    # -- sending -----------------------------------------------------------------------------------
    def send(self, frame: Frame) -> bytes:
        """Encode and write ``frame``; returns the wire bytes."""
        wire = frame.encode()
        self.send_raw(wire, describe_frame(frame))
        return wire

    def send_raw(self, wire: bytes, text: str = "raw bytes") -> None:
        """Write ``wire`` as is (tests use it to send garbage)."""
        if not self.alive:
            raise LinkError(self.error or f"serial port {self.url!r} is closed")
        with self._write_lock:
            try:
                self._port.write(wire)
                self._port.flush()
            except Exception as exc:  # noqa: BLE001
                self.alive = False
                self.error = f"serial port {self.url!r} failed on write: {exc}"
                raise LinkError(self.error) from None
            self.bytes_tx += len(wire)
            if self._log is not None:
                self._log.write("TX", wire, text)

    # -- closing -----------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the reader and close the port (idempotent)."""
        self._stop.set()
        if self._reader.is_alive() and threading.current_thread() is not self._reader:
            self._reader.join(timeout=1.0)
        try:
            self._port.close()
        except Exception:  # noqa: BLE001 - closing a dead port may fail; nothing to do
            pass
        self.alive = False
        if self._own_log and self._log is not None:
            self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
