"""The work of ``bliss fly`` (``bliss.cli.fly`` registers the command and its options; this module holds
the flight, loaded only when the command runs)."""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import time
from pathlib import Path

import numpy as np

from bliss.cli import UsageError
from bliss.cli.attitude import _num
from bliss.cli.fly import BACKENDS, DEFAULT_START_DAY, DEFAULT_TIME_SCALE
from bliss.io.atomic import OutputSet, check_writable
from bliss.io.faultplan import FaultPlanError, load_fault_plan, parse_inject
from bliss.io.summary import write_summary
from bliss.io.telemetry import TelemetryWriter
from bliss.plots.fly import plot_fly_run
from bliss.sil.attitude_loop import AttitudeLoop, controller_config
from bliss.sil.closed_loop import TELEMETRY_COLUMNS, fly_closed_loop, reference_state
from bliss.sil.navigation import GroundOD
from bliss.sil.plan_flight import initial_attitude, load_plan_schedule
from bliss.sil.port_loop import PortActuators
from sim.attitude_geometry import SpacecraftGeometry
from sim.constants import DAY, JULIAN_YEAR
from sim.integrator import Schedule
from sim.sail import OPTICS


def default_problem(t_depart: float | None = None):
    """The default ``bliss plan`` problem (10 g, 1 m^2 ideal sail, Earth 2030-11-21 -> Bennu), departing at
    ``t_depart`` [TDB s] if given."""
    from bliss.cli import plan as plan_cli  # lazy: the plan command's own defaults (and its module's
    from bliss.guidance.pipeline import make_problem  # imports) only when no plan folder is given

    sub = argparse.ArgumentParser().add_subparsers()
    plan_cli.register(sub)
    request = plan_cli.build_inputs(sub.choices["plan"].parse_args([]))
    return make_problem(request, float(request.dates[0]) if t_depart is None else t_depart)


def _busiest_window(schedule: Schedule, days: float) -> float:
    """Start [days after departure] of the ``days`` window holding the most segment switches."""
    sw = (schedule.t[1:-1] - schedule.t0) / DAY
    if sw.size == 0:
        return 0.0
    counts = [np.count_nonzero((sw >= s) & (sw < s + days)) for s in sw]
    return float(max(0.0, sw[int(np.argmax(counts))] - 0.1 * days))


def _faults(args):
    try:
        plan = load_fault_plan(args.faults) if args.faults else None
        return parse_inject(args.inject, plan) if args.inject else plan
    except FaultPlanError as exc:
        raise UsageError(str(exc)) from None


def _inputs(args):
    if not args.actuators or (args.actuators not in BACKENDS and not (
            args.actuators.startswith(("/dev/", "socket://", "rfc2217://", "loop://")))):
        raise UsageError(f"--actuators {args.actuators!r}: use sim, emulated, qemu, a device path (/dev/ttyACM0) "
                         "or a URL (socket://host:port)")
    if args.time_scale is not None:
        if args.actuators == "sim":
            raise UsageError("--time-scale paces a board; with --actuators sim the loop runs as fast as it can")
        if args.time_scale != "auto":
            try:
                float(args.time_scale)
            except ValueError:
                raise UsageError(f"--time-scale must be a number of mission seconds per wall second or 'auto' "
                                 f"(lockstep), got {args.time_scale!r}") from None
            args.time_scale = _num(args.time_scale, "--time-scale", 0, 1e6)
    if args.optics not in OPTICS:
        raise UsageError(f"--optics: unknown optical model {args.optics!r}; allowed: {', '.join(OPTICS)}")
    cp = tuple(_num(v, "--cp-offset-mm", -5, 5) * 1e-3 for v in args.cp_offset_mm)
    period = _num(args.period_s, "--period-s", 0.5, 10)
    days = _num(args.days, "--days", 0.01, 800)
    od = (_num(args.od_period_days, "--od-period-days", 0.01, 1000) * DAY,
          _num(args.od_sigma_km, "--od-sigma-km", 0, 1e6) * 1e3, _num(args.od_sigma_cm_s, "--od-sigma-cm-s", 0, 1e5) / 100,
          _num(args.od_approach_period_days, "--od-approach-period-days", 0.01, 1000) * DAY,
          _num(args.od_approach_range_km, "--od-approach-range-km", 0, 1e9) * 1e3)
    try:
        seed, every = int(args.seed), int(args.telemetry_every)
    except ValueError:
        raise UsageError(f"--seed and --telemetry-every must be integers, got {args.seed!r}, "
                         f"{args.telemetry_every!r}") from None
    if every < 1:
        raise UsageError(f"--telemetry-every must be >= 1 control cycle, got {every}")
    faults = _faults(args)
    check_writable(args.out)
    plan = None
    if args.plan:
        if not (Path(args.plan) / "schedule.csv").is_file():
            raise UsageError(f"--plan {args.plan!r}: no schedule.csv in it; run 'bliss plan --out DIR' and pass DIR")
        try:
            schedule, y_dep = load_plan_schedule(Path(args.plan) / "schedule.csv")
        except OSError as exc:
            raise UsageError(f"--plan: cannot read {args.plan!r} ({exc.strerror})") from None
        summ = Path(args.plan) / "summary.json"
        tof = json.loads(summ.read_text())["tof_days"] if summ.is_file() else (schedule.t1 - schedule.t0) / DAY
        problem = default_problem(schedule.t0)
        plan = (schedule, y_dep, float(tof))
    else:
        problem = default_problem()
    if args.start_day is None:
        start = _busiest_window(plan[0], days) if plan is not None else DEFAULT_START_DAY
    else:
        start = _num(args.start_day, "--start-day", 0, 800)
    if args.all:
        start, days = 0.0, 2 * JULIAN_YEAR / DAY
    g = SpacecraftGeometry(optics=OPTICS[args.optics], cp_offset=cp)
    return problem, plan, start, days, g, controller_config(g, period=period), od, seed, every, faults


