"""Plots of a Monte Carlo campaign: arrival miss and TOF distributions, miss against each dispersed
parameter (which one matters)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the headless backend is chosen)
import numpy as np  # noqa: E402

from bliss.montecarlo.dispersions import PARAMETERS  # noqa: E402


def _ok(rows):
    return [r for r in rows if r["status"] == "ok"]


def plot_distributions(path, runs_by_mode: dict, title: str):
    """Histograms of log10(miss km) and TOF [days] per mode (open / closed loop)."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    for mode, rows in runs_by_mode.items():
        ok = _ok(rows)
        if not ok:
            continue
        miss = np.array([r["miss_km"] for r in ok])
        a1.hist(np.log10(np.maximum(miss, 1e-6)), bins=30, alpha=0.6,
                label=f"{mode} loop: median {np.median(miss):.3g} km, p90 {np.percentile(miss, 90):.3g} km")
        a2.hist([r["tof_days"] for r in ok], bins=30, alpha=0.6, label=f"{mode} loop")
    a1.set_xlabel("log10 arrival miss [km]")
    a1.set_ylabel("runs")
    a2.set_xlabel("time of flight [days]")
    for a in (a1, a2):
        a.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_sensitivity(path, runs_by_mode: dict, title: str):
    """log10 miss against each dispersed parameter, one panel per parameter."""
    fig, axes = plt.subplots(2, 3, figsize=(12, 7))
    for ax, p in zip(axes.ravel(), PARAMETERS):
        for mode, rows in runs_by_mode.items():
            ok = _ok(rows)
            if ok:
                ax.scatter([r[p] for r in ok], np.log10(np.maximum([r["miss_km"] for r in ok], 1e-6)), s=6,
                           alpha=0.6, label=f"{mode} loop")
        ax.set_xlabel(p)
        ax.set_ylabel("log10 miss [km]")
    axes.ravel()[0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
