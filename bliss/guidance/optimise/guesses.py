"""Starting guesses for the optimiser: the crude cubic-Hermite path (when nothing better is known) and the
resampling of a warm start (the feedback law's transfer) onto the optimiser's equal segments (see
``bliss.guidance.optimise`` for the method).
"""
from __future__ import annotations

import math

import numpy as np

from bliss.guidance.problem import TransferProblem, TransferResult
from sim.constants import DAY, GM_SUN
from sim.integrator import propagate
from sim.rtn import normal_to_cone_clock

#: Crude-guess TOF when nothing better is known [s] (one year; continuation lengthens it if needed).
DEFAULT_TOF_GUESS = 365.25 * DAY


def _cyl(r, v):
    rho = math.hypot(r[0], r[1])
    th = math.atan2(r[1], r[0])
    drho = (r[0] * v[0] + r[1] * v[1]) / rho
    dth = (r[0] * v[1] - r[1] * v[0]) / rho**2
    return np.array([rho, th, r[2]]), np.array([drho, dth, v[2]])


def _hermite(p0, d0, p1, d1, T, s):
    """Cubic Hermite value, first and second time derivatives at fraction s of duration T."""
    s2, s3 = s * s, s * s * s
    h00, h10, h01, h11 = 2 * s3 - 3 * s2 + 1, s3 - 2 * s2 + s, -2 * s3 + 3 * s2, s3 - s2
    v = h00 * p0 + h10 * T * d0 + h01 * p1 + h11 * T * d1
    dh00, dh10, dh01, dh11 = 6 * s2 - 6 * s, 3 * s2 - 4 * s + 1, -6 * s2 + 6 * s, 3 * s2 - 2 * s
    dv = (dh00 * p0 + dh10 * T * d0 + dh01 * p1 + dh11 * T * d1) / T
    ddh00, ddh10, ddh01, ddh11 = 12 * s - 6, 6 * s - 4, -12 * s + 6, 6 * s - 2
    ddv = (ddh00 * p0 + ddh10 * T * d0 + ddh01 * p1 + ddh11 * T * d1) / T**2
    return v, dv, ddv


def _cyl_to_cart(c, dc, ddc):
    rho, th, z = c
    drho, dth, dz = dc
    ddrho, ddth, ddz = ddc
    ct, st = math.cos(th), math.sin(th)
    r = np.array([rho * ct, rho * st, z])
    er, et = np.array([ct, st, 0.0]), np.array([-st, ct, 0.0])
    v = drho * er + rho * dth * et + np.array([0, 0, dz])
    a = (ddrho - rho * dth**2) * er + (rho * ddth + 2 * drho * dth) * et + np.array([0, 0, ddz])
    return r, v, a


def _target_end_state(problem, tof):
    """Target state at arrival (for orbit-only problems: the target body's own point on its orbit, a
    reasonable aim point for the guess)."""
    return problem.target.state(problem.t_depart + tof)


def crude_guess(problem: TransferProblem, tof: float, n_segments: int):
    """Hermite-path warm start: (segment attitudes (N,2), states at segment starts (N+1,6))."""
    r0, v0 = problem.y_depart[:3], problem.y_depart[3:]
    r1, v1 = _target_end_state(problem, tof)
    c0, d0 = _cyl(r0, v0)
    c1, d1 = _cyl(r1, v1)
    mean_rate = 0.5 * (d0[1] + d1[1])
    dth = c1[1] - c0[1]
    k = round((mean_rate * tof - dth) / (2 * math.pi))
    c1 = c1.copy()
    c1[1] = c0[1] + dth + 2 * math.pi * k
    cone_max = math.radians(problem.limits.max_cone_deg)
    states = np.empty((n_segments + 1, 6))
    att = np.empty((n_segments, 2))
    for j in range(n_segments + 1):
        s = j / n_segments
        c, dc, ddc = _hermite(c0, d0, c1, d1, tof, s)
        r, v, a = _cyl_to_cart(c, dc, ddc)
        states[j] = np.concatenate([r, v])
        if j < n_segments:
            sm = (j + 0.5) / n_segments
            c, dc, ddc = _hermite(c0, d0, c1, d1, tof, sm)
            r, v, a = _cyl_to_cart(c, dc, ddc)
            need = a + GM_SUN * r / np.linalg.norm(r) ** 3
            cone, clock = normal_to_cone_clock(r, v, need / max(np.linalg.norm(need), 1e-30))
            att[j] = (min(cone, cone_max), clock)
    return att, states


def from_warm(problem: TransferProblem, warm: TransferResult, n_segments: int):
    """Resample a warm TransferResult on N equal segments: (tof, attitudes (N,2), states (N+1,6))."""
    tof = float(warm.tof)
    t = problem.t_depart + np.linspace(0.0, tof, n_segments + 1)
    sched = warm.schedule
    if abs(sched.t[0] - problem.t_depart) > 1.0:
        raise ValueError("warm start schedule must start at the problem's departure time")
    if sched.t[-1] < t[-1]:
        sched = sched.truncated(t[-1])
    traj = propagate(problem.y_depart, sched, problem.sail, t_out=np.clip(t, sched.t[0], sched.t[-1]),
                     rtol=1e-9)
    states = traj.y
    cone_max = math.radians(problem.limits.max_cone_deg)
    att = np.empty((n_segments, 2))
    for j in range(n_segments):
        tm = 0.5 * (t[j] + t[j + 1])
        k = min(max(int(np.searchsorted(sched.t, tm, side="right")) - 1, 0), sched.n_segments - 1)
        mode = int(sched.mode[k])
        if mode == 1:
            cone, clock = sched.att[k, 0], sched.att[k, 1]
        elif mode == 2:
            cone, clock = normal_to_cone_clock(states[j, :3], states[j, 3:], sched.att[k])
        else:
            cone, clock = cone_max, 0.0
        att[j] = (float(np.clip(cone, -cone_max, cone_max)), clock)
    return tof, att, states
