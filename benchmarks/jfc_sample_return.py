"""Jupiter-family comet sample return, closed end to end: screen all comets, then for a few of them plan
leg 1 (Earth -> comet, ``bliss plan``'s minimum-time rendezvous), the stay, and leg 2 (comet -> Earth
position with v_inf <= the capsule limit, ``bliss.missions.earth_return``), and replay both legs. Each
chain is ``bliss.missions.jfc.plan_sample_return`` with a ``jfc.ChainOptions``, the code ``bliss missions
jfc`` runs (the same chain: ``bliss missions jfc --no-feedback --lead-days D --stay-until-perihelion-days N
--return-min-days R``; ``tests/test_missions.py::test_cli_builds_the_benchmarks_289p_chain``).

    XDG_CACHE_HOME=... .venv/bin/python benchmarks/jfc_sample_return.py [--comets 218P,79P] [--out DIR]

Writes ``DIR/missions.json`` (per comet: dates, leg times, stay, replayed misses, v_inf, the schedules
so that ``tests/test_missions.py`` can replay the saved solution), ``DIR/screen_top.csv`` (the screen's
best 30 of all comets) and ``DIR/run.txt`` (this run's log with /proc/loadavg at start and end).
Default DIR: benchmarks/results/missions/jfc_return.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time

import numpy as np

from bliss.missions import earth_return as er
from bliss.missions import jfc
from bliss.missions.catalogue import load_comets
from sim.constants import DAY
from sim.sail import Sail
from sim.timeconv import epoch_to_tdb_seconds

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "results", "missions", "jfc_return")


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return f.read().strip()


#: ``jfc.ChainOptions`` field -> this script's flag (for the one-line errors).
CHAIN_FLAGS = {"lead_days": "--lead-days", "stay_until_perihelion_days": "--leave-before-next-perihelion",
               "return_min_days": "--return-min-days", "return_max_days": "--return-days"}


def chain_options(args) -> jfc.ChainOptions:
    """The chain this script flies (leg 1 from the crude guesses only, no feedback warm start), as
    ``bliss missions jfc --no-feedback`` builds it from the same values."""
    given = {"lead_days": args.lead_days, "stay_until_perihelion_days": args.leave_before_next_perihelion,
             "return_min_days": args.return_min_days}
    if args.return_days is not None:  # one arrival date only: the scan's first and last date
        given.update(return_min_days=args.return_days, return_max_days=args.return_days)
    return jfc.ChainOptions(feedback=False, **{k: v for k, v in given.items() if v is not None}).check(CHAIN_FLAGS)


def plan_one(sail, bodies, k, scr, t_window, log, options: jfc.ChainOptions) -> dict:
    """One comet's chain by ``bliss.missions.jfc.plan_sample_return`` (the code ``bliss missions jfc`` runs),
    saved as ``jfc.mission_record``."""
    name = str(bodies.designation[k])
    cands = jfc.candidate_passages(bodies, scr, [k], t_window)
    if not cands:
        return {"name": name, "status": "no perihelion passage suits the window"}
    res = jfc.plan_sample_return(sail, bodies.elements[k], name, cands[0][1], float(scr["leg_s"][k]), options,
                                 t_window=t_window, log=log)
    return dict(jfc.mission_record(res), row=int(k))


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--comets", default="218P", help="comma-separated designations to plan (default 218P)")
    ap.add_argument("--top", type=int, default=0, help="also plan the screen's N best (default 0)")
    ap.add_argument("--lead-days", type=float, default=None,
                    help="leg-1 departure this many days before perihelion (default: jfc.phased_departure)")
    ap.add_argument("--leave-before-next-perihelion", type=float, default=None, metavar="DAYS",
                    help="stay on the comet until this many days before its next perihelion (default: 30-day stay)")
    ap.add_argument("--return-min-days", type=float, default=None,
                    help="first arrival date of the return scan [days after leaving] (default earth_return's 120)")
    ap.add_argument("--return-days", type=float, default=None,
                    help="try this one return time [days] instead of scanning for the earliest")
    ap.add_argument("--out", default=DEFAULT_OUT)
    return ap


def main(argv=None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    try:
        options = chain_options(args)
    except ValueError as exc:
        ap.error(str(exc))
    os.makedirs(args.out, exist_ok=True)
    lines = [f"# benchmarks/jfc_sample_return.py {' '.join(argv or sys.argv[1:])}", f"loadavg start: {loadavg()}"]

    def log(s):
        print(s, flush=True)
        lines.append(s)

    sail = Sail(mass=0.010, area=1.0)
    bodies = load_comets()
    t_window = (float(epoch_to_tdb_seconds(jfc.WINDOW[0])), float(epoch_to_tdb_seconds(jfc.WINDOW[1])))
    t = time.perf_counter()
    scr = jfc.screen_comets(bodies, np.arange(t_window[0], t_window[1] + 1, 30 * DAY), sail.characteristic_acceleration)
    order = np.argsort(scr["total_s"], kind="stable")
    n_under = int(np.sum(scr["total_s"] <= jfc.MAX_MISSION_DAYS * DAY))
    log(f"screen: {len(bodies)} comets in {time.perf_counter() - t:.1f} s; {n_under} screen under "
        f"{jfc.MAX_MISSION_DAYS / 365.25:g} years")
    with open(os.path.join(args.out, "screen_top.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["rank", "designation", "q_AU", "e", "i_deg", "screen_leg_days", "screen_total_days"])
        for r, k in enumerate(order[:30], 1):
            w.writerow([r, bodies.designation[k], f"{bodies.q_au[k]:.4f}", f"{bodies.e[k]:.4f}",
                        f"{bodies.i_deg[k]:.3f}", f"{scr['leg_s'][k] / DAY:.1f}", f"{scr['total_s'][k] / DAY:.1f}"])
    rows = [bodies.index(n.strip()) for n in args.comets.split(",") if n.strip()]
    rows += [int(k) for k in order[:args.top] if int(k) not in rows]
    results = []
    for k in rows:
        results.append(plan_one(sail, bodies, k, scr, t_window, log, options))
        with open(os.path.join(args.out, "missions.json"), "w") as f:  # after each comet: a long run keeps its work
            json.dump({"sail_mass_kg": sail.mass, "sail_area_m2": sail.area,
                       "v_inf_limit_m_s": er.V_INF_ENTRY_MAX, "stardust_v_inf_m_s": er.STARDUST_V_INF_M_S,
                       "max_mission_days": jfc.MAX_MISSION_DAYS, "missions": results}, f, indent=1)
    log("")
    log(f"missions (the reachable list's limit: a total under {jfc.MAX_MISSION_DAYS:.0f} days, "
        f"{jfc.MAX_MISSION_DAYS / 365.25:g} years):")
    for r in sorted(results, key=lambda r: r.get("total_days", math.inf)):
        if r.get("status") == "closed":
            log(f"  {r['name']}: depart {r['leg1']['departure']}, leg 1 {r['leg1']['tof_days']:.1f} d, stay "
                f"{r['stay_days']:g} d, leg 2 {r['leg2']['tof_days']:.1f} d, Earth {r['leg2']['arrival']}, "
                f"total {r['total_days']:.1f} d, v_inf {r['leg2']['v_inf_m_s']:.0f} m/s"
                + ("" if r["total_days"] <= jfc.MAX_MISSION_DAYS else "  (over the limit)"))
        else:
            log(f"  {r['name']}: {r.get('status')}")
    log(f"loadavg end: {loadavg()}")
    with open(os.path.join(args.out, "run.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
