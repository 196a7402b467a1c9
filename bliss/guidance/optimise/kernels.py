"""The optimiser's compiled propagation: fixed-step RK4 of the Sun + sail dynamics with the variational
equations (state transition matrix and sensitivities to the segment's cone/clock), segment by segment
(see ``bliss.guidance.optimise`` for the method). Plain float arrays, SI units.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.constants import GM_SUN
from sim.rtn import rtn_normal_xyz
from sim.sail import srp_accel

_FD_REL = 1e-5      # relative central-difference step for the SRP Jacobian (state)
_FD_ANG = 1e-5      # rad, central-difference step for the SRP sensitivity to cone/clock
_NAUG = 54          # 6 state + 36 STM + 12 attitude sensitivities


@njit(cache=True, inline="always")
def _srp_rtn(x, y, z, vx, vy, vz, cone, clock, p):
    nx, ny, nz = rtn_normal_xyz(x, y, z, vx, vy, vz, cone, clock)
    return srp_accel(x, y, z, nx, ny, nz, p)


@njit(cache=True)
def _f_state(s, cone, clock, p, out):
    x, y, z, vx, vy, vz = s[0], s[1], s[2], s[3], s[4], s[5]
    r2 = x * x + y * y + z * z
    g = -GM_SUN / (r2 * math.sqrt(r2))
    sx, sy, sz = _srp_rtn(x, y, z, vx, vy, vz, cone, clock, p)
    out[0] = vx
    out[1] = vy
    out[2] = vz
    out[3] = g * x + sx
    out[4] = g * y + sy
    out[5] = g * z + sz


@njit(cache=True)
def _f_aug(s, cone, clock, p, out, A, G, q):
    """State derivative plus variational equations: Phi' = A Phi, B' = A B + G."""
    _f_state(s, cone, clock, p, out)
    x, y, z = s[0], s[1], s[2]
    r2 = x * x + y * y + z * z
    r = math.sqrt(r2)
    vn = math.sqrt(s[3] * s[3] + s[4] * s[4] + s[5] * s[5])
    kk = GM_SUN / (r2 * r)
    for i in range(6):
        for j in range(6):
            A[i, j] = 0.0
    A[0, 3] = 1.0
    A[1, 4] = 1.0
    A[2, 5] = 1.0
    for i in range(3):
        for j in range(3):
            A[3 + i, j] = kk * (3.0 * s[i] * s[j] / r2 - (1.0 if i == j else 0.0))
    for j in range(6):
        st = _FD_REL * (r if j < 3 else vn)
        for i in range(6):
            q[i] = s[i]
        q[j] = s[j] + st
        px, py, pz = _srp_rtn(q[0], q[1], q[2], q[3], q[4], q[5], cone, clock, p)
        q[j] = s[j] - st
        mx, my, mz = _srp_rtn(q[0], q[1], q[2], q[3], q[4], q[5], cone, clock, p)
        A[3, j] += (px - mx) / (2.0 * st)
        A[4, j] += (py - my) / (2.0 * st)
        A[5, j] += (pz - mz) / (2.0 * st)
    for i in range(6):
        G[i, 0] = 0.0
        G[i, 1] = 0.0
    px, py, pz = _srp_rtn(x, y, z, s[3], s[4], s[5], cone + _FD_ANG, clock, p)
    mx, my, mz = _srp_rtn(x, y, z, s[3], s[4], s[5], cone - _FD_ANG, clock, p)
    G[3, 0] = (px - mx) / (2.0 * _FD_ANG)
    G[4, 0] = (py - my) / (2.0 * _FD_ANG)
    G[5, 0] = (pz - mz) / (2.0 * _FD_ANG)
    px, py, pz = _srp_rtn(x, y, z, s[3], s[4], s[5], cone, clock + _FD_ANG, p)
    mx, my, mz = _srp_rtn(x, y, z, s[3], s[4], s[5], cone, clock - _FD_ANG, p)
    G[3, 1] = (px - mx) / (2.0 * _FD_ANG)
    G[4, 1] = (py - my) / (2.0 * _FD_ANG)
    G[5, 1] = (pz - mz) / (2.0 * _FD_ANG)
    for i in range(6):
        for j in range(6):
            acc = 0.0
            for k in range(6):
                acc += A[i, k] * s[6 + 6 * k + j]
            out[6 + 6 * i + j] = acc
        for j in range(2):
            acc = G[i, j]
            for k in range(6):
                acc += A[i, k] * s[42 + 2 * k + j]
            out[42 + 2 * i + j] = acc


@njit(cache=True)
def _seg_state(y0, cone, clock, h, nsub, p, yend):
    s = y0.copy()
    k1 = np.empty(6)
    k2 = np.empty(6)
    k3 = np.empty(6)
    k4 = np.empty(6)
    w = np.empty(6)
    dt = h / nsub
    for _ in range(nsub):
        _f_state(s, cone, clock, p, k1)
        for i in range(6):
            w[i] = s[i] + 0.5 * dt * k1[i]
        _f_state(w, cone, clock, p, k2)
        for i in range(6):
            w[i] = s[i] + 0.5 * dt * k2[i]
        _f_state(w, cone, clock, p, k3)
        for i in range(6):
            w[i] = s[i] + dt * k3[i]
        _f_state(w, cone, clock, p, k4)
        for i in range(6):
            s[i] += dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
    yend[:] = s


@njit(cache=True)
def _seg_aug(y0, cone, clock, h, nsub, p, yend, phi, bm, fend):
    s = np.zeros(_NAUG)
    s[:6] = y0
    for i in range(6):
        s[6 + 7 * i] = 1.0
    k1 = np.empty(_NAUG)
    k2 = np.empty(_NAUG)
    k3 = np.empty(_NAUG)
    k4 = np.empty(_NAUG)
    w = np.empty(_NAUG)
    A = np.empty((6, 6))
    G = np.empty((6, 2))
    q = np.empty(6)
    dt = h / nsub
    for _ in range(nsub):
        _f_aug(s, cone, clock, p, k1, A, G, q)
        for i in range(_NAUG):
            w[i] = s[i] + 0.5 * dt * k1[i]
        _f_aug(w, cone, clock, p, k2, A, G, q)
        for i in range(_NAUG):
            w[i] = s[i] + 0.5 * dt * k2[i]
        _f_aug(w, cone, clock, p, k3, A, G, q)
        for i in range(_NAUG):
            w[i] = s[i] + dt * k3[i]
        _f_aug(w, cone, clock, p, k4, A, G, q)
        for i in range(_NAUG):
            s[i] += dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
    yend[:] = s[:6]
    for i in range(6):
        for j in range(6):
            phi[i, j] = s[6 + 6 * i + j]
        bm[i, 0] = s[42 + 2 * i]
        bm[i, 1] = s[43 + 2 * i]
    _f_state(yend, cone, clock, p, fend)


@njit(cache=True)
def shoot(arc_y0, arc_seg, att, h, nsub, p, var, YEND, PHI, BM, FEND):
    """Propagate every arc segment by segment (RK4); with ``var`` also the variational quantities."""
    y = np.empty(6)
    for m in range(arc_y0.shape[0]):
        y[:] = arc_y0[m]
        for k in range(arc_seg[m], arc_seg[m + 1]):
            if var:
                _seg_aug(y, att[k, 0], att[k, 1], h, nsub, p, YEND[k], PHI[k], BM[k], FEND[k])
            else:
                _seg_state(y, att[k, 0], att[k, 1], h, nsub, p, YEND[k])
            y[:] = YEND[k]


def shoot_rk4(y0, att, h, nsub, sail_params, var=True):
    """Single-arc RK4 propagation of N equal segments (public for tests): y_end, Phi(N,6,6), B(N,6,2), f(N,6).

    ``att`` (N, 2) cone/clock [rad], ``h`` segment duration [s], ``nsub`` RK4 steps per segment.
    """
    att = np.ascontiguousarray(att, dtype=float).reshape(-1, 2)
    n = att.shape[0]
    YEND, PHI, BM, FEND = np.zeros((n, 6)), np.zeros((n, 6, 6)), np.zeros((n, 6, 2)), np.zeros((n, 6))
    shoot(np.ascontiguousarray(y0, dtype=float).reshape(1, 6), np.array([0, n], dtype=np.int64), att,
           float(h), int(nsub), sail_params, bool(var), YEND, PHI, BM, FEND)
    return YEND, PHI, BM, FEND


def chain_jacobian(PHI, BM, FEND, n_total):
    """Sensitivities of a single arc's final state: d y_f/d y_0 (6,6), d y_f/d att (6, N, 2), d y_f/d h (6,).

    ``n_total`` is unused except for clarity in callers (h is common to all segments)."""
    n = PHI.shape[0]
    S = np.eye(6)
    datt = np.zeros((6, n, 2))
    dh = np.zeros(6)
    for k in range(n - 1, -1, -1):
        datt[:, k, :] = S @ BM[k]
        dh += S @ FEND[k]
        S = S @ PHI[k]
    return S, datt, dh
