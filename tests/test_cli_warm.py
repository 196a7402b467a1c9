"""bliss warm: its options and its failure report (the full run compiles for minutes: benchmarks/startup.py
times it, and tests/test_numba_cache.py checks the cache it fills is reused)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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


AFTER_WARM = """
import sys, json, tempfile
from bliss.cli import main
with tempfile.TemporaryDirectory() as d:
    assert main(["plan", "--no-progress", "--out", d + "/plan"]) == 0
    assert main(["propagate", "--duration-days", "10", "--out", d + "/prop"]) == 0
from numba.core.registry import CPUDispatcher
misses, hits = {}, 0
for name, mod in list(sys.modules.items()):
    if name.split(".")[0] in ("sim", "bliss"):
        for k, v in vars(mod).items():
            if isinstance(v, CPUDispatcher) and v.__module__ == name:
                hits += sum(v.stats.cache_hits.values())
                if sum(v.stats.cache_misses.values()):
                    misses[f"{name}.{k}"] = dict(v.stats.cache_misses)
print(json.dumps({"misses": {k: str(v) for k, v in misses.items()}, "hits": hits}))
"""


@pytest.mark.long
def test_after_bliss_warm_the_first_plan_and_propagation_compile_nothing(tmp_path):
    """On an empty cache, `bliss warm` then the default plan and propagation: every kernel they call is
    loaded from the cache, none compiled (minutes: the warm step compiles everything)."""
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root), NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    warm = subprocess.run([sys.executable, "-m", "bliss", "warm"], env=env, capture_output=True, text=True,
                          timeout=1800, cwd=root)
    assert warm.returncode == 0, warm.stderr[-2000:]
    out = subprocess.run([sys.executable, "-c", AFTER_WARM], env=env, capture_output=True, text=True,
                         timeout=600, cwd=root)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "compiling numerical kernels" not in out.stderr  # the first-run note knows the cache is full
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["hits"] > 10 and result["misses"] == {}