def _start_state(problem, plan, start_day):
    """State at the span's start: the plan's flight (with --plan) or the feedback laws' flight."""
    t = problem.t_depart + start_day * DAY
    if start_day == 0:
        return t, problem.y_depart.copy()
    if plan is not None:
        return t, reference_state(plan[0], plan[1], t, problem.sail)
    from bliss.guidance.feedback import fly_feedback  # only for spans that start after departure

    res = fly_feedback(problem, max_years=start_day * DAY / JULIAN_YEAR, truncate_at_best=False)
    return problem.t_depart + res.tof, res.y_final.copy()


@contextlib.contextmanager
def board_actuators(args, loop, faults, t0):
    """The board backend of --actuators (None for sim): the board started and connected, a
    ``hil.board_port.BoardPort`` over it stamping events with the mission clock, the fault injector of the
    plan's board faults; everything stopped again on the way out."""
    if args.actuators == "sim":
        yield None
        return
    from hil.board_port import ActuatorLinkDown, BoardPort  # the bench: only for a board in the loop
    from hil.driver import Board, BoardError
    from hil.emulated import EmulatedBoard
    from hil.faults import BoardFaultInjector

    emulated = proc = board = None
    try:
        if args.actuators == "emulated":
            emulated = EmulatedBoard()
            url = emulated.start()
        elif args.actuators == "qemu":
            from firmware_host.build import FirmwareBuildError, start_cortexm_qemu

            try:
                proc, url = start_cortexm_qemu()
            except FirmwareBuildError as exc:
                raise UsageError(f"--actuators qemu: {exc}") from None
        else:
            url = args.actuators
        board = Board(url)
        try:
            board.connect()
        except (BoardError, OSError) as exc:
            raise UsageError(f"--actuators {args.actuators}: no board answered at {url} ({exc})") from None
        events: list = []
        port = BoardPort(board, clock=lambda: loop.t, on_event=events.append)
        injector = BoardFaultInjector(board, faults, emulated) if faults is not None else None
        scale = DEFAULT_TIME_SCALE if args.time_scale is None else (args.time_scale or None)
        act = PortActuators(loop, port, time_scale=scale, poll=injector.poll if injector is not None else None,
                            t0=t0, link_errors=(ActuatorLinkDown,))
        act.events = events  # the port's responses and the injector's faults, drained into telemetry
        yield act
    finally:
        if board is not None:
            board.close()
        if emulated is not None:
            emulated.close()
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)


