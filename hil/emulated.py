"""The C emulated board (``firmware_host``) as a bench object with a stable port path.

``firmware_host.build.start_emulator()`` gives a fresh ``/dev/pts/N`` on every start. To test reconnection
(the port goes away and comes back under the same name, like a USB board re-enumerating as
``/dev/ttyACM0``), :class:`EmulatedBoard` publishes the pty under a symlink it owns and re-points it on
every restart. While the board is down the symlink is removed, so a reconnecting host can never open a
``/dev/pts/N`` that the system has meanwhile handed to some other program.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from firmware_host.build import start_emulator  # builds the emulator on first start, not on import

__all__ = ["EmulatedBoard"]


class EmulatedBoard:
    """Start/stop/restart the C emulator; ``port`` is the stable symlink path."""

    def __init__(self, args=(), link_dir: str | os.PathLike | None = None, stderr=subprocess.DEVNULL):
        self.args = tuple(map(str, args))
        self.stderr = stderr  # the emulator's stderr: DEVNULL for tests, None (inherit) for a person
        self._own_dir = link_dir is None
        self.dir = tempfile.mkdtemp(prefix="bliss-emu-") if link_dir is None else os.fspath(link_dir)
        self.port = os.path.join(self.dir, "board")
        self.proc: subprocess.Popen | None = None
        self.pty: str | None = None
        self.starts = 0

    def start(self) -> str:
        """Start the emulator and point ``port`` at its pty; returns ``port``."""
        if self.proc is not None:
            raise RuntimeError("emulated board already running; stop() it first")
        self.proc, self.pty = start_emulator(self.args, stderr=self.stderr)
        tmp = self.port + ".new"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(self.pty, tmp)
        os.replace(tmp, self.port)  # atomic: a reader sees the old link or the new one
        self.starts += 1
        return self.port

    def stop(self, kill: bool = False) -> None:
        """Take the board away: remove the symlink, then end the process (SIGKILL if ``kill``)."""
        if os.path.lexists(self.port):
            os.unlink(self.port)
        if self.proc is not None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        self.proc = None
        self.pty = None

    def restart(self) -> str:
        self.stop()
        return self.start()

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.close()
