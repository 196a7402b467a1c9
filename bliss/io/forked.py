"""Write some products in a child process while the parent writes the others (issue 10: wall time).

The plots cost a command most of its product time (``bliss plan``: matplotlib's import ~1 s and four
figures ~3 s on this 2-core machine, against ~1.5 s for its OEM, AEM, CSV and summary). :class:`Forked`
runs a function in a ``fork()``-ed child, which shares the parent's memory at the fork (the planned
trajectory, the numba kernels already loaded), so nothing is pickled; the parent goes on with its own
files and :meth:`Forked.join` waits for the child before the files are published together
(``bliss.io.atomic.OutputSet``: the child writes to the set's temporary paths). A child that fails makes
``join`` raise ``RuntimeError`` with the child's one-line error, so the set is discarded as for any error.
Where ``fork`` does not exist the function simply runs in the caller when ``join`` is reached.
"""
from __future__ import annotations

import os
import sys
import traceback

__all__ = ["Forked"]


class Forked:
    """``fn()`` running in a child process; :meth:`join` waits for it (also used as a context manager)."""

    def __init__(self, fn):
        self._fn = fn
        self._pid = None
        if not hasattr(os, "fork"):
            return
        sys.stdout.flush()  # no buffered text printed twice (by the child at its exit)
        sys.stderr.flush()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: run, report a failure on the pipe, exit without the parent's exit handlers
            os.close(read)
            code = 0
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - every failure is reported to the parent
                code = 1
                line = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
                os.write(write, (line + "\n" + traceback.format_exc()).encode("utf-8", "replace"))
            finally:
                os._exit(code)
        os.close(write)
        self._pid, self._read = pid, read

    def join(self) -> None:
        """Wait for the child; raise ``RuntimeError`` (the child's error on one line) if it failed."""
        if self._pid is None:
            if self._fn is not None:
                fn, self._fn = self._fn, None
                fn()
            return
        chunks = []
        while chunk := os.read(self._read, 65536):
            chunks.append(chunk)
        os.close(self._read)
        _, status = os.waitpid(self._pid, 0)
        self._pid, self._fn = None, None
        if os.waitstatus_to_exitcode(status) != 0:
            message = b"".join(chunks).decode("utf-8", "replace")
            first = message.splitlines()[0] if message else f"exit status {os.waitstatus_to_exitcode(status)}"
            raise RuntimeError(f"writing products in a child process failed: {first}")

    def __enter__(self) -> "Forked":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.join()
            return
        try:  # the parent failed: still wait for the child (it writes into the set being discarded)
            self.join()
        except RuntimeError:
            pass
