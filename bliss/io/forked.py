"""Write some products in a child process while the parent goes on (issue 10: wall time on 2 cores).

The plots cost a command most of its product time (``bliss plan``: matplotlib's import 0.5-1 s and four
figures 1-3 s on this 2-core machine; ``bliss propagate``: the import and one figure, 0.7 s, half its warm
run). Two ways to move them off the parent's path, both with ``fork()``:

* :class:`Forked` runs a function in a child forked when the data exist: the child shares the parent's
  memory at the fork (the planned trajectory, the numba kernels already loaded), so nothing is pickled;
* :class:`ForkedCall` computes a value in a child forked now (e.g. an independent optimiser start, on the
  second core) and hands it back, pickled, when the parent asks for it;
* :class:`Worker` forks at a command's start a child that imports at once what it will need (matplotlib),
  side by side with the parent's own imports and computation, then waits for one job: a module-level
  function and picklable arguments (arrays, paths, strings) sent by :meth:`Worker.submit`.

Either way :meth:`join` (or leaving the ``with`` block) waits for the child before the files are published
together (``bliss.io.atomic.OutputSet``: the child writes to temporary paths the parent took from the set).
A child that fails makes ``join`` raise ``RuntimeError`` with the child's one-line error, so the set is
discarded as for any error. Where ``fork`` does not exist the work runs in the caller at ``join``.
"""
from __future__ import annotations

import os
import pickle
import signal
import sys
import traceback

__all__ = ["Forked", "ForkedCall", "Worker"]


def _fork():
    """``(pid, read, write)`` after a fork with the standard streams flushed (no text printed twice)."""
    sys.stdout.flush()
    sys.stderr.flush()
    read, write = os.pipe()
    return os.fork(), read, write


def _child_exit(report_fd: int, fn) -> None:
    """In a child: run ``fn``, write a failure on ``report_fd``, exit without the parent's exit handlers."""
    code = 0
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001 - every failure is reported to the parent
        code = 1
        line = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
        try:
            os.write(report_fd, (line + "\n" + traceback.format_exc()).encode("utf-8", "replace"))
        except OSError:
            pass
    finally:
        os._exit(code)


def _wait(pid: int, report_fd: int) -> None:
    """Wait for the child; raise ``RuntimeError`` (its error on one line) if it failed."""
    chunks = []
    while chunk := os.read(report_fd, 65536):
        chunks.append(chunk)
    os.close(report_fd)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        message = b"".join(chunks).decode("utf-8", "replace")
        first = message.splitlines()[0] if message else f"exit status {code}"
        raise RuntimeError(f"writing products in a child process failed: {first}")


class _Joinable:
    def join(self) -> None:  # pragma: no cover - defined by the subclasses
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.join()
            return
        try:  # the parent failed: still wait for the child (it writes into the set being discarded)
            self.join()
        except RuntimeError:
            pass


def _start(fn, child_main) -> tuple:
    """``(pid, read end)`` of a child forked now that runs ``child_main(write end, fn)`` and exits;
    ``(None, None)`` where ``fork`` does not exist."""
    if not hasattr(os, "fork"):
        return None, None
    pid, read, write = _fork()
    if pid == 0:
        os.close(read)
        child_main(write, fn)
    os.close(write)
    return pid, read


class Forked(_Joinable):
    """``fn()`` running in a child process forked now; :meth:`join` waits for it."""

    def __init__(self, fn):
        self._fn = fn
        self._pid, self._report = _start(fn, _child_exit)

    def join(self) -> None:
        if self._pid is None:
            fn, self._fn = self._fn, None
            if fn is not None:
                fn()
            return
        pid, self._pid, self._fn = self._pid, None, None
        _wait(pid, self._report)


class Worker(_Joinable):
    """A child forked now that runs ``prepare()`` (imports) at once, then one job sent by :meth:`submit`.

    :meth:`close` ends it: a child given no job is killed (e.g. the command stopped on bad input), one
    given a job is waited for."""

    def __init__(self, prepare):
        self._pid, self._job = None, None
        if not hasattr(os, "fork"):
            return
        jobs_read, jobs_write = os.pipe()
        pid, read, write = _fork()
        if pid == 0:
            os.close(read)
            os.close(jobs_write)
            _child_exit(write, lambda: _serve(prepare, jobs_read))
        os.close(write)
        os.close(jobs_read)
        self._pid, self._report, self._jobs = pid, read, jobs_write

    def submit(self, fn, *args) -> None:
        """Send the job ``fn(*args)`` (``fn`` a module-level function, ``args`` picklable)."""
        if self._pid is None:
            self._job = (fn, args)
            return
        try:
            with os.fdopen(self._jobs, "wb") as pipe:
                pickle.dump((fn, args), pipe, protocol=pickle.HIGHEST_PROTOCOL)
        except BrokenPipeError:  # the child failed before reading (its error is read by join)
            pass
        self._jobs = None

    def join(self) -> None:
        """Wait for the job; raise ``RuntimeError`` if it failed."""
        if self._pid is None:
            job, self._job = self._job, None
            if job is not None:
                job[0](*job[1])
            return
        if self._jobs is not None:  # no job was sent: nothing to wait for
            self.close()
            return
        pid, self._pid = self._pid, None
        _wait(pid, self._report)

    def close(self) -> None:
        """End the child: killed if it was given no job, else waited for (errors not raised here)."""
        if self._pid is None:
            return
        pid, self._pid = self._pid, None
        if self._jobs is not None:
            os.close(self._jobs)
            self._jobs = None
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            _wait(pid, self._report)
        except RuntimeError:
            pass


def _serve(prepare, jobs_fd: int) -> None:
    prepare()
    with os.fdopen(jobs_fd, "rb") as pipe:
        data = pipe.read()
    if not data:  # the parent closed the pipe without a job
        return
    fn, args = pickle.loads(data)
    fn(*args)


class ForkedCall:
    """``fn()`` computed in a child process forked now; :meth:`result` waits for it and returns its value
    (pickled back through a pipe), or raises ``RuntimeError`` with the child's one-line error. Where
    ``fork`` does not exist, ``fn()`` runs in the caller at :meth:`result`. Call :meth:`result` or
    :meth:`close` (which kills a child still running) exactly once."""

    def __init__(self, fn):
        self._fn = fn
        self._pid, self._read = _start(fn, _child_return)

    def result(self):
        if self._pid is None:
            fn, self._fn = self._fn, None
            return fn()
        pid, self._pid, self._fn = self._pid, None, None
        chunks = []
        while chunk := os.read(self._read, 1 << 20):
            chunks.append(chunk)
        os.close(self._read)
        os.waitpid(pid, 0)
        data = b"".join(chunks)
        if data[:1] == b"v":
            return pickle.loads(data[1:])
        message = data[1:].decode("utf-8", "replace") if data else "the child process ended without a result"
        raise RuntimeError(f"a forked computation failed: {message.splitlines()[0] if message else ''}")

    def close(self) -> None:
        if self._pid is None:
            return
        pid, self._pid, self._fn = self._pid, None, None
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(self._read)
        os.waitpid(pid, 0)


def _child_return(fd: int, fn) -> None:
    """In a child: write ``b"v" + pickle(fn())`` or ``b"e" + one-line error`` to ``fd``; exit at once."""
    code = 0
    try:
        try:
            payload = b"v" + pickle.dumps(fn(), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # noqa: BLE001 - every failure is reported to the parent
            code = 1
            line = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
            payload = b"e" + line.encode("utf-8", "replace")
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]
    except BaseException:  # noqa: BLE001 - the parent sees a missing result
        code = 1
    finally:
        os._exit(code)
