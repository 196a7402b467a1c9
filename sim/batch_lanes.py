"""Lockstep batch propagation: ``W`` trajectories ("lanes") stepped together by one DOP853, so that the
compiler turns each arithmetic operation into one SIMD instruction over the lanes.

The per-row batch (``sim.batch`` with ``method="rows"``) runs one scalar integrator per trajectory. Here a
*block* of up to ``W`` trajectories that share their segment switch times is integrated as one: every array
is structure-of-arrays with the lane index last, flat, component ``i`` of lane ``k`` at ``i * W + k`` (a
state is ``(6 W,)``, the stages ``(13, 6 W)``), and every inner loop is ``for k in range(nl)`` over plain
float64 numbers, which LLVM vectorises (``W = 8`` float64 lanes fill one 512-bit AVX-512 register; on this
machine LLVM picks 256-bit vectors, two per 8 lanes, and 512-bit ones were not faster). Why
this layout: with the lane stride a compile-time constant, all accesses to one array are one pointer range
for LLVM's alias checks (with a run-time row stride, the right-hand side's 27 rows exceed the vectoriser's
limit of 8 run-time checks and it stays scalar); the lane count ``nl`` is a run-time number so that LLVM
does not unroll the 8 iterations before vectorising (its straight-line vectoriser gives up on the
possible aliasing). The lanes share the time, the step size and the accept/reject
decision: the step's error norm is the largest of the lanes' norms (a step is rejected if any lane fails
the tolerance), so each lane is integrated at least as accurately as alone. A block whose ``W`` rows are
the same trajectory takes the very steps of the scalar integrator and gives its answer bit for bit.

The equations are those of ``sim.dynamics.rhs`` (Cartesian state, Sun point mass, no third bodies, as
``sim.dop853.final_state_cartesian``) with the sail force of ``sim.sail.srp_accel_unit``, written without branches
so that lanes in different attitude modes and with the Sun on either face of the sail run in one loop:

* the sail normal is ``n = cos(cone) R + sin(cone) (cos(clock) T + sin(clock) N) + n_inertial``, with the
  per-segment, per-lane constants from ``sim.dynamics.segment_attitude`` (computed once per segment, so
  the inner loop has no trigonometry: numba has no vector sin/cos). Mode 1 (RTN) has ``n_inertial = 0``;
  mode 2 (inertial normal) has cos/sin = 0 and ``n_inertial`` the normal; mode 0 (sail off) has all
  zero, so ``n = 0``, ``cos(alpha) = n . u = 0`` and the force is zero, as in ``srp_accel_unit``;
* the lit face is chosen per lane by a select on the sign of ``c = n . u`` (front, or the back face with
  its own coefficients and the normal reversed), the face coefficients precomputed per lane from
  ``Sail.kernel_params()`` exactly as ``sim.sail._face_force`` forms them.

Every operation is the one ``sim.dynamics.rhs`` performs, in the same order, so the right-hand side equals
it bit for bit (tests/test_batch_lanes.py checks it per mode); the only exception is the orbit normal of
lanes not in RTN mode, whose length gets +1 m^4/s^2 so that a purely radial orbit (h = 0) gives no 0 x inf
(the RTN frame is then multiplied by zero anyway).

The DOP853 tableau, step-size constants and tolerances come from ``sim.dop853``; the step-size selection
(landing on segment ends, growth and shrink factors) is ``sim.dop853``'s own (``step_to_try``,
``step_after``) and the first step repeats its formula, so that a block of identical lanes takes the scalar
integrator's steps.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from sim.constants import GM_SUN
from sim.dop853 import (A, E53, N_STAGES, STATUS_MAX_STEPS, STATUS_OK, STATUS_STEP_UNDERFLOW, STEP_SLIVER,
                        STEP_UNDERFLOW, default_atol, step_after, step_to_try)
from sim.dynamics import MODE_INERTIAL, MODE_RTN, segment_attitude
from sim.sail import K_BB, K_BF, K_EB, K_EF, K_RHO, K_RHO_BACK, K_S, K_S_BACK, K_SCALE

#: Lanes per block (the stride of the lane index): 8 float64 numbers make one 512-bit AVX-512 vector.
W = 8

#: Step limit per block, as ``sim.dop853.final_state_cartesian`` gives ``integrate_cartesian``.
MAX_STEPS = 10_000_000

#: Rows of the per-lane sail coefficients (``lane_sail``): the scale P_SRP_1AU A / m AU^2 [m^3/s^2], and
#: for the front face and the back face the factors of c^2 and c in the normal force and of c in the
#: tangential force (``sim.sail._face_force``; dimensionless).
LS_SCALE, LS_F2, LS_F1, LS_FT, LS_B2, LS_B1, LS_BT = range(7)
N_LS = 7

#: Rows of the per-segment, per-lane attitude constants (``lane_attitude``): cos/sin of cone and clock
#: (RTN mode, else 0), the inertial normal (inertial mode, else 0), and the padding added to |h|^2
#: [m^4/s^2] (0 in RTN mode, 1 otherwise).
LA_CA, LA_SA, LA_CD, LA_SD, LA_NX, LA_NY, LA_NZ, LA_HPAD = range(8)
N_LA = 8

#: Rows of the stage array: stages 0..11 of a step and 12, the new point (FSAL). No dense output here.
N_K = N_STAGES + 1


@njit(cache=True)
def _face_coefficients(rho, s, b_lit, b_dark, e_lit, e_dark):
    """(factor of c^2, factor of c) in the normal force and (factor of c) in the tangential force of a lit
    face, per (P A), formed as ``sim.sail._face_force`` forms them."""
    esum = e_lit + e_dark
    thermal = (e_lit * b_lit - e_dark * b_dark) / esum if esum > 0.0 else 0.0
    return 1.0 + rho * s, b_lit * (1.0 - s) * rho + (1.0 - rho) * thermal, 1.0 - rho * s


@njit(cache=True)
def lane_sail(p, k, ls):
    """Fill lane k of ls (N_LS W,) from one row p of ``Sail.kernel_params()``."""
    ls[LS_SCALE * W + k] = p[K_SCALE]
    f2, f1, ft = _face_coefficients(p[K_RHO], p[K_S], p[K_BF], p[K_BB], p[K_EF], p[K_EB])
    b2, b1, bt = _face_coefficients(p[K_RHO_BACK], p[K_S_BACK], p[K_BB], p[K_BF], p[K_EB], p[K_EF])
    ls[LS_F2 * W + k], ls[LS_F1 * W + k], ls[LS_FT * W + k] = f2, f1, ft
    ls[LS_B2 * W + k], ls[LS_B1 * W + k], ls[LS_BT * W + k] = b2, b1, bt


@njit(cache=True)
def lane_attitude(mode, a0, a1, a2, j, k, la, att, scratch):
    """Fill lane k of segment j of la (nseg, N_LA W) for one segment's mode and attitude (a0, a1, a2)
    through ``sim.dynamics.segment_attitude`` (att: 3 floats, scratch: 4 floats, both scratch space)."""
    att[0], att[1], att[2] = a0, a1, a2
    segment_attitude(mode, att, scratch)
    for r in range(N_LA):
        la[j, r * W + k] = 0.0
    la[j, LA_HPAD * W + k] = 1.0
    if mode == MODE_RTN:
        la[j, LA_CA * W + k], la[j, LA_SA * W + k] = scratch[0], scratch[1]
        la[j, LA_CD * W + k], la[j, LA_SD * W + k] = scratch[2], scratch[3]
        la[j, LA_HPAD * W + k] = 0.0
    elif mode == MODE_INERTIAL:
        la[j, LA_NX * W + k], la[j, LA_NY * W + k], la[j, LA_NZ * W + k] = scratch[0], scratch[1], scratch[2]


@njit(cache=True, error_model="numpy")
def lane_rhs(nl, y, la, j, ls, out, row):
    """out[row] (6 W,) = dy/dt for the nl <= W Cartesian states y (6 W,) [m, m/s]: Sun point mass + sail,
    with segment j's attitude constants la[j] (la: (nseg, N_LA W)) and the sails ls (N_LS W,). No time
    dependence (no third bodies). One loop over the lanes without branches, which LLVM vectorises. (The
    row by index: a view out[row] per call would cost two reference-count updates.)"""
    for k in range(nl):
        x, yy, z = y[k], y[W + k], y[2 * W + k]
        vx, vy, vz = y[3 * W + k], y[4 * W + k], y[5 * W + k]
        r2 = x * x + yy * yy + z * z
        rinv = 1.0 / math.sqrt(r2)
        inv_r2 = rinv * rinv
        ux, uy, uz = x * rinv, yy * rinv, z * rinv
        g = -GM_SUN * inv_r2
        # RTN frame (sim.dynamics.rhs)
        hx, hy, hz = yy * vz - z * vy, z * vx - x * vz, x * vy - yy * vx
        # abs() of a sum that is >= 0 changes no bit, but tells LLVM that sqrt cannot see a negative number
        # (no errno to set): sqrt is then an instruction it vectorises instead of a libm call
        hinv = 1.0 / math.sqrt(abs(hx * hx + hy * hy + hz * hz + la[j, LA_HPAD * W + k]))
        wx, wy, wz = hx * hinv, hy * hinv, hz * hinv      # orbit normal N
        tx, ty, tz = wy * uz - wz * uy, wz * ux - wx * uz, wx * uy - wy * ux  # transverse T = N x R
        ca, sa = la[j, LA_CA * W + k], la[j, LA_SA * W + k]
        cd, sd = la[j, LA_CD * W + k], la[j, LA_SD * W + k]
        nx = ca * ux + sa * (cd * tx + sd * wx) + la[j, LA_NX * W + k]
        ny = ca * uy + sa * (cd * ty + sd * wy) + la[j, LA_NY * W + k]
        nz = ca * uz + sa * (cd * tz + sd * wz) + la[j, LA_NZ * W + k]
        # sail force (sim.sail.srp_accel_unit): the lit face by a select, its normal m = +-n, c = m . u >= 0
        c = nx * ux + ny * uy + nz * uz
        front = c > 0.0
        sg = 1.0 if front else -1.0
        f2, f1, ft = ls[LS_F2 * W + k], ls[LS_F1 * W + k], ls[LS_FT * W + k]
        b2, b1, bt = ls[LS_B2 * W + k], ls[LS_B1 * W + k], ls[LS_BT * W + k]
        k2 = f2 if front else b2
        k1 = f1 if front else b1
        kt = ft if front else bt
        c = sg * c
        mx, my, mz = sg * nx, sg * ny, sg * nz
        fn = k2 * c * c + k1 * c
        fta = kt * c  # times (u - c m), whose norm is sin(alpha)
        scale = ls[LS_SCALE * W + k] * inv_r2
        out[row, k] = vx
        out[row, W + k] = vy
        out[row, 2 * W + k] = vz
        out[row, 3 * W + k] = g * ux + scale * (fn * mx + fta * (ux - c * mx))
        out[row, 4 * W + k] = g * uy + scale * (fn * my + fta * (uy - c * my))
        out[row, 5 * W + k] = g * uz + scale * (fn * mz + fta * (uz - c * mz))


@njit(cache=True)
def _combine(nl, Wt, r, n, K, acc):
    """acc (6 W,) = sum_{j < n} Wt[r, j] K[j] in j order, the tableau's zeros skipped (as
    ``sim.dop853._combine``: the same sums, the same numbers). One loop over the flat array up to the last
    lane of the last component (5 W + nl numbers: the unused lanes of the first five components ride along),
    so that each stage weight costs one vector loop, not six short ones (2x faster stage sums)."""
    nm = 5 * W + nl
    for m in range(nm):
        acc[m] = 0.0
    for j in range(n):
        w = Wt[r, j]
        if w != 0.0:
            for m in range(nm):
                acc[m] += w * K[j, m]


@njit(cache=True)
def _stage_state(nl, s, K, y, h, acc, out):
    """out = y + h sum_j A[s, j] K[j] (s = 12: the new point)."""
    _combine(nl, A, s, s, K, acc)
    for m in range(5 * W + nl):
        out[m] = y[m] + h * acc[m]


@njit(cache=True, error_model="numpy")
def _error_norm(nl, K, h, y, y_new, rtol, atol, s5, s3, err):
    """The largest over the lanes of ``sim.dop853._error_norm`` (relative weights 1: Cartesian)."""
    _combine(nl, E53, 0, 13, K, s5)
    _combine(nl, E53, 1, 13, K, s3)
    for k in range(nl):
        e5 = 0.0
        e3 = 0.0
        for i in range(6):
            sc = atol[i] + rtol * max(abs(y[i * W + k]), abs(y_new[i * W + k]))
            e5 += (s5[i * W + k] / sc) ** 2
            e3 += (s3[i * W + k] / sc) ** 2
        if e5 == 0.0 and e3 == 0.0:
            err[k] = 0.0
        else:
            err[k] = abs(h) * e5 / math.sqrt((e5 + 0.01 * e3) * 6.0)
    worst = err[0]
    for k in range(1, nl):
        if not (err[k] <= worst):  # a NaN lane is the worst
            worst = err[k]
    return worst


@njit(cache=True, error_model="numpy")
def _initial_step(nl, y, y0, K, la, j, ls, rtol, atol, ytmp, hk):
    """The first step (``sim.dop853.integrate``'s formula, Hairer et al. 1993 sec. II.4, in the orbit's
    canonical time unit) of each lane, from K[0] = f(y); returns the smallest (K[1] is overwritten)."""
    for k in range(nl):
        tu = math.sqrt(math.sqrt(y0[k] ** 2 + y0[W + k] ** 2 + y0[2 * W + k] ** 2) ** 3 / GM_SUN)  # s
        d0 = 0.0
        d1 = 0.0
        for i in range(6):
            sc = atol[i] + rtol * abs(y[i * W + k])
            d0 += (y[i * W + k] / sc) ** 2
            d1 += (K[0, i * W + k] / sc) ** 2
        d0 = math.sqrt(d0 / 6.0)
        d1 = math.sqrt(d1 / 6.0) * tu
        h = 1e-6 * tu if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1 * tu
        hk[k] = h
        for i in range(6):
            ytmp[i * W + k] = y[i * W + k] + h * K[0, i * W + k]
    lane_rhs(nl, ytmp, la, j, ls, K, 1)
    h_min = math.inf
    for k in range(nl):
        tu = math.sqrt(math.sqrt(y0[k] ** 2 + y0[W + k] ** 2 + y0[2 * W + k] ** 2) ** 3 / GM_SUN)  # s
        h = hk[k]
        d1 = 0.0
        d2 = 0.0
        for i in range(6):
            sc = atol[i] + rtol * abs(y[i * W + k])
            d1 += (K[0, i * W + k] / sc) ** 2
            d2 += ((K[1, i * W + k] - K[0, i * W + k]) / sc) ** 2
        d1 = math.sqrt(d1 / 6.0) * tu
        d2 = math.sqrt(d2 / 6.0) / h * tu * tu
        if max(d1, d2) <= 1e-15:
            h1 = max(1e-6 * tu, h * 1e-3)
        else:
            h1 = (0.01 / max(d1, d2)) ** (1.0 / 8.0) * tu
        h_min = min(h_min, min(100.0 * h, h1))
    return h_min


@njit(cache=True)
def block_final(nl, y0, seg_t, la, ls, rtol, y_out):
    """Integrate one block: nl <= W Cartesian states y0 (6 W,) [m, m/s] over the shared segment times seg_t
    (nseg + 1,) [s], with the lanes' attitude constants la (nseg, N_LA W) (``lane_attitude``) and sails
    ls (N_LS W,) (``lane_sail``). Writes the final states into y_out (6 W,); returns (status, n_accepted,
    n_rejected)."""
    nseg = seg_t.shape[0] - 1
    atol = default_atol(rtol)
    K = np.zeros((N_K, 6 * W))
    y = np.zeros(6 * W)
    y_new = np.zeros(6 * W)
    ytmp = np.zeros(6 * W)
    acc = np.zeros(6 * W)
    s3 = np.zeros(6 * W)
    lane_err = np.zeros(W)
    for m in range(6 * W):
        y[m] = y0[m]
    status = STATUS_OK
    n_acc = 0
    n_rej = 0
    steps = 0
    t = seg_t[0]
    h = 0.0
    for j in range(nseg):
        t_end = seg_t[j + 1]
        lane_rhs(nl, y, la, j, ls, K, 0)
        if h == 0.0:
            h = _initial_step(nl, y, y0, K, la, j, ls, rtol, atol, ytmp, lane_err)
        while t < t_end:
            if steps >= MAX_STEPS:
                status = STATUS_MAX_STEPS
                break
            h_try, last, what = step_to_try(t, h, t_end)
            if what == STEP_SLIVER:
                t = t_end
                break
            if what == STEP_UNDERFLOW:
                status = STATUS_STEP_UNDERFLOW
                break
            for s in range(1, N_STAGES):
                _stage_state(nl, s, K, y, h_try, acc, ytmp)
                lane_rhs(nl, ytmp, la, j, ls, K, s)
            _stage_state(nl, N_STAGES, K, y, h_try, acc, y_new)
            lane_rhs(nl, y_new, la, j, ls, K, N_STAGES)
            steps += 1
            err = _error_norm(nl, K, h_try, y, y_new, rtol, atol, acc, s3, lane_err)
            if err > 1.0:
                n_rej += 1
                h = step_after(h, h_try, err, last)
                continue
            n_acc += 1
            t = t_end if last else t + h_try
            for m in range(6 * W):
                y[m] = y_new[m]
                K[0, m] = K[N_STAGES, m]  # FSAL
            h = step_after(h, h_try, err, last)
        if status != STATUS_OK:
            break
    for m in range(6 * W):
        y_out[m] = y[m]
    return status, n_acc, n_rej


@njit(cache=True)
def block_inputs(Y0, SEG_MODE, SEG_ATT, P, rows, y0, la, ls):
    """Gather the rows (nl,) of a batch into the lanes of a block: y0 (6 W,), la (nseg, N_LA W),
    ls (N_LS W,). The segments' trigonometry is done here, once per segment and lane."""
    att = np.empty(3)
    scratch = np.empty(4)
    for k in range(rows.shape[0]):
        row = rows[k]
        for i in range(6):
            y0[i * W + k] = Y0[row, i]
        for j in range(SEG_MODE.shape[1]):
            lane_attitude(SEG_MODE[row, j], SEG_ATT[row, j, 0], SEG_ATT[row, j, 1], SEG_ATT[row, j, 2], j, k,
                          la, att, scratch)
        lane_sail(P[row], k, ls)


