"""Files of ``bliss survey``: the table (CSV and Parquet) and the plots, written all-or-nothing through
``bliss.io.atomic.OutputSet`` (temporary files renamed into place only when every file is complete)."""
from __future__ import annotations

import csv
import json

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from bliss.io.atomic import OutputSet  # noqa: E402
from bliss.survey.catalogue import Catalogue  # noqa: E402
from sim.constants import DAY  # noqa: E402
from sim.timeconv import tdb_seconds_to_epoch  # noqa: E402

COLUMNS = ("rank", "designation", "orbit_class", "H", "a_AU", "e", "i_deg", "screen_tof_days",
           "screen_departure_TDB", "optimiser_tof_days", "optimiser_departure_TDB", "optimiser_converged")


def _iso(t):
    return "" if not np.isfinite(t) else tdb_seconds_to_epoch(float(t)).tdb.isot[:10]


def survey_table(cat: Catalogue, res: dict) -> dict:
    """Columns of the survey table, rows in screen order (rank 1 = shortest screen time)."""
    o = res["order"]
    return {
        "rank": np.arange(1, o.size + 1),
        "designation": cat.designation[o].tolist(),
        "orbit_class": cat.orbit_class[o].tolist(),
        "H": cat.H[o], "a_AU": cat.a_au[o], "e": cat.e[o], "i_deg": cat.i_deg[o],
        "screen_tof_days": res["screen_tof_s"][o] / DAY,
        "screen_departure_TDB": [_iso(t) for t in res["screen_t_depart"][o]],
        "optimiser_tof_days": res["opt_tof_s"][o] / DAY,
        "optimiser_departure_TDB": [_iso(t) for t in res["opt_t_depart"][o]],
        "optimiser_converged": [bool(c) if np.isfinite(d) else None
                                for c, d in zip(res["opt_converged"][o], res["opt_t_depart"][o])],
    }


def _write_csv(path, table):
    n = len(table["rank"])
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for k in range(n):
            row = []
            for c in COLUMNS:
                v = table[c][k]
                if isinstance(v, (float, np.floating)):
                    row.append("" if not np.isfinite(v) else f"{v:.6g}")
                else:
                    row.append("" if v is None else v)
            w.writerow(row)


def _plot_aei(path, cat, res):
    tof = res["screen_tof_s"] / DAY
    fin = np.isfinite(tof)
    fig, axes = plt.subplots(1, 2, figsize=(12, 5), constrained_layout=True)
    ref = np.isfinite(res["opt_tof_s"])
    for ax, y, lab in ((axes[0], cat.e, "eccentricity e"), (axes[1], cat.i_deg, "inclination i [deg]")):
        sc = ax.scatter(cat.a_au[fin], y[fin], c=tof[fin], s=2, cmap="viridis_r", vmin=0,
                        vmax=np.nanpercentile(tof[fin], 95) if fin.any() else 1)
        if ref.any():
            ax.scatter(cat.a_au[ref], y[ref], c=res["opt_tof_s"][ref] / DAY, s=40, cmap="viridis_r",
                       vmin=sc.get_clim()[0], vmax=sc.get_clim()[1], edgecolors="red", linewidths=0.8,
                       label="refined (optimiser TOF)")
            ax.legend(loc="upper right")
        ax.set_xlabel("semi-major axis a [AU]")
        ax.set_ylabel(lab)
        ax.set_xlim(0.5, 3.5)
    fig.colorbar(sc, ax=axes, label="rendezvous time [days] (dots: screen; ringed: optimiser)")
    fig.suptitle("Minimum rendezvous time from Earth over (a, e, i)")
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def _plot_cumulative(path, res):
    fig, ax = plt.subplots(figsize=(7, 5), constrained_layout=True)
    s = np.sort(res["screen_tof_s"][np.isfinite(res["screen_tof_s"])]) / DAY
    ax.step(s, np.arange(1, s.size + 1), where="post", label="screen (all objects)")
    o = np.sort(res["opt_tof_s"][np.isfinite(res["opt_tof_s"])]) / DAY
    if o.size:
        ax.step(o, np.arange(1, o.size + 1), where="post", label=f"optimiser ({o.size} refined, converged)")
    ax.set_xlabel("time of flight T [days]")
    ax.set_ylabel("number of NEAs reachable within T")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def write_products(out_dir, cat: Catalogue, res: dict, meta: dict) -> list[str]:
    """survey.csv, survey.parquet, survey.json (run settings and timings), tof_aei.png,
    cumulative.png in ``out_dir``, all or none. Returns the file names."""
    table = survey_table(cat, res)
    with OutputSet(out_dir) as out:
        _write_csv(out.path("survey.csv"), table)
        pq.write_table(pa.table({c: table[c] for c in COLUMNS}), out.path("survey.parquet"))
        with open(out.path("survey.json"), "w") as f:
            json.dump(meta, f, indent=2, default=float)
        _plot_aei(out.path("tof_aei.png"), cat, res)
        _plot_cumulative(out.path("cumulative.png"), res)
        names = out.names
    return names
