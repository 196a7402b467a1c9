"""Rigid-body attitude dynamics of the BLISS spacecraft (numba, plain float arrays).

State x = [qx, qy, qz, qw, wx, wy, wz]: the scalar-last inertial-to-body quaternion of
``bliss.fsw.messages`` (its rotation matrix R(q) has the body axes as columns, in inertial coordinates;
vector components go body = R^T inertial) and the body rate [rad/s] in body axes.

    dq/dt = 1/2 q (x) [w, 0]              (Hamilton product; so that dR/dt = R [w x])
    I dw/dt = tau - w x (I w)             (Euler's equations about the CM)

The inertia changes as the payload moves; the dI/dt w term (payload speed 3.5 mm/s times its 6.8 g times
a lever of 0.6 m, times rates of 1e-3 rad/s: about 1e-11 N m, 1e-4 of the control torque) is neglected.
Fixed-step classical Runge-Kutta (RK4); the actuator positions are held over each substep (they change by
whole steps only, at most rate * h of them per substep).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.attitude_geometry import mass_properties
from sim.attitude_torques import body_torque
from sim.inchworm import A_TRUE, advance_axes
from sim.quaternion import inverse3, to_body

# payload/vane parameter layout for plant_advance
GP_MP, GP_L, GP_STEP, GP_VANE_STEP = range(4)


@njit(cache=True)
def derivatives(x, tau, inertia, inertia_inv, dx):
    """dx/dt of the state x (7,) under body torque tau (3,)."""
    qx, qy, qz, qw = x[0], x[1], x[2], x[3]
    wx, wy, wz = x[4], x[5], x[6]
    dx[0] = 0.5 * (qw * wx + qy * wz - qz * wy)
    dx[1] = 0.5 * (qw * wy + qz * wx - qx * wz)
    dx[2] = 0.5 * (qw * wz + qx * wy - qy * wx)
    dx[3] = -0.5 * (qx * wx + qy * wy + qz * wz)
    hx = inertia[0, 0] * wx + inertia[0, 1] * wy + inertia[0, 2] * wz
    hy = inertia[1, 0] * wx + inertia[1, 1] * wy + inertia[1, 2] * wz
    hz = inertia[2, 0] * wx + inertia[2, 1] * wy + inertia[2, 2] * wz
    mx = tau[0] - (wy * hz - wz * hy)
    my = tau[1] - (wz * hx - wx * hz)
    mz = tau[2] - (wx * hy - wy * hx)
    for i in range(3):
        dx[4 + i] = inertia_inv[i, 0] * mx + inertia_inv[i, 1] * my + inertia_inv[i, 2] * mz


@njit(cache=True)
def _stage_torque(x, light, inv_r2, vane, cm, inertia, tp, ub, tau, force):
    to_body(x[:4], light, ub)
    body_torque(ub, inv_r2, vane, cm, inertia, tp, tau, force)


@njit(cache=True)
def rk4_step(x, h, light, inv_r2, vane, cm, inertia, inertia_inv, tp, renormalise):
    """One RK4 step of length h [s] (in place) with the solar torques of ``sim.attitude_torques``.

    ``light``: unit Sun-to-spacecraft vector, inertial; ``inv_r2`` 1/r^2 [1/m^2] (0: torque-free).
    """
    k1 = np.empty(7)
    k2 = np.empty(7)
    k3 = np.empty(7)
    k4 = np.empty(7)
    xs = np.empty(7)
    ub = np.empty(3)
    tau = np.empty(3)
    force = np.empty(3)
    _stage_torque(x, light, inv_r2, vane, cm, inertia, tp, ub, tau, force)
    derivatives(x, tau, inertia, inertia_inv, k1)
    for i in range(7):
        xs[i] = x[i] + 0.5 * h * k1[i]
    _stage_torque(xs, light, inv_r2, vane, cm, inertia, tp, ub, tau, force)
    derivatives(xs, tau, inertia, inertia_inv, k2)
    for i in range(7):
        xs[i] = x[i] + 0.5 * h * k2[i]
    _stage_torque(xs, light, inv_r2, vane, cm, inertia, tp, ub, tau, force)
    derivatives(xs, tau, inertia, inertia_inv, k3)
    for i in range(7):
        xs[i] = x[i] + h * k3[i]
    _stage_torque(xs, light, inv_r2, vane, cm, inertia, tp, ub, tau, force)
    derivatives(xs, tau, inertia, inertia_inv, k4)
    for i in range(7):
        x[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
    if renormalise:
        n = math.sqrt(x[0] ** 2 + x[1] ** 2 + x[2] ** 2 + x[3] ** 2)
        for i in range(4):
            x[i] /= n


@njit(cache=True)
def propagate_rigid(x, inertia, h, n_steps, renormalise):
    """Torque-free motion: n_steps RK4 steps of h [s] (in place). For checks of the integrator."""
    inv = np.linalg.inv(inertia)
    zero3 = np.zeros(3)
    tp = np.zeros(32)
    for _ in range(n_steps):
        rk4_step(x, h, zero3, 0.0, 0.0, zero3, inertia, inv, tp, renormalise)


@njit(cache=True)
def plant_advance(x, dt, n_sub, light, inv_r2, axes, u_rand, fixed, gp, tp, cm, inertia):
    """Advance the attitude ``x`` and the inchworm ``axes`` together by dt [s] in n_sub RK4 substeps.

    Each substep first runs the axes (``sim.inchworm.advance_axes``) and then integrates the attitude with
    the payload at the axes' true positions (axis 0/1 steps times ``gp[GP_STEP]``) and the vane at axis 2
    times ``gp[GP_VANE_STEP]``. ``cm``/``inertia`` receive the mass properties of the last substep.
    Returns how many random numbers the axes used.
    """
    h = dt / n_sub
    p = np.empty(3)
    inv = np.empty((3, 3))
    used = 0
    for _ in range(n_sub):
        used = advance_axes(axes, h, u_rand, used)
        p[0] = axes[0, A_TRUE] * gp[GP_STEP]
        p[1] = axes[1, A_TRUE] * gp[GP_STEP]
        p[2] = -gp[GP_L]
        mass_properties(fixed, gp[GP_MP], p, cm, inertia)
        inverse3(inertia, inv)
        rk4_step(x, h, light, inv_r2, axes[2, A_TRUE] * gp[GP_VANE_STEP], cm, inertia, inv, tp, True)
    return used
