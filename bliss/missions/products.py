"""Files of ``bliss missions``: tables (CSV), plots (PNG) and ``summary.json``, written all-or-nothing
through ``bliss.io.atomic.OutputSet`` (temporary files renamed into place only when all are complete)."""
from __future__ import annotations

import csv
import json
import math

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bliss.guidance import pipeline  # noqa: E402
from bliss.guidance.problem import Target, TransferProblem  # noqa: E402
from bliss.io.atomic import OutputSet  # noqa: E402
from bliss.missions import jfc  # noqa: E402
from sim.constants import AU, DAY, GM_SUN  # noqa: E402
from sim.kepler import elements_state  # noqa: E402
from sim.sail import Sail  # noqa: E402
from sim.timeconv import tdb_seconds_to_epoch  # noqa: E402

JFC_COLUMNS = ("rank", "designation", "q_AU", "e", "i_deg", "a_AU", "Q_AU", "screen_leg_days", "screen_total_days",
               "survey_screen_leg1_days", "screen_note", "perihelion_TDB", "leg1_departure_TDB", "leg1_arrival_TDB",
               "leg1_tof_days", "leg1_miss_km", "leg1_miss_m_s", "arrival_minus_perihelion_days", "stay_days",
               "leg2_departure_TDB", "leg2_arrival_TDB", "leg2_tof_days", "leg2_miss_km",
               "earth_arrival_v_inf_m_s", "total_days", "status", "within_limits")
ISO_COLUMNS = ("designation", "discovery_UTC", "perihelion_TDB", "lead_days", "departure_TDB",
               "closed", "encounter_TDB", "tof_days", "flyby_miss_km", "relative_speed_km_s", "sun_distance_AU",
               "v_inf_km_s", "dv_match_km_s", "dv_per_year_radial_km_s", "dv_per_year_along_track_km_s",
               "years_to_match_at_1AU", "object_distance_then_AU", "chase_dv_km_s", "note")


def iso_date(t) -> str:
    return "" if t is None or not np.isfinite(t) else tdb_seconds_to_epoch(float(t)).tdb.isot[:10]


def _fmt(v):
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)):
        return "" if not math.isfinite(v) else f"{v:.6g}"
    return v


def _write_csv(path, columns, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow([_fmt(r.get(c)) for c in columns])


def _write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, default=lambda x: float(x) if isinstance(x, np.floating) else str(x))
        f.write("\n")


def jfc_rows(bodies, run: dict) -> list[dict]:
    """One row per comet, in the screen's order; the optimised ones carry their legs."""
    scr = run["screen"]
    order = np.argsort(scr["total_s"], kind="stable")
    rows = []
    for rank, k in enumerate(order, 1):
        row = {"rank": rank, "designation": bodies.designation[k], "q_AU": bodies.q_au[k], "e": bodies.e[k],
               "i_deg": bodies.i_deg[k], "a_AU": bodies.a_au[k], "Q_AU": bodies.aphelion_au[k],
               "screen_leg_days": scr["leg_s"][k] / DAY, "screen_total_days": scr["total_s"][k] / DAY,
               "survey_screen_leg1_days": scr["survey_screen_s"][k] / DAY, "screen_note": scr["reason"][k]}
        res = run["results"].get(int(k))
        if res is not None and res["leg1"] is None:  # not planned: the departure fell outside the window
            row.update({"perihelion_TDB": iso_date(res["t_perihelion"]), "status": res["status"]})
        elif res is not None:
            l1, l2 = res["leg1"], res["leg2"]
            row.update({"perihelion_TDB": iso_date(res["t_perihelion"]), "leg1_departure_TDB": iso_date(l1["t_depart"]),
                        "leg1_arrival_TDB": iso_date(l1["t_arrive"]), "leg1_tof_days": l1["tof_days"],
                        "leg1_miss_km": l1["miss_pos_m"] / 1e3, "leg1_miss_m_s": l1["miss_vel_m_s"],
                        "arrival_minus_perihelion_days": (l1["t_arrive"] - res["t_perihelion"]) / DAY,
                        "stay_days": res["stay_days"], "status": res["status"]})
            if l2 is not None:
                row.update({"leg2_departure_TDB": iso_date(l2["t_depart"]), "leg2_arrival_TDB": iso_date(l2["t_arrive"]),
                            "leg2_tof_days": l2["tof_days"], "leg2_miss_km": l2["miss_pos_m"] / 1e3,
                            "earth_arrival_v_inf_m_s": l2["miss_vel_m_s"], "total_days": res.get("total_days")})
            row["within_limits"] = within_limits(res)
        rows.append(row)
    return rows


