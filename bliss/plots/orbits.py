"""Reference orbits for the trajectory plots, sampled from :mod:`sim.ephemeris` without matplotlib.

Split from :mod:`bliss.plots.trajectory` so that a command can sample (and check) them before, and apart
from, drawing: ``bliss propagate`` checks the reference orbits' dates before it flies, and the plot is
drawn in a child process (``bliss.io.forked``) which alone imports matplotlib.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from sim.constants import GM_SUN
from sim.ephemeris import BENNU, body_states

__all__ = ["ORBIT_SAMPLES", "orbital_period_s", "sample_orbit", "default_reference_orbits"]

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
