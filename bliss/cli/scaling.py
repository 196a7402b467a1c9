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
import math
import sys

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


def run(args) -> int:
    # lazy: numba, scipy and matplotlib, not paid by `bliss --help`
    from bliss.scaling import min_tof_to_bennu
    from bliss.scaling_products import write_products
    from sim.ephemeris import BENNU

    a_cs = parse_a_c(args.a_c)
    t_dep = parse_date(args.date)
    check_writable(args.out)
    bennu = [BENNU.a, BENNU.e, BENNU.i, BENNU.raan, BENNU.argp, BENNU.M0, BENNU.epoch]
    points = []
    for a_c in a_cs:
        r = min_tof_to_bennu(a_c, t_dep, bennu)
        points.append(r)
        print(f"a_c {a_c * 1e3:5.2f} mm/s^2: min TOF to Bennu "
              + (f"{r['tof_s'] / 86400.0:7.1f} d" if r["converged"] else "not converged")
              + f" ({r['seconds']:.0f} s)", file=sys.stderr, flush=True)
    names = write_products(args.out, points, args.date)
    print(f"bliss scaling: wrote {', '.join(names)} to {args.out}")
    return 0
