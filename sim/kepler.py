"""Two-body (Kepler) relations, numba-compiled, SI units and radians.

Classical elements: semi-major axis a [m] (negative for hyperbolas), eccentricity e, inclination i,
right ascension of the ascending node raan, argument of periapsis argp, true anomaly nu.
Degenerate cases: for an equatorial orbit (i ~ 0) raan is set to 0 and argp measured from the x axis;
for a circular orbit (e ~ 0) argp is 0 and nu is measured from the node (argument of latitude).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

_TWO_PI = 2.0 * math.pi
_EPS_DEGENERATE = 1e-11


@njit(cache=True, inline="always")
def mean_to_eccentric(M, e):
    """Eccentric anomaly E [rad] from mean anomaly M for 0 <= e < 1 (Newton, Danby's start)."""
    M = M - _TWO_PI * math.floor((M + math.pi) / _TWO_PI)  # wrap to [-pi, pi)
    E = M + 0.85 * e * (1.0 if math.sin(M) >= 0.0 else -1.0)
    for _ in range(50):
        f = E - e * math.sin(E) - M
        fp = 1.0 - e * math.cos(E)
        dE = -f / fp
        E += dE
        if abs(dE) < 1e-15:
            break
    return E


@njit(cache=True, inline="always")
def mean_to_hyperbolic(M, e):
    """Hyperbolic anomaly F from the hyperbolic mean anomaly M = e sinh F - F, e > 1."""
    F = math.asinh(M / e)
    for _ in range(100):
        f = e * math.sinh(F) - F - M
        fp = e * math.cosh(F) - 1.0
        dF = -f / fp
        F += dF
        if abs(dF) < 1e-15 * max(1.0, abs(F)):
            break
    return F


@njit(cache=True, inline="always")
def mean_to_true(M, e):
    """True anomaly [rad] from mean anomaly M [rad] (elliptic e < 1 or hyperbolic e > 1)."""
    if e < 1.0:
        E = mean_to_eccentric(M, e)
        return 2.0 * math.atan2(math.sqrt(1.0 + e) * math.sin(E / 2.0), math.sqrt(1.0 - e) * math.cos(E / 2.0))
    F = mean_to_hyperbolic(M, e)
    return 2.0 * math.atan(math.sqrt((e + 1.0) / (e - 1.0)) * math.tanh(F / 2.0))


@njit(cache=True)
def true_to_mean(nu, e):
    """Mean anomaly [rad] from true anomaly nu [rad] (elliptic or hyperbolic)."""
    if e < 1.0:
        E = 2.0 * math.atan2(math.sqrt(1.0 - e) * math.sin(nu / 2.0), math.sqrt(1.0 + e) * math.cos(nu / 2.0))
        return E - e * math.sin(E)
    F = 2.0 * math.atanh(math.sqrt((e - 1.0) / (e + 1.0)) * math.tan(nu / 2.0))
    return e * math.sinh(F) - F


@njit(cache=True, inline="always")
def perifocal_axes(i, raan, argp):
    """Unit vectors (P, Q, W) of the perifocal frame in the reference frame, each a 3-tuple: P toward
    periapsis, Q 90 deg ahead of it in the orbit plane, W along the angular momentum (angles in rad)."""
    cO, sO = math.cos(raan), math.sin(raan)
    cw, sw = math.cos(argp), math.sin(argp)
    ci, si = math.cos(i), math.sin(i)
    return ((cO * cw - sO * sw * ci, sO * cw + cO * sw * ci, sw * si),
            (-cO * sw - sO * cw * ci, -sO * sw + cO * cw * ci, cw * si),
            (sO * si, -cO * si, ci))


@njit(cache=True)
def coe2rv(mu, a, e, i, raan, argp, nu):
    """Position [m] and velocity [m/s] from classical elements."""
    p = a * (1.0 - e * e)
    cnu, snu = math.cos(nu), math.sin(nu)
    rr = p / (1.0 + e * cnu)
    sq = math.sqrt(mu / p)
    # perifocal
    xp, yp = rr * cnu, rr * snu
    vxp, vyp = -sq * snu, sq * (e + cnu)
    P, Q, _ = perifocal_axes(i, raan, argp)
    m11, m21, m31 = P
    m12, m22, m32 = Q
    # (np.empty and stores: np.array of a list compiles numba's list helpers, ~0.1 s of CPU of a first run)
    r = np.empty(3)
    v = np.empty(3)
    r[0], r[1], r[2] = m11 * xp + m12 * yp, m21 * xp + m22 * yp, m31 * xp + m32 * yp
    v[0], v[1], v[2] = m11 * vxp + m12 * vyp, m21 * vxp + m22 * vyp, m31 * vxp + m32 * vyp
    return r, v


@njit(cache=True, inline="always")
def _cross(ax, ay, az, bx, by, bz):
    """a x b of 3-vectors given as scalars: np.cross's products and differences, so the same numbers.
    (numba's np.cross also compiles its shape checks and the formatting of their error messages: 1.2 s of
    CPU of a first ``bliss propagate`` on an empty cache, 2026-12-02, ``benchmarks/first_propagate_compiles.py``.)"""
    return ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx


@njit(cache=True, inline="always")
def _vec(x, y, z):
    """np.array([x, y, z]) without numba's list helpers."""
    out = np.empty(3)
    out[0], out[1], out[2] = x, y, z
    return out


@njit(cache=True)
def rv2coe(mu, r, v):
    """Classical elements (a, e, i, raan, argp, nu) from position [m] and velocity [m/s]."""
    rx, ry, rz, vx, vy, vz = r[0], r[1], r[2], v[0], v[1], v[2]
    rn = math.sqrt(rx ** 2 + ry ** 2 + rz ** 2)
    v2 = vx ** 2 + vy ** 2 + vz ** 2
    hx, hy, hz = _cross(rx, ry, rz, vx, vy, vz)
    hn = math.sqrt(hx ** 2 + hy ** 2 + hz ** 2)
    nx, ny = -hy, hx  # z x h
    nn = math.sqrt(nx ** 2 + ny ** 2)
    rv = rx * vx + ry * vy + rz * vz
    c = v2 - mu / rn
    ex, ey, ez = (c * rx - rv * vx) / mu, (c * ry - rv * vy) / mu, (c * rz - rv * vz) / mu
    e = math.sqrt(ex ** 2 + ey ** 2 + ez ** 2)
    energy = v2 / 2.0 - mu / rn
    a = -mu / (2.0 * energy)
    i = math.acos(min(1.0, max(-1.0, hz / hn)))
    equatorial = nn < _EPS_DEGENERATE * hn
    circular = e < _EPS_DEGENERATE
    if equatorial:
        raan = 0.0
        nhat = _vec(1.0, 0.0, 0.0)
    else:
        raan = math.atan2(ny, nx) % _TWO_PI
        nhat = _vec(nx / nn, ny / nn, 0.0)
    # in-plane direction perpendicular to nhat, along the motion; the dot products by np.dot (its sum, in
    # BLAS, may fuse multiply-adds: written out, argp and nu moved by an ulp)
    wx, wy, wz = hx / hn, hy / hn, hz / hn
    px, py, pz = _cross(wx, wy, wz, nhat[0], nhat[1], nhat[2])
    phat = _vec(px, py, pz)
    if circular:
        argp = 0.0
        nu = math.atan2(np.dot(r, phat), np.dot(r, nhat)) % _TWO_PI
    else:
        evec = _vec(ex, ey, ez)
        argp = math.atan2(np.dot(evec, phat), np.dot(evec, nhat)) % _TWO_PI
        ehat = _vec(ex / e, ey / e, ez / e)
        qx, qy, qz = _cross(wx, wy, wz, ehat[0], ehat[1], ehat[2])
        qhat = _vec(qx, qy, qz)
        nu = math.atan2(np.dot(r, qhat), np.dot(r, ehat)) % _TWO_PI
    return a, e, i, raan, argp, nu


@njit(cache=True)
def _stumpff(z):
    if z > 1e-6:
        sz = math.sqrt(z)
        return (1.0 - math.cos(sz)) / z, (sz - math.sin(sz)) / (sz * z)
    if z < -1e-6:
        sz = math.sqrt(-z)
        return (math.cosh(sz) - 1.0) / (-z), (math.sinh(sz) - sz) / (sz * -z)
    return 0.5 - z / 24.0 + z * z / 720.0, 1.0 / 6.0 - z / 120.0 + z * z / 5040.0


@njit(cache=True)
def kepler_propagate(mu, r0, v0, dt):
    """Two-body state after dt [s] by the universal-variable formulation (Newton on chi)."""
    rn0 = math.sqrt(r0[0] ** 2 + r0[1] ** 2 + r0[2] ** 2)
    v20 = v0[0] ** 2 + v0[1] ** 2 + v0[2] ** 2
    rv0 = (r0[0] * v0[0] + r0[1] * v0[1] + r0[2] * v0[2]) / math.sqrt(mu)
    alpha = 2.0 / rn0 - v20 / mu  # 1/a
    sqmu = math.sqrt(mu)
    if alpha > 1e-12 / rn0:
        chi = sqmu * dt * alpha
    elif alpha < -1e-12 / rn0 and dt != 0.0:
        # hyperbola: Vallado's start (Fundamentals of Astrodynamics, 4th ed., Algorithm 8). The
        # parabolic start below made Newton diverge for hyperbolas over years (1I after ~2,000 days).
        a = 1.0 / alpha
        s = 1.0 if dt > 0.0 else -1.0
        chi = s * math.sqrt(-a) * math.log(-2.0 * mu * alpha * dt
                                           / (rv0 * sqmu + s * math.sqrt(-mu * a) * (1.0 - rn0 * alpha)))
    else:
        chi = sqmu * dt / rn0
    for _ in range(100):
        psi = chi * chi * alpha
        c2, c3 = _stumpff(psi)
        rr = chi * chi * c2 + rv0 * chi * (1.0 - psi * c3) + rn0 * (1.0 - psi * c2)
        f = chi ** 3 * c3 + rv0 * chi * chi * c2 + rn0 * chi * (1.0 - psi * c3) - sqmu * dt
        dchi = f / rr
        chi -= dchi
        if abs(dchi) < 1e-13 * max(1.0, abs(chi)):
            break
    psi = chi * chi * alpha
    c2, c3 = _stumpff(psi)
    rr = chi * chi * c2 + rv0 * chi * (1.0 - psi * c3) + rn0 * (1.0 - psi * c2)
    f = 1.0 - chi * chi / rn0 * c2
    g = dt - chi ** 3 / sqmu * c3
    gdot = 1.0 - chi * chi / rr * c2
    fdot = sqmu / (rr * rn0) * chi * (psi * c3 - 1.0)
    return f * r0 + g * v0, fdot * r0 + gdot * v0


@njit(cache=True)
def elements_state(mu, a, e, i, raan, argp, M0, t0, t):
    """State at time t of a body on fixed osculating elements with mean anomaly M0 at epoch t0.

    The one two-body ephemeris of the project: ``sim.ephemeris.SmallBody``, ``bliss.guidance.problem.Target``
    (elements) and the flight software's target prediction all call it, so they agree to the last bit.
    Ellipses (e < 1): the mean anomaly is reduced modulo 2 pi (exact, ``fmod``) before Kepler's equation.
    Hyperbolas (e > 1, a < 0, e.g. interstellar objects): the hyperbolic mean anomaly
    M = e sinh F - F = n (t - t_perihelion), n = sqrt(mu / |a|^3), grows without bound and is not
    reduced (reducing it, as an earlier version did, put a hyperbolic body back near perihelion
    every 2 pi / n). The parabola e = 1 is not handled."""
    n = math.sqrt(mu / abs(a) ** 3)
    M = M0 + n * (t - t0)
    nu = mean_to_true(np.fmod(M, _TWO_PI) if e < 1.0 else M, e)
    return coe2rv(mu, a, e, i, raan, argp, nu)
