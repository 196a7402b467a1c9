"""Attitude determination: a multiplicative extended Kalman filter (MEKF) fusing the rate gyro, the Sun
sensor and the star camera.

The textbook MEKF (Lefferts, Markley & Shuster, J. Guidance 5(5), 1982; Markley & Crassidis,
"Fundamentals of Spacecraft Attitude Determination and Control", 2014, ch. 6), in the conventions of
``bliss.fsw.messages`` (scalar-last inertial-to-body quaternion). The estimate is a quaternion q and a
gyro bias b; the filter's state is the 6-vector of small errors (dtheta, db) with q_true = q (x)
[dtheta/2, 1] (a body-side rotation) and b_true = b + db.

- Propagation with the bias-corrected gyro rate w = w_meas - b: q <- q (x) exp(w dt/2) (exact for a
  constant rate); error dynamics d(dtheta)/dt = -[w x] dtheta - db - v, d(db)/dt = u, discretised to
  second order in dt; process noise of the Farrenkopf gyro model (angle random walk sigma_v, rate random
  walk sigma_u): Q11 = sigma_v^2 dt + sigma_u^2 dt^3/3, Q12 = -sigma_u^2 dt^2/2, Q22 = sigma_u^2 dt.
- Sun sensor: measured unit vector s_b against the predicted R(q)^T s_i; H = [[s_b x], 0], R = sigma^2 I
  (the 3x3 form of Shuster's QUEST measurement model).
- Star camera: dtheta_meas = 2 vec(q^-1 (x) q_meas); H = [I, 0], R = sigma^2 I.
- Joseph-form covariance update; the multiplicative reset moves dtheta into q and db into b.

Kernels are numba functions on plain arrays (``q`` (4), ``b`` (3), ``P`` (6, 6), in place); :class:`Mekf`
wraps them with the typed messages.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from bliss.fsw.messages import (AttitudeEstimate, GyroMeasurement, StarCameraMeasurement,
                                SunSensorMeasurement)
from sim.quaternion import error_angles, inverse3, rotate_by_rate, rotate_small, to_body


@njit(cache=True)
def _mm(a, b, out, b_transposed=False):
    """out = a @ b (or a @ b.T) with plain loops (6x6-sized matrices: faster than a BLAS call)."""
    n, m = a.shape[0], a.shape[1]
    p = b.shape[0] if b_transposed else b.shape[1]
    for i in range(n):
        for j in range(p):
            acc = 0.0
            for k in range(m):
                acc += a[i, k] * (b[j, k] if b_transposed else b[k, j])
            out[i, j] = acc


@njit(cache=True)
def _symmetrise(src, P):
    for i in range(6):
        for j in range(6):
            P[i, j] = 0.5 * (src[i, j] + src[j, i])


@njit(cache=True)
def mekf_propagate(q, b, P, w_meas, dt, arw, rrw, w_out):
    """Propagate the estimate over dt [s] with the mean gyro reading ``w_meas``; the corrected rate goes
    into ``w_out``."""
    for i in range(3):
        w_out[i] = w_meas[i] - b[i]
    rotate_by_rate(q, w_out, dt)
    mekf_propagate_covariance(P, w_out, dt, arw, rrw)


@njit(cache=True)
def mekf_propagate_covariance(P, w_out, dt, arw, rrw):
    """The covariance part of :func:`mekf_propagate` alone, over dt [s] at the corrected rate ``w_out``.
    A loop may propagate the quaternion every gyro sample (``rotate_by_rate`` with w_meas - b) and the
    covariance once per measurement interval, with the interval's mean rate: the rates are 1e-4 rad/s,
    so over 10 s the transition matrix differs from the product of the per-sample ones by O(1e-6)."""
    wx = np.zeros((3, 3))
    wx[0, 1], wx[0, 2], wx[1, 2] = -w_out[2], w_out[1], -w_out[0]
    wx[1, 0], wx[2, 0], wx[2, 1] = w_out[2], -w_out[1], w_out[0]
    wx2 = np.empty((3, 3))
    _mm(wx, wx, wx2)
    phi = np.zeros((6, 6))
    for i in range(3):
        for j in range(3):
            d = 1.0 if i == j else 0.0
            phi[i, j] = d - wx[i, j] * dt + 0.5 * wx2[i, j] * dt * dt
            phi[i, 3 + j] = -d * dt + 0.5 * wx[i, j] * dt * dt
        phi[3 + i, 3 + i] = 1.0
    t1 = np.empty((6, 6))
    t2 = np.empty((6, 6))
    _mm(phi, P, t1)
    _mm(t1, phi, t2, True)
    v2, u2 = arw * arw, rrw * rrw
    for i in range(3):
        t2[i, i] += v2 * dt + u2 * dt**3 / 3.0
        t2[i, 3 + i] -= u2 * dt * dt / 2.0
        t2[3 + i, i] -= u2 * dt * dt / 2.0
        t2[3 + i, 3 + i] += u2 * dt
    _symmetrise(t2, P)


@njit(cache=True)
def _update(q, b, P, h, resid, sigma):
    """Kalman update with H = [h, 0] (h 3x3: both our measurements see the attitude error only) and
    R = sigma^2 I. Covariance in the Joseph form, which for the optimal gain K = P H^T S^-1 reduces to
    P - K (P H^T)^T - (P H^T) K^T + K S K^T (no shortcut of the symmetric form is taken)."""
    pht = np.empty((6, 3))
    for i in range(6):
        for j in range(3):
            pht[i, j] = P[i, 0] * h[j, 0] + P[i, 1] * h[j, 1] + P[i, 2] * h[j, 2]
    S = np.empty((3, 3))
    for i in range(3):
        for j in range(3):
            S[i, j] = h[i, 0] * pht[0, j] + h[i, 1] * pht[1, j] + h[i, 2] * pht[2, j]
        S[i, i] += sigma * sigma
    Si = np.empty((3, 3))
    inverse3(S, Si)
    K = np.empty((6, 3))
    _mm(pht, Si, K)
    KS = np.empty((6, 3))
    _mm(K, S, KS)
    dx = np.zeros(6)
    for i in range(6):
        for j in range(3):
            dx[i] += K[i, j] * resid[j]
    t2 = np.empty((6, 6))
    for i in range(6):
        for j in range(6):
            acc = P[i, j]
            for k in range(3):
                acc += -K[i, k] * pht[j, k] - pht[i, k] * K[j, k] + KS[i, k] * K[j, k]
            t2[i, j] = acc
    _symmetrise(t2, P)
    rotate_small(q, dx[:3])
    for i in range(3):
        b[i] += dx[3 + i]


@njit(cache=True)
def mekf_update_vector(q, b, P, s_meas, s_ref, sigma):
    """Update with a measured body unit vector ``s_meas`` of the inertial reference ``s_ref``."""
    sp = np.empty(3)
    to_body(q, s_ref, sp)
    H = np.zeros((3, 3))
    H[0, 1], H[0, 2], H[1, 2] = -sp[2], sp[1], -sp[0]
    H[1, 0], H[2, 0], H[2, 1] = sp[2], -sp[1], sp[0]
    resid = np.empty(3)
    for i in range(3):
        resid[i] = s_meas[i] - sp[i]
    _update(q, b, P, H, resid, sigma)


@njit(cache=True)
def mekf_update_attitude(q, b, P, q_meas, sigma):
    """Update with a measured quaternion (star camera)."""
    resid = np.empty(3)
    error_angles(q, q_meas, resid)
    H = np.eye(3)
    _update(q, b, P, H, resid, sigma)


class Mekf:
    """The attitude-determination filter with message in/out (see the module docstring).

    ``q0``: initial quaternion (e.g. a star-camera fix); ``sigma_att0`` [rad] and ``sigma_bias0`` [rad/s]:
    initial 1-sigma per axis; noise figures of the sensors it fuses (the flight software's configured
    values; they may differ from the truth).
    """

    def __init__(self, t0: float, q0, sigma_att0: float, sigma_bias0: float, gyro_arw: float,
                 gyro_rrw: float, sun_sigma: float, star_sigma: float):
        self.t = float(t0)
        self.q = np.array(q0, float) / np.linalg.norm(q0)
        self.b = np.zeros(3)
        self.P = np.diag([sigma_att0**2] * 3 + [sigma_bias0**2] * 3)
        self.w = np.zeros(3)
        self.arw, self.rrw, self.sun_sigma, self.star_sigma = gyro_arw, gyro_rrw, sun_sigma, star_sigma

    def propagate(self, gyro: GyroMeasurement) -> None:
        mekf_propagate(self.q, self.b, self.P, np.asarray(gyro.rate), float(gyro.dt), self.arw, self.rrw, self.w)
        self.t = float(gyro.t)

    def update_sun(self, sun: SunSensorMeasurement, sun_direction_inertial) -> bool:
        """Fuse a Sun-sensor reading; ``sun_direction_inertial``: unit vector toward the Sun from the
        spacecraft in the inertial frame (from the navigation estimate). False if the Sun was not seen."""
        if sun.direction is None:
            return False
        mekf_update_vector(self.q, self.b, self.P, np.asarray(sun.direction),
                           np.asarray(sun_direction_inertial, float), self.sun_sigma)
        return True

    def update_star(self, star: StarCameraMeasurement) -> None:
        mekf_update_attitude(self.q, self.b, self.P, np.asarray(star.q), self.star_sigma)

    def estimate(self) -> AttitudeEstimate:
        return AttitudeEstimate(self.t, self.q.copy(), self.w.copy(), self.b.copy(), self.P.copy())


def nees(q_est, b_est, P, q_true, b_true) -> float:
    """Normalised estimation-error squared of an estimate against the truth (chi-square with 6 degrees of
    freedom when the filter is consistent)."""
    e = np.empty(6)
    dth = np.empty(3)
    error_angles(np.asarray(q_est, float), np.asarray(q_true, float), dth)
    e[:3] = dth
    e[3:] = np.asarray(b_true, float) - np.asarray(b_est, float)
    return float(e @ np.linalg.solve(P, e))


__all__ = ["Mekf", "mekf_propagate", "mekf_propagate_covariance", "mekf_update_vector", "mekf_update_attitude",
           "nees"]
