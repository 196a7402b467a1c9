"""``bliss`` builds the full parser of the command being run only (bliss/cli/__init__.py): ``bliss --help``
lists the others by the summary in ``SUBCOMMANDS``, which must be each module's own help text, and a command
parses the same with the lazy parser as with the full one."""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bliss.cli import FAST_EXIT, SUBCOMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[1]


def _choices(parser):
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub, {a.dest: a.help for a in sub._choices_actions}


def test_summaries_are_the_modules_own_help():
    _, full = _choices(build_parser())
    assert full == SUBCOMMANDS


def test_help_lists_every_command_without_building_their_parsers():
    parser = build_parser(["--help"])
    sub, listed = _choices(parser)
    assert listed == SUBCOMMANDS
    assert all(not p._actions[1:] for p in sub.choices.values())  # bare placeholders: only -h


@pytest.mark.parametrize("argv", [["propagate", "--duration-days", "10"], ["plan", "--no-progress"],
                                  ["board", "info", "--port", "/dev/null"], ["scenario", "list"]])
def test_lazy_parser_parses_a_command_as_the_full_one(argv):
    lazy, full = build_parser(argv).parse_args(argv), build_parser().parse_args(argv)
    assert vars(lazy) == vars(full)


def test_fast_exit_of_a_propagation_keeps_its_output_and_exit_code(tmp_path):
    """``python -m bliss propagate`` (a FAST_EXIT command: no interpreter teardown) prints its summary line and
    leaves complete files; bad input still exits 2 with a one-line error."""
    assert "propagate" in FAST_EXIT
    out = tmp_path / "prop"
    proc = subprocess.run([sys.executable, "-m", "bliss", "propagate", "--duration-days", "2", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "bliss propagate" in proc.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary and (out / "trajectory.csv").read_text().endswith("\n")
    bad = subprocess.run([sys.executable, "-m", "bliss", "propagate", "--duration-days", "-1", "--out",
                          str(tmp_path / "bad")], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "error" in bad.stderr
