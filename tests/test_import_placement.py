"""Import placement (issue 8): project imports sit at module top unless a comment says why.

A function-level import of a project module (``sim``, ``bliss``, ``hil``) needs a comment on its own line
or on the line directly above it (for a block of consecutive imports, directly above the block) saying
why it is lazy: ``bliss --help`` start-up, an optional extra, or an import cycle. And ``bliss --help``
itself must not import the heavy libraries (numba, astropy, scipy, matplotlib): bliss/cli/__init__.py
imports every subcommand module to register it, so their top-level imports are paid by ``--help``.
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("sim", "bliss", "hil")
#: Libraries ``bliss --help`` must not import (each costs 0.1-0.9 s of start-up on this machine).
HEAVY = ("numba", "astropy", "scipy", "matplotlib")


def _project_module(node: ast.Import | ast.ImportFrom) -> str | None:
    if isinstance(node, ast.ImportFrom):
        names = [node.module or ""] if node.level == 0 else []
    else:
        names = [a.name for a in node.names]
    return next((n for n in names if n.split(".")[0] in PROJECT), None)


def _comment_lines(source: str) -> set[int]:
    """Line numbers holding a comment (tokenize, so a '#' inside a string does not count)."""
    lines = iter(source.splitlines(keepends=True))
    return {tok.start[0] for tok in tokenize.generate_tokens(lambda: next(lines, ""))
            if tok.type == tokenize.COMMENT}


def uncommented_lazy_imports(path: Path, source: str | None = None) -> list[str]:
    """``file:line module`` for every function-level project import with no comment saying why."""
    source = path.read_text() if source is None else source
    comments = _comment_lines(source)
    bad = []
    for fn in ast.walk(ast.parse(source, str(path))):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        import_lines = {n.lineno for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))}
        for node in ast.walk(fn):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            module = _project_module(node)
            if module is None:
                continue
            above = node.lineno - 1
            while above in import_lines and above not in comments:  # a block: its comment is above it
                above -= 1
            if not ({node.lineno, node.end_lineno, above} & comments):
                bad.append(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{node.lineno} {module}")
    return sorted(set(bad), key=lambda b: (b.split(':')[0], int(b.split(':')[1].split()[0])))


def _sources():
    for pkg in PROJECT:
        yield from sorted((ROOT / pkg).rglob("*.py"))


def test_function_level_project_imports_say_why():
    bad = [b for p in _sources() for b in uncommented_lazy_imports(p)]
    assert not bad, ("function-level project imports without a comment saying why (move them to the module "
                     "top, or comment: --help start-up, optional extra, or which import cycle):\n  "
                     + "\n  ".join(bad))


@pytest.mark.parametrize("source, n_bad", [
    ("def f():\n    from sim.kepler import rv2coe\n", 1),
    ("def f():\n    import bliss.io.atomic\n", 1),
    ("def f():\n    x = '# not a comment'\n    from hil.driver import Board\n", 1),
    ("def f():\n    from sim.kepler import rv2coe  # lazy: numba\n", 0),
    ("def f():\n    # lazy: astropy\n    from sim.ephemeris import body_state\n    from sim.timeconv import as_time\n",
     0),
    ("def f():\n    import numpy as np\n    from . import sibling\n", 0),
    ("from sim.kepler import rv2coe\n", 0),
])
def test_checker_flags_uncommented_lazy_imports(tmp_path, source, n_bad):
    """The checker itself: it must fail on an uncommented lazy project import and pass the others."""
    path = tmp_path / "mod.py"
    path.write_text(source)
    assert len(uncommented_lazy_imports(path)) == n_bad


def test_help_does_not_import_heavy_libraries(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.setdefault("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "bliss", "--help"], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "usage: bliss" in proc.stdout
    # -X importtime lines: "import time: self | cumulative | <indent>module"
    imported = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:") and line.count("|") == 2}
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert not heavy, ("`bliss --help` imports heavy libraries (make the subcommand's import lazy, with a "
                       f"comment): {', '.join(sorted({m.split('.')[0] for m in heavy}))}")
