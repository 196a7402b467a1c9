"""The Bennu transfer flown end to end in software in the loop (``bliss.sil.closed_loop``): the executive
re-planning every day from ground OD uploads (every 7 days, 10 km / 1 cm/s 1-sigma; on approach, within
``--od-approach-range-km`` of Bennu, every ``--od-approach-period-days``) dead-reckoned onboard,
the attitude loop (MEKF, controller, kinematic inchworms) with sensor noise and a CP offset of (1, 0.5) mm,
the orbit driven by the achieved sail normal. Prints the arrival (true miss), the time of flight against the
plan's optimum (214.345 d, tests/test_default_plan.py) and the feedback laws flown with perfect attitude and
navigation (330.107 d), wall and CPU time, control cycles per second, /proc/loadavg before and after.

    python benchmarks/fly_sil.py [--period-s 5] [--seed 1] [--out benchmarks/results/fly_sil.txt]
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from bliss.cli.fly_run import default_problem
from bliss.sil.attitude_loop import AttitudeLoop, controller_config
from bliss.sil.closed_loop import FIX_ARRIVAL_DAYS, fly_closed_loop
from bliss.sil.navigation import OD_APPROACH_PERIOD_S, OD_APPROACH_RANGE_M, GroundOD
from sim.attitude_geometry import SpacecraftGeometry
from sim.constants import DAY

PLAN_TOF_D = 214.345      # optimiser, tests/test_default_plan.py
FEEDBACK_TOF_D = 330.1068  # feedback laws, perfect attitude and navigation, same test (tests/test_default_plan.py)


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def _range_at(problem, res, t) -> float:
    """True range to Bennu [m] at the chunk end nearest ``t``."""
    k = int(np.argmin(np.abs(res.orbit[:, 0] - t)))
    return float(np.linalg.norm(res.orbit[k, 1:4] - problem.target.state(res.orbit[k, 0])[0]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--period-s", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--days", type=float, default=730.0)
    ap.add_argument("--min-fraction-s", type=float, default=300.0,
                    help="executive's shortest time-shared fraction [s] (default its MIN_FRACTION_S, 300)")
    ap.add_argument("--no-break-slews", action="store_true",
                    help="fly slews over 90 deg directly (default: in two legs through the Sun line)")
    ap.add_argument("--feather-deg", type=float, default=60.0,
                    help="cone [deg] at which edge-on (OFF) commands are held (ControllerConfig.feather_cone)")
    ap.add_argument("--no-count-feather", action="store_true",
                    help="the executive plans edge-on as no thrust (the behaviour before; default: its "
                         "rendezvous plan counts the feathered hold's thrust)")
    ap.add_argument("--fix-arrival-days", type=float, default=FIX_ARRIVAL_DAYS,
                    help="the rendezvous law's terminal phase: arrival epoch fixed within this many days "
                         "(default bliss.sil.closed_loop.FIX_ARRIVAL_DAYS; 0: it slides, the behaviour before)")
    ap.add_argument("--no-terminal-box", action="store_true",
                    help="the terminal phase plans on the rendezvous law's element weights and stops on entering "
                         "the box (the behaviour before; default: miss in units of the 1,000 km / 1 m/s box)")
    ap.add_argument("--od-approach-period-days", type=float, default=OD_APPROACH_PERIOD_S / DAY,
                    help="OD upload period on approach [d] (default bliss.sil.navigation.OD_APPROACH_PERIOD_S)")
    ap.add_argument("--od-approach-range-km", type=float, default=OD_APPROACH_RANGE_M / 1e3,
                    help="range from Bennu [km] within which the approach period applies (default "
                         "bliss.sil.navigation.OD_APPROACH_RANGE_M; 0: weekly OD to the end, the behaviour before)")
    ap.add_argument("--out", default="benchmarks/results/fly_sil.txt")
    a = ap.parse_args(argv)
    problem = default_problem()
    g = SpacecraftGeometry(cp_offset=(1e-3, 0.5e-3))
    cfg = controller_config(g, period=a.period_s, feather_cone=math.radians(a.feather_deg))
    loop = AttitudeLoop(problem.t_depart, [0, 0, 0, 1], geometry=g, config=cfg, seed=a.seed)
    lines = [f"benchmarks/fly_sil.py: whole Bennu transfer in SIL, period {a.period_s:g} s, seed {a.seed}, "
             f"shortest time-shared fraction {a.min_fraction_s:g} s, slews over 90 deg "
             f"{'direct' if a.no_break_slews else 'through the Sun line'}, edge-on feathered at "
             f"{math.degrees(loop.cfg.feather_cone):.0f} deg, safe mode past {math.degrees(loop.cfg.safe_cone):.0f} deg "
             f"(back within {math.degrees(loop.cfg.recover_cone):.0f} deg), the executive's plan "
             f"{'treats edge-on as no thrust' if a.no_count_feather else 'counts the feathered hold thrust'}, "
             f"arrival epoch fixed within {a.fix_arrival_days:g} d of it, its plans' miss in "
             f"{'element weights' if a.no_terminal_box else 'units of the 1,000 km / 1 m/s box'}, OD every 7 d "
             + (f"and every {a.od_approach_period_days:g} d within {a.od_approach_range_km:,.0f} km of Bennu"
                if a.od_approach_range_km > 0 else "to the end (no approach cadence)"),
             f"loadavg at start: {loadavg()}"]
    od = GroundOD(seed=a.seed, approach_period=a.od_approach_period_days * DAY,
                  approach_range=a.od_approach_range_km * 1e3)
    last = [time.perf_counter()]

    def progress(t):
        if time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            print(f"  day {(t - problem.t_depart) / DAY:.1f}", file=sys.stderr, flush=True)

    w0, c0 = time.perf_counter(), time.process_time()
    res = fly_closed_loop(problem, problem.y_depart, problem.t_depart, problem.t_depart + a.days * DAY, loop, od,
                          progress=progress, rec_every=int(round(600 / a.period_s)), min_fraction_s=a.min_fraction_s,
                          break_slews=not a.no_break_slews, count_feather=not a.no_count_feather, fix_arrival_days=a.fix_arrival_days,
                          terminal_box=not a.no_terminal_box)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    tof = (res.t_end - problem.t_depart) / DAY
    close = (math.inf, math.nan, math.nan)
    for row in res.orbit:  # 1-h chunk ends
        rt, vt = problem.target.state(row[0])
        rng = float(np.linalg.norm(row[1:4] - rt))
        if rng < close[0]:
            close = (rng, float(np.linalg.norm(row[4:7] - vt)), (row[0] - problem.t_depart) / DAY)
    t_app = [e.t for e in res.events if e.kind == "od_update" and "(approach)" in e.detail]
    ok = res.converged and res.miss_pos_m < 1e6 and res.miss_vel_m_s < 1.0
    lines += [f"result: {res.reason}; converged {res.converged}",
              f"time of flight {tof:.2f} d: plan (optimiser) {PLAN_TOF_D} d -> +{tof - PLAN_TOF_D:.2f} d "
              f"({tof / PLAN_TOF_D:.3f}x); feedback laws with perfect attitude/nav {FEEDBACK_TOF_D} d -> "
              f"{tof - FEEDBACK_TOF_D:+.2f} d",
              f"true arrival miss {res.miss_pos_m / 1e3:.1f} km, {res.miss_vel_m_s:.3f} m/s "
              f"(bound 1000 km, 1 m/s: {'met' if ok else 'NOT met'})",
              f"closest approach (1-h chunk ends) {close[0] / 1e3:.0f} km, {close[1]:.1f} m/s on day {close[2]:.1f}",
              f"onboard navigation error at the end {res.nav_error_m[-1] / 1e3:.1f} km; "
              f"deviation from the commanded flight {res.deviation_m[-1] / 1e3:.0f} km",
              f"pointing error rms {math.degrees(res.pointing_rms_rad):.3f} deg, max "
              f"{math.degrees(res.pointing_max_rad):.1f} deg; slews {res.n_slews}; OD uploads {res.n_od_updates}; "
              f"attitude safe-mode entries {res.n_safe_mode}; "
              f"steps {'/'.join(f'{s:.0f}' for s in res.steps)}",
              f"executive events: {sum(1 for e in res.events if e.kind == 'executive')}",
              f"OD uploads on approach {od.n_approach}" + (
                  f", the first on day {(t_app[0] - problem.t_depart) / DAY:.1f}" if t_app else ""),
              "true range to Bennu before the end: " + "; ".join(
                  f"{d:g} d {_range_at(problem, res, res.t_end - d * DAY) / 1e3:,.0f} km" for d in (60, 30, 20, 10, 5, 2)),
              f"{res.n_cycles} control cycles: wall {wall:.1f} s, CPU {cpu:.1f} s, "
              f"{res.n_cycles / wall:.0f} cycles per wall second",
              f"loadavg at end: {loadavg()}"]
    text = "\n".join(lines)
    print(text)
    Path(a.out).write_text(text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
