"""``bliss attitude``: the attitude loop in software (onboard MEKF and controller flying the simulated
spacecraft with kinematic inchworm actuators, docs/attitude.md).

- ``bliss attitude slew``: hold one cone angle, then slew to another; writes slew.csv, slew.png and
  summary.json (completion time against the bang-bang minimum, steps, pointing error).
- ``bliss attitude fly``: fly a ``bliss plan`` schedule.csv for a span of days with the attitude loop in
  the orbit; writes attitude.csv, attitude.png and summary.json (deviation from the attitude-perfect
  flight, steps per axis and day, pointing error).

Bad input: one line on stderr, exit code 2, no files. Files appear all together or not at all.
"""
from __future__ import annotations

import argparse
import math

import numpy as np

from bliss.cli import UsageError
from bliss.cli.propagate import OPTICS_CHOICES
from bliss.io.atomic import OutputSet
from bliss.io.summary import write_summary
from sim.constants import AU, CONE_MAX_ALONG_TRACK, DAY, GM_SUN

#: Units written in the CSV for each record column (angles in degrees, rates in deg/min).
_CSV_HEADER = ("t_s,pointing_error_deg,estimated_error_deg,cone_deg,target_cone_deg,axis0_steps,axis1_steps,"
               "axis2_steps,wx_deg_min,wy_deg_min,wz_deg_min,tau_x_nm,tau_y_nm,tau_z_nm,knowledge_error_deg")
_DEG = (1, 2, 3, 4, 14)
_RATE = (8, 9, 10)


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("attitude", help="attitude loop in software: a slew, or a plan schedule flown",
                              description=__doc__.split("\n\n")[0].replace("``", ""))
    sub = p.add_subparsers(dest="attitude_command", metavar="ACTION")
    s = sub.add_parser("slew", help="hold a cone angle, then slew to another (default 0 -> 35.26 deg)")
    s.add_argument("--from-cone-deg", default="0", metavar="DEG", help="cone held first [deg], 0..75; default 0")
    s.add_argument("--to-cone-deg", default=f"{math.degrees(CONE_MAX_ALONG_TRACK):.4f}", metavar="DEG",
                   help="cone commanded [deg], 0..75; default 35.2644 (atan(1/sqrt 2))")
    s.add_argument("--clock-deg", default="0", metavar="DEG", help="clock angle of both [deg]; default 0")
    s.add_argument("--hold-min", default="120", metavar="MIN",
                   help="time held before the command [min] (the observer learns the disturbance); default 120")
    s.add_argument("--after-min", default="120", metavar="MIN", help="time flown after the command [min]; default 120")
    s.add_argument("--r-au", default="1", metavar="AU", help="distance from the Sun [AU], 0.3..5; default 1")
    _common(s, ("1", "0.5"))
    s.set_defaults(func=run_slew)
    f = sub.add_parser("fly", help="fly a bliss plan schedule.csv with the attitude loop in the orbit")
    f.add_argument("--schedule", required=True, metavar="CSV", help="schedule.csv written by bliss plan")
    f.add_argument("--days", default="30", metavar="DAYS",
                   help="span flown from the schedule's start [days]; default 30")
    _common(f, ("0", "0"))
    f.set_defaults(func=run_fly)
    p.set_defaults(func=lambda args: _no_action(p))
    return p


def _no_action(p) -> int:
    p.print_help()
    return 2


def _common(p, cp_default):
    p.add_argument("--optics", default="ideal", metavar="NAME",
                   help=f"sail optics: {', '.join(OPTICS_CHOICES)}; default ideal")
    p.add_argument("--cp-offset-mm", nargs=2, default=list(cp_default), metavar=("X", "Y"),
                   help=f"centre-of-pressure offset in the sail plane [mm], |.| <= 5; default {' '.join(cp_default)}")
    p.add_argument("--twist-deg", default="0", metavar="DEG", help="sail twist (roll disturbance) [deg]; default 0")
    p.add_argument("--period-s", default="2", metavar="S", help="control period [s], 0.5..10; default 2")
    p.add_argument("--seed", default="1", metavar="N", help="noise seed (integer); default 1")
    p.add_argument("--out", default="bliss_out/attitude", metavar="FOLDER", help="output folder")


