"""Host driver for a BLISS actuator board (protocol version 1, docs/protocol.md): :class:`Board`.

``Board(url).connect()`` opens the link, says HELLO and refuses a board whose protocol we do not speak;
then one method per command. The parts behind it, each in its own module:
- ``hil.transaction``: one request: sequence numbers, reply matched by seq, ``COMMAND_TIMEOUT_S``
  (250 ms) per try and the *same* frame resent up to ``COMMAND_RETRIES`` (3) times;
- ``hil.session``: the link across reconnects, HELLO and the version check, boot_id and reset
  detection, the moving axes and the host's CONFIGs (re-applied after a reset);
- ``hil.heartbeat``: HEARTBEAT every 200 ms while no other command goes out (tests pause it to trip
  the watchdog);
- ``hil.inbox``: the dispatcher thread that sorts replies from board events; ``hil.link``: the port.

A command's time budget is end to end: issued while the port is away (or while the heartbeat thread is
reconnecting), it gives up ``reconnect_timeout`` after it was issued, then tries its own retries once
the port is back.
"""
from __future__ import annotations

import os
import time

from bliss.protocol.framing import Frame
from bliss.protocol.messages import (
    ALL_AXES, COMMAND_RETRIES, COMMAND_TIMEOUT_S, HEARTBEAT_PERIOD_S, N_AXES, PROTO_VERSION, Ack,
    ClearFaults, Config, ErrorCode, EventKind, Heartbeat as HeartbeatMsg, HelloInfo, Hold, Inject,
    InjectKind, Move, Nack, Ping, Pong, Reset, Status, StatusInfo, Stop,
)

from .errors import BoardError, BoardNack, BoardReset, BoardTimeout, ProtocolMismatch
from .heartbeat import Heartbeat
from .inbox import ReceivedEvent
from .link import Link
from .session import ResetRecord, Session

__all__ = ["BoardError", "BoardTimeout", "BoardNack", "BoardReset", "ProtocolMismatch", "ResetRecord",
           "ReceivedEvent", "Board"]

#: How long to wait for EVENT BOOT after RESET / INJECT RESET before saying HELLO anyway, s. The
#: protocol promises EVENT BOOT within 100 ms of start (docs/protocol.md section 4); 1 s is our margin.
_BOOT_WAIT_S = 1.0


