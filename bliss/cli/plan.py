"""``bliss plan``: plan a minimum-time solar-sail rendezvous and write the mission products.

Pipeline: departure state (Earth + v_inf) -> feedback-law transfer (``bliss.guidance.feedback``,
warm start) -> minimum-time optimiser (``bliss.guidance.optimise``) -> replay of the final schedule
with ``sim.integrator.propagate`` from the departure state -> ``AttitudeSchedule`` -> writers. With
``--window`` the departure date is first chosen by a window scan (``bliss.guidance.window``). With
``--third-bodies`` the optimiser's final polish and the replay add the planets' pull (the feedback law
and the optimiser's multiple shooting stay Sun + sail), so the written schedule closes with them.
``--ephem`` picks the planetary ephemeris of Earth's departure state and of the ``--third-bodies`` table:
builtin (default) or JPL DE421 (``de421`` extra); ``summary.json`` records it under ``ephemeris``.

Products, written all-or-nothing into ``--out`` (``bliss.io.atomic.OutputSet``): ``trajectory.oem``
(CCSDS OEM), ``attitude.aem`` (CCSDS AEM 2.0 XML), ``schedule.csv``, ``summary.json`` and the plots
``trajectory.png``, ``attitude.png``, ``elements.png``, ``approach.png`` (+ ``window.png`` with
``--window``).

Exit codes: 0 rendezvous closed; 1 the planner could not close it (files still written, the summary
says ``converged: false`` and gives the best miss); 2 bad input (one line on stderr, no files).
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from bliss.cli import UsageError
from bliss.cli import ephem as _ephem
from bliss.cli.propagate import OPTICS_CHOICES
from bliss.cli.third_bodies import HELP as THIRD_BODY_HELP
from bliss.cli.third_bodies import THIRD_BODY_STEP_S, one_line, parse_third_bodies, third_body_table
from bliss.guidance.pipeline import TOL_POS_M, TOL_VEL_M_S, PlanFailed, PlanRequest, departure_v_inf, plan
from bliss.io.atomic import check_writable
from bliss.io.forked import Worker
from bliss.plots import plan_job
from sim.constants import AU, DAY, GM_SUN

#: Default departure date (TDB): the shortest minimum-time transfer of the default mission (10 g, 1 m^2,
#: ideal, Bennu, max cone 70 deg) found by the departure-window scans (bliss.guidance.window): a 45-day
#: scan 2027-01-01..2031-10-22 (16 segments) put the best dates in autumn 2030 (395-690 d for 2027-2029),
#: and a weekly scan 2030-08..2031-01 put the minimum at 2030-11-21: 214.3-214.4 days with 20, 40 and 60
#: segments. See docs/guidance.md.
DEFAULT_DATE = "2030-11-21T00:00:00 TDB"
DEFAULT_OUT = "bliss_out/plan"
#: Largest --segments: the optimiser's matrices grow as N^2 (about 32 bytes x N^2: 298 GiB were asked for
#: at N = 100,000, issue 9) and its SLSQP steps as N^3; 500 segments are under a day each for transfers
#: up to 500 days, far finer than the 20-60 the planner needs (docs/guidance.md).
MAX_SEGMENTS = 500
#: Largest lightness number (sail acceleration facing the Sun / solar gravity) --mass-g and --area-m2 may
#: give: at 1 the sail's push cancels the Sun's pull (McInnes 1999, sec. 2.3.3), and the planner's
#: transfers are bound orbits. The BLISS sail has 0.153.
MAX_LIGHTNESS = 1.0


HELP_EPILOG = """\
exit codes:
  0  rendezvous found: the replayed schedule arrives within 1,000 km and 1 m/s of the target
  1  the optimiser could not close the rendezvous: all files are still written, summary.json says
     "converged": false and gives the best miss found (position and velocity error); only if no
     transfer exists at all (optimiser failed, feedback skipped) nothing is written
  2  bad input (unknown target, departure outside the ephemeris range, impossible limit, malformed
     elements or dates, unknown --third-bodies or Earth/Moon among them, --ephem de421 without the
     de421 package installed, unwritable --out): one error line on stderr and no files written

