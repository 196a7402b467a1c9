"""Hardware-in-the-loop bench: the board driver's public API (``driver``: :class:`~hil.driver.Board`),
built from one request with its retries (``transaction``), the session with its reconnects and reset
detection (``session``), the heartbeat (``heartbeat``) and the reply/event dispatcher (``inbox``) over
the serial link (``link``); the emulated board (``emulated``). See docs/hil.md."""
