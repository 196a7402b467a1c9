"""The actuator-board serial protocol, version 1 (docs/protocol.md): frame codec and typed messages.

Pure Python on bytes; the serial link and the board driver live in ``hil/``.
"""
from .framing import (  # noqa: F401
    MAX_PAYLOAD, Frame, FrameDecoder, FrameError, crc16, decode_body, encode_frame,
)
from .messages import *  # noqa: F401,F403
from .messages import __all__ as _msg_all

__all__ = ["Frame", "FrameDecoder", "FrameError", "crc16", "decode_body", "encode_frame", *_msg_all]