def within_limits(res: dict) -> bool:
    """Closed chain, arrival near perihelion, Earth arrival v_inf below the capsule limit, total under
    the stated mission duration."""
    if res.get("status") != "closed":
        return False
    l1, l2 = res["leg1"], res["leg2"]
    return bool(abs(l1["t_arrive"] - res["t_perihelion"]) <= jfc.NEAR_PERIHELION_DAYS * DAY
                and l2["miss_vel_m_s"] <= jfc.V_INF_ENTRY_MAX and res["total_days"] <= jfc.MAX_MISSION_DAYS)


def _orbit_xy(elements, n=400):
    el = np.asarray(elements, float)
    if el[1] < 1:
        period = 2 * math.pi * math.sqrt(el[0] ** 3 / GM_SUN)
        ts = el[6] + np.linspace(0, period, n)
    else:
        ts = el[6] + np.linspace(-400, 400, n) * DAY
    return np.array([elements_state(GM_SUN, *el, t)[0] for t in ts]) / AU


def _plot_jfc_screen(path, bodies, run):
    scr = run["screen"]
    tot = scr["total_s"] / DAY
    fin = np.isfinite(tot)
    fig, ax = plt.subplots(figsize=(8, 5.5), constrained_layout=True)
    sc = ax.scatter(bodies.q_au[fin], bodies.i_deg[fin], c=tot[fin] / 365.25, s=10, cmap="viridis_r",
                    vmax=np.nanpercentile(tot[fin] / 365.25, 90))
    done = [(k, r) for k, r in run["results"].items() if r.get("total_days")]
    if done:
        ax.scatter([bodies.q_au[k] for k, _ in done], [bodies.i_deg[k] for k, _ in done],
                   c=[r["total_days"] / 365.25 for _, r in done], cmap="viridis_r", vmin=sc.get_clim()[0],
                   vmax=sc.get_clim()[1], s=70, edgecolors="red", linewidths=1.0, label="optimised (total)")
        ax.legend(loc="upper right")
    fig.colorbar(sc, ax=ax, label="sample-return time [years] (dots: screen; ringed: optimiser)")
    ax.set_xlabel("perihelion distance q [AU]")
    ax.set_ylabel("inclination i [deg]")
    ax.set_xlim(0, 3.5)
    ax.set_title(f"{len(bodies)} Jupiter-family comets: Earth - comet (30 d) - Earth, BLISS sail")
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def replay_leg(sail, leg, target):
    """(t, y) of a planned leg flown again from its start (``bliss.guidance.pipeline.replay``)."""
    pb = TransferProblem(sail=sail, t_depart=leg.t_depart, y_depart=leg.y_depart, target=target)
    return pipeline.replay(pb, leg.schedule)


def _plot_jfc_mission(path, sail, elements, res):
    leg1, leg2 = res["_legs"]
    fig, ax = plt.subplots(figsize=(7, 7), constrained_layout=True)
    th = np.linspace(0, 2 * math.pi, 200)
    ax.plot(np.cos(th), np.sin(th), color="0.6", lw=0.8, label="Earth's orbit")
    c = _orbit_xy(elements)
    ax.plot(c[:, 0], c[:, 1], color="tab:brown", lw=0.8, label="comet's orbit")
    for leg, col, lab in ((leg1, "tab:blue", "leg 1 (Earth to comet)"), (leg2, "tab:red", "leg 2 (comet to Earth)")):
        _, y = replay_leg(sail, leg, jfc_target(elements, leg is leg1))
        ax.plot(y[:, 0] / AU, y[:, 1] / AU, color=col, lw=1.4, label=f"{lab}: {leg.tof / DAY:.0f} d")
    ax.plot(0, 0, "o", color="orange")
    ax.set_aspect("equal")
    ax.set_xlabel("x [AU] (ecliptic J2000)")
    ax.set_ylabel("y [AU]")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(f"{res['name']}: sample return, {res['total_days']:.0f} days in all")
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def jfc_target(elements, comet: bool):
    """The target of leg 1 (the comet) or leg 2 (the Earth)."""
    return Target(name="comet", elements=np.asarray(elements, float)) if comet else \
        Target(name="Earth", state_fn=jfc.earth_state)


