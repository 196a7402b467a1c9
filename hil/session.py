"""The host's session with one board: the link across reconnects, HELLO and the version check, and
what the host knows of the board's identity and state (boot_id, resets, moving axes, its CONFIG).

How the driver learns that the board reset:
- ``boot_id`` in HELLO_INFO (every connect and reconnect says HELLO) or STATUS_INFO differs from the
  last one seen; after a reconnect this is the only way, because opening the port discards the input
  waiting in it (pyserial flushes it), so an EVENT BOOT sent while the port was closed is never read;
- an EVENT BOOT whose boot_id differs, while the link stays open.
Each reset is recorded in ``resets``; if a move was in progress, :class:`BoardReset` is raised once, by
the next command. After a reset the host did not ask for, the board has lost the host's configuration:
before the next command the session says HELLO again (``info`` is the board's state again) and
re-applies each axis's last CONFIG from the host.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

from bliss.protocol.messages import (
    ALL_AXES, AxisFault, Config, ErrorCode, Event, EventKind, Hello, HelloInfo, Nack, PROTO_VERSION,
    StatusInfo,
)

from .errors import BoardError, BoardNack, BoardReset, ProtocolMismatch
from .inbox import Inbox
from .link import FrameLog, Link, LinkError
from .transaction import Transactions

__all__ = ["ResetRecord", "Session"]

#: Faults that end a move (STALL, STUCK, WATCHDOG); MISSED and LIMIT are reported while it goes on.
_STOPPING_FAULTS = AxisFault.STALL | AxisFault.STUCK | AxisFault.WATCHDOG
#: Pause between attempts to reopen a port that went away, s (our choice).
_REOPEN_PAUSE_S = 0.05


@dataclass(frozen=True)
class ResetRecord:
    """One noticed board reset."""
    time: float          # time.monotonic() when noticed
    old_boot_id: int
    new_boot_id: int
    source: str          # "EVENT BOOT", "STATUS_INFO", "HELLO_INFO"
    moving_axes: tuple   # axes with a move in progress at that moment


class Session:
    """Link, HELLO, boot_id and reset bookkeeping for the board on ``url``; ``tx`` sends commands.

    ``lock`` serialises conversations (commands, the heartbeat, a reconnect): take it with
    :meth:`turn`."""

    def __init__(self, url: str, *, log_path, timeout: float, retries: int, reconnect_timeout: float,
                 seq_start: int | None):
        self.url = url
        self.log_path = log_path
        self.reconnect_timeout = float(reconnect_timeout)
        self.link: Link | None = None
        self._log: FrameLog | None = None
        self.closing = threading.Event()
        self.lock = threading.RLock()
        self.inbox = Inbox(lambda: self.link, self._on_event, url)
        self.tx = Transactions(url, lambda: self.link, self.inbox, timeout=timeout, retries=retries,
                               seq_start=seq_start, reconnect=self._reconnect)
        self.info: HelloInfo | None = None
        self.boot_id: int | None = None
        self.resets: list[ResetRecord] = []
        self.reconnects = 0
        self.configs: dict[int, Config] = {}  # the host's last CONFIG per axis, re-applied after a reset
        self._moving: set[int] = set()
        self._pending_reset: BoardReset | None = None
        self._resync = False  # a reset was noticed: HELLO and re-apply configs before the next command
        self._state_lock = threading.Lock()

    # ---- the link ----------------------------------------------------------------------------------
    def open(self) -> None:
        """Open the port (if not open) and start receiving."""
        self.closing.clear()
        if self.link is None or not self.link.alive:
            try:
                if self._log is None and self.log_path is not None:
                    # the link creates the log only once the port is open (no log file for a bad
                    # port); the session then keeps it across reconnects
                    self.link = Link.open(self.url, log_path=self.log_path)
                    self._log, self.link._own_log = self.link._log, False
                else:
                    self.link = Link.open(self.url, log=self._log)
            except LinkError as exc:
                raise BoardError(str(exc)) from None
        self.inbox.start()

    def close(self) -> None:
        """Stop receiving, close the port and the frame log (idempotent)."""
        self.closing.set()
        self.inbox.stop()
        if self.link is not None:
            self.link.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def _reconnect(self, why: str, deadline: float) -> None:
        """Reopen the same URL until ``deadline`` (time.monotonic()), then HELLO again. Caller holds
        ``lock``."""
        if self.link is not None:
            self.link.close()
        while True:
            if self.closing.is_set():
                raise BoardError(f"board on {self.url} closed while reconnecting")
            try:
                self.link = Link.open(self.url, log=self._log)
                break
            except LinkError:
                if time.monotonic() >= deadline:
                    raise BoardError(
                        f"board on {self.url} went away ({why}) and did not come back within "
                        f"{self.reconnect_timeout:g} s; check the cable/port and reconnect") from None
                time.sleep(_REOPEN_PAUSE_S)
        self.reconnects += 1
        self.hello(reconnect_by=None)

    @contextmanager
    def turn(self, hold_allowance: float):
        """Hold the conversation for one command; yields its reconnect deadline.

        The budget is end to end: a command issued while another thread (the heartbeat) is
        reconnecting waits for that attempt and then tries only for what is left of its own
        ``reconnect_timeout``, counted from when it was issued. ``hold_allowance`` (s) is how long
        another thread may hold the conversation with a live link; waiting longer is an error."""
        deadline = time.monotonic() + self.reconnect_timeout
        if not self.lock.acquire(timeout=self.reconnect_timeout + hold_allowance):
            raise BoardError(f"board on {self.url} is busy: another command or a reconnect held the link "
                             f"for more than {self.reconnect_timeout + hold_allowance:g} s")
        try:
            yield deadline
        finally:
            self.lock.release()

    # ---- HELLO ------------------------------------------------------------------------------------
    def hello(self, reconnect_by: float | None) -> HelloInfo:
        """HELLO, check the protocol version, note boot_id; after a noticed reset, re-apply the host's
        CONFIGs and say HELLO once more so that ``info`` shows them. Caller holds ``lock``."""
        self._hello_once(reconnect_by)
        with self._state_lock:
            resync, self._resync = self._resync, False
        if resync and self.configs:
            try:
                for cfg in list(self.configs.values()):
                    ack = self.tx.send(cfg, reconnect_by=None)
                    if isinstance(ack, Nack):
                        raise BoardNack(f"board on {self.url} reset and refused the host's configuration "
                                        f"of axis {cfg.axis} again: {ack.describe()}", ack)
                self._hello_once(None)
            except BoardError:
                self._resync = True  # try again before the next command
                raise
        return self.info

    def _hello_once(self, reconnect_by: float | None) -> None:
        reply = self.tx.send(Hello(), reconnect_by=reconnect_by)
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
        self.note_boot_id(reply.boot_id, "HELLO_INFO")

    def resync_if_reset(self, reconnect_by: float | None) -> None:
        """If a reset was noticed since the last HELLO, say HELLO (re-applying configs). Caller holds
        ``lock``."""
        if self._resync:
            self.hello(reconnect_by)

    def remember_config(self, cfg: Config) -> None:
        """The board acknowledged ``cfg``: re-apply it after a reset. Caller holds ``lock``."""
        self.configs[cfg.axis] = cfg

    def forget_configs(self) -> None:
        """The host asked for a fresh board (RESET): do not re-apply its old CONFIGs."""
        self.configs.clear()

    # ---- resets and moves -------------------------------------------------------------------------
    def note_boot_id(self, boot_id: int, source: str) -> None:
        with self._state_lock:
            old = self.boot_id
            self.boot_id = boot_id
            if old is None or old == boot_id:
                return
            moving = tuple(sorted(self._moving))
            self._moving.clear()
            self._resync = True
            rec = ResetRecord(time.monotonic(), old, boot_id, source, moving)
            self.resets.append(rec)
            if moving:
                self._pending_reset = BoardReset(
                    f"board on {self.url} reset (boot_id 0x{old:04X} -> 0x{boot_id:04X}, seen in {source})"
                    f" while axis {', '.join(map(str, moving))} was moving; the move was lost", rec)

    def _on_event(self, seq: int, ev: Event) -> None:
        if ev.event == EventKind.BOOT:
            self.note_boot_id(ev.data, "EVENT BOOT")
        elif ev.event == EventKind.MOVE_DONE or (
                ev.event == EventKind.FAULT and ev.data & _STOPPING_FAULTS):
            self.forget_moves(ev.axis)
        elif ev.event == EventKind.WATCHDOG:
            self.forget_moves(ALL_AXES)

    def moving(self, axis: int) -> None:
        with self._state_lock:
            self._moving.add(axis)

    def forget_moves(self, axis: int) -> None:
        with self._state_lock:
            if axis == ALL_AXES:
                self._moving.clear()
            else:
                self._moving.discard(axis)

    def note_status(self, status: StatusInfo) -> None:
        self.note_boot_id(status.boot_id, "STATUS_INFO")
        with self._state_lock:
            for k, ax in enumerate(status.axes):
                if not ax.moving:
                    self._moving.discard(k)

    def raise_pending_reset(self, reply=None) -> None:
        with self._state_lock:
            exc, self._pending_reset = self._pending_reset, None
        if exc is not None:
            exc.reply = reply
            raise exc
