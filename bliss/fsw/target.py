"""The target as the spacecraft predicts it: state and osculating elements from a ``TargetPrediction``.

The prediction is two-body (Kepler) motion on the uploaded elements, through ``sim.kepler.elements_state``,
the same function ``sim.ephemeris.SmallBody`` and ``bliss.guidance.problem.Target`` use: for a target
given by elements or a ``SmallBody`` (the default mission's Bennu) the onboard prediction equals the
simulator's target state to the last bit. What the ground sends for a target known only as a state
function is decided in ``bliss.guidance.problem.Target.prediction``.
"""
from __future__ import annotations

import numpy as np

from bliss.fsw.messages import TargetPrediction
from sim.kepler import elements_state, rv2coe


def predicted_state(target: TargetPrediction, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Predicted heliocentric position [m] and velocity [m/s] of the target at TDB seconds ``t``."""
    el = target.elements
    r, v = elements_state(target.mu, el[0], el[1], el[2], el[3], el[4], el[5], el[6], float(t))
    return np.asarray(r, dtype=float), np.asarray(v, dtype=float)


def predicted_elements(target: TargetPrediction, t: float) -> np.ndarray:
    """Osculating ``[a m, e, i, raan, argp rad]`` of the predicted state at ``t`` (the orbit the matching
    law steers toward; computed from the state, so a degenerate orbit gets ``sim.kepler.rv2coe``'s
    conventions for raan and argp)."""
    r, v = predicted_state(target, t)
    return np.asarray(rv2coe(target.mu, r, v)[:5], dtype=float)
