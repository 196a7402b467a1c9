"""Orbit frame (radial-transverse-normal) and the sail attitude convention.

RTN basis of a heliocentric state (r, v): R = r/|r| (radial, Sun to spacecraft), N = r x v/|r x v|
(orbit normal), T = N x R (transverse, along-track for a circular orbit).

Attitude: the sail normal n (unit vector, inertial frame) is given by its **cone angle** alpha, the angle
between n and R (0 = facing the Sun; thrust needs alpha in [0, 90 deg]), and its **clock angle** delta,
measured in the T-N plane from T toward N:

    n = cos(alpha) R + sin(alpha) (cos(delta) T + sin(delta) N)

So clock 0 tilts the normal toward +T (thrust along the motion: raises the orbit), clock 180 deg toward
-T (lowers it), clock +/-90 deg toward +/-N (changes the inclination). A negative cone with clock delta is
the same attitude as cone |alpha| with clock delta + 180 deg.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def rtn_normal_xyz(x, y, z, vx, vy, vz, cone, clock):
    """Unit sail normal from cone/clock [rad] in the RTN frame of the state (scalars in, 3-tuple out)."""
    return rtn_normal_from_trig(x, y, z, vx, vy, vz, math.cos(cone), math.sin(cone),
                                math.cos(clock), math.sin(clock))


@njit(cache=True, inline="always")
def rtn_normal_from_trig(x, y, z, vx, vy, vz, ca, sa, cd, sd):
    """As :func:`rtn_normal_xyz` with the cosines and sines of cone and clock given."""
    r = math.sqrt(x * x + y * y + z * z)
    rx, ry, rz = x / r, y / r, z / r
    hx, hy, hz = y * vz - z * vy, z * vx - x * vz, x * vy - y * vx
    h = math.sqrt(hx * hx + hy * hy + hz * hz)
    nx, ny, nz = hx / h, hy / h, hz / h
    tx, ty, tz = ny * rz - nz * ry, nz * rx - nx * rz, nx * ry - ny * rx
    return (ca * rx + sa * (cd * tx + sd * nx),
            ca * ry + sa * (cd * ty + sd * ny),
            ca * rz + sa * (cd * tz + sd * nz))


@njit(cache=True)
def rtn_basis(r, v):
    """3x3 matrix whose rows are the R, T, N unit vectors of the state (r, v)."""
    out = np.empty((3, 3))
    rn = math.sqrt(r[0] ** 2 + r[1] ** 2 + r[2] ** 2)
    h = np.cross(r, v)
    hn = math.sqrt(h[0] ** 2 + h[1] ** 2 + h[2] ** 2)
    out[0] = r / rn
    out[2] = h / hn
    out[1] = np.cross(out[2], out[0])
    return out


@njit(cache=True)
def cone_clock_to_rtn(cone, clock):
    """RTN components (R, T, N) of the unit sail normal for cone/clock [rad] (the convention above)."""
    sa = math.sin(cone)
    return np.array([math.cos(cone), sa * math.cos(clock), sa * math.sin(clock)])


@njit(cache=True)
def cone_clock_to_normal(r, v, cone, clock):
    """Inertial unit sail normal for cone/clock angles [rad] in the RTN frame of (r, v)."""
    nx, ny, nz = rtn_normal_xyz(r[0], r[1], r[2], v[0], v[1], v[2], cone, clock)
    return np.array([nx, ny, nz])


@njit(cache=True)
def normal_to_cone_clock(r, v, n):
    """Cone in [0, pi] and clock in (-pi, pi] [rad] of the inertial unit normal n in the RTN frame."""
    b = rtn_basis(r, v)
    nr = b[0, 0] * n[0] + b[0, 1] * n[1] + b[0, 2] * n[2]
    nt = b[1, 0] * n[0] + b[1, 1] * n[1] + b[1, 2] * n[2]
    nn = b[2, 0] * n[0] + b[2, 1] * n[1] + b[2, 2] * n[2]
    cone = math.atan2(math.sqrt(nt * nt + nn * nn), nr)
    clock = math.atan2(nn, nt)
    return cone, clock
