"""Why the SIL Bennu transfer does not arrive: the closed loop's executive and navigation flown with
PERFECT attitude (no attitude loop: the commanded attitudes are the flown ones), adding one effect of the
SIL at a time (issue 12). Effects: ``--od`` ground OD uploads every 7 days (10 km, 1 cm/s 1-sigma) dead
reckoned onboard (``bliss.sil.navigation``); ``--feather DEG`` edge-on (OFF) flown at that cone, clock 0,
as the attitude controller holds it (``ControllerConfig.feather_cone``; default: truly edge-on, no
thrust); ``--count-feather`` the executive's rendezvous plan counts that thrust
(``ExecutiveConfig.off_attitude``). Prints where the flight ends, its closest approach (range, and the
relative speed there) and its wall time.

    python benchmarks/fly_ablation.py [--feather 60] [--count-feather] [--od] [--days 730] [--seed 1]
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from bliss.cli.fly_run import default_problem
from bliss.fsw.executive import Executive
from bliss.fsw.messages import AttitudeMode, GuidanceInputs, NavStateEstimate, Phase
from bliss.sil.closed_loop import executive_config
from bliss.sil.navigation import DeadReckoning, GroundOD
from sim.constants import DAY
from sim.dop853 import integrate_final


def segments(commands, t, t_stop, feather, feather_clock=0.0):
    """The executive's commands as a segment table from t to t_stop; OFF truly edge-on (feather None) or
    at cone ``feather`` [rad], clock ``feather_clock`` [rad]."""
    st, sm, sa = [t], [], []
    for c in commands:
        st.append(st[-1] + c.duration)
        if c.mode != AttitudeMode.OFF:
            sm.append(1)
            sa.append((c.cone, c.clock, 0.0))
        else:
            sm.append(0 if feather is None else 1)
            sa.append((0.0, 0.0, 0.0) if feather is None else (feather, feather_clock, 0.0))
    st[-1] = t_stop
    return np.array(st), np.array(sm, np.int64), np.array(sa, float)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feather", type=float, default=None, help="cone [deg] OFF is flown at (default: edge-on)")
    ap.add_argument("--feather-clock", type=float, default=0.0,
                    help="clock [deg] of the feathered hold (the attitude controller holds 0)")
    ap.add_argument("--count-feather", action="store_true", help="the executive's plan counts the held thrust")
    ap.add_argument("--od", action="store_true", help="ground OD uploads and dead reckoning (default: perfect nav)")
    ap.add_argument("--fix-days", type=float, default=0.0,
                    help="terminal phase: the arrival epoch is fixed within this many days of it (0: off)")
    ap.add_argument("--days", type=float, default=730.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=None, help="append the result line to this file")
    a = ap.parse_args(argv)
    pr = default_problem()
    t0, p = pr.t_depart, pr.sail.kernel_params()
    t_end = t0 + a.days * DAY
    feather = None if a.feather is None else math.radians(a.feather)
    k_f = math.radians(a.feather_clock)
    exe = Executive(executive_config(pr, DAY, t_end, 1.0e6, 1.0, off_attitude=(feather, k_f)
                                     if a.count_feather and feather is not None else None,
                                     fix_arrival_within=a.fix_days * DAY))
    od = GroundOD(seed=a.seed) if a.od else None
    y, t = pr.y_depart.astype(float).copy(), float(t0)
    nav = DeadReckoning(t, y, p)
    reason, best = "span end", (math.inf, 0.0, 0.0)
    w0 = time.perf_counter()
    while t < t_end - 1.0:
        if od is not None:
            up = od.update(t, y)
            if up is not None:
                nav.upload(t, up)
        est = nav.estimate() if od is not None else NavStateEstimate(t, y[:3], y[3:])
        out = exe.step(t, GuidanceInputs(est, pr.target.prediction(t)))
        if out.phase in (Phase.TERMINAL, Phase.SAFE) or not out.commands:
            reason = out.reason or reason
            break
        total = sum(c.duration for c in out.commands)
        st, sm, sa = segments(out.commands, t, min(t + total, t_end), feather, k_f)
        y = integrate_final(y, st, sm, sa, p, 1e-9)
        if od is not None:
            nav.fly(st, sm, sa)
        t = float(st[-1])
        rt, vt = pr.target.state(t)
        rng = float(np.linalg.norm(y[:3] - rt))
        if rng < best[0]:
            best = (rng, float(np.linalg.norm(y[3:] - vt)), (t - t0) / DAY)
    rt, vt = pr.target.state(t)
    line = (f"edge-on {'truly (no thrust)' if feather is None else f'feathered at {a.feather:g} deg (clock {a.feather_clock:g} deg)'}"
            f"{', counted by the plan' if a.count_feather and feather is not None else ''}, "
            f"{'OD every 7 d (seed %d)' % a.seed if od is not None else 'perfect navigation'}"
            f"{f', arrival fixed within {a.fix_days:g} d' if a.fix_days > 0 else ''}: {reason} at day "
            f"{(t - t0) / DAY:.2f}, {np.linalg.norm(y[:3] - rt) / 1e3:.1f} km and {np.linalg.norm(y[3:] - vt):.3f} m/s "
            f"from Bennu; closest {best[0] / 1e3:.0f} km ({best[1]:.1f} m/s) on day {best[2]:.1f}; "
            f"wall {time.perf_counter() - w0:.0f} s; loadavg {Path('/proc/loadavg').read_text().split()[0]}")
    print(line)
    if a.out:
        with open(a.out, "a") as f:
            f.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
