"""The ``bliss`` console command.

Each subcommand lives in its own module with ``register(subparsers)``, which adds a parser and sets
``func`` on it. ``func(args)`` returns an exit code. Bad user input raises :class:`UsageError` (or
``ValueError`` from the layers below), which becomes a one-line ``bliss: error: ...`` and exit code 2.
"""
from __future__ import annotations

import argparse
import atexit
import importlib
import os
import sys
import threading

#: Subcommand modules, in the order they appear in ``bliss --help``, with their one-line help (the same text as
#: the module's own parser; tests/test_cli_lazy_parser.py checks). Only the module of the command being run is
#: imported: the others are listed by this summary, so ``bliss --help`` imports no numerics and a command pays
#: only for its own imports.
SUBCOMMANDS = {
    "plan": "plan a minimum-time solar-sail rendezvous and write OEM/AEM/CSV/JSON products and plots",
    "propagate": "fly a sail at a constant cone/clock attitude from Earth; write OEM, CSV, plot, summary",
    "attitude": "attitude loop in software: a slew, or a plan schedule flown",
    "fly": "fly the mission with the flight software in the loop (SIL)",
    "scenario": "list, show and run the mission scenarios in scenarios/",
    "montecarlo": "Monte Carlo of a scenario with dispersions, on Dask",
    "survey": "rank near-Earth asteroids by minimum sail rendezvous time (screen + optimiser)",
    "scaling": "scaling limits of small sails: a_c against area, time to Bennu against a_c, "
               "perihelion limit from film temperature",
    "missions": "comet sample return and interstellar-object flybys (docs/missions.md)",
    "board": "actuator board: info/ping/status/move/stop, or run the emulator",
    "telemetry": "info, export (CSV/Parquet) and plot of a bench run's telemetry",
    "warm": "compile the numerical kernels of plan and propagate into numba's cache (install step)",
}

EXIT_USAGE = 2
#: Commands that compute and write their files, nothing more: once they return, the ``bliss`` script skips
#: the interpreter's teardown (freeing every object of numba, astropy, matplotlib, scipy: 0.5-1.5 s measured,
#: benchmarks/results/startup.txt) after running the exit handlers and flushing the output streams.
FAST_EXIT = ("plan", "propagate")


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse's own errors (unknown option, bad choice) as one line and exit code 2, like ours."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The ``bliss`` parser. With ``argv``, only the subcommand named in it gets its full parser (its module is
    imported); the others are listed by name and summary. Without, every subcommand's full parser."""
    command = None if argv is None else _command(argv)
    parser = OneLineParser(
        prog="bliss",
        description="BLISS solar-sail simulator, planner and hardware-in-the-loop bench.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, summary in SUBCOMMANDS.items():
        if command is not None and name != command:
            sub.add_parser(name, help=summary)
            continue
        try:
            module = importlib.import_module(f"bliss.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bliss.cli.{name}":
                continue  # subcommand not built yet
            raise
        module.register(sub)
    return parser


def _command(argv: list[str]) -> str:
    return next((a for a in argv if not a.startswith("-")), "")


def console() -> None:
    """The ``bliss`` script and ``python -m bliss``: :func:`main`, then exit (fast for :data:`FAST_EXIT`)."""
    argv = sys.argv[1:]
    rc = main(argv)
    if _command(argv) in FAST_EXIT and threading.active_count() == 1:  # no other thread to cut short
        atexit._run_exitfuncs()  # what a normal exit runs (logging's flush, weakref finalizers)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    sys.exit(rc)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except (UsageError, ValueError) as exc:
        print(f"bliss: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("bliss: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    console()
