"""``bliss propagate``: fly a solar sail at a constant RTN attitude from Earth and write the trajectory.

Defaults: departure from Earth's heliocentric state (C3 = 0) on 2028-01-01T00:00:00 TDB; the BLISS sail,
10 g, 1 m^2, ideal optics (Alvara et al. 2024); cone 35.26 deg (tan a = 1/sqrt 2, the locally optimal
cone for raising the orbit, McInnes 1999), clock 0; 365 days; output every day into
``bliss_out/propagate``: ``trajectory.oem`` (CCSDS OEM, ICRF axes, km), ``trajectory.csv`` (SI, ecliptic
J2000), ``trajectory.png`` (ecliptic-plane plot) and ``summary.json``. Earth's departure state (and the
``--third-bodies`` table) come from ``--ephem`` (builtin, or JPL DE421 with the ``de421`` extra).

The run stops early, cleanly (exit code 0, products up to and including the stop), when the sail comes
closer to the Sun than ``--min-sun-distance-au`` (default ``DEFAULT_MIN_SUN_DISTANCE_AU`` = 0.2 AU, a
terminal ``sim.integrator`` event): an inward spiral ends there instead of failing with "too many steps".

Every input is validated before anything is computed; bad input gives one line ``bliss: error: ...``,
exit code 2 and no files. Files appear all together or not at all (``bliss.io.atomic.OutputSet``).
Exit codes: 0 done (full flight time, or stopped at the minimum Sun distance); 1 the integration failed
(no files); 2 bad input (no files).
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

import numpy as np

from bliss.cli import UsageError
from bliss.cli import ephem as _ephem
from bliss.cli.third_bodies import HELP as THIRD_BODY_HELP
from bliss.cli.third_bodies import THIRD_BODY_CHOICES, THIRD_BODY_STEP_S, third_body_table  # noqa: F401 (re-exported)
from bliss.cli.third_bodies import one_line as _one_line
from bliss.cli.third_bodies import parse_third_bodies as _parse_third_bodies
from bliss.io.atomic import OutputSet, check_writable
from bliss.io.forked import Worker
from sim.constants import AU as _AU_M
from sim.constants import MIN_SAFE_SUN_DISTANCE as _MIN_SAFE_SUN_DISTANCE
from sim.constants import AU, CONE_MAX_ALONG_TRACK, GM_SUN

#: Default departure epoch (TDB) and duration [days]; our choice for a first Bennu-season run.
DEFAULT_DATE = "2028-01-01T00:00:00"
DEFAULT_DURATION_DAYS = 365.0
#: BLISS baseline spacecraft: 10 g total, 1 m^2 sail (Alvara et al., Acta Astronautica 2024).
DEFAULT_MASS_G = 10.0
DEFAULT_AREA_M2 = 1.0
#: Locally optimal cone for the along-track force of an ideal sail: atan(1/sqrt 2) = 35.2644 deg
#: (McInnes 1999; sim.constants.CONE_MAX_ALONG_TRACK), used exactly.
DEFAULT_CONE_DEG = math.degrees(CONE_MAX_ALONG_TRACK)
DEFAULT_STEP_DAYS = 1.0
DEFAULT_OUT = "bliss_out/propagate"
DEFAULT_RTOL = 1e-10
#: Longest run accepted [days] (100 Julian years) and most output rows (keeps files sane).
MAX_DURATION_DAYS = 36525.0
MAX_ROWS = 2_000_000
DAY_S = 86400.0
#: Default closest approach to the Sun [AU] before the run stops (terminal event): the film-temperature
#: limit sim.constants.MIN_SAFE_SUN_DISTANCE (0.2 AU, reasoning there).
DEFAULT_MIN_SUN_DISTANCE_AU = _MIN_SAFE_SUN_DISTANCE / _AU_M
#: Smallest --min-sun-distance-au accepted [AU]: the Sun's radius, 695,700 km (IAU 2015 Resolution B3
#: nominal value) = 0.00465 AU.
MIN_SUN_DISTANCE_FLOOR_AU = 695_700e3 / _AU_M

#: The --optics names of every command: the keys of sim.sail.OPTICS, written out so that building the
#: parsers (and `bliss --help`) does not import numba; tests/test_cli_errors.py checks they agree.
OPTICS_CHOICES = ("ideal", "mcinnes", "nea-scout")
OUTPUT_FILES = ("trajectory.oem", "trajectory.csv", "trajectory.png", "summary.json")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "propagate",
        help="fly a sail at a constant cone/clock attitude from Earth; write OEM, CSV, plot, summary",
        description=__doc__.split("\n\n")[0].replace("``", ""),
    )
    # Values are taken as strings and checked in _validate, so that every mistake gives one clear line.
    p.add_argument("--date", metavar="DATE", default=DEFAULT_DATE,
                   help="departure epoch, ISO 8601, TDB unless a scale follows (e.g. '2028-01-01 UTC'); "
                        f"default {DEFAULT_DATE} TDB")
    p.add_argument("--duration-days", metavar="DAYS", default=str(DEFAULT_DURATION_DAYS),
                   help=f"flight time [days], > 0 and <= {MAX_DURATION_DAYS:g}; default {DEFAULT_DURATION_DAYS:g}")
    p.add_argument("--mass-g", metavar="GRAMS", default=str(DEFAULT_MASS_G),
                   help=f"total spacecraft mass [g], > 0; default {DEFAULT_MASS_G:g}")
    p.add_argument("--area-m2", metavar="M2", default=str(DEFAULT_AREA_M2),
                   help=f"sail area [m^2], > 0; default {DEFAULT_AREA_M2:g}")
    p.add_argument("--optics", metavar="NAME", default="ideal",
                   help=f"sail optical model: {', '.join(OPTICS_CHOICES)}; default ideal")
    p.add_argument("--cone-deg", metavar="DEG", default=repr(DEFAULT_CONE_DEG),
                   help="signed cone angle [deg] in [-90, 90] (negative tilts the normal toward -T, i.e. "
                        f"clock + 180); default {DEFAULT_CONE_DEG:.4f} = atan(1/sqrt 2), locally optimal for "
                        "raising the orbit")
    p.add_argument("--clock-deg", metavar="DEG", default="0",
                   help="clock angle [deg] in [-360, 360], from T toward the orbit normal N; default 0")
    p.add_argument("--third-bodies", metavar="LIST", default="",
                   help=THIRD_BODY_HELP)
    _ephem.add_argument(p)
    p.add_argument("--min-sun-distance-au", metavar="AU", default=str(DEFAULT_MIN_SUN_DISTANCE_AU),
                   help="stop the run (cleanly, products written up to the stop) when the sail comes closer "
                        f"to the Sun than this [AU]; >= the Sun's radius ({MIN_SUN_DISTANCE_FLOOR_AU:.5f} AU) "
                        f"and below the departure distance; default {DEFAULT_MIN_SUN_DISTANCE_AU:g} (sail "
                        "film near 400 C, Kapton's limit, see docs/cli.md)")
    p.add_argument("--step-days", metavar="DAYS", default=str(DEFAULT_STEP_DAYS),
                   help=f"output grid spacing [days], > 0; default {DEFAULT_STEP_DAYS:g}")
    p.add_argument("--rtol", metavar="RTOL", default=str(DEFAULT_RTOL),
                   help=f"integrator relative tolerance, in [1e-14, 1e-4]; default {DEFAULT_RTOL:g}")
    p.add_argument("--out", metavar="FOLDER", default=DEFAULT_OUT, help=f"output folder; default {DEFAULT_OUT}")
    p.set_defaults(func=run)


# ------------------------------------------------------------------------------------------------------
# Validation: everything the user typed, before any computation
# ------------------------------------------------------------------------------------------------------
@dataclass
class Plan:
    t0: float               # TDB s past J2000
    t1: float
    date_label: str
    sail: object
    cone: float             # rad, >= 0
    clock: float            # rad, in (-pi, pi]
    cone_signed_deg: float
    clock_deg: float
    third: tuple
    t_out: np.ndarray
    rtol: float
    out: object
    y0: np.ndarray
    ephem: str = "builtin"  # --ephem
    r_min: float = 0.0      # --min-sun-distance-au [m]


def _number(text: str, option: str, what: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise UsageError(f"{option} must be a number ({what}), got {text!r}") from None
    if not math.isfinite(value):
        raise UsageError(f"{option} must be a finite number ({what}), got {text!r}")
    return value


def _positive(text: str, option: str, what: str, upper: float | None = None) -> float:
    value = _number(text, option, what)
    if value <= 0 or (upper is not None and value > upper):
        allowed = f"> 0 and <= {upper:g}" if upper is not None else "> 0"
        raise UsageError(f"{option} must be {allowed} ({what}), got {text!r}")
    return value


def _parse_date(text: str) -> tuple[float, str]:
    from astropy.time import Time

    from sim.timeconv import epoch_to_tdb_seconds  # lazy: astropy, not paid by `bliss --help`

    parts = text.strip().rsplit(None, 1)
    if not (len(parts) == 2 and parts[1].lower() in Time.SCALES):
        text = f"{text.strip()} TDB"  # a bare date means TDB here
    try:
        t0 = epoch_to_tdb_seconds(text)
    except ValueError:
        raise UsageError(f"--date: cannot parse {text!r}: use ISO 8601 such as '2028-01-01T00:00:00' (TDB), "
                         "or append a time scale such as '2028-01-01 12:00:00 UTC'") from None
    if not math.isfinite(t0):
        raise UsageError(f"--date {text!r} is not a finite epoch")
    return t0, text


def _validate(args) -> Plan:
    from sim.sail import OPTICS, Sail  # lazy: numba, not paid by `bliss --help`

    t0, date_label = _parse_date(args.date)
    duration = _positive(args.duration_days, "--duration-days", "flight time in days", MAX_DURATION_DAYS)
    mass_g = _positive(args.mass_g, "--mass-g", "spacecraft mass in grams")
    area = _positive(args.area_m2, "--area-m2", "sail area in square metres")
    optics_name = args.optics.strip().lower()
    if optics_name not in OPTICS:
        raise UsageError(f"--optics: unknown optical model {args.optics!r}; allowed: {', '.join(OPTICS)}")
    cone_deg = _number(args.cone_deg, "--cone-deg", "signed cone angle in degrees")
    if not -90.0 <= cone_deg <= 90.0:
        raise UsageError(f"--cone-deg must lie in [-90, 90] degrees, got {args.cone_deg!r}")
    clock_deg = _number(args.clock_deg, "--clock-deg", "clock angle in degrees")
    if not -360.0 <= clock_deg <= 360.0:
        raise UsageError(f"--clock-deg must lie in [-360, 360] degrees, got {args.clock_deg!r}")
    step = _positive(args.step_days, "--step-days", "output spacing in days")
    rtol = _number(args.rtol, "--rtol", "relative tolerance")
    if not 1e-14 <= rtol <= 1e-4:
        raise UsageError(f"--rtol must lie in [1e-14, 1e-4], got {args.rtol!r}")
    if step > duration:
        raise UsageError(f"--step-days ({step:g}) must not exceed --duration-days ({duration:g})")
    if duration / step > MAX_ROWS:
        raise UsageError(f"--step-days {step:g} gives more than {MAX_ROWS} output rows over "
                         f"{duration:g} days; use a larger step")
    third = _parse_third_bodies(args.third_bodies)
    r_min_au = _number(args.min_sun_distance_au, "--min-sun-distance-au", "closest distance to the Sun in AU")
    if r_min_au < MIN_SUN_DISTANCE_FLOOR_AU:
        raise UsageError(f"--min-sun-distance-au must be at least the Sun's radius, "
                         f"{MIN_SUN_DISTANCE_FLOOR_AU:.5f} AU, got {args.min_sun_distance_au!r}")
    ephem = _ephem.require_ephemeris(args.ephem)

    # signed cone: negative means the normal tilts toward -T, i.e. the same cone at clock + 180 deg
    clock_eff = clock_deg + (180.0 if cone_deg < 0 else 0.0)
    clock_eff = (clock_eff + 180.0) % 360.0 - 180.0
    if clock_eff == -180.0:
        clock_eff = 180.0
    sail = Sail(mass_g / 1000.0, area, OPTICS[optics_name])
    t1 = t0 + duration * DAY_S

    from sim.ephemeris import body_state  # lazy: astropy, not paid by `bliss --help`

    out = check_writable(args.out)
    try:  # epochs outside the ephemeris: fail now, before computing
        r0, v0 = body_state("earth", t0, ephem)
        body_state("earth", t1, ephem)
    except ValueError as exc:
        raise UsageError(f"--date/--duration-days: {_one_line(exc)}") from None
    y0 = np.concatenate([np.asarray(r0, float), np.asarray(v0, float)])
    r_dep_au = float(np.linalg.norm(y0[:3])) / AU
    if not r_min_au < r_dep_au:
        raise UsageError(f"--min-sun-distance-au ({r_min_au:g}) must be below the departure distance from the "
                         f"Sun, {r_dep_au:.6f} AU")
    n_steps = int(math.floor(duration / step + 1e-9))
    t_out = t0 + np.arange(n_steps + 1) * step * DAY_S
    if t1 - t_out[-1] > 1e-6:
        t_out = np.append(t_out, t1)
    t_out[-1] = t1
    return Plan(t0, t1, date_label, sail, math.radians(abs(cone_deg)), math.radians(clock_eff), cone_deg,
                clock_deg, third, t_out, rtol, out, y0, ephem, r_min_au * AU)


# ------------------------------------------------------------------------------------------------------
# Run
# ------------------------------------------------------------------------------------------------------
def run(args) -> int:
    # the plot's process, forked now: it imports matplotlib (0.5 s) side by side with the validation's and
    # the propagation's imports, then draws the figure while the other files are written (bliss.io.forked)
    plotter = Worker(_import_plotting)
    try:
        return _run(args, plotter)
    finally:
        plotter.close()  # no plot sent (bad input, a failed propagation): the child is stopped


def _run(args, plotter: Worker) -> int:
    wall0 = time.perf_counter()
    plan = _validate(args)

    # lazy: numba, not paid by `bliss --help`
    from sim.dop853 import STATUS_EVENT
    from sim.integrator import EventSpec, Schedule, propagate

    third_bodies = None
    if plan.third:
        third_bodies = _third_body_table(plan)
    from bliss.plots.orbits import default_reference_orbits  # lazy: numba and astropy, not paid by `bliss --help`

    try:
        orbits = default_reference_orbits(plan.t0)
    except ValueError as exc:
        raise UsageError(f"--date: reference orbits for the plot: {_one_line(exc)}") from None

    sched = Schedule.constant_rtn(plan.t0, plan.t1, plan.cone, plan.clock)
    # terminal event: inward crossing of the minimum Sun distance (located on the dense output)
    stop_event = EventSpec.sun_distance(plan.r_min, direction=-1, name="min_sun_distance", terminal=True)
    tp = time.perf_counter()
    try:
        traj = propagate(plan.y0, sched, plan.sail, t_out=plan.t_out, rtol=plan.rtol, third_bodies=third_bodies,
                         events=(stop_event,))
    except RuntimeError as exc:
        print(f"bliss: error: propagation failed: {_one_line(exc)}", file=sys.stderr, flush=True)
        return 1
    prop_wall = time.perf_counter() - tp
    stopped = traj.status == STATUS_EVENT  # the only terminal event is ours
    t_rows, y_rows = np.asarray(traj.t, float), np.asarray(traj.y, float)
    if stopped and traj.t_final - t_rows[-1] > 1e-6:  # the products end with the stop itself
        t_rows = np.append(t_rows, traj.t_final)
        y_rows = np.vstack([y_rows, traj.y_final])
    t_end = float(t_rows[-1])
    y_final = y_rows[-1].copy()
    flown_days = (t_end - plan.t0) / DAY_S

    from sim.kepler import rv2coe  # lazy: numba, not paid by `bliss --help`

    a, e, inc, raan, argp, nu = rv2coe(GM_SUN, y_final[:3].copy(), y_final[3:].copy())
    n = t_rows.shape[0]
    cone_col = np.full(n, plan.cone)
    clock_col = np.full(n, plan.clock)

    # lazy: astropy, not paid by `bliss --help`
    from bliss.io.csvout import write_trajectory_csv, tdb_seconds_to_iso
    from bliss.io.oem import write_oem
    from bliss.io.summary import sail_summary, write_summary

    sail = plan.sail
    epochs = tdb_seconds_to_iso([plan.t0, t_end])
    if stopped:
        stop = {"reason": "min_sun_distance", "text": f"stopped at the minimum Sun distance "
                f"{plan.r_min / AU:g} AU on {epochs[1]} TDB, day {flown_days:.4f} of {(plan.t1 - plan.t0) / DAY_S:g}"}
    else:
        stop = {"reason": "duration", "text": f"flew the full {(plan.t1 - plan.t0) / DAY_S:g} days"}
    stop.update({"min_sun_distance_AU": plan.r_min / AU, "epoch": epochs[1] + " TDB", "t_tdb_s": t_end,
                 "days_flown": flown_days, "days_requested": (plan.t1 - plan.t0) / DAY_S})
    summary = {
        "command": "propagate",
        "sail": sail_summary(sail),
        "attitude": {"mode": "rtn", "cone_deg_signed": plan.cone_signed_deg, "clock_deg": plan.clock_deg,
                     "cone_deg_flown": math.degrees(plan.cone), "clock_deg_flown": math.degrees(plan.clock)},
        "departure": {"epoch": epochs[0] + " TDB", "t_tdb_s": plan.t0, "state": plan.y0,
                      "from": f"Earth heliocentric state (sim.ephemeris, ephem={plan.ephem!r}), C3 = 0"},
        "ephemeris": _ephem.summary_block(plan.ephem),
        "stop": stop,
        "final": {"epoch": epochs[1] + " TDB", "t_tdb_s": t_end, "state": y_final,
                  "r_AU": float(np.linalg.norm(y_final[:3]) / AU),
                  "elements": {"a_AU": a / AU, "e": e, "i_deg": math.degrees(inc),
                               "raan_deg": math.degrees(raan), "argp_deg": math.degrees(argp),
                               "nu_deg": math.degrees(nu)}},
        "third_bodies": list(plan.third),
        "integrator": {"rtol": plan.rtol, "nfev": traj.nfev, "steps": traj.n_steps,
                       "rejected": traj.n_rejected, "wall_s": prop_wall},
        "frame": "heliocentric mean ecliptic and equinox of J2000 (OEM: ICRF axes)",
        "files": list(OUTPUT_FILES),
    }
    label = (f"cone {plan.cone_signed_deg:.4g} deg, clock {plan.clock_deg:g} deg, "
             f"{sail.mass * 1e3:g} g, {sail.area:g} m^2, {sail.optics.name}")
    with OutputSet(plan.out) as out:
        # the plot's temporary path is taken here, in the parent, which publishes the set
        plotter.submit(_plot, out.path("trajectory.png"), t_rows, y_rows, orbits,
                       f"BLISS sail, {flown_days:.6g} days: {label}")
        with plotter:  # waits for the plot before the set is published
            write_oem(out.path("trajectory.oem"), t_rows, y_rows,
                      comments=(f"Constant RTN attitude: {label}.",)
                      + ((f"Stopped at the minimum Sun distance {plan.r_min / AU:g} AU.",) if stopped else ()))
            write_trajectory_csv(out.path("trajectory.csv"), t_rows, y_rows, cone_col, clock_col)
            write_summary(out.path("summary.json"), summary)

    wall = time.perf_counter() - wall0
    print(f"bliss propagate: departure {epochs[0]} TDB from Earth (C3 = 0, ephemeris {plan.ephem}), "
          f"{(plan.t1 - plan.t0) / DAY_S:g} days, {label}"
          + (f", third bodies: {', '.join(plan.third)}" if plan.third else ""), flush=True)
    if stopped:
        print(f"  {stop['text']}", flush=True)
    print(f"  sail: a_c = {sail.characteristic_acceleration * 1e3:.4f} mm/s^2, "
          f"beta = {sail.lightness_number:.4f}", flush=True)
    print(f"  final ({epochs[1]} TDB): r = {np.linalg.norm(y_final[:3]) / AU:.6f} AU, "
          f"a = {a / AU:.6f} AU, e = {e:.6f}, i = {math.degrees(inc):.4f} deg, "
          f"raan = {math.degrees(raan):.4f} deg, argp = {math.degrees(argp):.4f} deg (ecliptic J2000)",
          flush=True)
    print(f"  wrote {', '.join(str(out.final_path(f)) for f in OUTPUT_FILES)}", flush=True)
    print(f"  wall time {wall:.2f} s (propagation {prop_wall * 1e3:.1f} ms, {traj.nfev} RHS evaluations)",
          flush=True)
    return 0


def _import_plotting() -> None:
    """In the plot's process (:class:`bliss.io.forked.Worker`): import matplotlib before the data arrive."""
    import bliss.plots.trajectory  # noqa: F401  # lazy: matplotlib, imported by the plot's process only


def _plot(path, t_rows, y_rows, orbits, title) -> None:
    from bliss.plots.trajectory import plot_trajectory  # lazy: matplotlib, imported by the plot's process only

    plot_trajectory(path, t_rows, y_rows, orbits=orbits, title=title)


def _third_body_table(plan: Plan):
    """Planet positions sampled over the run (bliss.cli.third_bodies) for the integrator."""
    return third_body_table(plan.third, plan.t0, plan.t1, ephem=plan.ephem)
