"""Modified equinoctial elements (MEE) and the sail's equations of motion in them, numba-compiled.

MEE (Walker, Ireland & Owens, Celestial Mechanics 36, 1985): p = a(1 - e^2) [m], f = e cos(raan + argp),
g = e sin(raan + argp), h = tan(i/2) cos(raan), k = tan(i/2) sin(raan), and the true longitude
L = raan + argp + nu [rad]. They are non-singular for circular and equatorial orbits (singular only at
i = 180 deg, which no heliocentric sail orbit here reaches) and, under a small, smooth perturbation such
as a sail's, five of them change slowly and L almost uniformly: an adaptive integrator takes far larger
steps than on Cartesian coordinates. The Gauss variational equations in MEE (Betts, "Practical Methods
for Optimal Control", 2nd ed., 2010, sec. 6.3) take the perturbing acceleration in the RTN frame, which
is exactly the frame the sail attitude is given in.

The state vector is m = [p, f, g, h, k, L]; L is left unwrapped (it grows by 2 pi per revolution).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.constants import GM_SUN
from sim.dynamics import MODE_INERTIAL, MODE_RTN, third_body_accel
from sim.sail import sail_numbers, srp_accel_numbers


@njit(cache=True, inline="always")
def _equinoctial_axes(h, k):
    """Unit vectors f-hat, g-hat (in the orbit plane) and w-hat (orbit normal) of the equinoctial frame."""
    s2inv = 1.0 / (1.0 + h * h + k * k)
    fx, fy, fz = (1.0 - k * k + h * h) * s2inv, 2.0 * h * k * s2inv, -2.0 * k * s2inv
    gx, gy, gz = 2.0 * h * k * s2inv, (1.0 + k * k - h * h) * s2inv, 2.0 * h * s2inv
    wx, wy, wz = 2.0 * k * s2inv, -2.0 * h * s2inv, (1.0 - h * h - k * k) * s2inv
    return fx, fy, fz, gx, gy, gz, wx, wy, wz


@njit(cache=True)
def cart_to_mee(y, out):
    """Cartesian state y = [r, v] (m, m/s) about the Sun to MEE, written into ``out``."""
    x, yy, z, vx, vy, vz = y[0], y[1], y[2], y[3], y[4], y[5]
    hx, hy, hz = yy * vz - z * vy, z * vx - x * vz, x * vy - yy * vx
    hn = math.sqrt(hx * hx + hy * hy + hz * hz)
    nx, ny, nz = hx / hn, hy / hn, hz / hn
    den = 1.0 + nz
    k = nx / den
    h = -ny / den
    fx, fy, fz, gx, gy, gz, wx, wy, wz = _equinoctial_axes(h, k)
    r = math.sqrt(x * x + yy * yy + z * z)
    # eccentricity vector e = v x h / mu - r / |r|
    ex = (vy * hz - vz * hy) / GM_SUN - x / r
    ey = (vz * hx - vx * hz) / GM_SUN - yy / r
    ez = (vx * hy - vy * hx) / GM_SUN - z / r
    out[0] = hn * hn / GM_SUN
    out[1] = ex * fx + ey * fy + ez * fz
    out[2] = ex * gx + ey * gy + ez * gz
    out[3] = h
    out[4] = k
    out[5] = math.atan2(x * gx + yy * gy + z * gz, x * fx + yy * fy + z * fz)


@njit(cache=True)
def mee_to_cart(m, out):
    """MEE to the Cartesian state [r, v] (m, m/s), written into ``out``."""
    p, f, g, h, k, L = m[0], m[1], m[2], m[3], m[4], m[5]
    fx, fy, fz, gx, gy, gz, wx, wy, wz = _equinoctial_axes(h, k)
    cL, sL = math.cos(L), math.sin(L)
    r = p / (1.0 + f * cL + g * sL)
    q = math.sqrt(GM_SUN / p)
    a1, a2 = r * cL, r * sL
    b1, b2 = -q * (sL + g), q * (cL + f)
    out[0] = a1 * fx + a2 * gx
    out[1] = a1 * fy + a2 * gy
    out[2] = a1 * fz + a2 * gz
    out[3] = b1 * fx + b2 * gx
    out[4] = b1 * fy + b2 * gy
    out[5] = b1 * fz + b2 * gz


@njit(cache=True)
def mee_sun_sail_derivative(p, f, g, h, k, L, mode, a0, a1, a2, a3, spn, bx, by, bz, third):
    """d(MEE)/dt (a 6-tuple) at the MEE (p, f, g, h, k, L) for the Sun's gravity plus sail SRP, plus
    (``third`` True) the inertial acceleration (bx, by, bz) [m/s^2] of third bodies.

    Numbers in, numbers out, like ``sim.dynamics.sun_sail_derivative``: an array handed to a compiled
    function that is not inlined costs an atomic reference-count increment and decrement per call, and
    in the integrator's stage loop, where each stage waits on the last, those atomics took half the time
    (2026-12-02, perf on this machine: 52 % of the segmented year in ``NRT_incref``/``NRT_decref``).
    (a0, a1, a2, a3) is ``sim.dynamics.segment_attitude`` output; in RTN mode the sail normal's RTN
    components are (cos cone, sin cone cos clock, sin cone sin clock) and no frame rotation is needed.
    ``spn`` is :func:`sim.sail.sail_numbers` of the sail.
    """
    cL, sL, w, winv, inv_r2 = _orbit_numbers(p, f, g, L)
    ar = 0.0
    at = 0.0
    an = 0.0
    need_axes = mode == MODE_INERTIAL or third
    if need_axes:
        fx, fy, fz, gx, gy, gz, wx, wy, wz = _equinoctial_axes(h, k)
        Rx, Ry, Rz = cL * fx + sL * gx, cL * fy + sL * gy, cL * fz + sL * gz
        Tx, Ty, Tz = -sL * fx + cL * gx, -sL * fy + cL * gy, -sL * fz + cL * gz
    else:
        fx = fy = fz = gx = gy = gz = wx = wy = wz = 0.0
        Rx = Ry = Rz = Tx = Ty = Tz = 0.0
    if mode == MODE_RTN or mode == MODE_INERTIAL:
        # the sail normal's RTN components; one inlined force model for both modes (compile time)
        if mode == MODE_RTN:
            nr, nt, nn = a0, a1 * a2, a1 * a3
        else:
            nr = a0 * Rx + a1 * Ry + a2 * Rz
            nt = a0 * Tx + a1 * Ty + a2 * Tz
            nn = a0 * wx + a1 * wy + a2 * wz
        ar, at, an = srp_accel_numbers(1.0, 0.0, 0.0, inv_r2, nr, nt, nn, spn)
    if third:
        ar += bx * Rx + by * Ry + bz * Rz
        at += bx * Tx + by * Ty + bz * Tz
        an += bx * wx + by * wy + bz * wz
    return _gauss_rates(p, f, g, h, k, cL, sL, w, winv, ar, at, an)


@njit(cache=True)
def segment_rtn_force(mode, a0, a1, a2, a3, spn):
    """The sail's force per unit of ``spn``'s scale and of 1/r^2 as RTN components (fr, ft, fn), for a
    segment in RTN mode ((a0, a1, a2, a3) from ``sim.dynamics.segment_attitude``; zeros for the sail off):
    constant over the segment, so that :func:`mee_rtn_derivative` only scales it. The same operations
    as :func:`mee_sun_sail_derivative`'s force in that mode, so the same numbers to the bit."""
    if mode != MODE_RTN:
        return 0.0, 0.0, 0.0
    unit = (1.0, spn[1], spn[2], spn[3], spn[4], spn[5], spn[6], spn[7], spn[8])
    return srp_accel_numbers(1.0, 0.0, 0.0, 1.0, a0, a1 * a2, a1 * a3, unit)


