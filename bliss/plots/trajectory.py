"""Plot a heliocentric trajectory in the ecliptic plane, with the orbits of Earth and a target body.

``plot_trajectory(path, t_s, y)`` writes a PNG: the path's x, y in AU (mean ecliptic and equinox of
J2000), the Sun at the origin, start and end markers, and one full period of each reference body's
orbit sampled from :mod:`sim.ephemeris` (Earth and Bennu by default), with a legend and equal aspect.
"""
from __future__ import annotations

import os
from typing import Mapping

import matplotlib

matplotlib.use("Agg")  # files only; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.constants import AU  # noqa: E402

__all__ = ["plot_trajectory"]


def plot_trajectory(path: str | os.PathLike, t_s, y, orbits: Mapping[str, np.ndarray] | None = None,
                    title: str | None = None) -> None:
    """Write the ecliptic-plane plot of states ``y`` (n, 6) [m, m/s] at ``t_s`` (n,) to ``path`` (PNG).

    ``orbits``: {label: positions (k, 3) m} drawn as reference orbits; default Earth and Bennu sampled
    over one period from the first time. Pass ``{}`` for none.
    """
    t_s = np.asarray(t_s, dtype=float)
    y = np.asarray(y, dtype=float)
    if orbits is None:
        # lazy: numba and astropy; a command draws in a process that imports matplotlib only (bliss.io.forked)
        from bliss.plots.orbits import default_reference_orbits

        orbits = default_reference_orbits(float(t_s[0]))
    colours = {"Earth": "tab:blue", "Bennu": "tab:brown"}
    fig, ax = plt.subplots(figsize=(6.4, 6.4), dpi=110)
    try:
        ax.plot(0.0, 0.0, marker="o", color="gold", markersize=14, markeredgecolor="orange",
                linestyle="none", label="Sun")
        for label, pos in orbits.items():
            pos = np.asarray(pos, dtype=float) / AU
            ax.plot(pos[:, 0], pos[:, 1], linestyle="--", linewidth=1.0,
                    color=colours.get(label), label=f"{label} orbit")
        xy = y[:, :2] / AU
        ax.plot(xy[:, 0], xy[:, 1], color="tab:red", linewidth=1.6, label="sail trajectory")
        ax.plot(xy[0, 0], xy[0, 1], marker="o", color="tab:green", linestyle="none", label="start")
        ax.plot(xy[-1, 0], xy[-1, 1], marker="X", color="black", markersize=8, linestyle="none",
                label="end")
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel("x [AU] (ecliptic J2000)")
        ax.set_ylabel("y [AU] (ecliptic J2000)")
        days = (t_s[-1] - t_s[0]) / 86400.0
        ax.set_title(title or f"Heliocentric trajectory, {days:.0f} days")
        ax.grid(True, linewidth=0.4, alpha=0.5)
        ax.legend(loc="best", fontsize="small", framealpha=0.85)
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
