"""Host driver for a BLISS actuator board (protocol version 1, docs/protocol.md).

``Board(url).connect()`` opens the link, says HELLO and refuses a board whose protocol we do not speak.
Each command gets the next sequence number; its reply is matched by sequence number, waited for
``COMMAND_TIMEOUT_S`` (250 ms) and the *same* frame is resent up to ``COMMAND_RETRIES`` (3) times. A
heartbeat thread sends HEARTBEAT every 200 ms while enabled (tests pause it to trip the watchdog).

Board resets are noticed from a changed ``boot_id`` (in HELLO_INFO or STATUS_INFO) or an EVENT BOOT; if a
move was in progress the next command (or :meth:`Board.wait_move`) raises :class:`BoardReset` once, and
every reset is recorded in ``Board.resets``. When the port disappears (cable pulled, emulator restarted)
the driver retries opening the same path for ``reconnect_timeout`` seconds, says HELLO again and resends
the command.
"""
from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass

from bliss.protocol.framing import Frame
from bliss.protocol.messages import (
    ALL_AXES, AxisFault, COMMAND_RETRIES, COMMAND_TIMEOUT_S, HEARTBEAT_PERIOD_S, PROTO_VERSION, Ack, ClearFaults,
    Config, ErrorCode, Event, EventKind, Heartbeat, Hello, HelloInfo, Hold, Inject, InjectKind,
    MessageError, Move, MsgType, Nack, Ping, Pong, Reset, Status, StatusInfo, Stop, decode_frame,
    encode_message,
)

from .link import Link, LinkError

__all__ = ["BoardError", "BoardTimeout", "BoardNack", "BoardReset", "ProtocolMismatch", "ResetRecord",
           "Board"]

#: How long to wait for EVENT BOOT after RESET / INJECT RESET before saying HELLO anyway, s. The
#: protocol promises EVENT BOOT within 100 ms of start (docs/protocol.md section 4); 1 s is our margin.
_BOOT_WAIT_S = 1.0
#: Faults that end a move (STALL, STUCK, WATCHDOG); MISSED and LIMIT are reported while it goes on.
_STOPPING_FAULTS = AxisFault.STALL | AxisFault.STUCK | AxisFault.WATCHDOG
#: How many board events to remember (our choice: a few minutes of traffic).
_EVENT_MEMORY = 10_000


class BoardError(RuntimeError):
    """Anything that stops a board command; the message is one line meant for a person."""


class BoardTimeout(BoardError):
    """No reply after all retries."""


class BoardNack(BoardError):
    """The board refused a command; ``error`` is the :class:`ErrorCode` (or int if unknown)."""

    def __init__(self, message: str, nack: Nack):
        super().__init__(message)
        self.nack = nack
        try:
            self.error = ErrorCode(nack.error)
        except ValueError:
            self.error = nack.error


class BoardReset(BoardError):
    """The board reset (boot_id changed or EVENT BOOT) while a move was in progress."""

    def __init__(self, message: str, record: "ResetRecord", reply=None):
        super().__init__(message)
        self.record = record
        self.reply = reply


class ProtocolMismatch(BoardError):
    """The board speaks a protocol version this host does not."""


@dataclass(frozen=True)
class ResetRecord:
    """One noticed board reset."""
    time: float          # time.monotonic() when noticed
    old_boot_id: int
    new_boot_id: int
    source: str          # "EVENT BOOT", "STATUS_INFO", "HELLO_INFO"
    moving_axes: tuple   # axes with a move in progress at that moment


@dataclass(frozen=True)
class ReceivedEvent:
    time: float          # time.monotonic() at reception
    seq: int
    event: Event


