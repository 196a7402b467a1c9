"""Benchmark: the default Bennu transfer flown with the attitude loop in it (software in the loop).

Gets the schedule from ``bliss plan`` (run here in a subprocess into a temporary folder, not timed) or
from ``--schedule schedule.csv``, departs from Earth's state (built-in ephemeris) at the schedule's start,
and flies, with ``bliss.sil.attitude_loop.fly_coupled`` (attitude control period 2 s, orbit chunks of 1 h,
sail normal averaged over 10-minute bins):

1. the first 30 days: position deviation from the attitude-perfect flight and the steps spent;
2. the whole transfer: wall time and simulated time per wall-clock second (target: the whole transfer in
   under 60 s on this 2-core machine), and the process's CPU time (on the shared machine, with more
   runnable jobs than cores, wall time overstates it), beside the attitude-perfect flight alone (the
   alternative: orbit only, ``sim.integrator.propagate`` of the same schedule).

    PYTHONPATH=. python benchmarks/attitude.py [--schedule PATH] [--period 2] [--out benchmarks/results/attitude.txt]
"""
from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bliss.sil.attitude_loop import AttitudeLoop, controller_config, fly_coupled  # noqa: E402
from bliss.sil.plan_flight import initial_attitude, load_plan_schedule  # noqa: E402
from sim.attitude_geometry import SpacecraftGeometry  # noqa: E402
from sim.constants import DAY  # noqa: E402
from sim.integrator import propagate  # noqa: E402
from sim.sail import Sail  # noqa: E402

TARGET_S = 60.0


def plan_schedule(tmp: str) -> Path:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run([sys.executable, "-m", "bliss", "plan", "--no-progress", "--out", tmp], env=env,
                          cwd=ROOT, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        sys.exit(f"attitude.py: bliss plan failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return Path(tmp) / "schedule.csv"


def fly(schedule, y0, days, period, seed=1):
    g = SpacecraftGeometry()
    t0 = schedule.t0
    t1 = min(schedule.t1, t0 + days * DAY)
    loop = AttitudeLoop(t0, initial_attitude(schedule, y0), geometry=g,
                        config=controller_config(g, period=period), seed=seed)
    tic, cpu = time.perf_counter(), time.process_time()
    res = fly_coupled(schedule, y0, t0, t1, Sail(), loop, rec_every=0)
    return res, time.perf_counter() - tic, time.process_time() - cpu


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schedule", help="schedule.csv from bliss plan (default: run bliss plan now)")
    ap.add_argument("--period", type=float, default=2.0, help="attitude control period [s] (default 2)")
    ap.add_argument("--also-period", type=float, default=5.0,
                    help="a second control period [s] for the whole transfer (default 5; 0: skip)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "attitude.txt"))
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.schedule) if args.schedule else plan_schedule(tmp)
        schedule, y0 = load_plan_schedule(path)
    lines = []

    def say(s=""):
        print(s, flush=True)
        lines.append(s)

    span_days = (schedule.t1 - schedule.t0) / DAY
    say(f"attitude benchmark: default Bennu schedule ({args.schedule or 'bliss plan run now, defaults'}), "
        f"{schedule.n_segments} segments, {span_days:.1f} days; control period {args.period:g} s, orbit chunks "
        f"1 h, normal bins 10 min; nominal spacecraft (no CP offset), all sensor noise")
    fly(schedule, y0, 0.2, args.period)  # compile (numba cache) and warm up
    res30, w30, _ = fly(schedule, y0, 30.0, args.period)
    say(f"30 days: position deviation from the attitude-perfect flight {res30.deviation_m / 1e3:.1f} km; "
        f"steps {res30.steps[0]:.0f} / {res30.steps[1]:.0f} / {res30.steps[2]:.0f} (axes 0/1/2), per day "
        f"{res30.steps_per_day[0]:.0f} / {res30.steps_per_day[1]:.0f} / {res30.steps_per_day[2]:.0f}; "
        f"pointing error rms {math.degrees(res30.pointing_rms_rad):.3f} deg, max "
        f"{math.degrees(res30.pointing_max_rad):.2f} deg; off target (> 0.5 deg) "
        f"{res30.time_off_target_s / 3600:.1f} h; wall {w30:.1f} s")
    tic = time.perf_counter()
    for _ in range(5):
        propagate(y0, schedule, Sail(), t_out=np.array([schedule.t1]))
    wall_perfect = (time.perf_counter() - tic) / 5
    for period in (args.period, args.also_period):
        if period <= 0:
            continue
        if period != args.period:
            fly(schedule, y0, 0.2, period)  # warm-up for this period's run
        res, wall, cpu = fly(schedule, y0, span_days + 1.0, period)
        say(f"whole transfer ({span_days:.1f} days), control period {period:g} s: wall {wall:.1f} s with the "
            f"attitude loop ({span_days / wall:.2f} simulated days per wall-clock second, "
            f"{span_days * DAY / wall:.0f} s/s); target < {TARGET_S:.0f} s: {'met' if wall < TARGET_S else 'NOT met'}; "
            f"CPU time of the process {cpu:.1f} s (what an idle core would take: the machine is shared)")
        say(f"  the attitude-perfect flight alone (orbit only, sim.integrator.propagate): {wall_perfect * 1e3:.2f} ms "
            f"(the attitude loop costs x{wall / wall_perfect:.2g})")
        say(f"  arrival: deviation from the attitude-perfect flight {res.deviation_m / 1e3:.1f} km; steps per day "
            f"{res.steps_per_day[0]:.0f} / {res.steps_per_day[1]:.0f} / {res.steps_per_day[2]:.0f}; pointing error "
            f"rms {math.degrees(res.pointing_rms_rad):.3f} deg, max {math.degrees(res.pointing_max_rad):.2f} deg; "
            f"off target (> 0.5 deg) {res.time_off_target_s / 3600:.1f} h")
    load = Path("/proc/loadavg").read_text().strip() if Path("/proc/loadavg").exists() else "n/a"
    say(f"machine: {os.cpu_count()} CPUs, /proc/loadavg: {load} (shared machine: times vary)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
