"""Hardware-in-the-loop bench: serial link (``link``), board driver (``driver``), emulated board
(``emulated``). See docs/hil.md."""
