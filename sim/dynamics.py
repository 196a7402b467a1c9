"""Equations of motion in the heliocentric ecliptic J2000 frame, numba-compiled, SI units.

    a = -GM_sun r / |r|^3  +  a_srp(r, n)  +  sum_k  -GM_k [ (r - r_k)/|r - r_k|^3 + r_k/|r_k|^3 ]

The last term (optional) is the point-mass pull of third bodies k at heliocentric positions r_k with the
indirect term (the Sun's own acceleration toward the body, since the frame is centred on the Sun). Third
body positions come from a table sampled on a uniform grid (positions and velocities) and interpolated
with cubic Hermite polynomials, so no ephemeris call happens inside the compiled loop.

Sail attitude modes (see ``docs/architecture.md``): 0 sail off; 1 cone/clock fixed in the RTN frame of
the current state; 2 normal fixed in the inertial frame.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.constants import GM_SUN
from sim.sail import sail_numbers, srp_accel_numbers

MODE_OFF, MODE_RTN, MODE_INERTIAL = 0, 1, 2


@njit(cache=True, inline="always")
def hermite_position(tb_t0, tb_dt, pos, vel, k, t):
    """Cubic Hermite interpolation of body k's position at time t from a uniform table."""
    nt = pos.shape[1]
    u = (t - tb_t0) / tb_dt
    j = int(math.floor(u))
    if j < 0:
        j = 0
    elif j > nt - 2:
        j = nt - 2
    s = u - j
    s2 = s * s
    s3 = s2 * s
    h00 = 2.0 * s3 - 3.0 * s2 + 1.0
    h10 = (s3 - 2.0 * s2 + s) * tb_dt
    h01 = -2.0 * s3 + 3.0 * s2
    h11 = (s3 - s2) * tb_dt
    return (h00 * pos[k, j, 0] + h10 * vel[k, j, 0] + h01 * pos[k, j + 1, 0] + h11 * vel[k, j + 1, 0],
            h00 * pos[k, j, 1] + h10 * vel[k, j, 1] + h01 * pos[k, j + 1, 1] + h11 * vel[k, j + 1, 1],
            h00 * pos[k, j, 2] + h10 * vel[k, j, 2] + h01 * pos[k, j + 1, 2] + h11 * vel[k, j + 1, 2])


@njit(cache=True, inline="always")
def third_body_accel(t, x, y, z, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel):
    """Point-mass pull of the tabulated bodies at heliocentric (x, y, z), with the indirect term."""
    ax = 0.0
    ay = 0.0
    az = 0.0
    for k in range(tb_gm.shape[0]):
        bx, by, bz = hermite_position(tb_t0, tb_dt, tb_pos, tb_vel, k, t)
        dx, dy, dz = x - bx, y - by, z - bz
        d2 = dx * dx + dy * dy + dz * dz
        d3 = d2 * math.sqrt(d2)
        b2 = bx * bx + by * by + bz * bz
        b3 = b2 * math.sqrt(b2)
        gm = tb_gm[k]
        ax -= gm * (dx / d3 + bx / b3)
        ay -= gm * (dy / d3 + by / b3)
        az -= gm * (dz / d3 + bz / b3)
    return ax, ay, az


@njit(cache=True)
def segment_attitude(mode, att, out):
    """Per-segment attitude constants for :func:`rhs`: mode 1 -> (cos cone, sin cone, cos clock,
    sin clock) so that no trigonometry runs per call; mode 2 -> the normal; mode 0 -> zeros."""
    if mode == MODE_RTN:
        out[0], out[1] = math.cos(att[0]), math.sin(att[0])
        out[2], out[3] = math.cos(att[1]), math.sin(att[1])
    elif mode == MODE_INERTIAL:
        out[0], out[1], out[2], out[3] = att[0], att[1], att[2], 0.0
    else:
        out[:] = 0.0


#: Codes returned by :func:`schedule_problem`.
SCHEDULE_OK, SCHEDULE_BAD_TIMES, SCHEDULE_BAD_MODE, SCHEDULE_BAD_ATTITUDE, SCHEDULE_BAD_NORMAL = range(5)


@njit(cache=True)
def schedule_problem(seg_t, seg_mode, seg_att):
    """The first thing wrong with a segment schedule (``SCHEDULE_*`` code; shapes checked by the caller):
    switch times not finite or not strictly increasing, a mode other than 0/1/2, a non-finite attitude,
    an inertial normal whose squared norm is off 1 by more than 2e-9. One compiled pass instead of a
    dozen numpy reductions: schedules are built on every call of the optimisers' propagations."""
    for k in range(seg_t.shape[0]):
        if not math.isfinite(seg_t[k]) or (k > 0 and not seg_t[k] > seg_t[k - 1]):
            return SCHEDULE_BAD_TIMES
    for k in range(seg_mode.shape[0]):
        m = seg_mode[k]
        if m < MODE_OFF or m > MODE_INERTIAL:
            return SCHEDULE_BAD_MODE
        a0, a1, a2 = seg_att[k, 0], seg_att[k, 1], seg_att[k, 2]
        if not (math.isfinite(a0) and math.isfinite(a1) and math.isfinite(a2)):
            return SCHEDULE_BAD_ATTITUDE
        if m == MODE_INERTIAL and abs(a0 * a0 + a1 * a1 + a2 * a2 - 1.0) > 2e-9:
            return SCHEDULE_BAD_NORMAL
    return SCHEDULE_OK