@njit(cache=True)
def mee_rtn_derivative(p, f, g, h, k, L, scale1, fr, ft, fn):
    """d(MEE)/dt (a 6-tuple) for the Sun's gravity and a sail held in the RTN frame (or off), with no
    third bodies: the acceleration is scale1 / r^2 (fr, ft, fn), with (fr, ft, fn) from
    :func:`segment_rtn_force` and scale1 the sail's ``K_SCALE`` [m^3/s^2]. The integrator's common case:
    ten numbers in instead of :func:`mee_sun_sail_derivative`'s twenty-five (each a register or stack slot
    filled on every call), and no optics per call. Same numbers as that function to the bit."""
    cL, sL, w, winv, inv_r2 = _orbit_numbers(p, f, g, L)
    scale = scale1 * inv_r2
    return _gauss_rates(p, f, g, h, k, cL, sL, w, winv, scale * fr, scale * ft, scale * fn)


@njit(cache=True, inline="always")
def _orbit_numbers(p, f, g, L):
    """(cos L, sin L, w, 1/w, 1/r^2 [1/m^2]) at the MEE p [m], f, g, L [rad], with w = 1 + f cos L + g sin L
    and r = p / w: what both right-hand sides compute before the forces."""
    cL, sL = math.cos(L), math.sin(L)
    w = 1.0 + f * cL + g * sL
    winv = 1.0 / w
    r = p * winv
    return cL, sL, w, winv, 1.0 / (r * r)


