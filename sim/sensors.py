"""Attitude sensors of the BLISS spacecraft as the plant produces their readings (numba kernels; the
caller supplies standard-normal draws, so a run is reproducible and a test can feed known noise).

Defaults (``SensorSpec``) for a chip-scale spacecraft of about 10 g; where no flight part that small
exists, the figure is our design assumption and says so:

- Sun sensor: a quadrant-photodiode die looking along body -z (toward the Sun when the sail faces it),
  field of view +-60 deg half-angle, 0.5 deg (1 sigma) per axis. Figures of the smallest commercial Sun
  sensors (e.g. Solar MEMS nanoSSOC-A60: +-60 deg field, < 0.5 deg accuracy); the die alone is what a
  10 g craft can carry (design assumption). Outside the field it returns nothing. Read every 10 s: at
  0.5 deg it adds little to the star camera's 0.03 deg a minute (about 10 % of the information in tilt,
  nothing in roll), and each update costs as much as the rest of a control period.
- Rate gyro: a MEMS three-axis gyro die (e.g. Bosch BMI088: rate noise density 0.014 deg/s/sqrt(Hz),
  bias instability about 2 deg/h). Angle random walk sigma_v = 0.014 deg/s/sqrt(Hz) = 2.44e-4
  rad/s^0.5; bias random walk sigma_u = 3e-7 rad/s^1.5 (a 2 deg/h = 9.7e-6 rad/s bias wander over about
  1,000 s). Model (Farrenkopf): w_meas = w + b + v, db/dt = u; the sample is the mean over dt, so v has
  sigma_v / sqrt(dt).
- Star camera: a low-rate attitude fix, one every 60 s, 0.03 deg (1 sigma, about 100 arcsec) per axis:
  a camera-on-chip with a wide-field lens (design assumption; CubeSat star trackers of 100-300 g reach
  10 arcsec).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from sim.quaternion import quat_mul, to_body


@dataclass(frozen=True)
class SensorSpec:
    """Noise figures and rates (SI: rad, rad/s, s); defaults justified in the module docstring."""

    sun_sigma: float = math.radians(0.5)
    sun_fov: float = math.radians(60.0)
    sun_period: float = 10.0                       # s
    gyro_arw: float = math.radians(0.014)          # rad/s/sqrt(Hz) = rad/sqrt(s)
    gyro_rrw: float = 3.0e-7                       # rad/s^1.5
    gyro_bias0: float = math.radians(2.0) / 3600   # rad/s, 1 sigma initial bias per axis
    star_sigma: float = math.radians(0.03)
    star_period: float = 60.0                      # s

    def array(self) -> np.ndarray:
        return np.array([self.sun_sigma, self.sun_fov, self.gyro_arw, self.gyro_rrw, self.gyro_bias0,
                         self.star_sigma, self.star_period, self.sun_period])


S_SUN_SIGMA, S_SUN_FOV, S_ARW, S_RRW, S_BIAS0, S_STAR_SIGMA, S_STAR_PERIOD, S_SUN_PERIOD = range(8)


@njit(cache=True)
def sun_sensor(q, light, sigma, fov, z2, out):
    """Measured unit vector toward the Sun in body axes (into ``out``); returns False (and leaves ``out``)
    when the Sun is outside the field (angle from body -z above ``fov``).

    ``light``: unit Sun-to-spacecraft vector, inertial. The truth s = -R^T light is turned by two small
    angles sigma * z2 about the body x and y axes."""
    ub = np.empty(3)
    to_body(q, light, ub)
    sx, sy, sz = -ub[0], -ub[1], -ub[2]
    if -sz < math.cos(fov):
        return False
    ax, ay = sigma * z2[0], sigma * z2[1]
    # small rotation by (ax, ay, 0): s + a x s
    out[0] = sx + ay * sz
    out[1] = sy - ax * sz
    out[2] = sz + ax * sy - ay * sx
    n = math.sqrt(out[0] ** 2 + out[1] ** 2 + out[2] ** 2)
    for i in range(3):
        out[i] /= n
    return True


@njit(cache=True)
def gyro_sample(w_true, bias, arw, rrw, dt, z6, out):
    """Mean measured rate over the last dt [s] (into ``out``); advances the true ``bias`` (in place) by
    its random walk. ``z6``: six standard-normal draws."""
    for i in range(3):
        out[i] = w_true[i] + bias[i] + arw / math.sqrt(dt) * z6[i]
        bias[i] += rrw * math.sqrt(dt) * z6[3 + i]


@njit(cache=True)
def star_camera(q, sigma, z3, out):
    """Measured inertial-to-body quaternion (scalar-last, into ``out``): the truth times a small rotation
    of sigma * z3 about the body axes (q_meas = q (x) dq)."""
    d = np.empty(4)
    d[0], d[1], d[2], d[3] = 0.5 * sigma * z3[0], 0.5 * sigma * z3[1], 0.5 * sigma * z3[2], 1.0
    quat_mul(q, d, out)
    n = math.sqrt(out[0] ** 2 + out[1] ** 2 + out[2] ** 2 + out[3] ** 2)
    for i in range(4):
        out[i] /= n
