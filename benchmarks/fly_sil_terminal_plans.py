"""The terminal phase of the whole SIL flight (``benchmarks/fly_sil.py``'s defaults) step by step: for every
plan of the fixed-arrival-epoch phase, the time to go, the plan's predicted miss (in the law's element weights,
or with the terminal box in units of the 1,000 km / 1 m/s box) and the fraction of the first segment the sail
is on (1: saturated); then the true range and relative speed at every chunk end of the last 3 days. Where the
terminal miss comes from (docs/fly.md "The terminal miss").

    python benchmarks/fly_sil_terminal_plans.py [--seed 1] [--no-terminal-box] [--out FILE]
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from bliss.cli.fly_run import default_problem
from bliss.fsw import rendezvous as R
from bliss.sil.attitude_loop import AttitudeLoop, controller_config
from bliss.sil.closed_loop import fly_closed_loop
from bliss.sil.navigation import GroundOD
from sim.attitude_geometry import SpacecraftGeometry
from sim.constants import AU, DAY


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-terminal-box", action="store_true", help="the behaviour before (element weights)")
    ap.add_argument("--out", default="benchmarks/results/fly_sil_terminal_plans.txt")
    a = ap.parse_args(argv)
    problem = default_problem()
    g = SpacecraftGeometry(cp_offset=(1e-3, 0.5e-3))
    loop = AttitudeLoop(problem.t_depart, [0, 0, 0, 1], geometry=g, seed=a.seed,
                        config=controller_config(g, period=5.0, feather_cone=math.radians(60.0)))
    log = []
    orig = R.RendezvousLaw._plan

    def logged(self, t, y, t_f, target, n_seg=None):  # the law's own plan, recorded in the terminal phase
        out = orig(self, t, y, t_f, target, n_seg)
        if self.fixed:
            log.append((t, t_f, out[2], float(np.sum(out[0]))))
        return out

    R.RendezvousLaw._plan = logged
    load0 = Path("/proc/loadavg").read_text().strip()
    res = fly_closed_loop(problem, problem.y_depart, problem.t_depart, problem.t_depart + 730 * DAY, loop,
                          GroundOD(seed=a.seed), rec_every=120, terminal_box=not a.no_terminal_box)
    t0 = problem.t_depart
    unit = "element-weighted (x 1 AU [km])" if a.no_terminal_box else "box units (1: 1,000 km or 1 m/s)"
    lines = [f"benchmarks/fly_sil_terminal_plans.py: seed {a.seed}, terminal plans "
             f"{'in the element weights (before)' if a.no_terminal_box else 'in units of the box'}",
             f"loadavg at start: {load0}",
             f"end: {res.reason}, day {res.days:.3f}, true miss {res.miss_pos_m / 1e3:.1f} km, {res.miss_vel_m_s:.3f} m/s",
             f"terminal plans: day, time to go [h], predicted miss {unit}, first-segment sail-on fraction"]
    for t, t_f, miss, on in log:
        m = miss * AU / 1e3 if a.no_terminal_box else miss
        lines.append(f"{(t - t0) / DAY:8.3f} {(t_f - t) / 3600:7.2f} {m:10.3f} {on:5.2f}")
    lines.append("last 3 days: day, true range [km], relative speed [m/s], onboard estimate's range [km]")
    for row in res.orbit[res.orbit[:, 0] > res.t_end - 3 * DAY]:
        rt, vt = problem.target.state(row[0])
        lines.append(f"{(row[0] - t0) / DAY:8.3f} {np.linalg.norm(row[1:4] - rt) / 1e3:9.1f} "
                     f"{np.linalg.norm(row[4:7] - vt):7.3f} {np.linalg.norm(row[7:10] - rt) / 1e3:9.1f}")
    lines.append(f"loadavg at end: {Path('/proc/loadavg').read_text().strip()}")
    Path(a.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:4]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