examples:
  bliss plan                                  # default mission: 10 g, 1 m^2 ideal sail to Bennu
  bliss plan --date 2029-01-01 --out out/p1
  bliss plan --window 2028-01-01 2030-01-01 30
  bliss plan --third-bodies venus,mars,jupiter,saturn   # close the rendezvous with the planets' pull
  bliss plan --ephem de421                    # Earth from JPL DE421 (pip install -e '.[de421]')
  bliss plan --elements "1.1264 0.2037 6.035 2.061 66.22 101.70 2011-01-01" --max-cone-deg 60
"""


# ---------------------------------------------------------------------------------------------- parser
def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "plan",
        help="plan a minimum-time solar-sail rendezvous and write OEM/AEM/CSV/JSON products and plots",
        description=("Plan a minimum-time rendezvous of a solar sail with a small body: feedback-law warm\n"
                     "start, minimum-time optimisation, replay, then write trajectory.oem, attitude.aem,\n"
                     "schedule.csv, summary.json and plots into --out (all files or none)."),
        epilog=HELP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tgt = p.add_mutually_exclusive_group()
    tgt.add_argument("--target", default=None, metavar="NAME",
                     help=f"named target: {', '.join(TARGET_NAMES)} (default bennu); any other body "
                          "with --elements or --mpcorb")
    tgt.add_argument("--elements", metavar='"a_AU e i_deg raan_deg argp_deg M_deg epoch"',
                     help="target orbit: heliocentric ecliptic J2000 osculating elements; epoch as an "
                          "ISO date (TDB) or a Julian date")
    tgt.add_argument("--mpcorb", metavar="LINE_OR_FILE",
                     help="target from a Minor Planet Center MPCORB line, or a file holding one")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--date", help=f"departure date, ISO 8601, TDB unless a scale follows (e.g. "
                                     f"'2028-07-01 12:00 UTC'), or 'JD2461000.5'; default {DEFAULT_DATE}")
    when.add_argument("--window", nargs=3, metavar=("START", "END", "STEP_DAYS"),
                      help="scan departure dates from START to END every STEP_DAYS days, plan the "
                           "shortest transfer found, and plot the window")
    p.add_argument("--mass-g", type=float, default=10.0, metavar="GRAMS", help="spacecraft mass [g] (default 10, BLISS)")
    p.add_argument("--area-m2", type=float, default=1.0, metavar="M2", help="sail area [m^2] (default 1, BLISS)")
    p.add_argument("--optics", default="ideal", metavar="NAME", help=f"sail optics: {', '.join(OPTICS_CHOICES)} "
                                                     "(default ideal)")
    p.add_argument("--max-cone-deg", type=float, default=None, metavar="DEG",
                   help="largest cone angle a segment may use, in (0, 90] deg (default 70)")
    p.add_argument("--max-slew-deg-per-day", type=float, default=None, metavar="DEG",
                   help="largest change of sail normal between segments per day of segment (default 10)")
    p.add_argument("--segments", type=int, default=None, metavar="N",
                   help="number of constant-attitude segments of the optimised schedule (default: the "
                        "optimiser's)")
    p.add_argument("--v-inf-km-s", nargs="+", type=float, default=None, metavar="V",
                   help="departure excess velocity [km/s]: one number (along Earth's heliocentric "
                        "velocity) or three (ecliptic J2000 x y z); default 0")
    p.add_argument("--tof-guess-days", type=float, default=None, metavar="DAYS",
                   help="skip the feedback-law warm start: start the optimiser from its own crude guess "
                        "with this time of flight [days] (faster when you know the transfer's length)")
    p.add_argument("--third-bodies", default="", metavar="LIST",
                   help=THIRD_BODY_HELP + "; used by the optimiser's final polish and the replay")
    _ephem.add_argument(p)
    p.add_argument("--out", default=DEFAULT_OUT, metavar="FOLDER", help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--no-progress", action="store_true", help="do not show progress bars")
    p.set_defaults(func=run)

    def one_line_error(message):  # argparse's own errors (bad number, unknown option): one line, exit 2
        print(f"bliss: error: plan: {message} (see bliss plan --help)", file=sys.stderr, flush=True)
        sys.exit(2)

    p.error = one_line_error
    return p


# ------------------------------------------------------------------------------------ input checking
def _finite(x, what) -> float:
    if x is None or not math.isfinite(x):
        raise UsageError(f"{what} must be a finite number, got {x!r}")
    return float(x)


def parse_date(text: str, what: str = "--date") -> float:
    """TDB seconds past J2000 for a user date string (TDB unless a time scale follows, as in
    ``bliss propagate``); UsageError if it cannot be parsed."""
    from astropy.time import Time

    from sim.timeconv import epoch_to_tdb_seconds  # lazy: astropy, not paid by `bliss --help`

    if not text.strip():
        raise UsageError(f"{what} is empty: give a date such as '2028-07-01' (TDB) or leave the option out")
    parts = text.strip().rsplit(None, 1)
    if not (len(parts) == 2 and parts[1].lower() in Time.SCALES):
        text = f"{text.strip()} TDB"  # a bare date means TDB

    import warnings

    try:
        with warnings.catch_warnings():  # ERFA's "dubious year" warnings for far dates: the range check speaks
            warnings.simplefilter("ignore")
            return float(epoch_to_tdb_seconds(text))
    except ValueError:
        raise UsageError(f"{what}: cannot parse date {text!r}: use ISO 8601 like '2028-07-01' or "
                         f"'2028-07-01T00:00:00' (TDB), optionally followed by a time scale "
                         f"('2028-07-01 12:00 UTC'), or 'JD2461041.5'") from None


#: Most departure dates a --window may scan.
MAX_WINDOW_DATES = 400


def parse_window(window, max_dates: int) -> np.ndarray:
    """Departure dates (TDB s past J2000) from ``(START, END, STEP_DAYS)`` strings; UsageError if bad."""
    start, end, step = window
    t0, t1 = parse_date(start, "--window START"), parse_date(end, "--window END")
    try:
        step_d = float(step)
    except ValueError:
        raise UsageError(f"--window STEP_DAYS must be a number of days, got {step!r}") from None
    if not (math.isfinite(step_d) and step_d > 0):
        raise UsageError(f"--window STEP_DAYS must be positive, got {step!r}")
    if t1 < t0:
        raise UsageError("--window END must not be before START")
    # every STEP_DAYS from START, none after END
    n = int(math.floor((t1 - t0) / (step_d * DAY) + 1e-9)) + 1
    dates = t0 + np.arange(n) * step_d * DAY
    if dates.size > max_dates:
        raise UsageError(f"--window would scan {dates.size} dates; use a larger STEP_DAYS (<= {max_dates} dates)")
    return dates


def parse_elements(text: str):
    """Target from '--elements "a_AU e i_deg raan_deg argp_deg M_deg epoch"'."""
    from bliss.guidance.problem import Target  # lazy: astropy and numba, not paid by `bliss --help`

    parts = text.replace(",", " ").split()
    if len(parts) != 7:
        raise UsageError(f'--elements needs 7 values "a_AU e i_deg raan_deg argp_deg M_deg epoch", '
                         f"got {len(parts)}: {text!r}")
    try:
        a_au, e, i, raan, argp, m = (float(v) for v in parts[:6])
    except ValueError:
        raise UsageError(f"--elements: the first six values must be numbers, got {' '.join(parts[:6])!r}") from None
    if not all(math.isfinite(v) for v in (a_au, e, i, raan, argp, m)):
        raise UsageError("--elements: values must be finite numbers")
    if not a_au > 0:
        raise UsageError(f"--elements: semi-major axis must be positive AU, got {a_au}")
    if not 0 <= e < 1:
        raise UsageError(f"--elements: eccentricity must be in [0, 1) (an ellipse), got {e}")
    if not 0 <= i <= 180:
        raise UsageError(f"--elements: inclination must be in [0, 180] deg, got {i}")
    ep = parts[6]
    try:
        jd = float(ep)
        epoch_s = (jd - 2451545.0) * DAY  # Julian date, TDB
    except ValueError:
        epoch_s = parse_date(ep, "--elements epoch")
    el = np.array([a_au * AU, e, math.radians(i), math.radians(raan), math.radians(argp),
                   math.radians(m), epoch_s])
    return Target(name="elements target", elements=el)


def parse_mpcorb(arg: str):
    """Target from an MPCORB line or a file holding one (first data line)."""
    # lazy: astropy and numba, not paid by `bliss --help`
    import sim.ephemeris as eph
    from bliss.guidance.problem import Target

    if not arg.strip():
        raise UsageError("--mpcorb is empty: give an MPCORB line (in quotes) or a file holding one")
    path = Path(arg)
    line = arg
    if len(arg.split()) == 1:  # one word: a file name (an MPCORB line has a dozen fields)
        if not path.exists():
            raise UsageError(f"--mpcorb: no such file {arg!r}; give an existing file or an MPCORB line in quotes")
        if not path.is_file():
            raise UsageError(f"--mpcorb: {arg!r} is not a regular file; give a file holding an MPCORB line")
    if len(arg) < 4096 and path.is_file():
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise UsageError(f"--mpcorb: cannot read {arg!r} ({exc.strerror})") from None
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if any(ln.startswith("-----") for ln in lines):  # MPCORB.DAT header ends with a dashed line
            lines = lines[next(k for k, ln in enumerate(lines) if ln.startswith("-----")) + 1:]
        if not lines:
            raise UsageError(f"--mpcorb: {arg!r} holds no MPCORB line")
        line = lines[0]
    try:
        body = eph.SmallBody.from_mpcorb_line(line)
    except (ValueError, IndexError) as exc:
        raise UsageError(f"--mpcorb: cannot parse the MPCORB line ({exc})") from None
    return Target(name=getattr(body, "name", "MPCORB target"), body=body)


#: ``--target`` names: key -> (display name, ``sim.ephemeris.SmallBody`` factory). Bennu is
#: ``sim.ephemeris.BENNU`` (JPL SBDB solution 97, epoch JD 2455562.5 TDB). Apophis: MPC solution MPO469004,
#: osculating heliocentric ecliptic J2000 elements at JD 2458666.5 TT (2019-07-02; TT and TDB differ by
#: < 2 ms), from MPC NEA.txt as tabulated in ../shared/data/smallbodies/bennu_apophis_reference.csv
#: (provenance in SOURCES.md there). Any other body: --elements or --mpcorb (e.g. a line of MPC NEA.txt).
TARGET_NAMES = ("bennu", "apophis")
_TARGET_ALIASES = {"101955": "bennu", "101955bennu": "bennu", "99942": "apophis", "99942apophis": "apophis"}


def _named_body(key: str):
    import astropy.units as u
    from astropy.time import Time

    from sim.ephemeris import BENNU, SmallBody  # lazy: astropy, not paid by `bliss --help`

    if key == "bennu":
        return "Bennu", BENNU
    return "Apophis", SmallBody.from_elements(
        "99942 Apophis", a=0.9225169 * u.AU, e=0.1914724, i=3.33690 * u.deg, raan=204.05444 * u.deg,
        argp=126.67983 * u.deg, M=236.64021 * u.deg, epoch=Time(2458666.5, format="jd", scale="tdb"))


def named_target(name: str):
    from bliss.guidance.problem import Target  # lazy: astropy and numba, not paid by `bliss --help`

    key = name.strip().lower().replace(" ", "").replace("(", "").replace(")", "")
    key = _TARGET_ALIASES.get(key, key)
    if key not in TARGET_NAMES:
        what = "--target is empty" if not key else f"unknown target {name!r}"
        raise UsageError(f"{what}: named targets are {', '.join(TARGET_NAMES)}; any other body via --elements "
                         f"\"a e i raan argp M epoch\" or --mpcorb (an MPCORB line or a file holding one)")
    display, body = _named_body(key)
    return Target(name=display, body=body)


def build_inputs(args) -> PlanRequest:
    """Validate every option into a :class:`PlanRequest` (sail, target, limits, dates, v_inf, ...). UsageError
    on bad input."""
    # lazy: astropy and numba, not paid by `bliss --help`
    from bliss.guidance.problem import Limits, departure_state
    from sim.sail import OPTICS, Sail

    mass_g = _finite(args.mass_g, "--mass-g")
    area = _finite(args.area_m2, "--area-m2")
    if mass_g <= 0:
        raise UsageError(f"--mass-g must be positive grams, got {mass_g:g}")
    if area <= 0:
        raise UsageError(f"--area-m2 must be positive square metres, got {area:g}")
    optics = OPTICS.get(str(args.optics).strip().lower())
    if optics is None:
        raise UsageError(f"unknown --optics {args.optics!r}: choose one of {', '.join(OPTICS)}")
    sail = Sail(mass=mass_g / 1000.0, area=area, optics=optics)
    if sail.lightness_number >= MAX_LIGHTNESS:
        raise UsageError(f"--mass-g {mass_g:g} with --area-m2 {area:g}: lightness number {sail.lightness_number:.3g} "
                         f"(characteristic acceleration {sail.characteristic_acceleration * 1e3:.3g} mm/s^2) is not "
                         f"below {MAX_LIGHTNESS:g}: facing the Sun the sail would out-push its gravity, outside what the "
                         f"planner handles; use a mass of at least "
                         f"{mass_g * sail.lightness_number / MAX_LIGHTNESS * 1.001:.3g} g")

    lim_kw = {}
    if args.max_cone_deg is not None:
        c = _finite(args.max_cone_deg, "--max-cone-deg")
        if not 0 < c <= 90:
            raise UsageError(f"--max-cone-deg must be in (0, 90] deg (0 gives no thrust direction "
                             f"control, beyond 90 the sail gives no thrust), got {c:g}")
        lim_kw["max_cone_deg"] = c
    if args.max_slew_deg_per_day is not None:
        s = _finite(args.max_slew_deg_per_day, "--max-slew-deg-per-day")
        if not s > 0:
            raise UsageError(f"--max-slew-deg-per-day must be positive, got {s:g}")
        lim_kw["max_slew_deg_per_day"] = s
    limits = Limits(**lim_kw)

    tof_guess = None
    if args.tof_guess_days is not None:
        tof_guess = _finite(args.tof_guess_days, "--tof-guess-days")
        if tof_guess <= 0:
            raise UsageError(f"--tof-guess-days must be a positive number of days, got {tof_guess:g}")
        tof_guess *= DAY
    if args.segments is not None and not 1 <= args.segments <= MAX_SEGMENTS:
        raise UsageError(f"--segments must be a whole number from 1 to {MAX_SEGMENTS}, got {args.segments}")
    third_names = parse_third_bodies(args.third_bodies)
    ephem = _ephem.require_ephemeris(getattr(args, "ephem", _ephem.DEFAULT_EPHEM))

    v_inf = None
    if args.v_inf_km_s is not None:
        vals = [_finite(v, "--v-inf-km-s") for v in args.v_inf_km_s]
        if len(vals) not in (1, 3):
            raise UsageError(f"--v-inf-km-s takes one number (along Earth's velocity) or three "
                             f"(x y z), got {len(vals)}")
        if len(vals) == 1 and vals[0] < 0:
            raise UsageError("--v-inf-km-s magnitude must not be negative")
        v_inf = vals

    if args.elements is not None:
        target = parse_elements(args.elements)
    elif args.mpcorb is not None:
        target = parse_mpcorb(args.mpcorb)
    else:
        target = named_target("bennu" if args.target is None else args.target)

    window = None
    if args.window is not None:
        window = parse_window(args.window, MAX_WINDOW_DATES)
        dates = window
    else:
        dates = np.array([parse_date(DEFAULT_DATE if args.date is None else args.date)])

    # Departure outside the ephemeris range (Earth or target) is bad input: check every date now; and a
    # departure faster than the Sun's escape speed leaves on a hyperbola no sail transfer can plan from.
    for t in (dates[0], dates[-1]):
        v_vec = departure_v_inf(t, v_inf)
        y0 = departure_state(float(t), v_vec, ephem=ephem)
        target.state(float(t))
        r, v = float(np.linalg.norm(y0[:3])), float(np.linalg.norm(y0[3:]))
        v_esc = math.sqrt(2.0 * GM_SUN / r)
        if v >= v_esc:
            raise UsageError(f"--v-inf-km-s {' '.join(f'{x:g}' for x in v_inf)}: the departure's heliocentric "
                             f"speed {v / 1e3:.4g} km/s is not below the Sun's escape speed {v_esc / 1e3:.4g} km/s at "
                             f"{r / AU:.3f} AU, so the sail would leave the solar system; use a smaller excess speed")
    third_bodies = None
    if third_names:
        third_bodies = _planet_table(third_names, float(dates[0]), float(dates[-1]), ephem)
    return PlanRequest(sail=sail, limits=limits, target=target, dates=dates, window=window,
                       v_inf=None if v_inf is None else tuple(v_inf), tof_guess=tof_guess,
                       third_bodies=third_bodies, ephem=ephem, ephemeris_summary=_ephem.summary_block(ephem))


def _planet_table(names, t_first: float, t_last: float, ephem: str = "builtin"):
    """The --third-bodies table, from the first departure date to the last one plus the optimiser's
    longest time of flight (bliss.guidance.optimise.TOF_MAX, ~9.5 years; sampling 4 planets over 5 years
    took 0.015 s here), cut at the end of the ephemeris' valid range (a transfer that would need more
    is refused with a ValueError when it is flown)."""
    # lazy: scipy (optimiser) and astropy (ephemeris), not paid by `bliss --help`
    from bliss.guidance.optimise import TOF_MAX
    from sim.ephemeris import VALID_RANGES

    t_end = min(t_last + TOF_MAX, VALID_RANGES[ephem][1] - THIRD_BODY_STEP_S)
    return third_body_table(names, t_first, max(t_end, t_last + THIRD_BODY_STEP_S), ephem=ephem)


def _check_arrival_in_range(res, ephem: str) -> None:
    """UsageError when the planned arrival lies beyond the ephemeris' valid range: the departure date was
    too late for the model the plan stands on (only known once the time of flight is)."""
    # lazy: astropy, not paid by `bliss --help`
    from sim.ephemeris import VALID_RANGES
    from sim.timeconv import tdb_seconds_to_epoch

    t_arr = float(res.t[-1])
    hi, text = VALID_RANGES[ephem][1:]
    if t_arr > hi:
        raise UsageError(f"the transfer arrives {tdb_seconds_to_epoch(t_arr).iso[:10]} TDB, after the end of the "
                         f"{ephem!r} ephemeris' valid range {text} TDB; choose an earlier --date (no files written)")


#: What the first run spends compiling the planner's numba kernels [s]: the default plan took 19.0 s cold and
#: 4.7 s warm on this 2-core machine at load ~1 (benchmarks/results/planning.txt, 2026-12-02 05:20 UTC).
FIRST_RUN_COMPILE_S = 15
#: Index files of the planner's kernels in numba's cache (one folder per source folder, ``<folder>_<hash>``,
#: files ``<module>.<function>-<line>.py311.nbi``): the rendezvous law's and the optimiser's.
PLANNER_KERNEL_INDEXES = ("*/rendezvous.*.nbi", "optimise_*/kernels.*.nbi")


def kernels_cached() -> bool:
    """Whether numba's on-disk cache already holds the planner's kernels (the rendezvous law's and the
    optimiser's index files); if not, this run compiles them first."""
    from numba.core import config

    folder = Path(config.CACHE_DIR) if config.CACHE_DIR else Path(__file__).resolve().parents[1]  # bliss/
    return all(any(folder.rglob(pattern)) for pattern in PLANNER_KERNEL_INDEXES)


def run(args) -> int:
    # the plots' process, forked now: it imports matplotlib and draws a throw-away figure (1.2 s on this
    # machine) side by side with the planning, then draws the plan's figures while the other files are
    # written (bliss.io.forked); stopped unused on bad input or a failed plan
    plotter = Worker(plan_job.prepare)
    try:
        return _run(args, plotter)
    finally:
        plotter.close()


def _run(args, plotter) -> int:
    # lazy: the writers import astropy and the guidance, not paid by `bliss --help`
    from bliss.io.plan_products import write_products

    inputs = build_inputs(args)
    check_writable(args.out)
    if not kernels_cached():
        print(f"bliss plan: compiling numerical kernels, first run only, ~{FIRST_RUN_COMPILE_S} s (later runs "
              f"load them from the cache; `bliss warm` compiles them ahead)", file=sys.stderr, flush=True)
    try:
        res = plan(inputs, n_segments=args.segments, show_progress=not args.no_progress,
                   log=lambda m: print(m, file=sys.stderr, flush=True), fork_extra_starts=True)
    except PlanFailed as exc:
        print(f"bliss plan: no transfer found, no files written: {exc}", file=sys.stderr, flush=True)
        return 1
    except (RuntimeError, ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
        # the inputs were checked above, so this is a solver failure, not bad input: one line, exit 1
        print(f"bliss: error: plan: the planner failed ({one_line(exc)}); no files written", file=sys.stderr,
              flush=True)
        return 1
    _check_arrival_in_range(res, inputs.ephem)
    try:
        summary = write_products(args.out, res, inputs, plotter=plotter)
    except RuntimeError as exc:  # the plot process failed (bliss.io.forked): the set was discarded
        print(f"bliss: error: plan: {one_line(exc)}; no files written", file=sys.stderr, flush=True)
        return 1
    f = summary["feedback"]
    if f is None:
        fb = "skipped"
    elif f["converged"]:
        fb = f"{f['tof_days']:.1f} days"
    else:
        fb = f"did not close in {f['tof_days']:.0f} days, miss {f['position_error_m'] / AU:.3g} AU"
    print(f"bliss plan: {summary['target']['name']}: departure {summary['departure']['epoch']} TDB, "
          f"arrival {summary['arrival']['epoch']} TDB, {summary['tof_days']:.1f} days "
          f"(feedback {fb}); miss {res.miss_pos / 1e3:.3g} km, "
          f"{res.miss_vel:.3g} m/s; method {summary['method']}"
          + (f"; third bodies: {', '.join(summary['third_bodies'])}" if summary["third_bodies"] else "")
          + f"; ephemeris {summary['ephemeris']['name']}"
          + f"; files in {args.out}", flush=True)
    if res.converged and not res.best.converged:
        print("bliss plan: note: the rendezvous is closed but the optimiser did not certify the time of "
              "flight as minimal (see optimiser_history in summary.json)", file=sys.stderr, flush=True)
    if not res.converged:
        print(f"bliss plan: rendezvous NOT closed (tolerance {TOL_POS_M / 1e3:.0f} km, {TOL_VEL_M_S:g} m/s): "
              f"best miss {res.miss_pos / 1e3:.6g} km, {res.miss_vel:.6g} m/s; summary.json has "
              f"converged=false", file=sys.stderr, flush=True)
        return 1
    return 0
