"""Board-side fault injection for the bench: applies a :class:`bliss.io.faultplan.FaultPlan` to a
:class:`hil.driver.Board` at the plan's times (docs/bench.md).

- ``board_reset``: INJECT RESET (a brown-out; the emulated boards only);
- ``axis_stall``: INJECT STUCK (``percent`` 0) or INJECT STALL at ``percent`` % of the commanded rate;
  INJECT CLEAR after ``duration_s`` (the latched fault bits stay until the host clears them);
- ``link_drop``: the port goes away as if unplugged: the stable path of the
  :class:`hil.emulated.EmulatedBoard` is removed and the host's link closed, while the board keeps
  running (its watchdog trips after 1 s); after ``duration_s`` the path comes back and the driver
  reconnects. Needs the emulated board;
- ``garbage``: ``bytes`` bytes of noise toward the board, cut into 80-byte runs each ended by 0x00:
  longer than any frame (73 bytes), so the framing drops each run whole and can never execute one.
``sensor_dropout`` is not a board fault: the loop reads it from the plan (``FaultPlan.active``).
"""
from __future__ import annotations

import os
import random

from bliss.io.faultplan import FaultEntry, FaultPlan
from bliss.io.telemetry import BenchEvent
from bliss.protocol.messages import InjectKind

from .driver import Board
from .emulated import EmulatedBoard

__all__ = ["BoardFaultInjector", "BOARD_KINDS", "garbage_bytes"]

BOARD_KINDS = ("board_reset", "axis_stall", "link_drop", "garbage")
#: Length of one garbage run before its 0x00, bytes: over the 73-byte longest frame (protocol.md §1).
_GARBAGE_RUN = 80


def garbage_bytes(n: int, seed: int = 0) -> bytes:
    """``n`` bytes of noise (plus one 0x00 per 80) that no decoder can take for a frame."""
    rng = random.Random(seed)
    out = bytearray()
    while n > 0:
        run = min(n, _GARBAGE_RUN)
        body = bytes(rng.randrange(1, 256) for _ in range(run))
        out += body + b"\x01" * (_GARBAGE_RUN - run) + b"\x00"
        n -= run
    return bytes(out)


class BoardFaultInjector:
    """Apply the board-side entries of ``plan`` to ``board``. Call :meth:`poll(t)` with the run's time
    [s since its start] every cycle; it returns the events of what it did (``fault_start``,
    ``fault_end``)."""

    def __init__(self, board: Board, plan: FaultPlan, emulated: EmulatedBoard | None = None):
        self.board = board
        self.emulated = emulated
        self.entries = [e for e in plan.entries if e.kind in BOARD_KINDS]
        if emulated is None and any(e.kind == "link_drop" for e in self.entries):
            raise ValueError("fault plan has link_drop, which the bench can only do to the emulated board "
                             "(it removes the board's port path); run with the emulated board or drop it")
        self._started: set[int] = set()
        self._ended: set[int] = set()

    def poll(self, t: float) -> list[BenchEvent]:
        events = []
        for k, e in enumerate(self.entries):
            if k not in self._started and t >= e.at_s:
                self._started.add(k)
                events.append(BenchEvent(t, "fault_start", e.axis, self._start(e, k)))
                if e.end_s is None and e.kind != "axis_stall":
                    self._ended.add(k)  # instantaneous
            if k in self._started and k not in self._ended and e.end_s is not None and t >= e.end_s:
                self._ended.add(k)
                events.append(BenchEvent(t, "fault_end", e.axis, self._end(e)))
        return events

    @property
    def done(self) -> bool:
        return all(k in self._ended or self.entries[k].end_s is None and k in self._started
                   for k in range(len(self.entries)))

    def _start(self, e: FaultEntry, k: int) -> str:
        if e.kind == "board_reset":
            self.board.inject(InjectKind.RESET, 0)
            return "board_reset: INJECT RESET"
        if e.kind == "axis_stall":
            if e.percent == 0:
                self.board.inject(InjectKind.STUCK, e.axis)
                return f"axis_stall: INJECT STUCK axis {e.axis}"
            self.board.inject(InjectKind.STALL, e.axis, e.percent)
            return f"axis_stall: INJECT STALL axis {e.axis} at {e.percent} %"
        if e.kind == "link_drop":
            drop_link(self.board, self.emulated)
            return f"link_drop: port {self.emulated.port} removed for {e.duration_s:g} s"
        if e.kind == "garbage":
            self.board.link.send_raw(garbage_bytes(e.bytes, seed=k), "injected garbage")
            return f"garbage: {e.bytes} bytes toward the board"
        raise ValueError(f"not a board-side fault: {e.kind}")  # pragma: no cover

    def _end(self, e: FaultEntry) -> str:
        if e.kind == "axis_stall":
            self.board.inject(InjectKind.CLEAR, e.axis)
            return f"axis_stall: INJECT CLEAR axis {e.axis}"
        if e.kind == "link_drop":
            restore_link(self.emulated)
            return f"link_drop: port {self.emulated.port} back"
        return f"{e.kind}: over"  # pragma: no cover


def drop_link(board: Board, emulated: EmulatedBoard) -> None:
    """Unplug: remove the emulated board's port path and close the host's link (the board runs on)."""
    if os.path.lexists(emulated.port):
        os.unlink(emulated.port)
    link = board.link
    if link is not None:
        link.close()


def restore_link(emulated: EmulatedBoard) -> None:
    """Plug back in: the port path points at the running board's pty again."""
    tmp = emulated.port + ".new"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(emulated.pty, tmp)
    os.replace(tmp, emulated.port)
