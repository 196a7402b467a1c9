"""bliss warm: its options and its failure report (the full run compiles for minutes: benchmarks/startup.py
times it, and tests/test_numba_cache.py checks the cache it fills is reused)."""
from __future__ import annotations

import pytest

from bliss.cli import main
from bliss.cli import warm as warm_cli


@pytest.mark.parametrize("jobs", ["0", "3", "two"])
def test_bad_jobs_is_one_line_and_exit_2(jobs, capsys):
    assert main(["warm", "--jobs", jobs]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--jobs must be 1 or 2" in err and repr(jobs) in err


def test_a_failing_command_is_reported_and_exit_1(monkeypatch, capsys):
    monkeypatch.setattr(warm_cli, "COMMANDS", {"propagate": ["propagate", "--duration-days", "-1"]})
    assert main(["warm", "--jobs", "1"]) == 1
    err = capsys.readouterr().err
    assert "bliss: error: warm: bliss propagate --duration-days -1 failed (exit 2)" in err
    assert "--duration-days must be > 0" in err  # the command's own error line
