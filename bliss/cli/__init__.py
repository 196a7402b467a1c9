"""The ``bliss`` console command.

Each subcommand lives in its own module with ``register(subparsers)``, which adds a parser and sets
``func`` on it. ``func(args)`` returns an exit code. Bad user input raises :class:`UsageError` (or
``ValueError`` from the layers below), which becomes a one-line ``bliss: error: ...`` and exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

#: Subcommand modules, in the order they appear in ``bliss --help``.
SUBCOMMANDS = ("plan", "propagate", "attitude", "fly", "scenario", "montecarlo", "survey", "missions", "board",
               "telemetry")

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse's own errors (unknown option, bad choice) as one line and exit code 2, like ours."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="bliss",
        description="BLISS solar-sail simulator, planner and hardware-in-the-loop bench.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"bliss.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bliss.cli.{name}":
                continue  # subcommand not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
    sys.exit(main())