class Board:
    """Driver for one actuator board on a serial URL (see :class:`hil.link.Link`)."""

    def __init__(self, url: str, *, log_path: str | os.PathLike | None = None,
                 timeout: float = COMMAND_TIMEOUT_S, retries: int = COMMAND_RETRIES,
                 heartbeat: bool = True, heartbeat_period: float = HEARTBEAT_PERIOD_S,
                 reconnect_timeout: float = 3.0, seq_start: int | None = None):
        self.url = url
        self.log_path = log_path
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.heartbeat_period = float(heartbeat_period)
        self.reconnect_timeout = float(reconnect_timeout)
        # A random first sequence number so that a new host session does not repeat the board's last
        # executed seq (which the board would treat as a duplicate, docs/protocol.md section 4).
        self._seq = secrets.randbelow(0x10000) if seq_start is None else int(seq_start) & 0xFFFF
        self._link: Link | None = None
        self._log = None
        self.info: HelloInfo | None = None
        self.boot_id: int | None = None
        self.resets: list[ResetRecord] = []
        self.reconnects = 0
        self.retries_used = 0
        self.timeouts = 0
        self.heartbeats_sent = 0
        self.heartbeat_errors = 0
        self.last_heartbeat_error: str | None = None
        self.foreign_frames = 0  # frames with another protocol version
        self._moving: set[int] = set()
        self._pending_reset: BoardReset | None = None
        self._reply_cv = threading.Condition()
        self._replies: list[Frame] = []
        self._events: list[ReceivedEvent] = []
        self._event_cv = threading.Condition()
        self._cmd_lock = threading.RLock()
        self._state_lock = threading.Lock()
        self._closing = threading.Event()
        self._dispatcher: threading.Thread | None = None
        self._hb_thread: threading.Thread | None = None
        self._hb_enabled = threading.Event()
        self._hb_wanted = bool(heartbeat)
        self._last_tx = 0.0

    # ------------------------------------------------------------------ connection
    def connect(self) -> HelloInfo:
        """Open the port, say HELLO, check the protocol version, start the heartbeat. Returns HELLO_INFO."""
        self._closing.clear()
        if self._link is None or not self._link.alive:
            self._open_link()
        if self._dispatcher is None or not self._dispatcher.is_alive():
            self._dispatcher = threading.Thread(target=self._dispatch_loop, daemon=True,
                                                name=f"board-dispatch {self.url}")
            self._dispatcher.start()
        try:
            info = self.hello()
        except BoardError:
            self.close()
            raise
        if self._hb_wanted:
            self._hb_enabled.set()
        if self._hb_thread is None or not self._hb_thread.is_alive():
            self._hb_thread = threading.Thread(target=self._heartbeat_loop, daemon=True,
                                               name=f"board-heartbeat {self.url}")
            self._hb_thread.start()
        return info

    def _open_link(self) -> None:
        try:
            if self._log is None and self.log_path is not None:
                # the link creates the log only once the port is open (no log file for a bad port);
                # the driver then keeps it across reconnects
                self._link = Link.open(self.url, log_path=self.log_path)
                self._log, self._link._own_log = self._link._log, False
            else:
                self._link = Link.open(self.url, log=self._log)
        except LinkError as exc:
            raise BoardError(str(exc)) from None

    def close(self) -> None:
        """Stop the heartbeat and the dispatcher and close the port (idempotent)."""
        self._closing.set()
        self._hb_enabled.clear()
        for t in (self._hb_thread, self._dispatcher):
            if t is not None and t.is_alive() and t is not threading.current_thread():
                t.join(timeout=1.0)
        if self._link is not None:
            self._link.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self):
        if self._link is None or not self._link.alive:
            self.connect()
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def link(self) -> Link | None:
        return self._link

    @property
    def rx_rejected(self) -> int:
        """Frames the host's decoder rejected on the current link."""
        return self._link.decoder.rejected if self._link is not None else 0

    def _reconnect(self, why: str) -> None:
        """Reopen the same URL for up to ``reconnect_timeout`` s, then HELLO again."""
        if self._link is not None:
            self._link.close()
        deadline = time.monotonic() + self.reconnect_timeout
        while True:
            if self._closing.is_set():
                raise BoardError(f"board on {self.url} closed while reconnecting")
            try:
                self._link = Link.open(self.url, log=self._log)
                break
            except LinkError:
                if time.monotonic() >= deadline:
                    raise BoardError(
                        f"board on {self.url} went away ({why}) and did not come back within "
                        f"{self.reconnect_timeout:g} s; check the cable/port and reconnect") from None
                time.sleep(0.05)
        self.reconnects += 1
        self._hello_locked(allow_reconnect=False)

    # ------------------------------------------------------------------ receiving
    def _dispatch_loop(self) -> None:
        while not self._closing.is_set():
            link = self._link
            if link is None or not link.alive:
                time.sleep(0.01)
                continue
            frame = link.recv(timeout=0.05)
            if frame is None:
                continue
            if frame.version == PROTO_VERSION and frame.type == MsgType.EVENT:
                try:
                    ev = decode_frame(frame)
                except MessageError:
                    continue
                self._on_event(frame.seq, ev)
                continue
            if frame.version != PROTO_VERSION:
                self.foreign_frames += 1
            with self._reply_cv:
                self._replies.append(frame)
                del self._replies[:-64]  # keep the newest; stale ones are useless
                self._reply_cv.notify_all()

    def _on_event(self, seq: int, ev: Event) -> None:
        now = time.monotonic()
        if ev.event == EventKind.BOOT:
            self._note_boot_id(ev.data, "EVENT BOOT")
        elif ev.event == EventKind.MOVE_DONE or (
                ev.event == EventKind.FAULT and ev.data & _STOPPING_FAULTS):
            with self._state_lock:
                self._moving.discard(ev.axis)
        elif ev.event == EventKind.WATCHDOG:
            with self._state_lock:
                self._moving.clear()
        with self._event_cv:
            self._events.append(ReceivedEvent(now, seq, ev))
            del self._events[:-_EVENT_MEMORY]
            self._event_cv.notify_all()

    def _note_boot_id(self, boot_id: int, source: str) -> None:
        with self._state_lock:
            old = self.boot_id
            self.boot_id = boot_id
            if old is None or old == boot_id:
                return
            moving = tuple(sorted(self._moving))
            self._moving.clear()
            rec = ResetRecord(time.monotonic(), old, boot_id, source, moving)
            self.resets.append(rec)
            if moving:
                self._pending_reset = BoardReset(
                    f"board on {self.url} reset (boot_id 0x{old:04X} -> 0x{boot_id:04X}, seen in {source})"
                    f" while axis {', '.join(map(str, moving))} was moving; the move was lost", rec)

    def events(self, since: float = 0.0, kind: int | None = None) -> list[ReceivedEvent]:
        """Events received at or after ``since`` (time.monotonic()), optionally of one kind."""
        with self._event_cv:
            return [e for e in self._events
                    if e.time >= since and (kind is None or e.event.event == kind)]

    def wait_event(self, kind: int, timeout: float, since: float = 0.0, axis: int | None = None,
                   where=None) -> ReceivedEvent | None:
        """First event of ``kind`` (and ``axis``, and ``where(event)`` true) received at or after
        ``since`` (a time.monotonic() value); None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._event_cv:
            while True:
                for e in self._events:
                    if (e.time >= since and e.event.event == kind
                            and (axis is None or e.event.axis == axis)
                            and (where is None or where(e.event))):
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._event_cv.wait(left)

    # ------------------------------------------------------------------ transactions
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFF
        return self._seq

    def _take_reply(self, seq: int, deadline: float) -> Frame | None:
        with self._reply_cv:
            while True:
                for i, f in enumerate(self._replies):
                    if f.seq == seq:
                        del self._replies[:i + 1]  # older ones are stale
                        return f
                left = deadline - time.monotonic()
                link = self._link
                if left <= 0 or link is None or not link.alive:
                    return None
                self._reply_cv.wait(min(left, 0.05))

    def _transact(self, msg, *, retries: int | None = None, allow_reconnect: bool = True,
                  timeout: float | None = None):
        """Send ``msg`` and return the decoded reply (NACK included). Caller holds ``_cmd_lock``."""
        retries = self.retries if retries is None else retries
        timeout = self.timeout if timeout is None else timeout
        seq = self._next_seq()
        frame = encode_message(msg, seq)
        name = msg.TYPE.name
        tries = 0
        while True:
            link = self._link
            if link is None or not link.alive:
                if not allow_reconnect:
                    raise BoardError(f"serial link to {self.url} is down: "
                                     f"{(link.error if link else None) or 'not connected'}")
                self._reconnect(link.error if link is not None and link.error else "port closed")
                continue
            with self._reply_cv:
                self._replies = [f for f in self._replies if f.seq != seq]
            try:
                link.send(frame)
            except LinkError:
                continue  # link marked dead: loop reconnects (or raises) and resends the same frame
            self._last_tx = time.monotonic()
            reply = self._take_reply(seq, time.monotonic() + timeout)
            if reply is not None:
                break
            if not link.alive:
                continue  # port went away while waiting: reconnect and resend, not counted as a retry
            self.timeouts += 1
            if tries >= retries:
                raise BoardTimeout(
                    f"no reply from the board on {self.url} to {name} after {tries + 1} tries of "
                    f"{timeout * 1000:.0f} ms; is it powered and is this the right port?")
            tries += 1
            self.retries_used += 1
        if reply.version != PROTO_VERSION:
            raise ProtocolMismatch(
                f"board on {self.url} answered {name} with protocol version {reply.version}; this host "
                f"speaks version {PROTO_VERSION}: use matching host software or firmware")
        try:
            return decode_frame(reply)
        except MessageError as exc:
            raise BoardError(f"board on {self.url} sent a malformed reply to {name}: {exc}") from None

    def _command(self, msg, *, expect=Ack, **kw):
        """User-level command: raise a pending BoardReset, transact, check the reply type."""
        with self._cmd_lock:
            self._raise_pending_reset()
            reply = self._transact(msg, **kw)
            if isinstance(reply, Nack):
                if reply.error == ErrorCode.BAD_VERSION:
                    raise ProtocolMismatch(
                        f"board on {self.url} refused protocol version {PROTO_VERSION} (NACK BAD_VERSION);"
                        " use matching host software or firmware")
                raise BoardNack(f"board on {self.url}: {reply.describe()}", reply)
            if not isinstance(reply, expect) or (expect is Ack and reply.cmd_type != msg.TYPE):
                raise BoardError(f"board on {self.url} answered {msg.TYPE.name} with {reply!r}")
            self._raise_pending_reset(reply)
            return reply

    def _raise_pending_reset(self, reply=None) -> None:
        with self._state_lock:
            exc, self._pending_reset = self._pending_reset, None
        if exc is not None:
            exc.reply = reply
            raise exc

    def raw(self, type_: int, payload: bytes = b"", *, version: int = PROTO_VERSION,
            seq: int | None = None, timeout: float | None = None) -> Frame | None:
        """Send one hand-made frame once (no retries) and return the reply frame with its seq, or None.

        For bench and protocol tests (other versions, unknown types, wrong lengths, repeated seqs);
        ``seq=None`` takes the next sequence number. The reply is returned undecoded.
        """
        with self._cmd_lock:
            seq = self._next_seq() if seq is None else int(seq) & 0xFFFF
            link = self._link
            if link is None or not link.alive:
                raise BoardError(f"serial link to {self.url} is down")
            with self._reply_cv:
                self._replies = [f for f in self._replies if f.seq != seq]
            link.send(Frame(version, type_, seq, bytes(payload)))
            self._last_tx = time.monotonic()
            return self._take_reply(seq, time.monotonic() + (self.timeout if timeout is None else timeout))

    # ------------------------------------------------------------------ commands
    def _hello_locked(self, allow_reconnect: bool = True) -> HelloInfo:
        reply = self._transact(Hello(), allow_reconnect=allow_reconnect)
        if isinstance(reply, Nack) and reply.error == ErrorCode.BAD_VERSION:
            raise ProtocolMismatch(f"board on {self.url} refused protocol version {PROTO_VERSION} "
                                   "(NACK BAD_VERSION); use matching host software or firmware")
        if not isinstance(reply, HelloInfo):
            raise BoardError(f"board on {self.url} answered HELLO with {reply!r}")
        if reply.proto != PROTO_VERSION:
            raise ProtocolMismatch(
                f"board on {self.url} (firmware {reply.fw_version}) speaks protocol version {reply.proto};"
                f" this host speaks version {PROTO_VERSION}: use matching host software or firmware")
        self.info = reply
        self._note_boot_id(reply.boot_id, "HELLO_INFO")
        return reply

    def hello(self) -> HelloInfo:
        """HELLO: firmware and protocol version, boot_id, per-axis configuration."""
        with self._cmd_lock:
            self._raise_pending_reset()
            info = self._hello_locked()
            self._raise_pending_reset(info)
            return info

    def ping(self, data: bytes = b"") -> float:
        """PING with ``data`` (0-32 bytes); returns the round-trip time in seconds."""
        t0 = time.perf_counter()
        pong = self._command(Ping(bytes(data)), expect=Pong)
        rtt = time.perf_counter() - t0
        if pong.data != bytes(data):
            raise BoardError(f"board on {self.url} echoed {pong.data.hex()} to PING {bytes(data).hex()}")
        return rtt

    def status(self) -> StatusInfo:
        """STATUS: uptime, boot_id, rx_bad, flags and per-axis position/target/state/faults."""
        with self._cmd_lock:
            self._raise_pending_reset()
            reply = self._transact(Status())
            if not isinstance(reply, StatusInfo):
                raise BoardError(f"board on {self.url} answered STATUS with {reply!r}")
            self._note_boot_id(reply.boot_id, "STATUS_INFO")
            with self._state_lock:
                for k, ax in enumerate(reply.axes):
                    if not ax.moving:
                        self._moving.discard(k)
            self._raise_pending_reset(reply)
            return reply

    def move(self, axis: int, target: int, rate: int = 0) -> None:
        """MOVE ``axis`` toward ``target`` steps at ``rate`` Hz (0: the axis's drive_hz)."""
        self._command(Move(int(axis), int(target), int(rate)))
        with self._state_lock:
            self._moving.add(int(axis))

    def _forget_moves(self, axis: int) -> None:
        with self._state_lock:
            if axis == ALL_AXES:
                self._moving.clear()
            else:
                self._moving.discard(axis)

    def stop(self, axis: int = ALL_AXES) -> None:
        self._command(Stop(int(axis)))
        self._forget_moves(int(axis))

    def hold(self, axis: int = ALL_AXES) -> None:
        self._command(Hold(int(axis)))
        self._forget_moves(int(axis))

    def configure(self, axis: int, drive_hz: int, soft_min: int, soft_max: int) -> None:
        self._command(Config(int(axis), int(drive_hz), int(soft_min), int(soft_max)))

    def heartbeat(self) -> None:
        self._command(Heartbeat())

    def clear_faults(self, axis: int = ALL_AXES) -> None:
        self._command(ClearFaults(int(axis)))

    def inject(self, kind: int, axis: int, param: int = 0) -> None:
        """INJECT a test condition (emulated board only). INJECT RESET is sent once, unacknowledged."""
        if kind == InjectKind.RESET:
            self._reset_and_rehello(Inject(int(kind), int(axis), int(param)), ack_required=False)
            return
        self._command(Inject(int(kind), int(axis), int(param)))

    def reset(self) -> HelloInfo:
        """RESET the board, wait for EVENT BOOT and say HELLO again; returns the new HELLO_INFO.

        The reset is recorded in ``resets`` but never raises BoardReset: the host asked for it."""
        self._forget_moves(ALL_AXES)
        return self._reset_and_rehello(Reset(), ack_required=True)

    def _reset_and_rehello(self, msg, ack_required: bool) -> HelloInfo:
        # Sent once (no retries): resending a reset to a board that has already restarted would
        # reset it again, because its duplicate filter starts afresh after boot.
        since = time.monotonic()
        with self._cmd_lock:
            self._raise_pending_reset()
            try:
                reply = self._transact(msg, retries=0)
            except BoardTimeout:
                if ack_required:
                    raise
                reply = None
            if isinstance(reply, Nack):
                raise BoardNack(f"board on {self.url}: {reply.describe()}", reply)
            self.wait_event(EventKind.BOOT, _BOOT_WAIT_S, since=since)
            info = self._hello_locked()
        return info

    def wait_move(self, axis: int, timeout: float, poll: float = 0.02):
        """Poll STATUS until ``axis`` stops moving; returns its AxisStatus.

        Raises :class:`BoardReset` if the board reset meanwhile, :class:`BoardTimeout` after ``timeout``.
        """
        deadline = time.monotonic() + timeout
        while True:
            st = self.status()
            ax = st.axes[axis]
            if not ax.moving:
                return ax
            if time.monotonic() >= deadline:
                raise BoardTimeout(f"axis {axis} still moving after {timeout:g} s "
                                   f"(position {ax.position}, target {ax.target})")
            time.sleep(poll)

    # ------------------------------------------------------------------ heartbeat
    @property
    def heartbeat_enabled(self) -> bool:
        return self._hb_enabled.is_set()

    def pause_heartbeat(self) -> None:
        """Stop sending heartbeats (the board's watchdog trips after 1 s without host frames)."""
        self._hb_enabled.clear()

    def resume_heartbeat(self) -> None:
        self._hb_enabled.set()

    def _heartbeat_loop(self) -> None:
        while not self._closing.is_set():
            if not self._hb_enabled.wait(0.05):
                continue
            self._closing.wait(max(0.0, self.heartbeat_period - (time.monotonic() - self._last_tx)))
            if self._closing.is_set() or not self._hb_enabled.is_set():
                continue
            if time.monotonic() - self._last_tx < self.heartbeat_period * 0.9:
                continue  # any valid command counts as a heartbeat (docs/protocol.md section 4)
            try:
                with self._cmd_lock:
                    if not self._hb_enabled.is_set():
                        continue
                    reply = self._transact(Heartbeat())
                self.heartbeats_sent += 1
                if not isinstance(reply, Ack):
                    self.heartbeat_errors += 1
                    self.last_heartbeat_error = f"HEARTBEAT answered with {reply!r}"
            except BoardError as exc:
                self.heartbeat_errors += 1
                self.last_heartbeat_error = str(exc)
                self._closing.wait(self.heartbeat_period)
