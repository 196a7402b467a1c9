"""``bliss survey``: rank the NEA catalogue by minimum rendezvous time for a sail, refine the best.

Screen (``bliss.survey.screen``, averaged dynamics, every object over every departure date of
``--window``), then the minimum-time optimiser on the ``--refine`` best candidates as Dask tasks
(``bliss.distributed.open_client``: a local cluster, or ``--scheduler``). Writes ``survey.csv``,
``survey.parquet``, ``survey.json``, ``tof_aei.png`` and ``cumulative.png`` into ``--out``, all or none.
Exit codes: 0 done; 2 bad input (one line on stderr, no files).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from bliss.cli import UsageError
from bliss.cli.plan import parse_window
from bliss.io.atomic import check_writable
from sim.constants import DAY

DEFAULT_WINDOW = ("2028-01-01", "2031-12-31", "30")
DEFAULT_OUT = "bliss_out/survey"
#: Most departure dates one survey scans (the screen costs ~ n_objects x n_dates microseconds).
MAX_DATES = 400


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "survey", help="rank near-Earth asteroids by minimum sail rendezvous time (screen + optimiser)",
        description=__doc__.split("\n\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example: bliss survey --h-max 22 --class apollo,aten --window 2029-01-01 2031-01-01 30 --refine 20")
    p.add_argument("--catalogue", default=None, metavar="CSV",
                   help="element table in the layout of bliss/survey/data/neas.csv (default: the packaged "
                        "MPC NEA list, epoch 2019-07-02)")
    p.add_argument("--h-max", type=float, default=None, metavar="H", help="keep objects with H <= this")
    p.add_argument("--h-min", type=float, default=None, metavar="H", help="keep objects with H >= this")
    p.add_argument("--class", dest="classes", default=None, metavar="LIST",
                   help="MPC orbit classes to keep, comma-separated: atira, aten, apollo, amor")
    p.add_argument("--a-range", nargs=2, type=float, default=None, metavar=("LOW", "HIGH"), help="a [AU]")
    p.add_argument("--e-range", nargs=2, type=float, default=None, metavar=("LOW", "HIGH"))
    p.add_argument("--i-range", nargs=2, type=float, default=None, metavar=("LOW", "HIGH"), help="i [deg]")
    p.add_argument("--names", default=None, metavar="LIST",
                   help="only these objects, comma-separated designations (e.g. 'Bennu,Apophis,2010 LF64')")
    p.add_argument("--window", nargs=3, default=list(DEFAULT_WINDOW), metavar=("START", "END", "STEP_DAYS"),
                   help=f"departure dates (TDB) from START to END every STEP_DAYS (default {' '.join(DEFAULT_WINDOW)})")
    p.add_argument("--refine", type=int, default=100, metavar="N",
                   help="optimise the N best screened objects (default 100; 0: screen only)")
    p.add_argument("--dates-per-target", type=int, default=2, metavar="K",
                   help="departure dates the optimiser tries per refined object: the screen's K best (default 2)")
    p.add_argument("--mass-g", type=float, default=10.0, metavar="GRAMS", help="spacecraft mass [g] (default 10)")
    p.add_argument("--area-m2", type=float, default=1.0, metavar="M2", help="sail area [m^2] (default 1)")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="Dask scheduler address for the refine (default: a local cluster, one worker per core)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="local-cluster workers (default: cores)")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="FOLDER", help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--refine-log", default=None, metavar="JSONL",
                   help="append one JSON line per refined object to this file as it finishes (flushed), so a "
                        "long refine interrupted before the products are written keeps what finished")
    p.add_argument("--no-progress", action="store_true", help="do not show progress bars")
    p.set_defaults(func=run)

    def one_line_error(message):
        print(f"bliss: error: survey: {message} (see bliss survey --help)", file=sys.stderr, flush=True)
        sys.exit(2)

    p.error = one_line_error
    return p


def build_request(args) -> dict:
    """Validate every option before any work: catalogue, filters, window, sail, output folder."""
    # lazy: astropy and numba, not paid by `bliss --help`
    from bliss.survey.catalogue import load_catalogue, select
    from sim.sail import Sail

    for what, x in (("--mass-g", args.mass_g), ("--area-m2", args.area_m2)):
        if not (math.isfinite(x) and x > 0):
            raise UsageError(f"{what} must be a positive number, got {x!r}")
    if args.refine < 0:
        raise UsageError(f"--refine must be 0 or more objects, got {args.refine}")
    if args.dates_per_target < 1:
        raise UsageError(f"--dates-per-target must be at least 1, got {args.dates_per_target}")
    if args.workers is not None and (args.workers < 1 or args.scheduler is not None):
        raise UsageError("--workers must be at least 1 and applies to the local cluster only (not with --scheduler)")
    dates = parse_window(args.window, MAX_DATES)
    check_writable(args.out)
    if args.refine_log is not None:
        check_writable(Path(args.refine_log).parent)
    cat = load_catalogue(args.catalogue)
    classes = [c for c in args.classes.split(",") if c.strip()] if args.classes else None
    names = [n for n in args.names.split(",") if n.strip()] if args.names else None
    sel = select(cat, h_max=args.h_max, h_min=args.h_min, classes=classes, a_range=args.a_range,
                 e_range=args.e_range, i_range=args.i_range, names=names)
    if len(sel) == 0:
        raise UsageError("no catalogue object passes the filters; widen them")
    return {"catalogue": sel, "dates": dates, "sail": Sail(mass=args.mass_g / 1000.0, area=args.area_m2)}


def run(args) -> int:
    # lazy: numba, astropy and matplotlib, not paid by `bliss --help`
    from bliss.survey.products import write_products
    from bliss.survey.run import run_survey

    req = build_request(args)
    cat, sail = req["catalogue"], req["sail"]
    log = open(args.refine_log, "a", encoding="utf-8") if args.refine_log is not None else None

    def log_refined(row, r):
        rec = {"designation": str(cat.designation[row]), "t_depart_tdb_s": r["t_depart"],
               "tof_days": r["tof_s"] / DAY, "converged": r["converged"], "miss_pos_m": r["miss_pos_m"],
               "miss_vel_m_s": r["miss_vel_m_s"], "seconds": r["seconds"], "n_dates": r["n_dates"]}
        rec = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in rec.items()}
        log.write(json.dumps(rec) + "\n")
        log.flush()

    try:
        res = run_survey(cat, sail, req["dates"], n_refine=args.refine, dates_per_target=args.dates_per_target,
                         scheduler=args.scheduler, n_workers=args.workers, show_progress=not args.no_progress,
                         on_refined=None if log is None else log_refined)
    finally:
        if log is not None:
            log.close()
    meta = {"n_objects": len(cat), "n_dates": int(req["dates"].size), "window": list(args.window),
            "refined": int(len(res["refined"])), "sail_mass_kg": sail.mass, "sail_area_m2": sail.area,
            "characteristic_acceleration_m_s2": sail.characteristic_acceleration, "timings_s": res["timings"]}
    names = write_products(args.out, cat, res, meta)
    best = res["order"][:5]
    print(f"bliss survey: {len(cat)} objects x {req['dates'].size} dates screened in "
          f"{res['timings']['screen_s']:.1f} s; {len(res['refined'])} refined"
          + (f" in {res['timings']['refine_s']:.0f} s" if "refine_s" in res["timings"] else "")
          + f"; wrote {', '.join(names)} to {args.out}")
    for k in best:
        print(f"  {cat.designation[k]:<22} screen {res['screen_tof_s'][k] / DAY:7.1f} d   optimiser "
              f"{res['opt_tof_s'][k] / DAY:7.1f} d")
    return 0