@njit(cache=True, inline="always")
def _gauss_rates(p, f, g, h, k, cL, sL, w, winv, ar, at, an):
    """Gauss's variational equations in MEE (Betts 2010, sec. 6.3): d(MEE)/dt for a perturbing
    acceleration with RTN components (ar, at, an) [m/s^2], given cos L, sin L, w = 1 + f cos L + g sin L
    and 1/w."""
    sq = math.sqrt(p / GM_SUN)
    s2 = 1.0 + h * h + k * k
    hk = h * sL - k * cL
    return (2.0 * p * winv * sq * at,
            sq * (ar * sL + ((w + 1.0) * cL + f) * at * winv - hk * g * an * winv),
            sq * (-ar * cL + ((w + 1.0) * sL + g) * at * winv + hk * f * an * winv),
            sq * s2 * an * cL * 0.5 * winv,
            sq * s2 * an * sL * 0.5 * winv,
            math.sqrt(GM_SUN * p) * (w / p) ** 2 + sq * hk * an * winv)


@njit(cache=True)
def mee_third_body_pull(t, m, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel):
    """The third bodies' pull (inertial, m/s^2) at the position of the MEE m: a kernel of its own, called
    by the integrator only when there are third bodies and compiled once (see
    ``sim.dynamics.third_body_pull``)."""
    p, f, g, h, k, L = m[0], m[1], m[2], m[3], m[4], m[5]
    cL, sL = math.cos(L), math.sin(L)
    r = p * (1.0 / (1.0 + f * cL + g * sL))
    fx, fy, fz, gx, gy, gz, wx, wy, wz = _equinoctial_axes(h, k)
    Rx, Ry, Rz = cL * fx + sL * gx, cL * fy + sL * gy, cL * fz + sL * gz
    return third_body_accel(t, r * Rx, r * Ry, r * Rz, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel)


@njit(cache=True, inline="always")
def mee_derivative(t, m, mode, att, sp, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel, third):
    """d(MEE)/dt (a 6-tuple) with, if ``third``, the third bodies' pull at the position of the MEE m.
    Inlined: where ``third`` is a compile-time constant (``sim.dop853``'s integrators) numba drops the
    branch not taken (see :func:`mee_sun_sail_derivative`)."""
    has = tb_gm.shape[0] > 0  # a run-time flag: one compiled signature of the callee, not two literals
    bx = by = bz = 0.0
    if third:
        bx, by, bz = mee_third_body_pull(t, m, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel)
    return mee_sun_sail_derivative(m[0], m[1], m[2], m[3], m[4], m[5], mode, att[0], att[1], att[2], att[3],
                                   sail_numbers(sp), bx, by, bz, has)


@njit(cache=True)
def rhs_mee(t, m, mode, att, sp, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel, out):
    """d(MEE)/dt for the Sun's gravity plus sail SRP (plus third bodies), as ``sim.dynamics.rhs``, into
    ``out``: the array-out form of :func:`mee_derivative` (the integrator calls that one)."""
    out[0], out[1], out[2], out[3], out[4], out[5] = mee_derivative(t, m, mode, att, sp, tb_gm, tb_t0, tb_dt,
                                                                    tb_pos, tb_vel, tb_gm.shape[0] > 0)


@njit(cache=True)
def mee_atol(rtol):
    """Absolute tolerances for MEE: 1e10 m per unit rtol on p (as Cartesian positions), rtol x 1 on the
    dimensionless f, g, h, k and on L [rad] (1e-10 rad of L is 15 m along a 1 AU orbit)."""
    atol = np.empty(6)
    atol[0] = rtol * 1e10
    for i in range(1, 6):
        atol[i] = rtol
    return atol
