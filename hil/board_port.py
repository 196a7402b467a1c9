"""An actuator port over a :class:`hil.driver.Board`: the flight software's actuators on a real or
emulated board, with the health monitoring and responses a flight engineer expects (docs/bench.md).

``BoardPort(board).send(ActuatorCommand)`` moves each axis whose target is not None at the command's
rate; ``state()`` reads STATUS and returns an :class:`~bliss.fsw.messages.ActuatorState` (positions,
moving flags, fault bits). It has the two methods of ``bliss.fsw.attitude.actuation.ActuatorPort``.

Responses, each recorded as a :class:`~bliss.io.telemetry.BenchEvent` in ``events`` (and handed to
``on_event``):
- ``retry``: a command got no reply after the driver's own resends (``BoardTimeout``): tried again, up
  to ``command_retries`` times, before the link counts as lost;
- ``board_reset`` / ``rehome`` / ``resume``: the board reset (the driver raises ``BoardReset`` once if a
  move was lost, and records every reset in ``board.resets``): the positions the board now reports are
  taken as the axes' positions (``rehome``) and each axis's last target is sent again (``resume``);
- ``axis_failed``: STATUS shows STALL or STUCK on an axis: it is marked failed, no longer commanded,
  and the others go on; ``restore_axis()`` (an operator's decision) clears it (``axis_restored``);
- ``watchdog_recovered``: the board's watchdog stopped an axis (the host was silent for 1 s, e.g. while
  the link was away): its WATCHDOG fault is cleared and its target sent again;
- ``reconnected``: the driver reopened a port that went away within its own ``reconnect_timeout``
  (the command went through; nothing else to do);
- ``link_lost`` / ``link_down`` / ``link_restored``: the port stayed away: each call keeps trying until
  ``link_budget_s`` after the outage began; past the budget ``link_down`` is recorded once and calls
  raise :class:`ActuatorLinkDown` (after one more attempt each) until the link is back, when
  ``link_restored`` says how long it was away;
- ``line_noise``: the board's ``rx_bad`` counter or the host decoder's reject count went up: garbage on
  the line, absorbed by the framing (nothing else to do);
- ``advisory``: an axis gained LIMIT or MISSED (reported, latched by the board, do not stop moves);
- ``target_limited`` / ``rate_limited``: a target outside the board's soft limits or a rate outside
  [RATE_MIN, RATE_MAX] Hz was clamped before sending (recorded when the clamp starts);
- ``refused``: the board NACKed a MOVE for another reason.
"""
from __future__ import annotations

import time
from typing import Callable

from bliss.fsw.attitude.actuation import ActuatorPort
from bliss.fsw.messages import ActuatorCommand, ActuatorState
from bliss.io.telemetry import BenchEvent
from bliss.protocol.messages import RATE_MAX, RATE_MIN, AxisFault, ErrorCode, StatusInfo

from .driver import Board, BoardError, BoardNack, BoardReset

__all__ = ["ActuatorLinkDown", "BoardPort", "FAILING_FAULTS"]

#: Fault bits after which an axis is marked failed (the board holds it; protocol.md section 2).
FAILING_FAULTS = AxisFault.STALL | AxisFault.STUCK
#: Advisory fault bits: reported once when they appear.
_ADVISORY = AxisFault.LIMIT | AxisFault.MISSED
#: Pause between attempts while the link is away, s (our choice; the driver itself waits up to its
#: reconnect_timeout for the port in each attempt).
_RETRY_PAUSE_S = 0.05


class ActuatorLinkDown(BoardError):
    """The link to the board stayed away past the port's budget."""


