"""Errors of the board driver (``hil.driver``); each message is one line meant for a person."""
from __future__ import annotations

from bliss.protocol.messages import ErrorCode, Nack

__all__ = ["BoardError", "BoardTimeout", "BoardNack", "BoardReset", "ProtocolMismatch"]


class BoardError(RuntimeError):
    """Anything that stops a board command."""


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
    """The board reset (boot_id changed or EVENT BOOT) while a move was in progress; ``record`` is the
    :class:`hil.session.ResetRecord`, ``reply`` the reply of the command that reported it (if any)."""

    def __init__(self, message: str, record, reply=None):
        super().__init__(message)
        self.record = record
        self.reply = reply


class ProtocolMismatch(BoardError):
    """The board speaks a protocol version this host does not."""
