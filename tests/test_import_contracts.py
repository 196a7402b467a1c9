"""The import rules of docs/architecture.md, enforced by import-linter's contracts in pyproject.toml.

`lint-imports` must pass on the tree, and must fail, naming the broken contract, on a copy of the tree
with one deliberately wrong import (so the contracts can fail: a check that cannot fail checks nothing).
"""
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(importlib.util.find_spec("importlinter") is None,
                                reason="import-linter not installed (pip install -e '.[test]')")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "lint-imports"
    cmd = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]
    env = dict(os.environ, PYTHONPATH=str(cwd))  # the packages of this tree, not an installed copy
    return subprocess.run(cmd + ["--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_tree_keeps_every_import_contract():
    res = _lint_imports(ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 broken" in res.stdout


def _copy_tree(dst: Path) -> Path:
    for pkg in ("sim", "bliss", "hil"):
        shutil.copytree(ROOT / pkg, dst / pkg, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    shutil.copy(ROOT / "pyproject.toml", dst / "pyproject.toml")
    return dst


def _append(path: Path, line: str):
    path.write_text(path.read_text() + "\n" + line + "\n")


@pytest.mark.parametrize("module, wrong_import, contract", [
    ("sim/rtn.py", "import hil.link  # deliberately wrong: sim must not import the bench", "Layers"),
    ("bliss/guidance/schedule.py", "import hil.driver  # deliberately wrong: only bliss.cli wires hil in", "Layers"),
    ("bliss/fsw/slew.py", "import sim.integrator  # deliberately wrong: onboard code reads no truth",
     "Flight software (bliss.fsw) never imports"),
])
def test_a_wrong_import_breaks_its_contract(tmp_path, module, wrong_import, contract):
    tree = _copy_tree(tmp_path)
    _append(tree / module, wrong_import)
    res = _lint_imports(tree)
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    assert "BROKEN" in out and contract in out, out
    assert module.replace("/", ".").removesuffix(".py") in out, out
