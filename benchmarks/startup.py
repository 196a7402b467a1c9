"""Benchmark: the start-up figures a user feels (issue 10), each beside its target, from one run.

Every figure is the wall time of a fresh ``python -m bliss ...`` subprocess, so interpreter start-up,
imports, numba's cache and interpreter shutdown all count, as they do for a user. The runs use a copy of
``sim/`` and ``bliss/`` in a temporary folder (first on ``PYTHONPATH``) and an empty ``XDG_CACHE_HOME`` of
their own, so "first run" really means an empty numba cache, and the comment-only edit of a CLI file is
made in the copy, never in the repository.

* first ``bliss plan`` (default mission) and first ``bliss propagate --duration-days 10`` on an empty cache
  (each its own empty cache: every kernel it needs compiles);
* the same propagation after a comment-only edit of ``bliss/cli/board.py`` (no kernel may recompile);
* ``bliss --help``; warm ``bliss propagate --duration-days 10``; warm ``bliss plan`` (best of ``--repeats``);
* the install step ``bliss warm`` (compiles the kernels of both commands, ``bliss/cli/warm.py``) on an empty
  cache of its own, then the first ``bliss plan`` and the first ``bliss propagate`` after it: what a user
  who installs with the README's commands waits for (a tree without ``bliss warm``, e.g. an older
  baseline, shows ``-`` there).

``--baseline REF`` measures the sources of git commit REF (``git archive``) the same way, interleaved
with the working tree's runs, so that both columns see the same machine load (on a shared machine the
load moves single figures by 2-3x between runs; the ratio within one run is the comparable figure).

    PYTHONPATH=. python benchmarks/startup.py [--repeats 3] [--no-plan] [--baseline REF] [--save]

With ``--save`` the table is also written to ``benchmarks/results/startup.txt`` (``startup-no-plan.txt``
with ``--no-plan``) with ``/proc/loadavg`` read before and after the run.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import Report, loadavg  # benchmarks/, the script's folder

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "startup.txt"

#: Targets from issue 10 [s].
TARGETS = {
    "first plan": 30.0,
    "first propagate": 8.0,
    "bliss warm (install step, no target)": None,
    "first plan after bliss warm": 30.0,
    "first propagate after bliss warm": 8.0,
    "propagate after CLI comment edit": 1.0,   # "no recompilation": as fast as a warm run (target below)
    "bliss --help": 0.2,
    "warm propagate": 1.0,
    "warm plan": 5.0,
    "imports of a propagation (no target)": None,
}
PROPAGATE = ["propagate", "--duration-days", "10"]
#: The imports of a propagation (integrator, ephemeris, time scales, the OEM and CSV writers), timed in a
#: fresh interpreter: the part of a warm `bliss propagate` that is neither numba's cache, the plot nor exit.
IMPORTS = ("import time; t = time.perf_counter(); "
           "import sim.integrator, sim.ephemeris, sim.timeconv, bliss.io.oem, bliss.io.csvout; "
           "print(time.perf_counter() - t)")
PLAN = ["plan", "--no-progress"]


class Tree:
    """A copy of the sources with its own empty numba cache folder."""

    def __init__(self, base: Path, name: str, ref: str | None = None):
        self.root = base / name
        if ref is None:
            for pkg in ("sim", "bliss"):
                shutil.copytree(ROOT / pkg, self.root / pkg, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            self.root.mkdir()
            archive = subprocess.run(["git", "archive", ref, "sim", "bliss"], cwd=ROOT, capture_output=True,
                                     check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(self.root)], input=archive, check=True)
        self.cache = base / f"{name}-xdg"
        self.cache.mkdir()
        self.out = base / f"{name}-out"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
        env.update(PYTHONPATH=str(self.root), XDG_CACHE_HOME=str(self.cache))
        return env

    def imports(self) -> float:
        proc = subprocess.run([sys.executable, "-c", IMPORTS], env=self.env(), cwd=self.root,
                              capture_output=True, text=True, check=True)
        return float(proc.stdout.strip().splitlines()[-1])

    def run(self, args: list[str]) -> float:
        env = self.env()
        extra = ["--out", str(self.out)] if args[0] in ("plan", "propagate") else []
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "bliss", *args, *extra], env=env, cwd=self.root,
                              capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode not in (0, 1) or (args[0] == "--help" and "usage" not in proc.stdout):
            sys.exit(f"startup.py: bliss {' '.join(args)} failed (exit {proc.returncode}): "
                     f"{proc.stderr.strip()[-500:]}")
        return wall

    def check_source(self) -> None:
        """The subprocess imports the copy, not the installed tree."""
        env = dict(os.environ, PYTHONPATH=str(self.root))
        out = subprocess.run([sys.executable, "-c", "import sim; print(sim.__file__)"], env=env,
                             capture_output=True, text=True, cwd=self.root).stdout.strip()
        if not out.startswith(str(self.root)):
            sys.exit(f"startup.py: the copy is not imported first (got {out})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="warm runs per figure (best is kept)")
    ap.add_argument("--no-plan", action="store_true", help="skip the two plan figures (minutes)")
    ap.add_argument("--baseline", metavar="REF", help="also measure git commit REF, interleaved")
    ap.add_argument("--save", action="store_true", help=f"also write the table to {RESULTS}")
    args = ap.parse_args(argv)
    report = Report("BLISS start-up benchmark", f", python {sys.version.split()[0]}")
    say = report.say
    trees = {"this tree": None}
    if args.baseline:
        trees[f"baseline {args.baseline}"] = args.baseline
    rows = {name: {} for name in trees}
    reps = max(1, args.repeats)
    with tempfile.TemporaryDirectory(prefix="bliss-bench-startup-") as tmp:
        base = Path(tmp)
        prop = {name: Tree(base, f"prop{k}", ref) for k, (name, ref) in enumerate(trees.items())}
        for tree in prop.values():
            tree.check_source()

        def each(label, args_, runs=1, trees_=prop):
            for name, tree in trees_.items():  # interleaved: every tree once per round
                rows[name].setdefault(label, [])
            for _ in range(runs):
                for name, tree in trees_.items():
                    rows[name][label].append(tree.imports() if args_ is None else tree.run(args_))

        each("bliss --help", ["--help"], reps)
        each("imports of a propagation (no target)", None, reps)
        each("first propagate", PROPAGATE)
        each("warm propagate", PROPAGATE, reps)
        for tree in prop.values():
            board = tree.root / "bliss" / "cli" / "board.py"
            board.write_text(board.read_text(encoding="utf-8") + "\n# a comment-only edit (benchmark)\n",
                             encoding="utf-8")
        each("propagate after CLI comment edit", PROPAGATE)
        if not args.no_plan:
            plan = {name: Tree(base, f"plan{k}", ref) for k, (name, ref) in enumerate(trees.items())}
            each("first plan", PLAN, trees_=plan)
            each("warm plan", PLAN, reps, trees_=plan)
            warm = {name: Tree(base, f"warm{k}", ref) for k, (name, ref) in enumerate(trees.items())}
            warm = {name: tree for name, tree in warm.items() if (tree.root / "bliss" / "cli" / "warm.py").exists()}
            each("bliss warm (install step, no target)", ["warm"], trees_=warm)
            each("first plan after bliss warm", PLAN, trees_=warm)
            each("first propagate after bliss warm", PROPAGATE, trees_=warm)
    names = list(trees)
    say()
    say(f"{'what':36s} " + " ".join(f"{n[:22]:>22s}" for n in names) + f" {'target [s]':>11s}  met (this tree)")
    for label, target in TARGETS.items():
        if rows[names[0]].get(label):
            best = {n: min(rows[n][label]) if rows[n].get(label) else None for n in names}
            cells = " ".join(f"{best[n]:20.2f} s" if best[n] is not None else f"{'-':>22s}" for n in names)
            ratio = (f"  (x{best[names[0]] / best[names[1]]:.2f} of baseline)"
                     if len(names) > 1 and best[names[1]] is not None else "")
            if target is None:
                say(f"{label:36s} {cells} {'-':>11s}  -  {ratio}")
            else:
                met = "yes" if best[names[0]] <= target else "no"
                say(f"{label:36s} {cells} {target:11.1f}  {met}{ratio}")
    say()
    say("Wall time of a fresh `python -m bliss ...` subprocess each (start-up, imports, numba cache, exit);"
        f" warm figures best of {reps}; first-run figures on an empty numba cache.")
    say(f"/proc/loadavg at end: {loadavg()}")
    if args.save:
        report.save(RESULTS.with_name("startup-no-plan.txt") if args.no_plan else RESULTS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