def _num(text, option, lo, hi):
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise UsageError(f"{option} must be a number, got {text!r}") from None
    if not (math.isfinite(v) and lo <= v <= hi):
        raise UsageError(f"{option} must lie in [{lo:g}, {hi:g}], got {text!r}")
    return v


def _setup(args):
    # lazy: numba and scipy, not paid by `bliss --help`
    from bliss.sil.attitude_loop import controller_config
    from sim.attitude_geometry import SpacecraftGeometry
    from sim.sail import OPTICS

    if args.optics not in OPTICS:
        raise UsageError(f"--optics: unknown optical model {args.optics!r}; allowed: {', '.join(OPTICS)}")
    cp = tuple(_num(v, "--cp-offset-mm", -5, 5) * 1e-3 for v in args.cp_offset_mm)
    twist = math.radians(_num(args.twist_deg, "--twist-deg", -5, 5))
    period = _num(args.period_s, "--period-s", 0.5, 10)
    try:
        seed = int(args.seed)
    except ValueError:
        raise UsageError(f"--seed must be an integer, got {args.seed!r}") from None
    g = SpacecraftGeometry(optics=OPTICS[args.optics], cp_offset=cp, twist=twist)
    return g, controller_config(g, period=period), seed


def _write_csv(path, rec):
    out = rec.copy()
    for c in _DEG:
        out[:, c] = np.degrees(out[:, c])
    for c in _RATE:
        out[:, c] = np.degrees(out[:, c]) * 60.0
    np.savetxt(path, out, delimiter=",", header=_CSV_HEADER, comments="", fmt="%.10g")


def _loop_summary(res, loop, g):
    from bliss.sil.attitude_loop import RECORD_COLUMNS  # lazy: numba and scipy, not paid by `bliss --help`

    return {"steps": {"axis0": res.steps[0], "axis1": res.steps[1], "axis2": res.steps[2]},
            "steps_per_day": {"axis0": res.steps_per_day[0], "axis1": res.steps_per_day[1],
                              "axis2": res.steps_per_day[2]},
            "pointing_error_rms_deg": math.degrees(res.pointing_rms_rad),
            "pointing_error_max_deg": math.degrees(res.pointing_max_rad),
            "time_off_target_s": res.time_off_target_s,
            "spacecraft": {"mass_kg": g.total_mass, "payload_kg": g.payload_mass, "optics": g.optics.name,
                           "cp_offset_m": list(g.cp_offset), "twist_rad": g.twist},
            "control_period_s": loop.dt, "columns": list(RECORD_COLUMNS)}


