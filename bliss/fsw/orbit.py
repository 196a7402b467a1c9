"""Osculating-orbit quantities the executive's guards and the phasing use (plain floats, SI, radians).

Both the spacecraft's orbit (from its navigation estimate) and the target's (from its prediction) go
through these, with the Sun's GM (``sim.constants.GM_SUN``, JPL DE430) for the spacecraft.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.kepler import rv2coe, true_to_mean


@njit(cache=True)
def wrap_angle(x):
    """x [rad] wrapped to [-pi, pi)."""
    return (x + math.pi) % (2.0 * math.pi) - math.pi


def mean_longitude(mu: float, r, v) -> float:
    """raan + argp + M [rad] of the osculating orbit (well defined for small i and e)."""
    # writable copies: message arrays are read-only, and numba compiles a second rv2coe for those
    a, e, i, raan, argp, nu = rv2coe(mu, np.array(r, dtype=float), np.array(v, dtype=float))
    return raan + argp + true_to_mean(nu, e)


def perihelion(mu: float, r, v) -> float:
    """Perihelion distance a (1 - e) [m] of the osculating orbit (r [m], v [m/s])."""
    a, e = rv2coe(mu, np.array(r, dtype=float), np.array(v, dtype=float))[:2]  # writable (see above)
    return a * (1.0 - e)