@njit(cache=True, parallel=True)
def final_batch_lanes(Y0, seg_t, SEG_MODE, SEG_ATT, P, rtol, lanes, out, status):
    """Final states out (n, 6) of the n rows of Y0 (n, 6) [m, m/s] over the shared segment times seg_t
    (nseg + 1,) [s], SEG_MODE (n, nseg), SEG_ATT (n, nseg, 3), P (n, n_params), in blocks of ``lanes``
    (1..W) rows, the blocks in parallel; the last block is padded with copies of the last row (they leave
    the shared step size unchanged). status (n,) gets each row's block status (``sim.dop853.STATUS_*``)."""
    n = Y0.shape[0]
    nseg = seg_t.shape[0] - 1
    for b in prange((n + lanes - 1) // lanes):
        rows = np.empty(lanes, np.int64)
        for k in range(lanes):
            rows[k] = min(b * lanes + k, n - 1)
        y0 = np.zeros(6 * W)
        la = np.zeros((nseg, N_LA * W))
        ls = np.zeros(N_LS * W)
        block_inputs(Y0, SEG_MODE, SEG_ATT, P, rows, y0, la, ls)
        y_end = np.empty(6 * W)
        st, na, nr = block_final(lanes, y0, seg_t, la, ls, rtol, y_end)
        for k in range(min(lanes, n - b * lanes)):
            row = b * lanes + k
            status[row] = st
            for i in range(6):
                out[row, i] = y_end[i * W + k]
