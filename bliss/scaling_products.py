"""Files of ``bliss scaling``: CSV tables and plots, written all-or-nothing through
``bliss.io.atomic.OutputSet``."""
from __future__ import annotations

import csv

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import NullFormatter, ScalarFormatter  # noqa: E402
import numpy as np  # noqa: E402

from bliss.io.atomic import OutputSet  # noqa: E402
from bliss.scaling import FILM_AREAL_DENSITIES, PAYLOAD_MASSES, characteristic_acceleration, sail_for  # noqa: E402
from sim.constants import AU, DAY  # noqa: E402
from sim.sail import IDEAL, MCINNES_1999, NEA_SCOUT_2015  # noqa: E402
from sim.thermal import T_LIMIT_KAPTON_HN, T_LIMIT_MYLAR, closest_safe_distance, film_temperature  # noqa: E402

#: Sail areas of the a_c table [m^2], 0.01-100 m^2 on a log grid.
AREAS_M2 = np.logspace(-2, 2, 41)
#: Optical sets with a temperature (the ideal set absorbs nothing) and the film limits [K].
THERMAL_OPTICS = (MCINNES_1999, NEA_SCOUT_2015)
FILM_LIMITS = (("Kapton HN", T_LIMIT_KAPTON_HN), ("Mylar", T_LIMIT_MYLAR))


def perihelion_rows() -> list[dict]:
    """One row per optical set and film limit: temperature at 1 AU and 0.2 AU [K], closest safe distance [AU]
    (the ideal set absorbs nothing: temperatures nan, distance 0, no thermal limit)."""
    rows = []
    for o in (IDEAL, *THERMAL_OPTICS):
        for film, t_max in FILM_LIMITS:
            rows.append({"optics": o.name, "film": film, "T_limit_K": t_max,
                         "T_1AU_K": film_temperature(o, AU), "T_0.2AU_K": film_temperature(o, 0.2 * AU),
                         "closest_safe_distance_AU": closest_safe_distance(o, t_max) / AU})
    return rows


def _write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def write_products(out_dir, points: list[dict], date: str) -> list[str]:
    """Write every table and plot into ``out_dir`` (all or none); ``points``: ``bliss.scaling.min_tof_to_bennu``
    results (may be empty). Returns the file names."""
    ac_rows = []
    fig, ax = plt.subplots(figsize=(7, 5))
    for (film, sigma), ls in zip(FILM_AREAL_DENSITIES.items(), ("-", "--", ":")):
        for m, color in zip(PAYLOAD_MASSES, ("C0", "C1", "C2", "C3")):
            ac = characteristic_acceleration(AREAS_M2, m, sigma)
            ac_rows += [{"payload_g": m * 1e3, "film": film, "film_g_m2": sigma * 1e3, "area_m2": a,
                         "a_c_mm_s2": x * 1e3} for a, x in zip(AREAS_M2, ac)]
            ax.loglog(AREAS_M2, ac * 1e3, ls=ls, color=color, label=f"{m * 1e3:g} g, {film}")
    ax.axhline(0.908, color="k", lw=0.6)
    ax.annotate("BLISS (10 g total, 1 m², film counted in the 10 g)", (0.012, 0.95), fontsize=7)
    ax.set(xlabel="sail area [m²]", ylabel="characteristic acceleration a_c [mm/s²]",
           title="Ideal sail: a_c = 2PA / (m_payload + σ_film A)", ylim=(1e-3, 10))
    ax.legend(fontsize=6, ncol=2)
    ax.grid(True, which="both", lw=0.3)

    fig2, ax2 = plt.subplots(figsize=(6, 4))
    r = np.linspace(0.1, 1.2, 221)
    for o, color in zip(THERMAL_OPTICS, ("C0", "C1")):
        ax2.plot(r, [film_temperature(o, x * AU) for x in r], color=color, label=f"{o.name} optics, Sun-facing")
    for (film, t_max), ls in zip(FILM_LIMITS, ("--", ":")):
        ax2.axhline(t_max, color="k", ls=ls, lw=0.8, label=f"{film} limit {t_max:.0f} K")
    ax2.axvline(0.2, color="grey", lw=0.6, label="project's stop, 0.2 AU")
    ax2.set(xlabel="Sun distance [AU]", ylabel="film equilibrium temperature [K]", ylim=(200, 900))
    ax2.legend(fontsize=7)
    ax2.grid(True, lw=0.3)

    fig3 = None
    if points:
        fig3, ax3 = plt.subplots(figsize=(6, 4))
        ok = [p for p in points if p["converged"]]
        ax3.plot([p["a_c"] * 1e3 for p in ok], [p["tof_s"] / DAY for p in ok], "o-")
        ax3.axvline(0.908, color="grey", lw=0.6, label="BLISS 0.908 mm/s²")
        ax3.set(xscale="log", yscale="log", xlabel="characteristic acceleration a_c [mm/s²]",
                ylabel="minimum time to Bennu [days]", title=f"Earth → Bennu rendezvous, departure {date}")
        ax3.set_xticks([0.2, 0.3, 0.5, 1, 2, 3])
        ax3.set_yticks([100, 150, 200, 300, 500, 700, 1000, 1500])
        for axis in (ax3.xaxis, ax3.yaxis):  # plain numbers, no minor labels over each other
            axis.set_major_formatter(ScalarFormatter())
            axis.set_minor_formatter(NullFormatter())
        ax3.legend(fontsize=7)
        ax3.grid(True, which="both", lw=0.3)

    with OutputSet(out_dir) as out:
        _write_csv(out.path("ac_vs_area.csv"), ac_rows)
        fig.savefig(out.path("ac_vs_area.png"), dpi=120, bbox_inches="tight", format="png")
        _write_csv(out.path("perihelion_limit.csv"), perihelion_rows())
        fig2.savefig(out.path("film_temperature.png"), dpi=120, bbox_inches="tight", format="png")
        if fig3 is not None:
            _write_csv(out.path("min_tof_bennu.csv"),
                       [{"a_c_mm_s2": p["a_c"] * 1e3, "sail_mass_g": sail_for(p["a_c"]).mass * 1e3,
                         "departure_TDB": date, "tof_days": p["tof_s"] / DAY, "converged": p["converged"],
                         "miss_pos_m": p["miss_pos_m"], "miss_vel_m_s": p["miss_vel_m_s"],
                         "optimiser_s": p["seconds"], "start": p.get("start", "")} for p in points])
            fig3.savefig(out.path("min_tof_bennu.png"), dpi=120, bbox_inches="tight", format="png")
        names = out.names
    for f in (fig, fig2, fig3):
        if f is not None:
            plt.close(f)
    return names
