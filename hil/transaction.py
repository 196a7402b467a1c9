"""One request to the board and its reply: sequence numbers, matching the reply by seq, timeouts and
retries of the *same* frame (docs/protocol.md section 4: 250 ms, up to 3 retries; the board answers a
repeated frame from its stored reply instead of executing it again)."""
from __future__ import annotations

import secrets
import time
from typing import Callable

from bliss.protocol.framing import Frame
from bliss.protocol.messages import PROTO_VERSION, MessageError, decode_frame, encode_message

from .errors import BoardError, BoardTimeout, ProtocolMismatch
from .inbox import Inbox
from .link import Link, LinkError

__all__ = ["Transactions"]


class Transactions:
    """Sends commands over the link that ``get_link()`` returns, one at a time (the caller serialises
    them), and waits for their replies in ``inbox``.

    When the link is down and the caller gave a ``reconnect_by`` deadline, ``reconnect(why, deadline)``
    is called to bring it back (it raises :class:`BoardError` if it cannot) and the same frame is
    resent; a try lost to a dead port is not counted as a retry."""

    def __init__(self, url: str, get_link: Callable[[], Link | None], inbox: Inbox, *, timeout: float,
                 retries: int, seq_start: int | None, reconnect: Callable[[str, float], None]):
        self.url = url
        self.timeout = float(timeout)
        self.retries = int(retries)
        self._get_link = get_link
        self._inbox = inbox
        self._reconnect = reconnect
        # A random first sequence number so that a new host session does not repeat the board's last
        # executed seq (which the board would treat as a duplicate, docs/protocol.md section 4).
        self._seq = secrets.randbelow(0x10000) if seq_start is None else int(seq_start) & 0xFFFF
        self.retries_used = 0
        self.timeouts = 0
        self.last_tx = 0.0  # time.monotonic() of the last frame sent (the heartbeat counts from it)

    def next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFF
        return self._seq

    def send(self, msg, *, retries: int | None = None, timeout: float | None = None,
             reconnect_by: float | None = None):
        """Send ``msg`` and return the decoded reply (NACK included).

        ``reconnect_by``: time.monotonic() deadline for bringing a dead link back; None means a dead
        link is an error at once."""
        retries = self.retries if retries is None else retries
        timeout = self.timeout if timeout is None else timeout
        seq = self.next_seq()
        frame = encode_message(msg, seq)
        name = msg.TYPE.name
        tries = 0
        while True:
            link = self._get_link()
            if link is None or not link.alive:
                if reconnect_by is None:
                    raise BoardError(f"serial link to {self.url} is down: "
                                     f"{(link.error if link else None) or 'not connected'}")
                why = link.error if link is not None and link.error else "port closed"
                self._reconnect(why, reconnect_by)
                continue
            self._inbox.forget(seq)
            try:
                link.send(frame)
            except LinkError:
                continue  # link marked dead: loop reconnects (or raises) and resends the same frame
            self.last_tx = time.monotonic()
            reply = self._inbox.take(seq, time.monotonic() + timeout)
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

    def raw(self, type_: int, payload: bytes = b"", *, version: int = PROTO_VERSION,
            seq: int | None = None, timeout: float | None = None) -> Frame | None:
        """Send one hand-made frame once (no retries); the undecoded reply frame or None."""
        seq = self.next_seq() if seq is None else int(seq) & 0xFFFF
        link = self._get_link()
        if link is None or not link.alive:
            raise BoardError(f"serial link to {self.url} is down")
        self._inbox.forget(seq)
        link.send(Frame(version, type_, seq, bytes(payload)))
        self.last_tx = time.monotonic()
        return self._inbox.take(seq, time.monotonic() + (self.timeout if timeout is None else timeout))
