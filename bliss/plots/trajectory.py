"""Plot a heliocentric trajectory in the ecliptic plane, with the orbits of Earth and a target body.

``plot_trajectory(path, t_s, y)`` writes a PNG: the path's x, y in AU (mean ecliptic and equinox of
J2000), the Sun at the origin, start and end markers, and one full period of each reference body's
orbit sampled from :mod:`sim.ephemeris` (Earth and Bennu by default), with a legend and equal aspect.
"""
from __future__ import annotations

import math
import os
from typing import Callable, Mapping

import matplotlib

matplotlib.use("Agg")  # files only; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.constants import AU, GM_SUN  # noqa: E402
from sim.ephemeris import BENNU, body_states  # noqa: E402

__all__ = ["plot_trajectory", "sample_orbit", "default_reference_orbits"]

#: Samples per reference-orbit period (enough for a smooth ellipse at plot resolution).
ORBIT_SAMPLES = 181


def orbital_period_s(r, v, mu: float = GM_SUN) -> float:
    """Two-body period [s] of the heliocentric state (r [m], v [m/s]) from vis-viva; inf if unbound."""
    r, v = np.asarray(r, float), np.asarray(v, float)
    inv_a = 2.0 / np.linalg.norm(r) - np.dot(v, v) / mu
    if inv_a <= 0.0:
        return math.inf
    return 2.0 * math.pi * math.sqrt((1.0 / inv_a) ** 3 / mu)


def sample_orbit(states: Callable[[np.ndarray], tuple], t0_s: float, n: int = ORBIT_SAMPLES) -> np.ndarray:
    """Positions (n, 3) [m] of a body over one orbital period from ``t0_s``.

    ``states(times) -> (r (k, 3), v (k, 3))`` is a vectorised ephemeris (e.g. ``sim.ephemeris.body_states``
    with the name bound); the period comes from the two-body energy of the state at ``t0_s``.
    """
    r0, v0 = states(np.array([t0_s]))
    period = orbital_period_s(r0[0], v0[0])
    if not math.isfinite(period):
        raise ValueError("reference body is not on a bound heliocentric orbit; cannot sample one period")
    try:
        r, _ = states(t0_s + np.linspace(0.0, period, n))
    except ValueError:  # e.g. the ephemeris ends within a period: take the period before t0 instead
        r, _ = states(t0_s - np.linspace(0.0, period, n))
    return np.asarray(r, dtype=float)


def default_reference_orbits(t0_s: float) -> dict[str, np.ndarray]:
    """Earth's and Bennu's orbits (one period each from ``t0_s``) as {label: positions (n, 3) m}."""
    return {
        "Earth": sample_orbit(lambda t: body_states("earth", t), t0_s),
        "Bennu": sample_orbit(BENNU.states, t0_s),
    }


def plot_trajectory(path: str | os.PathLike, t_s, y, orbits: Mapping[str, np.ndarray] | None = None,
                    title: str | None = None) -> None:
    """Write the ecliptic-plane plot of states ``y`` (n, 6) [m, m/s] at ``t_s`` (n,) to ``path`` (PNG).

    ``orbits``: {label: positions (k, 3) m} drawn as reference orbits; default Earth and Bennu sampled
    over one period from the first time. Pass ``{}`` for none.
    """
    t_s = np.asarray(t_s, dtype=float)
    y = np.asarray(y, dtype=float)
    if orbits is None:
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
