"""numba compilation is cached on disk: a second process loads the kernels instead of compiling."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, time
t = time.perf_counter()
from sim.constants import JULIAN_YEAR, AU, GM_SUN
from sim.integrator import Schedule, propagate
from sim.sail import Sail
from sim import dop853
import numpy as np
y0 = np.array([AU, 0, 0, 0, (GM_SUN / AU) ** 0.5, 0])
propagate(y0, Schedule.constant_rtn(0.0, JULIAN_YEAR, 0.6, 0.0), Sail())
from numba.core.registry import CPUDispatcher
import sys
kernels = [v for name, mod in list(sys.modules.items()) if name.split(".")[0] == "sim"
           for v in vars(mod).values() if isinstance(v, CPUDispatcher)]
# every kernel the call used, callees compiled into it included (the entry kernel is the plain one)
print(json.dumps({"hits": sum(sum(k.stats.cache_hits.values()) for k in kernels),
                  "misses": sum(sum(k.stats.cache_misses.values()) for k in kernels),
                  "seconds": time.perf_counter() - t}))
"""


def _run(cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                         timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_second_run_loads_compiled_integrator_from_disk(tmp_path):
    """No kernel of a propagation compiles again in a second process (a kernel whose cache key differs per
    process, e.g. a closure over another kernel, recompiled in every run and cost a warm plan 0.8 s)."""
    first = _run(tmp_path)
    second = _run(tmp_path)
    assert first["misses"] >= 1 and first["hits"] == 0  # compiled the first time
    assert second["hits"] >= 1 and second["misses"] == 0  # loaded, not compiled, the second time
    assert any(tmp_path.rglob("*.nbi"))  # index files were written to the cache directory


# --- the cache key: only kernel sources ------------------------------------------------------------
def _tree_copy(tmp_path):
    import shutil

    for pkg in ("sim", "bliss"):
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _append(path, text):
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_cache_key_ignores_a_cli_comment_but_follows_kernels_callees_and_constants(tmp_path):
    from sim._numba_cache import kernel_sources, source_hash

    root = _tree_copy(tmp_path)
    names = {str(p.relative_to(root)) for p in kernel_sources(root)}
    # the integrator's kernels, their callees and the constants they freeze in are all hashed ...
    assert {"sim/dop853.py", "sim/dynamics.py", "sim/mee.py", "sim/sail.py", "sim/constants.py"} <= names
    # ... the command line, writers and plots are not
    assert not any(n.startswith(("bliss/cli/", "bliss/io/", "bliss/plots/")) for n in names)
    key = source_hash(root)
    _append(root / "bliss" / "cli" / "board.py", "\n# a comment-only edit of a CLI file\n")
    assert source_hash(root) == key
    _append(root / "sim" / "dynamics.py", "\n# an edit of a kernel file (the integrator's callee)\n")
    key2 = source_hash(root)
    assert key2 != key
    _append(root / "sim" / "constants.py", "\n# a constant the kernels compile in may change\n")
    assert source_hash(root) != key2


def test_cache_directory_is_kept_when_a_cli_file_changes(tmp_path, monkeypatch):
    """configure() names the same numba cache directory before and after a CLI-only edit."""
    from sim import _numba_cache

    root = _tree_copy(tmp_path / "tree")
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    from numba.core import config

    monkeypatch.setattr(config, "CACHE_DIR", config.CACHE_DIR)  # configure() sets numba's live config
    first = _numba_cache.configure(root)
    assert first and os.environ["NUMBA_CACHE_DIR"] == first  # handed to numba (and child processes)
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    _append(root / "bliss" / "cli" / "plan.py", "\n# comment\n")
    assert _numba_cache.configure(root) == first
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    _append(root / "sim" / "dop853.py", "\n# comment\n")
    assert _numba_cache.configure(root) != first


def test_remembered_source_hash_is_reused_until_any_source_file_changes(tmp_path, monkeypatch):
    """configure() reads the sources only when a file's size or modification time changed (a memo beside the
    caches); an edit of the same size (one letter of a kernel) still gives a new directory."""
    from sim import _numba_cache

    root = _tree_copy(tmp_path / "tree")
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    from numba.core import config

    monkeypatch.setattr(config, "CACHE_DIR", config.CACHE_DIR)
    calls = []
    real = _numba_cache.source_hash
    monkeypatch.setattr(_numba_cache, "source_hash", lambda r: calls.append(r) or real(r))
    first = _numba_cache.configure(root)
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    assert _numba_cache.configure(root) == first and len(calls) == 1  # the memo, no source read
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    dop = root / "sim" / "dop853.py"
    text = dop.read_text(encoding="utf-8")
    i = text.index("def ") + 4
    dop.write_text(text[:i] + ("Z" if text[i] != "Z" else "Y") + text[i + 1:], encoding="utf-8")
    os.utime(dop, ns=(dop.stat().st_atime_ns, dop.stat().st_mtime_ns + 1_000_000))
    assert _numba_cache.configure(root) != first and len(calls) == 2


# --- compile once -------------------------------------------------------------------------------------
#: Runs ``bliss`` commands (given as argument lists) in one process, then prints the signatures numba
#: compiled for every kernel of ``sim`` and ``bliss``.
COMPILE_COUNT = """
import sys, json, tempfile
from bliss.cli import main
with tempfile.TemporaryDirectory() as d:
    for k, argv in enumerate(json.loads(sys.argv[1])):
        assert main(argv + ["--out", f"{d}/{k}"]) in (0, 1)
from numba.core.registry import CPUDispatcher
sigs = {}
for name, mod in list(sys.modules.items()):
    if name.split(".")[0] in ("sim", "bliss"):
        for k, v in vars(mod).items():
            if isinstance(v, CPUDispatcher) and v.__module__ == name:
                sigs[f"{name}.{k}"] = [str(s) for s in v.signatures]
print(json.dumps(sigs))
"""
#: The Cartesian formulation's kernels: a default run (MEE) must not compile them.
CARTESIAN_KERNELS = ("sim.dynamics.sun_sail_derivative", "sim.dop853.integrate_cartesian",
                     "sim.dop853.final_state_cartesian", "sim.dop853.integrate_plain_cartesian")
#: The third bodies' kernels: a run without a third-body table must not compile them.
THIRD_BODY_KERNELS = ("sim.mee.mee_third_body_pull", "sim.dynamics.third_body_pull", "sim.dop853.integrate_mee_third",
                      "sim.dop853.integrate_cartesian_third")


def _compiled(tmp_path, commands):
    """{kernel: [signatures]} of the kernels compiled by ``commands``, on an empty cache, so that every
    kernel, callees included, compiles (a kernel loaded from the cache brings its callees compiled in,
    and they would not be counted)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    out = subprocess.run([sys.executable, "-c", COMPILE_COUNT, json.dumps(commands)], env=env,
                         capture_output=True, text=True, timeout=1200, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    sigs = json.loads(out.stdout.strip().splitlines()[-1])
    return {k: v for k, v in sigs.items() if v}


@pytest.mark.slow
def test_each_kernel_of_a_plan_and_a_propagation_is_compiled_once(tmp_path):
    """A short plan (feedback law, optimiser, replay) and a propagation compile every numba kernel they
    use for one signature only: no second compilation for a read-only array, a literal constant or an
    omitted default argument."""
    used = _compiled(tmp_path, [["plan", "--no-progress", "--segments", "12"],
                                ["propagate", "--duration-days", "10"]])
    assert "sim.dop853.integrate_mee" in used and "sim.mee.cart_to_mee" in used
    assert "bliss.guidance.optimise.kernels.shoot" in used
    twice = {k: v for k, v in used.items() if len(v) != 1}
    assert not twice, f"compiled more than once: {twice}"
    assert not set(CARTESIAN_KERNELS) & set(used)  # both commands integrate MEE


def test_a_default_propagation_compiles_only_its_formulation(tmp_path):
    """A first `bliss propagate` (MEE, the default) compiles the MEE integrator and right-hand side once
    each and none of the Cartesian formulation's kernels (sim.dop853.INTEGRATORS: one kernel per
    formulation; with the formulation a run-time argument, the Cartesian right-hand side compiled too)."""
    used = _compiled(tmp_path, [["propagate", "--duration-days", "10"]])
    assert used.keys() >= {"sim.dop853.integrate_mee", "sim.mee.mee_sun_sail_derivative", "sim.kepler.rv2coe"}
    assert not set(CARTESIAN_KERNELS) & set(used), sorted(used)
    assert not set(THIRD_BODY_KERNELS) & set(used), sorted(used)
    twice = {k: v for k, v in used.items() if len(v) != 1}
    assert not twice, f"compiled more than once: {twice}"