class Board:
    """Driver for one actuator board on a serial URL (see :class:`hil.link.Link`)."""

    def __init__(self, url: str, *, log_path: str | os.PathLike | None = None,
                 timeout: float = COMMAND_TIMEOUT_S, retries: int = COMMAND_RETRIES,
                 heartbeat: bool = True, heartbeat_period: float = HEARTBEAT_PERIOD_S,
                 reconnect_timeout: float = 3.0, seq_start: int | None = None):
        self.url = url
        self.log_path = log_path
        self._session = Session(url, log_path=log_path, timeout=timeout, retries=retries,
                                reconnect_timeout=reconnect_timeout, seq_start=seq_start)
        self._tx = self._session.tx
        self._hb = Heartbeat(self._beat, lambda: self._tx.last_tx, heartbeat_period,
                             self._session.closing, url)
        self._hb_wanted = bool(heartbeat)
        # How long another thread may hold the conversation with a live link: the longest is a RESET
        # (one try), the wait for EVENT BOOT, HELLO, a CONFIG per axis and HELLO again, each try
        # sequence (retries + 1) x timeout long.
        self._hold_allowance = (3 + N_AXES) * (self._tx.retries + 1) * self._tx.timeout + _BOOT_WAIT_S

    # ------------------------------------------------------------------ state, read only
    timeout = property(lambda self: self._tx.timeout, doc="reply timeout per try, s")
    retries = property(lambda self: self._tx.retries, doc="resends after the first try")
    reconnect_timeout = property(lambda self: self._session.reconnect_timeout,
                                 doc="how long a command waits for a port that went away, s")
    heartbeat_period = property(lambda self: self._hb.period, doc="s")
    info = property(lambda self: self._session.info, doc="the last HELLO_INFO")
    boot_id = property(lambda self: self._session.boot_id, doc="the board's boot_id as last seen")
    resets = property(lambda self: self._session.resets, doc="every noticed reset, a ResetRecord each")
    reconnects = property(lambda self: self._session.reconnects)
    retries_used = property(lambda self: self._tx.retries_used)
    timeouts = property(lambda self: self._tx.timeouts)
    heartbeats_sent = property(lambda self: self._hb.sent)
    heartbeat_errors = property(lambda self: self._hb.errors)
    last_heartbeat_error = property(lambda self: self._hb.last_error)
    foreign_frames = property(lambda self: self._session.inbox.foreign_frames,
                              doc="frames with another protocol version")

    @property
    def link(self) -> Link | None:
        return self._session.link

    @property
    def rx_rejected(self) -> int:
        """Frames the host's decoder rejected on the current link."""
        link = self._session.link
        return link.decoder.rejected if link is not None else 0

    # ------------------------------------------------------------------ connection
    def connect(self) -> HelloInfo:
        """Open the port, say HELLO, check the protocol version, start the heartbeat. Returns HELLO_INFO."""
        self._session.open()
        try:
            info = self.hello()
        except BoardError:
            self.close()
            raise
        if self._hb_wanted:
            self._hb.resume()
        self._hb.start()
        return info

    def close(self) -> None:
        """Stop the heartbeat and the dispatcher and close the port and the log (idempotent)."""
        self._session.closing.set()
        self._hb.pause()
        self._hb.join()
        self._session.close()

    def __enter__(self):
        if self.link is None or not self.link.alive:
            self.connect()
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ events
    def events(self, since: float = 0.0, kind: int | None = None) -> list[ReceivedEvent]:
        """Events received at or after ``since`` (time.monotonic()), optionally of one kind."""
        return self._session.inbox.events(since, kind)

    def wait_event(self, kind: int, timeout: float, since: float = 0.0, axis: int | None = None,
                   where=None) -> ReceivedEvent | None:
        """First event of ``kind`` (and ``axis``, and ``where(event)`` true) received at or after
        ``since`` (a time.monotonic() value); None after ``timeout`` seconds."""
        return self._session.inbox.wait_event(kind, timeout, since, axis, where)

    # ------------------------------------------------------------------ commands
    def _command(self, msg, *, expect=Ack, on_reply=None):
        """One user-level command: re-sync after a noticed reset, raise a pending BoardReset,
        send, check the reply type (NACK raises BoardNack), then raise a reset the reply revealed."""
        s = self._session
        with s.turn(self._hold_allowance) as deadline:
            s.resync_if_reset(deadline)
            s.raise_pending_reset()
            reply = self._tx.send(msg, reconnect_by=deadline)
            if isinstance(reply, Nack):
                if reply.error == ErrorCode.BAD_VERSION:
                    raise ProtocolMismatch(
                        f"board on {self.url} refused protocol version {PROTO_VERSION} (NACK BAD_VERSION);"
                        " use matching host software or firmware")
                raise BoardNack(f"board on {self.url}: {reply.describe()}", reply)
            if not isinstance(reply, expect) or (expect is Ack and reply.cmd_type != msg.TYPE):
                raise BoardError(f"board on {self.url} answered {msg.TYPE.name} with {reply!r}")
            if on_reply is not None:
                on_reply(reply)
            s.raise_pending_reset(reply)
            return reply

    def raw(self, type_: int, payload: bytes = b"", *, version: int = PROTO_VERSION,
            seq: int | None = None, timeout: float | None = None) -> Frame | None:
        """Send one hand-made frame once (no retries) and return the reply frame with its seq, or None.

        For bench and protocol tests (other versions, unknown types, wrong lengths, repeated seqs);
        ``seq=None`` takes the next sequence number. The reply is returned undecoded.
        """
        with self._session.turn(self._hold_allowance):
            return self._tx.raw(type_, payload, version=version, seq=seq, timeout=timeout)

    def hello(self) -> HelloInfo:
        """HELLO: firmware and protocol version, boot_id, per-axis configuration."""
        s = self._session
        with s.turn(self._hold_allowance) as deadline:
            s.raise_pending_reset()
            info = s.hello(deadline)
            s.raise_pending_reset(info)
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
        return self._command(Status(), expect=StatusInfo, on_reply=self._session.note_status)

    def move(self, axis: int, target: int, rate: int = 0) -> None:
        """MOVE ``axis`` toward ``target`` steps at ``rate`` Hz (0: the axis's drive_hz)."""
        self._command(Move(int(axis), int(target), int(rate)))
        self._session.moving(int(axis))

    def stop(self, axis: int = ALL_AXES) -> None:
        self._command(Stop(int(axis)))
        self._session.forget_moves(int(axis))

    def hold(self, axis: int = ALL_AXES) -> None:
        self._command(Hold(int(axis)))
        self._session.forget_moves(int(axis))

    def configure(self, axis: int, drive_hz: int, soft_min: int, soft_max: int) -> None:
        """CONFIG one axis; the session remembers it and re-applies it after a reset of the board."""
        cfg = Config(int(axis), int(drive_hz), int(soft_min), int(soft_max))
        self._command(cfg, on_reply=lambda _ack: self._session.remember_config(cfg))

    def heartbeat(self) -> None:
        self._command(HeartbeatMsg())

    def clear_faults(self, axis: int = ALL_AXES) -> None:
        self._command(ClearFaults(int(axis)))

    def inject(self, kind: int, axis: int, param: int = 0) -> None:
        """INJECT a test condition (emulated board only). INJECT RESET is sent once, unacknowledged;
        like a brown-out, the host's CONFIGs are re-applied after it."""
        if kind == InjectKind.RESET:
            self._reset_and_rehello(Inject(int(kind), int(axis), int(param)), ack_required=False)
            return
        self._command(Inject(int(kind), int(axis), int(param)))

    def reset(self) -> HelloInfo:
        """RESET the board, wait for EVENT BOOT and say HELLO again; returns the new HELLO_INFO.

        The reset is recorded in ``resets`` but never raises BoardReset: the host asked for it; the
        board keeps its boot defaults (the host's CONFIGs are forgotten)."""
        self._session.forget_moves(ALL_AXES)
        self._session.forget_configs()
        return self._reset_and_rehello(Reset(), ack_required=True)

    def _reset_and_rehello(self, msg, ack_required: bool) -> HelloInfo:
        # Sent once (no retries): resending a reset to a board that has already restarted would
        # reset it again, because its duplicate filter starts afresh after boot.
        since = time.monotonic()
        s = self._session
        with s.turn(self._hold_allowance) as deadline:
            s.raise_pending_reset()
            try:
                reply = self._tx.send(msg, retries=0, reconnect_by=deadline)
            except BoardTimeout:
                if ack_required:
                    raise
                reply = None
            if isinstance(reply, Nack):
                raise BoardNack(f"board on {self.url}: {reply.describe()}", reply)
            self.wait_event(EventKind.BOOT, _BOOT_WAIT_S, since=since)
            return s.hello(deadline)

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
        return self._hb.enabled

    def pause_heartbeat(self) -> None:
        """Stop sending heartbeats (the board's watchdog trips after 1 s without host frames)."""
        self._hb.pause()

    def resume_heartbeat(self) -> None:
        self._hb.resume()

    def _beat(self):
        """One HEARTBEAT for the heartbeat thread (None if it was paused meanwhile)."""
        s = self._session
        with s.turn(self._hold_allowance) as deadline:
            if not self._hb.enabled:
                return None
            s.resync_if_reset(deadline)
            return self._tx.send(HeartbeatMsg(), reconnect_by=deadline)
