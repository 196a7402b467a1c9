"""Benchmark: the rendezvous law's linear programmes (bliss.fsw.rendezvous.PlanLP) against scipy's linprog.

Flies the default ``bliss plan`` (its feedback flight makes ~400 plans), records every LP the law solves,
then solves all of them again, interleaved, best of ``--repeats``:

* ``scipy linprog``  scipy.optimize.linprog(method="highs") on the same LP (dense rows, as before PlanLP);
* ``PlanLP``         the flight software's default: one highspy model, refilled, dual simplex, no presolve;
* ``PlanLP warm``    the same, each solve started from the previous plan's basis (not the default: the LP
                     is degenerate and a warm start can pick another optimal first segment).

Prints the time per LP and the largest difference of each solution from scipy's (all of it, and the first
segment, the part that is flown).

    PYTHONPATH=. python benchmarks/rendezvous_lp.py [--repeats 3] [--save]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linprog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _report import Report, loadavg  # noqa: E402  (benchmarks/, the script's folder)
from bliss.cli import main as bliss_main  # noqa: E402
from bliss.fsw import rendezvous as R  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "rendezvous_lp.txt"


def record_default_plan_lps() -> list[tuple]:
    """(n_seg, J, A, b, cost_w, cost_slack) of every LP the default plan's rendezvous law solves."""
    lps = []
    solve = R.PlanLP.solve

    def recording(self, A, b, cost_w, cost_slack):
        lps.append((self.n_seg, self.J, A.copy(), b.copy(), cost_w, cost_slack.copy()))
        return solve(self, A, b, cost_w, cost_slack)

    R.PlanLP.solve = recording
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if bliss_main(["plan", "--no-progress", "--out", str(Path(tmp) / "plan")]) != 0:
                sys.exit("rendezvous_lp.py: bliss plan failed")
    finally:
        R.PlanLP.solve = solve
    return lps


def solve_scipy(n_seg, J, A, b, cost_w, cost_slack):
    nv = n_seg * J
    A_ub = np.zeros((n_seg, nv + 12))
    for k in range(n_seg):
        A_ub[k, k * J:(k + 1) * J] = 1.0
    res = linprog(np.concatenate([np.full(nv, cost_w), cost_slack, cost_slack]), A_ub=A_ub, b_ub=np.ones(n_seg),
                  A_eq=np.hstack([A, -np.eye(6), np.eye(6)]), b_eq=b,
                  bounds=[(0.0, 1.0)] * nv + [(0.0, None)] * 12, method="highs")
    return res.x


def run(lps, how):
    models = {}
    out = []
    t0 = time.perf_counter()
    for n_seg, J, A, b, cw, cs in lps:
        if how == "scipy linprog":
            out.append(solve_scipy(n_seg, J, A, b, cw, cs))
        else:
            lp = models.setdefault((n_seg, J), R.PlanLP(n_seg, J, warm=how == "PlanLP warm"))
            out.append(lp.solve(A, b, cw, cs))
    return time.perf_counter() - t0, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="timed rounds (best is kept)")
    ap.add_argument("--save", action="store_true", help=f"also write the table to {RESULTS}")
    args = ap.parse_args(argv)
    report = Report("BLISS rendezvous LP benchmark")
    say = report.say
    lps = record_default_plan_lps()
    hows = ("scipy linprog", "PlanLP", "PlanLP warm")
    walls = {h: [] for h in hows}
    sols = {}
    for _ in range(max(1, args.repeats)):
        for h in hows:  # interleaved: each round sees the same load
            wall, sols[h] = run(lps, h)
            walls[h].append(wall)
    J = lps[0][1]
    say(f"{len(lps)} LPs of the default plan's feedback flight ({lps[0][0]} segments x {J} attitudes); "
        f"best of {args.repeats}")
    say(f"{'solver':16s} {'per LP [ms]':>12s} {'x scipy':>8s} {'max |x - scipy|':>16s} {'first segment':>14s} "
        f"{'LPs differing':>14s}")
    base = min(walls["scipy linprog"])
    for h in hows:
        d = np.array([np.max(np.abs(x - r)) for x, r in zip(sols[h], sols["scipy linprog"])])
        d0 = np.array([np.max(np.abs(x[:J] - r[:J])) for x, r in zip(sols[h], sols["scipy linprog"])])
        say(f"{h:16s} {min(walls[h]) / len(lps) * 1e3:12.2f} {min(walls[h]) / base:8.2f} {d.max():16.1e} "
            f"{d0.max():14.1e} {int((d0 > 1e-9).sum()):>14d}")
    say("('first segment': the fractions flown now; 'LPs differing': first segment off by more than 1e-9)")
    say(f"/proc/loadavg at end: {loadavg()}")
    if args.save:
        report.save(RESULTS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