@njit(cache=True)
def sun_sail_derivative(x, yy, z, vx, vy, vz, mode, a0, a1, a2, a3, sp):
    """dy/dt (a 6-tuple) at the state (x, yy, z, vx, vy, vz) (m, m/s) under the Sun's gravity and the
    sail's force; (a0, a1, a2, a3) is the output of :func:`segment_attitude` for the segment's mode and
    attitude, ``sp`` the sail's :func:`sim.sail.sail_numbers`.

    Numbers in, numbers out: an array handed to (or returned from) a compiled function that is not inlined
    keeps an atomic reference-count increment and decrement per call, and in the integrator's stage loop,
    where each stage waits on the last, those took half the step's time (measured 2026-12-02 with perf on
    this machine; ``sim.mee.mee_sun_sail_derivative`` likewise)."""
    r2 = x * x + yy * yy + z * z
    rinv = 1.0 / math.sqrt(r2)
    inv_r2 = rinv * rinv
    ux, uy, uz = x * rinv, yy * rinv, z * rinv
    g = -GM_SUN * inv_r2
    ax, ay, az = g * ux, g * uy, g * uz
    if mode == MODE_RTN or mode == MODE_INERTIAL:
        # the sail normal in the inertial frame; one inlined force model for both modes (compile time)
        if mode == MODE_RTN:
            hx, hy, hz = yy * vz - z * vy, z * vx - x * vz, x * vy - yy * vx
            hinv = 1.0 / math.sqrt(hx * hx + hy * hy + hz * hz)
            wx, wy, wz = hx * hinv, hy * hinv, hz * hinv      # orbit normal N
            tx, ty, tz = wy * uz - wz * uy, wz * ux - wx * uz, wx * uy - wy * ux  # transverse T = N x R
            nx = a0 * ux + a1 * (a2 * tx + a3 * wx)
            ny = a0 * uy + a1 * (a2 * ty + a3 * wy)
            nz = a0 * uz + a1 * (a2 * tz + a3 * wz)
        else:
            nx, ny, nz = a0, a1, a2
        sx, sy, sz = srp_accel_numbers(ux, uy, uz, inv_r2, nx, ny, nz, sp)
        ax += sx
        ay += sy
        az += sz
    return vx, vy, vz, ax, ay, az


@njit(cache=True)
def third_body_pull(t, x, y, z, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel):
    """:func:`third_body_accel` as a kernel of its own: the integrator calls it (only when there are third
    bodies) from the five places it evaluates a derivative, and it is compiled once, not inlined five
    times (that took a first ``bliss propagate`` from 7 to 12 s of compilation)."""
    return third_body_accel(t, x, y, z, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel)


@njit(cache=True, inline="always")
def derivative(t, y, mode, att, p, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel, third):
    """dy/dt (a 6-tuple): :func:`sun_sail_derivative` plus, if ``third``, :func:`third_body_pull`. Inlined:
    where ``third`` is a compile-time constant (``sim.dop853``'s integrators) numba drops the branch not
    taken, so an integrator without third bodies compiles none of their code."""
    d0, d1, d2, ax, ay, az = sun_sail_derivative(y[0], y[1], y[2], y[3], y[4], y[5], mode, att[0], att[1], att[2],
                                                 att[3], sail_numbers(p))
    if third:
        bx, by, bz = third_body_pull(t, y[0], y[1], y[2], tb_gm, tb_t0, tb_dt, tb_pos, tb_vel)
        ax += bx
        ay += by
        az += bz
    return d0, d1, d2, ax, ay, az


@njit(cache=True)
def rhs(t, y, mode, att, p, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel, out):
    """Write dy/dt into ``out`` for state y = [r, v] (m, m/s) at time t (TDB s past J2000): the
    array-out form of :func:`derivative` (the integrator calls that one).

    ``att`` is the output of :func:`segment_attitude` for the segment's mode and attitude.
    """
    out[0], out[1], out[2], out[3], out[4], out[5] = derivative(t, y, mode, att, p, tb_gm, tb_t0, tb_dt,
                                                                tb_pos, tb_vel, tb_gm.shape[0] > 0)


def empty_third_bodies():
    """The (gm, t0, dt, pos, vel) table meaning 'no third bodies'."""
    return (np.zeros(0), 0.0, 1.0, np.zeros((0, 2, 3)), np.zeros((0, 2, 3)))