def run_slew(args) -> int:
    # lazy: numba, scipy and matplotlib, not paid by `bliss --help`
    from bliss.fsw.attitude.control import bang_bang_time, target_quaternion
    from bliss.plots.attitude_loop import plot_attitude_run
    from bliss.sil.attitude_loop import AttitudeLoop, slew_complete_time

    g, cfg, seed = _setup(args)
    c0 = math.radians(_num(args.from_cone_deg, "--from-cone-deg", 0, 75))
    c1 = math.radians(_num(args.to_cone_deg, "--to-cone-deg", 0, 75))
    clock = math.radians(_num(args.clock_deg, "--clock-deg", -360, 360))
    hold = _num(args.hold_min, "--hold-min", 0, 24 * 60) * 60.0
    after = _num(args.after_min, "--after-min", 1, 24 * 60) * 60.0
    r_au = _num(args.r_au, "--r-au", 0.3, 5.0)
    r = np.array([r_au * AU, 0.0, 0.0])
    v = np.array([0.0, math.sqrt(GM_SUN / (r_au * AU)), 0.0])
    q0 = np.empty(4)
    target_quaternion(r, v, c0, clock, q0)
    with OutputSet(args.out) as out:
        loop = AttitudeLoop(0.0, q0, geometry=g, config=cfg, seed=seed)
        seg_t = np.array([0.0, hold, hold + after + 1.0]) if hold > 0 else np.array([0.0, after + 1.0])
        att = np.array([[c0, clock, 0.0], [c1, clock, 0.0]])[-(len(seg_t) - 1):]
        rec, _ = loop.fly_attitude(hold + after, np.concatenate([r, v]), seg_t, np.ones(len(att), np.int64), att)
        res = loop.result(rec, hold + after)
        t_done = slew_complete_time(rec, hold)
        angle = abs(c1 - c0)
        a_avail, _ = cfg.available(math.cos(max(c0, c1)), r_au * AU)
        t_min = bang_bang_time(angle, a_avail)
        summary = {"from_cone_deg": math.degrees(c0), "to_cone_deg": math.degrees(c1), "r_au": r_au,
                   "slew_time_s": t_done, "bang_bang_minimum_s": t_min,
                   "criterion": "pointing error < 0.5 deg and 1-min mean normal rate < 0.01 deg/min",
                   **_loop_summary(res, loop, g)}
        _write_csv(out.path("slew.csv"), rec)
        plot_attitude_run(out.path("slew.png"), rec, hold, g.payload_step, g.vane_step_rad,
                          f"slew {math.degrees(c0):.2f} -> {math.degrees(c1):.2f} deg cone at {r_au:g} AU")
        write_summary(out.path("summary.json"), summary)
    done = f"{t_done:.0f} s" if math.isfinite(t_done) else "not within the run"
    print(f"bliss attitude slew: {math.degrees(c0):.2f} -> {math.degrees(c1):.2f} deg: done in {done} "
          f"(bang-bang minimum {t_min:.0f} s); steps {res.steps[0]:.0f}/{res.steps[1]:.0f}/{res.steps[2]:.0f}; "
          f"files in {args.out}")
    return 0


def run_fly(args) -> int:
    # lazy: numba, scipy and matplotlib, not paid by `bliss --help`
    from bliss.plots.attitude_loop import plot_attitude_run
    from bliss.sil.attitude_loop import AttitudeLoop, fly_coupled
    from bliss.sil.plan_flight import initial_attitude, load_plan_schedule
    from sim.sail import Sail

    g, cfg, seed = _setup(args)
    days = _num(args.days, "--days", 0.05, 2000)
    try:
        schedule, y0 = load_plan_schedule(args.schedule)
    except OSError as exc:
        raise UsageError(f"--schedule: cannot read {args.schedule!r} ({exc.strerror})") from None
    t0 = schedule.t0
    t1 = min(schedule.t1, t0 + days * DAY)
    with OutputSet(args.out) as out:
        loop = AttitudeLoop(t0, initial_attitude(schedule, y0), geometry=g, config=cfg, seed=seed)
        res = fly_coupled(schedule, y0, t0, t1, Sail(), loop, rec_every=max(1, int(round(60.0 / cfg.period))))
        summary = {"schedule": str(args.schedule), "days": (t1 - t0) / DAY,
                   "deviation_from_attitude_perfect_km": res.deviation_m / 1e3,
                   "deviation_km_at_chunk_ends": [[t, d / 1e3] for t, d in res.chunks],
                   **_loop_summary(res, loop, g)}
        _write_csv(out.path("attitude.csv"), res.record)
        dev = np.array([[t, d / 1e3] for t, d in res.chunks])
        plot_attitude_run(out.path("attitude.png"), res.record, t0, g.payload_step, g.vane_step_rad,
                          f"plan schedule with the attitude loop, {(t1 - t0) / DAY:.1f} days", "day", dev)
        write_summary(out.path("summary.json"), summary)
    print(f"bliss attitude fly: {(t1 - t0) / DAY:.1f} days: deviation from the attitude-perfect flight "
          f"{res.deviation_m / 1e3:.1f} km; steps per day {res.steps_per_day[0]:.0f}/{res.steps_per_day[1]:.0f}/"
          f"{res.steps_per_day[2]:.0f}; pointing error rms {math.degrees(res.pointing_rms_rad):.3f} deg; "
          f"files in {args.out}")
    return 0