def _report(res, args, problem, plan, start_day, loop, od, wall_s, act=None):
    tof = (res.t_end - problem.t_depart) / DAY
    rep = {
        "reason": res.reason, "converged": res.converged, "start_day": start_day, "days_flown": res.days,
        "time_of_flight_days": tof if res.converged else None,
        "arrival_miss_m": res.miss_pos_m, "arrival_miss_m_s": res.miss_vel_m_s,
        "pointing_error_rms_deg": math.degrees(res.pointing_rms_rad),
        "pointing_error_max_deg": math.degrees(res.pointing_max_rad),
        "trajectory_deviation_final_km": float(res.deviation_m[-1] / 1e3) if res.orbit.shape[0] else None,
        "nav_error_final_km": float(res.nav_error_m[-1] / 1e3) if res.orbit.shape[0] else None,
        "steps": [float(s) for s in res.steps], "slews": res.n_slews, "od_updates": res.n_od_updates,
        "control_cycles": res.n_cycles, "wall_s": wall_s,
        "control_cycles_per_wall_s": res.n_cycles / max(wall_s, 1e-9),
        "control_period_s": loop.dt, "actuators": args.actuators, "seed": int(args.seed),
        "od": {"period_days": od.period / DAY, "sigma_r_m": od.sigma_r, "sigma_v_m_s": od.sigma_v,
               "approach_period_days": od.approach_period / DAY, "approach_range_m": od.approach_range,
               "approach_uploads": od.n_approach},
        "cp_offset_m": list(loop.g.cp_offset),
        "events": {k: sum(1 for e in res.events if e.kind == k) for k in sorted({e.kind for e in res.events})},
    }
    if act is not None:
        rep["board"] = {"time_scale": act.time_scale, "exchanges": act.cycles, "overruns": act.overruns,
                        "max_model_board_difference_steps": act.max_lag_steps}
        if act.lockstep:
            rep["board"].update(wait_s=act.wait_s, late_legs=act.late_legs)
    if plan is not None:
        rep["plan_tof_days"] = plan[2]
        if res.converged:
            rep["tof_growth_days"] = tof - plan[2]
    return rep


def _text(rep) -> str:
    lines = [f"bliss fly: {rep['reason']} after {rep['days_flown']:.2f} days (from day {rep['start_day']:.2f})"]
    if rep["converged"]:
        lines.append(f"  time of flight {rep['time_of_flight_days']:.2f} d"
                     + (f" (plan {rep['plan_tof_days']:.2f} d, +{rep['tof_growth_days']:.2f} d)"
                        if "tof_growth_days" in rep else ""))
    lines += [f"  true distance to the target {rep['arrival_miss_m'] / 1e3:.1f} km, {rep['arrival_miss_m_s']:.3f} m/s",
              f"  pointing error rms {rep['pointing_error_rms_deg']:.3f} deg, max {rep['pointing_error_max_deg']:.2f} deg",
              f"  trajectory deviation from the commanded flight {rep['trajectory_deviation_final_km'] or 0:.1f} km; "
              f"navigation error {rep['nav_error_final_km'] or 0:.1f} km",
              f"  slews {rep['slews']}, OD uploads {rep['od_updates']}, steps "
              + "/".join(f"{s:.0f}" for s in rep["steps"]),
              f"  {rep['control_cycles']} control cycles in {rep['wall_s']:.1f} s "
              f"({rep['control_cycles_per_wall_s']:.0f} per second)"]
    return "\n".join(lines)


def run_fly(args) -> int:
    problem, plan, start, days, g, cfg, od_args, seed, every, faults = _inputs(args)
    t0, y0 = _start_state(problem, plan, start)
    t_end = t0 + days * DAY
    sched0 = Schedule(np.array([t0, t0 + DAY]), np.array([1], np.int64), np.zeros((1, 3)))
    loop = AttitudeLoop(t0, initial_attitude(sched0, y0), geometry=g, config=cfg, seed=seed)
    od = GroundOD(*od_args[:3], seed=seed, approach_period=od_args[3], approach_range=od_args[4])
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=round(days, 2), unit="day", desc="bliss fly", bar_format="{l_bar}{bar}| {n:.2f}/{total} d")
    last = [t0]

    def progress(t):
        if bar is not None:
            bar.update((t - last[0]) / DAY)
            last[0] = t

    wall = time.perf_counter()
    with OutputSet(args.out) as out:
        meta = {"command": "bliss fly", "seed": seed, "actuators": args.actuators, "t0_tdb_s": t0,
                "control_period_s": cfg.period, "telemetry_every": every}
        db = Path(out.path("run.sqlite"))
        db.unlink()  # the store creates its own file (and its write-ahead log beside it) under this name
        with TelemetryWriter(db, TELEMETRY_COLUMNS, meta) as sink, board_actuators(args, loop, faults, t0) as act:
            res = fly_closed_loop(problem, y0, t0, t_end, loop, od, sink=sink, faults=faults, progress=progress,
                                  rec_every=every, actuators=act)
        if bar is not None:
            bar.close()
        rep = _report(res, args, problem, plan, start, loop, od, time.perf_counter() - wall, act)
        write_summary(out.path("report.json"), rep)
        text = _text(rep)
        Path(out.path("report.txt")).write_text(text + "\n")
        plot_fly_run(out.path("fly.png"), res, g.payload_step, g.vane_step_rad,
                     f"bliss fly: day {start:.1f} + {res.days:.2f} d, seed {seed}, {args.actuators}")
    print(text)
    print(f"  files in {args.out}")
    return 0
