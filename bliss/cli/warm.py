"""``bliss warm``: compile the numerical kernels of ``bliss plan`` and ``bliss propagate`` into numba's cache.

An install step (issue 10): numba compiles every kernel the first time a command needs it (~30 s of a
first ``bliss plan``, ~12 s of a first ``bliss propagate`` on a 2-core machine) and keeps the machine code
in its on-disk cache (``sim._numba_cache``: a folder under ``$XDG_CACHE_HOME/bliss`` named by a hash of the
kernel sources, so the cache stays valid for this source tree until a kernel changes). ``bliss warm`` runs
the two commands with their defaults (``bliss propagate --duration-days 10`` and ``bliss plan``) into a
temporary folder, which it deletes, so that every kernel they call is compiled with the argument types a
user's run passes; the commands after it load the kernels instead of compiling them. The two run as
separate processes, side by side when the machine has two cores or more (``--jobs``).

Run it once after installing, and again after a change to a kernel (a run without it still works: it
compiles what it needs itself). Exit codes: 0 every kernel compiled; 1 a command failed (its last error
line is printed).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bliss.cli import UsageError

#: The commands warmed, with their arguments: the defaults a user's first runs take (the README's commands).
#: The shorter first, so that with two jobs each is waited for in the order it ends.
COMMANDS = {
    "propagate": ["propagate", "--duration-days", "10"],
    "plan": ["plan", "--no-progress"],
}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "warm",
        help="compile the numerical kernels of plan and propagate into numba's cache (install step)",
        description=__doc__.split("\n\n")[0].replace("``", ""),
    )
    p.add_argument("--jobs", metavar="N", default=str(min(2, os.cpu_count() or 1)),
                   help="commands run side by side, 1 or 2; default min(2, number of CPUs)")
    p.set_defaults(func=run)


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        raise UsageError(f"--jobs must be 1 or 2 (commands run side by side), got {text!r}") from None
    if jobs not in (1, 2):
        raise UsageError(f"--jobs must be 1 or 2 (commands run side by side), got {text!r}")
    return jobs


def run(args) -> int:
    jobs = _jobs(args.jobs)
    t0 = time.perf_counter()
    failed = []
    with tempfile.TemporaryDirectory(prefix="bliss-warm-") as tmp:
        running = []
        for name, argv in COMMANDS.items():
            cmd = [sys.executable, "-m", "bliss", *argv, "--out", str(Path(tmp) / name)]
            # the children's products go to the temporary folder; their output is kept for an error only
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            running.append((name, proc, time.perf_counter()))
            if len(running) >= jobs:
                failed += _wait(running.pop(0))
        while running:
            failed += _wait(running.pop(0))
    if failed:
        for line in failed:
            print(f"bliss: error: warm: {line}", file=sys.stderr, flush=True)
        return 1
    print(f"bliss warm: kernels of {' and '.join(COMMANDS)} compiled and cached in "
          f"{time.perf_counter() - t0:.1f} s; later runs load them", flush=True)
    return 0


def _wait(job) -> list[str]:
    name, proc, started = job
    _, err = proc.communicate()
    if proc.returncode == 0:
        print(f"bliss warm: {name} done in {time.perf_counter() - started:.1f} s", flush=True)
        return []
    last = next((ln for ln in reversed(err.strip().splitlines()) if ln.strip()), "no error output")
    return [f"bliss {' '.join(COMMANDS[name])} failed (exit {proc.returncode}): {last.strip()}"]
