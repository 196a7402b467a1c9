"""Benchmark: what numba compiles in a first ``bliss propagate --duration-days 10`` on an empty cache, and
how long each kernel takes (issue 10: the first propagate's target is 8 s, nearly all of it compilation).

Each tree (the working tree, and ``--baseline REF`` from git, interleaved) runs the command in a fresh
interpreter with its own empty ``NUMBA_CACHE_DIR``, with a listener on numba's ``numba:compile`` events.
A kernel's *self* time is the CPU time of its compilation less that of the kernels compiled inside it
(its callees, compiled while it is typed); CPU time of the process, so that the other agents' load on the
shared machine moves it less than wall time. numba's own helpers (``numba.*``, e.g. the string formatting
behind an error message) are listed too: they are compiled for our kernels.

    PYTHONPATH=. python benchmarks/first_propagate_compiles.py [--baseline REF] [--rounds 2] [--save]

With ``--save`` the tables go to ``benchmarks/results/first_propagate_compiles.txt`` (runs kept, newest
first). The wall time of the whole command as a user sees it is ``benchmarks/startup.py``'s figure.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _report import Report  # benchmarks/, the script's folder
from startup import Tree  # a copy of the sources (or of a git commit's) in a temporary folder

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "first_propagate_compiles.txt"

#: Runs in the tree's interpreter: the command, then one JSON line {kernel: [n compiles, self CPU s]}
#: and the process's total CPU time.
PROFILE = """
import json, sys, tempfile, time
from numba.core import event

stack, kernels = [], {}

class Listener(event.Listener):
    def on_start(self, ev):
        stack.append([time.process_time(), 0.0])

    def on_end(self, ev):
        t0, children = stack.pop()
        spent = time.process_time() - t0
        if stack:
            stack[-1][1] += spent
        f = ev.data["dispatcher"].py_func
        row = kernels.setdefault(f"{f.__module__}.{f.__qualname__}", [0, 0.0])
        row[0] += 1
        row[1] += spent - children

event.register("numba:compile", Listener())
from bliss.cli import main
with tempfile.TemporaryDirectory() as out:
    assert main(["propagate", "--duration-days", "10", "--out", out + "/p"]) == 0
print(json.dumps({"kernels": kernels, "cpu": time.process_time()}))
"""


def profile(tree: Tree, cache: Path) -> dict:
    env = dict(tree.env(), NUMBA_CACHE_DIR=str(cache))
    proc = subprocess.run([sys.executable, "-c", PROFILE], env=env, cwd=tree.root, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"first_propagate_compiles.py: the propagation failed: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", metavar="REF", help="also profile git commit REF, interleaved")
    ap.add_argument("--rounds", type=int, default=2, help="runs per tree (each kernel's least time is kept)")
    ap.add_argument("--save", action="store_true", help=f"also write the tables to {RESULTS}")
    args = ap.parse_args(argv)
    report = Report("BLISS first-propagate compilations", f", python {sys.version.split()[0]}")
    say = report.say
    trees = {"this tree": None}
    if args.baseline:
        trees[f"baseline {args.baseline}"] = args.baseline
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory(prefix="bliss-bench-compiles-") as tmp:
        base = Path(tmp)
        copies = {name: Tree(base, f"tree{k}", ref) for k, (name, ref) in enumerate(trees.items())}
        for r in range(max(1, args.rounds)):
            for name, tree in copies.items():  # interleaved: every tree once per round
                runs[name].append(profile(tree, tree.cache / f"numba-{r}"))
    for name, results in runs.items():
        names = set().union(*(res["kernels"] for res in results))
        best = {k: min(res["kernels"].get(k, [0, 0.0])[1] for res in results) for k in names}
        count = {k: max(res["kernels"].get(k, [0, 0.0])[0] for res in results) for k in names}
        say()
        say(f"{name}: first `bliss propagate --duration-days 10`, empty cache; process CPU "
            + ", ".join(f"{res['cpu']:.2f}" for res in results) + " s; compilation CPU "
            + ", ".join(f"{sum(v[1] for v in res['kernels'].values()):.2f}" for res in results) + " s")
        say(f"  {'self CPU [s]':>12s}  {'compiles':>8s}  kernel (least of {len(results)} runs)")
        ours = sorted((k for k in names if not k.startswith("numba.")), key=lambda k: -best[k])
        for k in ours:
            say(f"  {best[k]:12.2f}  {count[k]:8d}  {k}")
        helpers = [k for k in names if k.startswith("numba.")]
        say(f"  {sum(best[k] for k in helpers):12.2f}  {sum(count[k] for k in helpers):8d}  "
            f"numba's own helpers ({len(helpers)} kinds)")
    if args.save:
        report.save(RESULTS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
