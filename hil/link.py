"""Serial link to an actuator board: pyserial port, reader thread, received-frame queue, frame log.

``Link.open(url)`` accepts anything ``serial.serial_for_url`` does: ``/dev/ttyACM0``, a pty path such as
``/dev/pts/7`` (or a symlink to one), ``socket://host:port``, ``loop://``. A reader thread feeds bytes to
a :class:`~bliss.protocol.framing.FrameDecoder` and puts each decoded :class:`Frame` on ``link.frames``
(a ``queue.Queue``). When the port fails (cable pulled, emulator gone) the reader stops, ``link.alive``
turns False and ``link.error`` says why; the driver decides whether to reopen.

With ``log_path`` every frame sent or received is appended as one line,
``<UTC ISO time> <TX|RX|BAD> <hex of wire bytes> <decoded message>``. A received frame's line is written
(to the kernel) before the frame is handed on and made durable by a group-commit thread: see
:class:`FrameLog` for the exact guarantee.
"""
from __future__ import annotations

import collections
import datetime as _dt
import os
import queue
import threading
import time

import serial

from bliss.protocol.framing import Frame, FrameDecoder
from bliss.protocol.messages import UART_BAUD, MessageError, MsgType, decode_frame

__all__ = ["LinkError", "Link", "FrameLog", "describe_frame"]

#: Reader poll period, s: bounds how long close() waits for the reader thread (our choice).
_READ_TIMEOUT_S = 0.02
#: Least time between two syncs of a FrameLog, s (our choice: bounds the lines at risk on a power loss to
#: about 10 ms plus one sync, and keeps syncs in flight a small part of the time).
_SYNC_SPACING_S = 0.010
#: How many write-to-durable times a FrameLog keeps for measurement (our choice).
_SYNC_LAG_MEMORY = 100_000


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
    """Append-only text log, one line per frame. Thread safe.

    What survives what (the guarantee the bench relies on):
    - :meth:`write` returns once the line is in the kernel (``os.write`` on an ``O_APPEND`` descriptor,
      no user-space buffer). The link writes a received frame's line *before* it hands the frame on,
      so every frame the caller has seen is in the log even if this process dies at once (kill -9).
    - A syncer thread makes written lines durable (``fdatasync``) as a group commit: when something
      is unsynced it syncs, at least ``_SYNC_SPACING_S`` (10 ms) after its last sync, covering every
      line written until then. A line is on disk within that spacing plus two sync durations of being
      written (``sync_lags`` keeps the measured write-to-durable times, see benchmarks/link.py); a
      power loss or a kernel crash loses at most that window. :meth:`sync` waits for it; :meth:`close`
      syncs everything first.
    The fsync is off the round trip: a line costs the round trip two short ``write`` system calls
    (the line, and one byte on a pipe that wakes the syncer).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        # Writers and the syncer share no lock: a writer wakes the syncer with one byte on a pipe (a
        # lock held by a thread that the OS preempts stalls whoever waits for it, which showed as
        # millisecond tails in the round trip on a loaded machine).
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._wlock = threading.Lock()  # writers among themselves (line order, the count)
        self._written = 0               # lines written to the kernel
        self._oldest_unsynced: float | None = None  # time.monotonic() of the first line after a sync
        self._closed = False
        self._synced_cv = threading.Condition()  # for sync() waiters only
        self._synced = 0                         # lines known durable
        self.sync_lags: "collections.deque[float]" = collections.deque(maxlen=_SYNC_LAG_MEMORY)
        self._syncer = threading.Thread(target=self._sync_loop, name=f"frame-log-sync {self.path}",
                                        daemon=True)
        self._syncer.start()

    def write(self, direction: str, wire: bytes, text: str) -> None:
        stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")
        data = f"{stamp} {direction} {wire.hex()} {text}\n".encode()
        with self._wlock:
            if self._closed:
                return
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
            if self._oldest_unsynced is None:
                self._oldest_unsynced = time.monotonic()
            self._written += 1  # counted only once in the kernel: the syncer syncs what it counts
            self._wake()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"\x01")
        except BlockingIOError:
            pass  # the pipe is full of wake-ups already: the syncer will run

    def _sync_loop(self) -> None:
        last = 0.0
        while True:
            os.read(self._wake_r, 65536)  # blocks until something was written (or close)
            if not self._closed:
                # group more lines per sync: a write can wait in the kernel for a sync in flight on
                # the same file, so fewer syncs mean fewer stalled round trips
                time.sleep(max(0.0, last + _SYNC_SPACING_S - time.monotonic()))
            last = time.monotonic()
            with self._wlock:  # held for two assignments, once per sync
                target = self._written
                oldest, self._oldest_unsynced = self._oldest_unsynced, None
            if target > self._synced:
                os.fdatasync(self._fd)
                if oldest is not None:
                    self.sync_lags.append(time.monotonic() - oldest)
                with self._synced_cv:
                    self._synced = target
                    self._synced_cv.notify_all()
            if self._closed and self._synced >= self._written:
                return

    def sync(self, timeout: float | None = None) -> bool:
        """Wait until every line written so far is durable; False if ``timeout`` (s) ran out first."""
        target = self._written
        with self._synced_cv:
            return self._synced_cv.wait_for(lambda: self._synced >= target, timeout)

    @property
    def unsynced(self) -> int:
        """Lines written but not yet known durable."""
        return self._written - self._synced

    def close(self) -> None:
        """Sync what is left and close the file (idempotent)."""
        with self._wlock:
            if self._closed:
                return
            self._closed = True
            self._wake()
        self._syncer.join()
        for fd in (self._fd, self._wake_r, self._wake_w):
            os.close(fd)


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

    @property
    def log(self) -> FrameLog | None:
        """The frame log this link writes, if any."""
        return self._log

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
