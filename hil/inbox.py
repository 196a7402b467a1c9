"""What the board sends, sorted: a dispatcher thread takes each frame off the current link and keeps
replies (matched to their command by sequence number, see ``hil.transaction``) apart from EVENT frames
(kept with their arrival time for :meth:`Inbox.events` and :meth:`Inbox.wait_event`)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from bliss.protocol.framing import Frame
from bliss.protocol.messages import PROTO_VERSION, Event, MessageError, MsgType, decode_frame

from .link import Link

__all__ = ["ReceivedEvent", "Inbox"]

#: How many board events to remember (our choice: a few minutes of traffic).
_EVENT_MEMORY = 10_000
#: How many unclaimed replies to keep; the newest are kept, older ones are stale (our choice).
_REPLY_MEMORY = 64
#: Dispatcher poll period, s: bounds how long stop() waits (our choice).
_POLL_S = 0.05


@dataclass(frozen=True)
class ReceivedEvent:
    time: float          # time.monotonic() at reception
    seq: int
    event: Event


class Inbox:
    """Replies and events from the link that ``get_link()`` returns (it changes on reconnect).

    ``on_event(seq, event)`` is called on the dispatcher thread for every EVENT before it is stored."""

    def __init__(self, get_link: Callable[[], Link | None], on_event: Callable[[int, Event], None],
                 name: str):
        self._get_link = get_link
        self._on_event = on_event
        self._name = name
        self._reply_cv = threading.Condition()
        self._replies: list[Frame] = []
        self._event_cv = threading.Condition()
        self._events: list[ReceivedEvent] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.foreign_frames = 0  # frames with another protocol version

    def start(self) -> None:
        self._stop.clear()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, daemon=True, name=f"board-inbox {self._name}")
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        t = self._thread
        if t is not None and t.is_alive() and t is not threading.current_thread():
            t.join(timeout=1.0)

    def _loop(self) -> None:
        while not self._stop.is_set():
            link = self._get_link()
            if link is None or not link.alive:
                time.sleep(0.01)
                continue
            frame = link.recv(timeout=_POLL_S)
            if frame is None:
                continue
            if frame.version == PROTO_VERSION and frame.type == MsgType.EVENT:
                try:
                    ev = decode_frame(frame)
                except MessageError:
                    continue
                self._on_event(frame.seq, ev)
                with self._event_cv:
                    self._events.append(ReceivedEvent(time.monotonic(), frame.seq, ev))
                    del self._events[:-_EVENT_MEMORY]
                    self._event_cv.notify_all()
                continue
            if frame.version != PROTO_VERSION:
                self.foreign_frames += 1
            with self._reply_cv:
                self._replies.append(frame)
                del self._replies[:-_REPLY_MEMORY]
                self._reply_cv.notify_all()

    # ---- replies ---------------------------------------------------------------------------------
    def forget(self, seq: int) -> None:
        """Drop kept replies with ``seq`` (before a command with that seq is sent)."""
        with self._reply_cv:
            self._replies = [f for f in self._replies if f.seq != seq]

    def take(self, seq: int, deadline: float) -> Frame | None:
        """The reply with ``seq``, waiting until ``deadline`` (time.monotonic()); None if none came or
        the link died meanwhile. Older kept replies are dropped with it."""
        with self._reply_cv:
            while True:
                for i, f in enumerate(self._replies):
                    if f.seq == seq:
                        del self._replies[:i + 1]
                        return f
                left = deadline - time.monotonic()
                link = self._get_link()
                if left <= 0 or link is None or not link.alive:
                    return None
                self._reply_cv.wait(min(left, _POLL_S))

    # ---- events ----------------------------------------------------------------------------------
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