def write_jfc(out_dir, bodies, sail: Sail, run: dict, meta: dict) -> list[str]:
    """jfc_missions.csv, jfc_missions.json (when comets were planned: each chain with its schedules,
    ``bliss.missions.jfc.mission_record``), jfc_screen.png, jfc_mission.png (the shortest closed
    mission) and summary.json."""
    rows = jfc_rows(bodies, run)
    closed = [(k, r) for k, r in run["results"].items() if r.get("status") == "closed"]
    best = min(closed, key=lambda kr: kr[1]["total_days"]) if closed else None
    with OutputSet(out_dir) as out:
        _write_csv(out.path("jfc_missions.csv"), JFC_COLUMNS, rows)
        if run["results"]:
            _write_json(out.path("jfc_missions.json"),
                        {"sail_mass_kg": sail.mass, "sail_area_m2": sail.area, "v_inf_limit_m_s": jfc.V_INF_ENTRY_MAX,
                         "max_mission_days": jfc.MAX_MISSION_DAYS,
                         "missions": [dict(jfc.mission_record(r), row=int(k)) for k, r in sorted(run["results"].items())]})
        _plot_jfc_screen(out.path("jfc_screen.png"), bodies, run)
        if best is not None and "_legs" in best[1]:
            _plot_jfc_mission(out.path("jfc_mission.png"), sail, bodies.elements[best[0]], best[1])
        summary = dict(meta)
        summary["optimised"] = [{c: r.get(c) for c in JFC_COLUMNS if r.get(c) not in (None, "")}
                                for r in rows if r.get("status")]
        summary["reachable_within_limits"] = [r["designation"] for r in rows if r.get("within_limits")]
        _write_json(out.path("summary.json"), summary)
        names = out.names
    return names


def _plot_iso(path, bodies, results):
    fig, ax = plt.subplots(figsize=(7, 7), constrained_layout=True)
    th = np.linspace(0, 2 * math.pi, 200)
    ax.plot(np.cos(th), np.sin(th), color="0.6", lw=0.8, label="Earth's orbit")
    for k, res in enumerate(results):
        o = _orbit_xy(bodies.elements[k])
        line, = ax.plot(o[:, 0], o[:, 1], lw=0.8, label=bodies.designation[k])
        if res.get("closed"):
            y = res["replay"]["y"]
            ax.plot(y[:, 0] / AU, y[:, 1] / AU, color=line.get_color(), lw=2.0)
            ax.plot(y[-1, 0] / AU, y[-1, 1] / AU, "*", color=line.get_color(), ms=12)
    ax.plot(0, 0, "o", color="orange")
    ax.set_xlim(-4, 4)
    ax.set_ylim(-4, 4)
    ax.set_aspect("equal")
    ax.set_xlabel("x [AU] (ecliptic J2000)")
    ax.set_ylabel("y [AU]")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("Interstellar objects (thin) and the sail's flybys (thick, * = encounter)")
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def iso_rows(bodies, results) -> list[dict]:
    rows = []
    for k, res in enumerate(results):
        rn = res["rendezvous"]
        rows.append({"designation": bodies.designation[k],
                     "discovery_UTC": res["discovery"], "perihelion_TDB": iso_date(bodies.elements[k, 6]),
                     "lead_days": res["lead_days"], "departure_TDB": iso_date(res["t_depart"]),
                     "closed": res["closed"], "encounter_TDB": iso_date(res.get("t_encounter")),
                     "tof_days": res.get("tof_days"), "flyby_miss_km": res.get("miss_m", math.nan) / 1e3,
                     "relative_speed_km_s": res.get("v_rel_m_s", math.nan) / 1e3, "sun_distance_AU": res.get("r_sun_au"),
                     "v_inf_km_s": rn["v_inf_m_s"] / 1e3, "dv_match_km_s": rn["dv_match_1au_m_s"] / 1e3,
                     "dv_per_year_radial_km_s": rn["dv_per_year_radial_m_s"] / 1e3,
                     "dv_per_year_along_track_km_s": rn["dv_per_year_along_track_m_s"] / 1e3,
                     "years_to_match_at_1AU": rn["years_at_1au"], "object_distance_then_AU": rn["object_r_after_au"],
                     "chase_dv_km_s": rn["chase_dv_m_s"] / 1e3, "note": res.get("note", "")})
    return rows


def write_interstellar(out_dir, bodies, results, meta: dict) -> list[str]:
    """interstellar.csv, interstellar.png and summary.json."""
    rows = iso_rows(bodies, results)
    with OutputSet(out_dir) as out:
        _write_csv(out.path("interstellar.csv"), ISO_COLUMNS, rows)
        _plot_iso(out.path("interstellar.png"), bodies, results)
        summary = dict(meta)
        summary["objects"] = [{c: r[c] for c in ISO_COLUMNS if r.get(c) not in (None, "")} for r in rows]
        _write_json(out.path("summary.json"), summary)
        names = out.names
    return names