class BoardPort(ActuatorPort):
    """Actuator port over ``board`` (connected). ``clock()`` stamps events and states (default
    time.monotonic; the bench passes its mission clock)."""

    def __init__(self, board: Board, *, command_retries: int = 2, link_budget_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic,
                 on_event: Callable[[BenchEvent], None] | None = None):
        self.board = board
        self.command_retries = int(command_retries)
        self.link_budget_s = float(link_budget_s)
        self.clock = clock
        self.on_event = on_event
        self.events: list[BenchEvent] = []
        self.failed: dict[int, str] = {}          # axis -> why
        n = board.info.n_axes if board.info is not None else 3
        self.n_axes = n
        self._targets: list[tuple[int, int] | None] = [None] * n   # last (target, rate) wanted per axis
        self._acked: list[tuple[int, int] | None] = [None] * n     # last (target, rate) the board ACKed
        self._faults = [0] * n
        self._resets_seen = len(board.resets)
        self._reconnects = board.reconnects
        self._rx_bad: int | None = None
        self._host_rejected = board.rx_rejected
        self._down_since: float | None = None   # time.monotonic() when the link was found lost
        self._down_reported = False
        self._clamped: set[tuple[str, int]] = set()
        self._recovering = False

    # ------------------------------------------------------------------ the two port methods
    def send(self, command: ActuatorCommand) -> None:
        """MOVE each axis whose target is not None at ``command.rate_hz`` (unless the board already
        has that target and rate, or the axis is marked failed)."""
        rate = self._rate(command.rate_hz)
        for axis, target in enumerate(command.target_steps[:self.n_axes]):
            if target is None:
                continue
            self._targets[axis] = (self._limit(axis, int(target)), rate)
            if axis not in self.failed and self._acked[axis] != self._targets[axis]:
                self._move(axis)

    def state(self) -> ActuatorState:
        """STATUS -> positions, moving flags and fault bits; runs the health checks on it."""
        st = self._call(self.board.status)
        st = self._check(st)
        pos = tuple(a.position for a in st.axes)
        mov = tuple(a.moving for a in st.axes)
        flt = tuple(int(a.faults) for a in st.axes)
        return ActuatorState(self.clock(), pos, mov, flt)

    # ------------------------------------------------------------------ operator actions
    def restore_axis(self, axis: int) -> None:
        """Put a failed axis back in service: clear its faults on the board and command it again."""
        self._call(lambda: self.board.clear_faults(axis))
        why = self.failed.pop(axis, None)
        self._faults[axis] = 0
        self._acked[axis] = None
        self._event("axis_restored", axis, f"was failed: {why}" if why else "was not failed")

    @property
    def link_up(self) -> bool:
        return self._down_since is None

    # ------------------------------------------------------------------ internals
    def _event(self, kind: str, axis: int | None, detail: str) -> None:
        ev = BenchEvent(self.clock(), kind, axis, detail)
        self.events.append(ev)
        if self.on_event is not None:
            self.on_event(ev)

    def _rate(self, rate_hz: float) -> int:
        r = int(round(rate_hz))
        lim = min(max(r, RATE_MIN), RATE_MAX)
        if lim != r and ("rate", r) not in self._clamped:
            self._clamped.add(("rate", r))
            self._event("rate_limited", None, f"{rate_hz:g} Hz outside [{RATE_MIN}, {RATE_MAX}] Hz: "
                                              f"sent {lim} Hz")
        return lim

    def _limit(self, axis: int, target: int) -> int:
        info = self.board.info
        if info is None or axis >= len(info.axes):
            return target
        lo, hi = info.axes[axis].soft_min, info.axes[axis].soft_max
        lim = min(max(target, lo), hi)
        if lim != target and ("target", axis) not in self._clamped:
            self._clamped.add(("target", axis))
            self._event("target_limited", axis, f"target {target} outside soft limits [{lo}, {hi}] "
                                                f"steps: sent {lim}")
        elif lim == target:
            self._clamped.discard(("target", axis))
        return lim

    def _move(self, axis: int) -> None:
        target, rate = self._targets[axis]
        for attempt in range(2):
            try:
                self._call(lambda: self.board.move(axis, target, rate))
            except BoardNack as exc:
                if exc.error == ErrorCode.AXIS_FAULT and attempt == 0:
                    # a blocking fault the last STATUS did not show yet: look now (the check fails
                    # the axis, or clears a watchdog fault and sends the move itself)
                    self._check(self._call(self.board.status))
                    if axis in self.failed or self._acked[axis] == self._targets[axis]:
                        return
                    continue
                self._event("refused", axis, f"MOVE {target} at {rate} Hz: {exc.error.name}")
                return
            self._acked[axis] = (target, rate)
            return

    def _call(self, fn):
        """Run one driver command with the port's retries and link budget (see the module doc)."""
        attempts = 0
        while True:
            try:
                result = fn()
            except BoardReset as exc:
                self._on_resets(f"while axis {', '.join(map(str, exc.record.moving_axes))} was moving")
                continue  # the driver has re-synced; the command (idempotent) is sent again
            except BoardNack:
                raise
            except BoardError as exc:
                attempts += 1
                link = self.board.link
                lost = link is None or not link.alive or attempts > self.command_retries
                if not lost:
                    self._event("retry", None, f"attempt {attempts + 1}: {exc}")
                    continue
                now = time.monotonic()
                if self._down_since is None:
                    self._down_since = now
                    self._event("link_lost", None, str(exc))
                if now - self._down_since >= self.link_budget_s:
                    if not self._down_reported:
                        self._down_reported = True
                        self._event("link_down", None, f"no answer for {now - self._down_since:.2f} s "
                                                       f"(budget {self.link_budget_s:g} s): {exc}")
                    raise ActuatorLinkDown(f"link to the board on {self.board.url} down for "
                                           f"{now - self._down_since:.1f} s: {exc}") from None
                time.sleep(_RETRY_PAUSE_S)
                continue
            if self._down_since is not None:
                self._event("link_restored", None, f"after {time.monotonic() - self._down_since:.2f} s")
                self._down_since, self._down_reported = None, False
            if self.board.reconnects != self._reconnects:
                # the driver reopened the port within its own reconnect_timeout: a blip, ridden out
                self._event("reconnected", None, f"the driver reopened the port "
                                                 f"({self.board.reconnects - self._reconnects} time(s))")
                self._reconnects = self.board.reconnects
            if len(self.board.resets) != self._resets_seen:
                self._on_resets("")
            return result

    def _on_resets(self, context: str) -> None:
        """The board reset (one or more new entries in board.resets): re-home and resume."""
        new = self.board.resets[self._resets_seen:]
        self._resets_seen = len(self.board.resets)
        for rec in new:
            moving = ", ".join(str(k) for k in rec.moving_axes) or "none"
            self._event("board_reset", None, f"boot_id 0x{rec.old_boot_id:04X} -> 0x{rec.new_boot_id:04X}"
                                             f" seen in {rec.source} {context}".rstrip()
                                             + f"; axes moving: {moving}")
        self._acked = [None] * self.n_axes
        if self._recovering:
            return  # the outer recovery re-homes once more with the newest state
        self._recovering = True
        try:
            st = self._call(self.board.status)
            self._event("rehome", None, "positions from the board: "
                        + ", ".join(f"axis {k} {a.position}" for k, a in enumerate(st.axes)))
            self._faults = [int(a.faults) for a in st.axes]
            for axis in range(self.n_axes):
                if self._targets[axis] is not None and axis not in self.failed:
                    self._event("resume", axis, f"target {self._targets[axis][0]} at "
                                                f"{self._targets[axis][1]} Hz sent again")
                    self._move(axis)
        finally:
            self._recovering = False

    def _check(self, st: StatusInfo) -> StatusInfo:
        """Health checks on a STATUS_INFO; returns the STATUS_INFO the caller should report (a fresh
        one if a recovery changed the board's state)."""
        rejected = self.board.rx_rejected
        if self._rx_bad is not None and (st.rx_bad != self._rx_bad or rejected > self._host_rejected):
            self._event("line_noise", None,
                        f"board rejected {(st.rx_bad - self._rx_bad) & 0xFFFF} frame(s), host rejected "
                        f"{max(rejected - self._host_rejected, 0)}; absorbed by the framing")
        self._rx_bad, self._host_rejected = st.rx_bad, rejected
        recovered = False
        for axis, ax in enumerate(st.axes[:self.n_axes]):
            new = int(ax.faults) & ~self._faults[axis]
            self._faults[axis] = int(ax.faults)
            if ax.faults & FAILING_FAULTS:
                if axis not in self.failed:
                    why = "+".join(ax.fault_names())
                    self.failed[axis] = why
                    self._event("axis_failed", axis, f"{why} at position {ax.position}, target "
                                                     f"{ax.target}; continuing on the other axes")
                continue
            if ax.faults & AxisFault.WATCHDOG and axis not in self.failed:
                self._call(lambda: self.board.clear_faults(axis))
                self._faults[axis] &= ~int(AxisFault.WATCHDOG)
                self._acked[axis] = None
                self._event("watchdog_recovered", axis, f"stopped at {ax.position} by the board's "
                                                        "watchdog: fault cleared")
                if self._targets[axis] is not None:
                    self._move(axis)
                recovered = True
            if new & _ADVISORY:
                self._event("advisory", axis, "+".join(f.name for f in AxisFault if new & _ADVISORY & f))
        if recovered:
            st = self._call(self.board.status)
            self._rx_bad = st.rx_bad
        return st
