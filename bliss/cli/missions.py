"""``bliss missions jfc|interstellar``: the paper's other missions for a BLISS sail.

``jfc``: Jupiter-family comet sample return (Earth -> comet near perihelion, stay >= 30 days -> Earth):
screen all comets of the packaged MPC table, plan the best with the ``bliss plan`` planner as Dask tasks
(the chain of ``bliss.missions.jfc``, as ``benchmarks/jfc_sample_return.py`` flies it).
``interstellar``: the earliest flyby of 1I, 2I and 3I from Earth's orbit after their discovery (or
``--lead-days`` before perihelion), replayed, and the numbers that rule out a rendezvous.
Products (all or none) in ``--out``: a CSV table, plots and summary.json. Exit 2 on bad input
(one line on stderr, no files).
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import sys

from bliss.cli import UsageError
from bliss.cli.plan import parse_date
from bliss.io.atomic import check_writable
from sim.constants import DAY

DEFAULT_OUT = "bliss_out/missions"


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("missions", help="comet sample return and interstellar-object flybys (docs/missions.md)",
                              description=__doc__.split("\n\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mission", metavar="MISSION")
    j = sub.add_parser("jfc", help="Jupiter-family comet sample return: screen all, plan the best")
    j.add_argument("--catalogue", default=None, metavar="CSV",
                   help="comet table in the layout of bliss/missions/data/jfc.csv (default: the packaged MPC table)")
    j.add_argument("--optimise", type=int, default=6, metavar="N",
                   help="plan the N best screened comets with the optimiser (default 6; 0: screen only)")
    j.add_argument("--comets", default=None, metavar="LIST",
                   help="plan these comets instead, comma-separated (e.g. '79P,218P')")
    j.add_argument("--window", nargs=2, default=["2028-01-01", "2040-12-31"], metavar=("START", "END"),
                   help="leg-1 departure window (TDB; default 2028-01-01 2040-12-31)")
    stay = j.add_mutually_exclusive_group()
    stay.add_argument("--stay-days", type=float, default=None, metavar="DAYS",
                      help="stay at the comet (>= 30, default 30)")
    stay.add_argument("--stay-until-perihelion-days", type=float, default=None, metavar="N",
                      help="stay (co-orbit) until N days before the comet's next perihelion instead (>= 0; the "
                           "chain that closed: 60, docs/missions.md)")
    j.add_argument("--lead-days", type=float, default=None, metavar="DAYS",
                   help="leg 1 departs this many days before the perihelion passage (default: the phased date, "
                        "bliss.missions.jfc.phased_departure)")
    j.add_argument("--return-min-days", type=float, default=None, metavar="DAYS",
                   help="first Earth-arrival date of the return scan, days after leaving the comet (default 120)")
    j.add_argument("--return-max-days", type=float, default=None, metavar="DAYS",
                   help="last Earth-arrival date of the return scan (default 1200)")
    j.add_argument("--no-feedback", action="store_true",
                   help="start the optimiser from its crude guesses only, without the feedback laws' warm start "
                        "(minutes of CPU less per leg)")
    j.add_argument("--scheduler", default=None, metavar="ADDR", help="Dask scheduler address (default: local cluster)")
    j.add_argument("--workers", type=int, default=None, metavar="N", help="local-cluster workers (default: cores)")
    i = sub.add_parser("interstellar", help="earliest flyby of 1I, 2I, 3I from Earth's orbit; rendezvous numbers")
    i.add_argument("--catalogue", default=None, metavar="CSV",
                   help="table in the layout of bliss/missions/data/interstellar.csv (default: the packaged one)")
    i.add_argument("--lead-days", type=float, default=None, metavar="DAYS",
                   help="depart this many days before perihelion instead of at the real discovery date")
    i.add_argument("--response-days", type=float, default=0.0, metavar="DAYS",
                   help="days from discovery to departure (default 0)")
    i.add_argument("--max-days", type=float, default=720.0, metavar="DAYS",
                   help="longest transfer scanned (default 720)")
    for q in (j, i):
        q.add_argument("--mass-g", type=float, default=10.0, metavar="GRAMS", help="spacecraft mass [g] (default 10)")
        q.add_argument("--area-m2", type=float, default=1.0, metavar="M2", help="sail area [m^2] (default 1)")
        q.add_argument("--out", default=DEFAULT_OUT, metavar="FOLDER", help=f"output folder (default {DEFAULT_OUT})")
        q.set_defaults(func=run)

    def one_line_error(message):
        print(f"bliss: error: missions: {message} (see bliss missions --help)", file=sys.stderr, flush=True)
        sys.exit(2)

    for q in (p, j, i):
        q.error = one_line_error
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    return p


def _sail(args):
    # lazy: numba, not paid by `bliss --help`
    from sim.sail import Sail

    for what, x in (("--mass-g", args.mass_g), ("--area-m2", args.area_m2)):
        if not (math.isfinite(x) and x > 0):
            raise UsageError(f"{what} must be a positive number, got {x!r}")
    return Sail(mass=args.mass_g / 1000.0, area=args.area_m2)


def run(args) -> int:
    sail = _sail(args)
    check_writable(args.out)
    return run_jfc(args, sail) if args.mission == "jfc" else run_interstellar(args, sail)


#: ``bliss.missions.jfc.ChainOptions`` field -> the flag that sets it (for the one-line errors).
CHAIN_FLAGS = {"lead_days": "--lead-days", "stay_days": "--stay-days",
               "stay_until_perihelion_days": "--stay-until-perihelion-days",
               "return_min_days": "--return-min-days", "return_max_days": "--return-max-days"}


def chain_options(args):
    """The chain's ``bliss.missions.jfc.ChainOptions`` from the parsed flags (defaults where not given);
    ``UsageError`` naming the flag on a bad value."""
    # lazy: numba and astropy, not paid by `bliss --help`
    from bliss.missions import jfc

    given = {f: getattr(args, f) for f in CHAIN_FLAGS if getattr(args, f) is not None}
    try:
        return jfc.ChainOptions(feedback=not args.no_feedback, **given).check(CHAIN_FLAGS)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def run_jfc(args, sail) -> int:
    # lazy: numba, astropy, scipy and matplotlib, not paid by `bliss --help`
    from bliss.missions import jfc
    from bliss.missions.catalogue import load_comets
    from bliss.missions.products import write_jfc

    options = chain_options(args)
    if args.optimise < 0:
        raise UsageError(f"--optimise must be 0 or more comets, got {args.optimise}")
    if args.workers is not None and (args.workers < 1 or args.scheduler is not None):
        raise UsageError("--workers must be at least 1 and applies to the local cluster only (not with --scheduler)")
    t0, t1 = parse_date(args.window[0], "--window START"), parse_date(args.window[1], "--window END")
    if t1 <= t0:
        raise UsageError("--window END must be after START")
    bodies = load_comets(args.catalogue)
    names = [n.strip() for n in args.comets.split(",") if n.strip()] if args.comets else None
    for n in names or ():
        try:
            bodies.index(n)
        except KeyError:
            raise UsageError(f"comet {n!r} is not in the table; give part of its designation, e.g. '79P'") from None
    n_plan = len(names) if names else args.optimise
    if n_plan:
        print(f"bliss missions jfc: planning {n_plan} comet(s) as Dask tasks, minutes to an hour each "
              "(289P: ~7 min at load 6); one line per comet as it finishes", file=sys.stderr, flush=True)

    def on_result(r, done, total):
        sec = sum(r[k]["seconds"] for k in ("leg1", "leg2") if r.get(k) and "seconds" in r[k])
        print(f"  [{done}/{total}] {r['name']}: {r['status']} ({sec:.0f} s)", file=sys.stderr, flush=True)

    res = jfc.run_jfc(bodies, sail, (t0, t1), n_optimise=args.optimise, names=names, options=options,
                      scheduler=args.scheduler, n_workers=args.workers, on_result=on_result)
    meta = {"n_comets": len(bodies), "window": list(args.window), "chain_options": dataclasses.asdict(options),
            "sail_mass_kg": sail.mass, "sail_area_m2": sail.area,
            "characteristic_acceleration_m_s2": sail.characteristic_acceleration,
            "earth_arrival_v_inf_limit_m_s": jfc.V_INF_ENTRY_MAX, "max_mission_days": jfc.MAX_MISSION_DAYS,
            "near_perihelion_days": jfc.NEAR_PERIHELION_DAYS, "feedback_warm_start": not args.no_feedback,
            "replay_tolerance": "1,000 km and 1 m/s", "timings_s": res["timings"]}
    files = write_jfc(args.out, bodies, sail, res, meta)
    print(f"bliss missions jfc: {len(bodies)} comets screened in {res['timings']['screen_s']:.1f} s, "
          f"{len(res['results'])} planned in {res['timings']['optimise_s']:.0f} s; wrote {', '.join(files)} to {args.out}")
    for k, r in sorted(res["results"].items(), key=lambda kr: kr[1].get("total_days", math.inf)):
        legs = "" if r["leg1"] is None or "tof_days" not in r["leg1"] else f"leg 1 {r['leg1']['tof_days']:.0f} d"
        legs += f", stay {r['stay_days']:.0f} d, leg 2 {r['leg2']['tof_days']:.0f} d" if r["leg2"] else ""
        print(f"  {r['name']:<28} {r['status']:<40} {legs}"
              + (f", total {r['total_days']:.0f} d" if r.get("total_days") else ""))
    return 0


def run_interstellar(args, sail) -> int:
    # lazy: numba, astropy, scipy and matplotlib, not paid by `bliss --help`
    from bliss.missions import interstellar as iso
    from bliss.missions.catalogue import load_interstellar
    from bliss.missions.products import write_interstellar

    for what, x, lo in (("--response-days", args.response_days, 0.0), ("--max-days", args.max_days, 1.0)):
        if not (math.isfinite(x) and x >= lo):
            raise UsageError(f"{what} must be a number >= {lo:g}, got {x!r}")
    if args.lead_days is not None and not math.isfinite(args.lead_days):
        raise UsageError(f"--lead-days must be a number of days, got {args.lead_days!r}")
    bodies = load_interstellar(args.catalogue)
    results = iso.plan_all(bodies, sail, lead_days=args.lead_days, response_days=args.response_days,
                           max_days=args.max_days)
    meta = {"parking_orbit": "Earth's heliocentric orbit (the sail shares Earth's state, zero excess speed)",
            "departure": "discovery + response" if args.lead_days is None else f"{args.lead_days:g} days before perihelion",
            "response_days": args.response_days, "flyby_tolerance_m": iso.FLYBY_TOL_M,
            "sail_mass_kg": sail.mass, "sail_area_m2": sail.area,
            "characteristic_acceleration_m_s2": sail.characteristic_acceleration, "discovery_dates_UTC": iso.DISCOVERY}
    files = write_interstellar(args.out, bodies, results, meta)
    print(f"bliss missions interstellar: wrote {', '.join(files)} to {args.out}")
    for k, r in enumerate(results):
        what = (f"flyby after {r['tof_days']:.0f} d at {r['v_rel_m_s'] / 1e3:.1f} km/s, replayed miss "
                f"{r['miss_m'] / 1e3:.1f} km" if r["closed"] else r["note"])
        print(f"  {bodies.designation[k]:<36} {what}")
    return 0
