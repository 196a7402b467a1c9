"""The host's heartbeat: a thread that sends HEARTBEAT when no other command went out for one period
(200 ms, docs/protocol.md section 4; any valid command counts), so the board's 1 s watchdog does not stop
motion while the host is alive. Tests pause it to trip the watchdog."""
from __future__ import annotations

import threading
import time
from typing import Callable

from bliss.protocol.messages import Ack

from .errors import BoardError

__all__ = ["Heartbeat"]

#: How often a disabled heartbeat thread looks whether it was enabled or closed, s (our choice).
_IDLE_POLL_S = 0.05


class Heartbeat:
    """``beat()`` sends one HEARTBEAT and returns the reply (None if it chose not to send, e.g. because
    the heartbeat was paused meanwhile); ``last_tx()`` is the time.monotonic() of the last frame sent;
    the thread ends when ``closing`` is set."""

    def __init__(self, beat: Callable[[], object], last_tx: Callable[[], float], period: float,
                 closing: threading.Event, name: str):
        self.period = float(period)
        self._beat = beat
        self._last_tx = last_tx
        self._closing = closing
        self._name = name
        self._enabled = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0
        self.errors = 0
        self.last_error: str | None = None

    @property
    def enabled(self) -> bool:
        return self._enabled.is_set()

    def pause(self) -> None:
        self._enabled.clear()

    def resume(self) -> None:
        self._enabled.set()

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, daemon=True,
                                            name=f"board-heartbeat {self._name}")
            self._thread.start()

    def join(self) -> None:
        t = self._thread
        if t is not None and t.is_alive() and t is not threading.current_thread():
            t.join(timeout=1.0)

    def _loop(self) -> None:
        while not self._closing.is_set():
            if not self._enabled.wait(_IDLE_POLL_S):
                continue
            self._closing.wait(max(0.0, self.period - (time.monotonic() - self._last_tx())))
            if self._closing.is_set() or not self._enabled.is_set():
                continue
            if time.monotonic() - self._last_tx() < self.period * 0.9:
                continue  # another command went out meanwhile: it counts as a heartbeat
            try:
                reply = self._beat()
            except BoardError as exc:
                self.errors += 1
                self.last_error = str(exc)
                self._closing.wait(self.period)
                continue
            if reply is None:
                continue
            self.sent += 1
            if not isinstance(reply, Ack):
                self.errors += 1
                self.last_error = f"HEARTBEAT answered with {reply!r}"
