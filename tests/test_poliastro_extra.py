"""Runs the poliastro (hapsira) interop tests in their own environment, from the main test suite.

hapsira needs numpy < 2 and astropy < 7, so it cannot live in the main environment. CI builds that
environment (see ``.ci/run`` or ``.ci/poliastro-env.sh``) and points ``BLISS_POLIASTRO_PYTHON`` at its
interpreter; this test then runs ``pytest -m poliastro`` there and fails if any interop test fails.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_interop_tests_pass_in_the_poliastro_environment(tmp_path):
    python = os.environ.get("BLISS_POLIASTRO_PYTHON")
    if not python:
        pytest.skip("BLISS_POLIASTRO_PYTHON is not set: build the extra's environment with "
                    "`bash .ci/poliastro-env.sh` and point the variable at its python")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    # -o addopts=: one process there (the project's "-n 2" needs pytest-xdist, which an older environment
    # may lack; the interop tests are a few seconds)
    proc = subprocess.run([python, "-m", "pytest", "-q", "-o", "addopts=", "-m", "poliastro", "-p", "no:cacheprovider",
                           "tests/test_interop_poliastro.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    sys.stdout.write(proc.stdout[-3000:])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and " skipped" not in proc.stdout.splitlines()[-1]
