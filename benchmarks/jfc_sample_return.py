"""Jupiter-family comet sample return, closed end to end: screen all comets, then for a few of them plan
leg 1 (Earth -> comet, ``bliss plan``'s minimum-time rendezvous), the stay, and leg 2 (comet -> Earth
position with v_inf <= the capsule limit, ``bliss.missions.earth_return``), and replay both legs.

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

from bliss.guidance.problem import Target, departure_state
from bliss.missions import earth_return as er
from bliss.missions import jfc
from bliss.missions.catalogue import load_comets
from sim.constants import AU, DAY
from sim.sail import Sail
from sim.timeconv import epoch_to_tdb_seconds, tdb_seconds_to_epoch

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "results", "missions", "jfc_return")


def iso(t):
    return str(tdb_seconds_to_epoch(float(t)).iso)[:10]


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return f.read().strip()


def sched_dict(s) -> dict:
    return {"t": np.asarray(s.t).tolist(), "mode": np.asarray(s.mode).tolist(), "att": np.asarray(s.att).tolist()}


def plan_one(sail, bodies, k, scr, t_window, log, lead_days=None, leave_before_next=None, min_days=None,
             return_days=None) -> dict:
    el = bodies.elements[k]
    name = str(bodies.designation[k])
    est = float(scr["leg_s"][k])
    cands = jfc.candidate_passages(bodies, scr, [k], t_window)
    if not cands:
        return {"name": name, "status": "no perihelion passage suits the window"}
    tp = cands[0][1]
    t_dep = jfc.phased_departure(el, tp, est) if lead_days is None else tp - lead_days * DAY
    if not t_window[0] <= t_dep <= t_window[1]:
        log(f"{name}: leg-1 departure {iso(t_dep)} is outside the window {jfc.WINDOW[0]} to {jfc.WINDOW[1]}")
        return {"name": name, "status": f"departure {iso(t_dep)} outside the window"}
    log(f"{name}: perihelion {iso(tp)}, leg-1 departure {iso(t_dep)}")
    leg1 = jfc.solve_leg(sail, t_dep, departure_state(t_dep), Target(name=name, elements=el), tp - t_dep,
                         feedback=False)
    out = {"name": name, "row": int(k), "elements": el.tolist(), "t_perihelion": tp, "perihelion": iso(tp),
           "leg1": {"departure": iso(leg1.t_depart), "t_depart": leg1.t_depart, "tof_days": leg1.tof / DAY,
                    "arrival": iso(leg1.t_arrive) if leg1.converged else "", "miss_m": leg1.miss_pos,
                    "miss_m_s": leg1.miss_vel, "closed": leg1.converged, "seconds": leg1.seconds,
                    "arrival_minus_perihelion_days": (leg1.t_arrive - tp) / DAY,
                    "schedule": sched_dict(leg1.schedule) if leg1.schedule is not None else None,
                    "y_depart": leg1.y_depart.tolist()},
           "stay_days": jfc.MIN_STAY_DAYS}
    stay = jfc.MIN_STAY_DAYS * DAY
    if leave_before_next is not None:  # co-orbit to the next perihelion, leave this many days before it
        tp_next = jfc.perihelion_passages(el, tp + DAY, tp + 20 * 365.25 * DAY)[0]
        stay = max(stay, tp_next - leave_before_next * DAY - leg1.t_arrive)
        out.update({"next_perihelion": iso(tp_next), "t_next_perihelion": tp_next})
    out["stay_days"] = stay / DAY
    log(f"  leg 1: closed={leg1.converged} {leg1.tof / DAY:.1f} d, replayed {leg1.miss_pos:.1f} m / "
        f"{leg1.miss_vel:.2e} m/s ({leg1.seconds:.0f} s)")
    if not leg1.converged:
        out["status"] = "leg 1 not closed"
        return out
    t2 = leg1.t_arrive + stay
    r2, v2 = jfc.comet_state(el, t2)
    y2 = np.concatenate([r2, v2])
    scan = {} if min_days is None else {"min_days": min_days}
    if return_days is not None:  # one arrival date only: the scan's first and last date
        scan = {"min_days": return_days, "max_days": return_days}
    ret = er.earliest_return(sail, y2, t2, **scan)
    out["leg2"] = {"departure": iso(t2), "t_depart": t2, "y_depart": y2.tolist(), "closed": ret["closed"],
                   "n_solves": ret["n_solves"], "seconds": ret["seconds"], "note": ret["note"],
                   "comet_sun_distance_au": float(np.linalg.norm(r2)) / AU}
    if "t_arrive" in ret:
        out["leg2"].update({"arrival": iso(ret["t_arrive"]), "t_arrive": ret["t_arrive"], "tof_days": ret["tof_days"],
                            "miss_m": ret["miss_m"], "v_inf_m_s": ret["v_inf_m_s"], "r_min_au": ret["r_min_au"],
                            "schedule": sched_dict(ret["replay"]["schedule"])})
        log(f"  leg 2: closed={ret['closed']} {ret['tof_days']:.1f} d, replayed {ret['miss_m'] / 1e3:.1f} km, "
            f"v_inf {ret['v_inf_m_s']:.0f} m/s ({ret['seconds']:.0f} s, {ret['n_solves']} solves)")
    else:
        log(f"  leg 2: {ret['note']} ({ret['seconds']:.0f} s)")
    if ret["closed"]:
        out["total_days"] = (ret["t_arrive"] - leg1.t_depart) / DAY
        out["status"] = "closed"
    else:
        out["status"] = "leg 2 not closed"
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--comets", default="218P", help="comma-separated designations to plan (default 218P)")
    ap.add_argument("--top", type=int, default=0, help="also plan the screen's N best (default 0)")
    ap.add_argument("--lead-days", type=float, default=None,
                    help="leg-1 departure this many days before perihelion (default: jfc.phased_departure)")
    ap.add_argument("--leave-before-next-perihelion", type=float, default=None, metavar="DAYS",
                    help="stay on the comet until this many days before its next perihelion (default: 30-day stay)")
    ap.add_argument("--return-min-days", type=float, default=None,
                    help="first arrival date of the return scan [days after leaving] (default earth_return's)")
    ap.add_argument("--return-days", type=float, default=None,
                    help="try this one return time [days] instead of scanning for the earliest")
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args(argv)
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
        results.append(plan_one(sail, bodies, k, scr, t_window, log, args.lead_days, args.leave_before_next_perihelion,
                                args.return_min_days, args.return_days))
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
