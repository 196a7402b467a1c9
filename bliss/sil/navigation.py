"""The navigation the flight software gets in the closed loop: ground orbit determination (OD) uploads,
dead-reckoned onboard between them.

Ground OD (``GroundOD``): every ``period`` [s] (default 7 days) the ground determines the spacecraft's
heliocentric state and uploads it: the true state plus Gaussian errors, ``sigma_r`` [m] (default 10 km)
per position axis and ``sigma_v`` [m/s] (default 1 cm/s) per velocity axis, independent between updates
(a deep-space OD arc of a week with ranging and Doppler gives kilometres and mm/s to cm/s; these defaults
are the issue's figures, issue 12). The upload arrives instantly (no latency modelled).

Approach navigation: within ``approach_range`` [m] of the target the uploads come every
``approach_period`` [s] instead, with the same errors (defaults and their sources: ``OD_APPROACH_*`` below,
docs/fly.md "Approach navigation"). The ground knows the range (it has the spacecraft's and the target's
orbits); the flight software never sees it (``bliss.fsw`` reads only its inputs).

Onboard (``DeadReckoning``): the last upload is propagated with the onboard dynamics model, Sun gravity plus
the sail force of the attitudes the executive *commanded* (``sim.dop853.integrate_final``, the same force
model as the plant), so between uploads the estimate drifts from the truth by the upload's error and by
whatever the achieved attitude did differently from the commanded one (pointing error, CP-offset torque
transients). Propagating two-body only would be far worse: the sail's 0.9 mm/s^2 over 7 days is
0.5 a t^2 = 1.6e8 m.
"""
from __future__ import annotations

import math

import numpy as np

from bliss.fsw.messages import NavStateEstimate
from sim.constants import DAY
from sim.dop853 import integrate_final

#: Defaults of the ground OD (issue 12): an update every 7 days, 10 km and 1 cm/s 1-sigma per axis.
OD_PERIOD_S = 7.0 * DAY
OD_SIGMA_R_M = 1.0e4
OD_SIGMA_V_M_S = 1.0e-2
#: Approach OD: every day [s] within 2 million km [m] of the target. OSIRIS-REx's approach phase began with its
#: first images of Bennu at 2.2 million km (NASA, 24 Aug 2018) and imaged it daily for navigation from
#: 44,000 km in; its optical-navigation update took 24 h (docs/fly.md "Approach navigation" has the sources).
#: An upload is applied at a guidance step's start, so the cadence is never denser than the steps.
OD_APPROACH_PERIOD_S = 1.0 * DAY
OD_APPROACH_RANGE_M = 2.0e9


class GroundOD:
    """Ground orbit determination: ``update(t, y_true, y_target)`` returns a noisy state when one is due, else
    None. Due ``period`` [s] after the last one, or ``approach_period`` [s] when the spacecraft is within
    ``approach_range`` [m] of ``y_target`` (the target's state; None: cruise cadence). ``approach_range`` 0:
    no approach cadence."""

    def __init__(self, period: float = OD_PERIOD_S, sigma_r: float = OD_SIGMA_R_M,
                 sigma_v: float = OD_SIGMA_V_M_S, seed: int = 1, approach_period: float = OD_APPROACH_PERIOD_S,
                 approach_range: float = OD_APPROACH_RANGE_M):
        for name, v in (("OD period", period), ("approach OD period", approach_period)):
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {v!r}")
        if not (math.isfinite(approach_range) and approach_range >= 0):
            raise ValueError(f"approach OD range must be a finite number of metres >= 0, got {approach_range!r}")
        if not (sigma_r >= 0 and sigma_v >= 0 and math.isfinite(sigma_r) and math.isfinite(sigma_v)):
            raise ValueError(f"OD errors must be finite and >= 0, got {sigma_r!r} m, {sigma_v!r} m/s")
        self.period, self.sigma_r, self.sigma_v = float(period), float(sigma_r), float(sigma_v)
        self.approach_period, self.approach_range = float(approach_period), float(approach_range)
        self.rng = np.random.default_rng([int(seed), 0x0D])  # its own stream: the attitude noise is separate
        self.t_last = -math.inf
        self.n_updates = 0
        self.n_approach = 0  # uploads made at the approach cadence

    def in_approach(self, y_true, y_target) -> bool:
        return y_target is not None and float(np.linalg.norm(np.asarray(y_true, float)[:3]
                                                             - np.asarray(y_target, float)[:3])) < self.approach_range

    def update(self, t: float, y_true, y_target=None) -> np.ndarray | None:
        approach = self.in_approach(y_true, y_target)
        if t < self.t_last + (self.approach_period if approach else self.period) - 1e-6:
            return None
        self.t_last = t
        self.n_updates += 1
        self.n_approach += int(approach)
        err = np.concatenate([self.rng.normal(size=3) * self.sigma_r, self.rng.normal(size=3) * self.sigma_v])
        return np.asarray(y_true, float) + err

    def covariance(self) -> np.ndarray:
        return np.diag([self.sigma_r ** 2] * 3 + [self.sigma_v ** 2] * 3)


class DeadReckoning:
    """The onboard state estimate: the last OD upload flown forward with the commanded attitudes."""

    def __init__(self, t: float, y, sail_params, rtol: float = 1e-9):
        self.t, self.y = float(t), np.asarray(y, float).copy()
        self.p, self.rtol = np.asarray(sail_params, float), rtol

    def upload(self, t: float, y) -> None:
        self.t, self.y = float(t), np.asarray(y, float).copy()

    def fly(self, seg_t, seg_mode, seg_att) -> None:
        """Propagate over the commanded segments (their first time must be the estimate's time)."""
        seg_t = np.asarray(seg_t, float)
        if abs(seg_t[0] - self.t) > 1e-3:
            raise ValueError(f"dead reckoning at t={self.t!r} asked to fly from {seg_t[0]!r}")
        self.y = integrate_final(self.y, seg_t, np.asarray(seg_mode, np.int64), np.asarray(seg_att, float),
                                 self.p, self.rtol)
        self.t = float(seg_t[-1])

    def estimate(self, cov=None) -> NavStateEstimate:
        return NavStateEstimate(self.t, self.y[:3], self.y[3:], cov)


__all__ = ["DeadReckoning", "GroundOD", "OD_APPROACH_PERIOD_S", "OD_APPROACH_RANGE_M", "OD_PERIOD_S", "OD_SIGMA_R_M",
           "OD_SIGMA_V_M_S"]
