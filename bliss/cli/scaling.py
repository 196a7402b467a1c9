"""``bliss scaling``: the scaling limits of small sails, as plots and CSV tables.

Characteristic acceleration against sail area for payload masses and film areal densities; the film's
equilibrium temperature against Sun distance and the closest safe perihelion for the optical sets; the
minimum rendezvous time with Bennu against a_c from the minimum-time optimiser (slow: minutes per point;
``--a-c none`` skips it). Writes ``ac_vs_area.csv/.png``, ``perihelion_limit.csv``, ``film_temperature.png``
and, unless skipped, ``min_tof_bennu.csv/.png`` into ``--out``, all or none. docs/scaling.md.
Exit codes: 0 done; 2 bad input (one line on stderr, no files).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from bliss.cli import UsageError
from bliss.cli.plan import parse_date
from bliss.io.atomic import check_writable

DEFAULT_OUT = "bliss_out/scaling"
DEFAULT_DATE = "2030-11-21"  # bliss plan's default departure (the best date of its Bennu window scans)
DEFAULT_A_C_MM = "0.2,0.3,0.5,0.75,1,1.5,2,3"


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "scaling", help="scaling limits of small sails: a_c against area, time to Bennu against a_c, "
                        "perihelion limit from film temperature",
        description=__doc__.split("\n\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example: bliss scaling --a-c 0.5,1,2 --out bliss_out/scaling")
    p.add_argument("--a-c", default=DEFAULT_A_C_MM, metavar="LIST",
                   help=f"characteristic accelerations [mm/s^2] of the minimum-time points, comma-separated "
                        f"(default {DEFAULT_A_C_MM}); 'none' skips the optimiser")
    p.add_argument("--date", default=DEFAULT_DATE, metavar="DATE",
                   help=f"departure date of the Bennu transfers (TDB; default {DEFAULT_DATE})")
    p.add_argument("--points-log", default=None, metavar="JSONL",
                   help="append each optimiser point to this file as it finishes (flushed); points already in it "
                        "(same a_c and date) are reused, so a stopped run resumes where it was")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="FOLDER", help=f"output folder (default {DEFAULT_OUT})")
    p.set_defaults(func=run)
    return p


def parse_a_c(text: str) -> list[float]:
    """Characteristic accelerations [m/s^2] from a comma-separated list in mm/s^2 ('none': empty)."""
    if text.strip().lower() == "none":
        return []
    out = []
    for part in text.split(","):
        try:
            x = float(part)
        except ValueError:
            raise UsageError(f"--a-c: {part.strip()!r} is not a number of mm/s^2; give e.g. 0.5,1,2 or 'none'") from None
        if not (math.isfinite(x) and 0.05 <= x <= 20.0):
            raise UsageError(f"--a-c: {x:g} mm/s^2 is outside 0.05-20 mm/s^2")
        out.append(x * 1e-3)
    return sorted(out)


def _read_points(path, t_dep: float) -> dict:
    """Points of an earlier run at departure ``t_dep`` from a --points-log file, keyed by a_c [mm/s^2]."""
    out = {}
    if not Path(path).exists():
        return out
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                if r["t_depart"] == t_dep:
                    r["tof_s"] = math.nan if r["tof_s"] is None else float(r["tof_s"])
                    out[round(float(r["a_c"]) * 1e3, 9)] = r
            except (ValueError, KeyError, TypeError):
                raise UsageError(f"--points-log {path}: line {n} is not a point this command wrote; "
                                 f"remove it or give another file") from None
    return out


def run(args) -> int:
    # lazy: numba, scipy and matplotlib, not paid by `bliss --help`
    from bliss.scaling import min_tof_to_bennu
    from bliss.scaling_products import write_products
    from sim.ephemeris import BENNU

    a_cs = parse_a_c(args.a_c)
    t_dep = parse_date(args.date)
    check_writable(args.out)
    done = {}
    if args.points_log is not None:
        check_writable(Path(args.points_log).parent)
        done = _read_points(args.points_log, t_dep)
    bennu = [BENNU.a, BENNU.e, BENNU.i, BENNU.raan, BENNU.argp, BENNU.M0, BENNU.epoch]
    points = {}
    for a_c in sorted(a_cs, reverse=True):  # the quick (high a_c) points first
        key = round(a_c * 1e3, 9)
        r = done.get(key)
        if r is None:
            r = min_tof_to_bennu(a_c, t_dep, bennu)
            if args.points_log is not None:
                with open(args.points_log, "a", encoding="utf-8") as f:
                    rec = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
                    f.write(json.dumps({**rec, "t_depart": t_dep}) + "\n")
        points[key] = r
        print(f"a_c {a_c * 1e3:5.2f} mm/s^2: min TOF to Bennu "
              + (f"{r['tof_s'] / 86400.0:7.1f} d" if r["converged"] else "not converged")
              + f" ({r['seconds']:.0f} s{', from the log' if key in done else ''})", file=sys.stderr, flush=True)
    names = write_products(args.out, [points[k] for k in sorted(points)], args.date)
    print(f"bliss scaling: wrote {', '.join(names)} to {args.out}")
    return 0
