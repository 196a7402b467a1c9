"""Feedback-law transfer planner: fly the onboard steering laws to a rendezvous (a warm start).

:func:`fly_feedback` simulates what the spacecraft would do if it flew its onboard laws
(:mod:`bliss.guidance.steering`) from departure: it evaluates the law on the state at each segment
start, holds that attitude over the segment (zero-order hold, the ``sim.integrator.Schedule``
convention) and propagates the segment with the compiled integrator (Sun + sail). Three phases:

1. **orbit matching + phasing** (``match``): the blended law drives (a, e-vector, h^) to the target's
   osculating orbit. The commanded semi-major axis is offset from the target's by
   ``-k_phase * dlambda`` (clipped to +/- ``max_phase_offset``), where ``dlambda`` is the target's
   mean longitude minus ours: a spacecraft behind the target flies a slightly smaller, faster orbit
   and catches up (drift rate -3/2 n da/a), one ahead a larger one; at zero phase error the offset
   vanishes and the law settles on the target orbit.
2. **terminal rendezvous** (``terminal``), once within ``terminal_range`` of the target with a
   relative speed below ``terminal_speed``: a braking-curve relative-state law. The desired relative
   velocity points at the target with speed sqrt(2 eta a |dr|) (eta < 1 leaves margin for the sail's
   limited pointing), and the sail is pointed to best align its force with the velocity to be gained
   (within the cone limit), or turned edge-on (coast, mode 0) when that velocity is small or no
   feasible attitude has a useful component along it. Segments shorten as the velocity to be gained
   falls (down to ``min_seg_s``).
3. stop when |dr| < ``pos_tol`` and |dv| < ``vel_tol`` (converged) or after ``max_years``
   (not converged: the result still holds the flown schedule and its final miss).

The result need not close the rendezvous precisely; ``bliss.guidance.optimise`` takes it as a warm start.
Orbit-only problems (``rendezvous=False``) stop when the blended law's Lyapunov function falls below
``v_tol`` (miss fields then hold the position/velocity difference to the target at the end anyway,
when the target has a state).
"""
from __future__ import annotations

import math
import time

import numpy as np

from bliss.guidance.problem import TransferProblem, TransferResult
from bliss.guidance.steering import _blended, _lyapunov, _steer_inertial, blended_kernel_inputs
from sim.constants import AU, DAY, GM_SUN, JULIAN_YEAR
from sim.dop853 import integrate_final
from sim.integrator import Schedule
from sim.kepler import rv2coe, true_to_mean

MODE_OFF, MODE_RTN = 0, 1


def _mean_longitude(r, v) -> float:
    """raan + argp + M [rad] of the osculating orbit (well defined for small i and e)."""
    a, e, i, raan, argp, nu = rv2coe(GM_SUN, r, v)
    return raan + argp + true_to_mean(nu, e)


def _wrap(x: float) -> float:
    return (x + math.pi) % (2.0 * math.pi) - math.pi


def _accel_scale(r, p) -> float:
    """Sail acceleration magnitude at the Sun-facing attitude [m/s^2] at heliocentric position r."""
    from sim.sail import srp_accel

    ax, ay, az = srp_accel(r[0], r[1], r[2], r[0] / np.linalg.norm(r), r[1] / np.linalg.norm(r),
                           r[2] / np.linalg.norm(r), p)
    return math.sqrt(ax * ax + ay * ay + az * az)


def fly_feedback(problem: TransferProblem, seg_days: float = 1.0, progress=None, *,
                 max_years: float = 4.0,
                 pos_tol: float = 1.0e6, vel_tol: float = 2.0, v_tol: float = 1.0e-6,
                 k_phase: float = 0.15, max_phase_offset: float = 0.08,
                 terminal_range: float = 3.0e9, terminal_speed: float = 1500.0, eta: float = 0.25, tau_terminal: float = 2.0 * DAY, v_terminal: float = 3.0e-4,
                 min_seg_s: float = 0.02 * DAY, weights=None, eta_cut: float = 0.2, rtol: float = 1e-9) -> TransferResult:
    """Plan a transfer by flying the onboard feedback laws; returns a :class:`TransferResult`.

    ``seg_days``: segment length of the matching phase [days] (the terminal phase shortens it down to
    ``min_seg_s`` [s]). ``progress``: a tqdm-like object with ``update(n)`` (days flown) or None.
    Tolerances: ``pos_tol`` [m] (default 1000 km) and ``vel_tol`` [m/s] for the rendezvous; ``v_tol``
    (dimensionless Lyapunov value) for orbit-only problems. ``max_years`` [Julian years] caps the
    flight (default 4). ``k_phase`` [1/rad], ``max_phase_offset`` (fraction of a): the phasing law.
    ``terminal_range`` [m] / ``terminal_speed`` [m/s]: when the terminal law takes over; ``eta``: the
    fraction of the sail's acceleration the braking curve assumes. ``rtol``: integrator tolerance.
    """
    if not (math.isfinite(seg_days) and seg_days > 0):
        raise ValueError(f"seg_days must be a positive number of days, got {seg_days!r}")
    if not (math.isfinite(max_years) and max_years > 0):
        raise ValueError(f"max_years must be a positive number of years, got {max_years!r}")
    t_wall = time.perf_counter()
    sail = problem.sail
    p = sail.kernel_params()
    max_cone = math.radians(problem.limits.max_cone_deg)
    target = problem.target
    t0 = float(problem.t_depart)
    t_max = t0 + max_years * JULIAN_YEAR
    seg = seg_days * DAY
    y = problem.y_depart.astype(float).copy()
    t = t0
    times, modes, atts, phases = [t0], [], [], []
    converged = False
    phase = "match"
    n_terminal_entries = 0
    v_min = math.inf
    v_last = math.inf  # Lyapunov value (orbit match to the target's osculating orbit) at the last match step
    reason = "max_years"
    while t < t_max - 1.0:
        r, v = y[:3], y[3:]
        rt, vt = target.state(t)
        dr = r - rt
        dv = v - vt
        drn, dvn = float(np.linalg.norm(dr)), float(np.linalg.norm(dv))
        el_t = target.orbit_elements(t)
        if problem.rendezvous and drn < pos_tol and dvn < vel_tol:
            converged, reason = True, "rendezvous"
            break
        if problem.rendezvous:
            if phase == "match" and drn < terminal_range and dvn < terminal_speed and v_last < v_terminal:
                phase = "terminal"
                n_terminal_entries += 1
            elif phase == "terminal" and (drn > 2.0 * terminal_range or dvn > 2.0 * terminal_speed):
                phase = "match"
        dt = seg
        if phase == "match":
            el_cmd = np.array(el_t[:5], dtype=float)
            if problem.rendezvous:
                dlam = _wrap(_mean_longitude(rt, vt) - _mean_longitude(r, v))
                off = max(-max_phase_offset, min(max_phase_offset, k_phase * dlam))
                el_cmd[0] *= 1.0 - off
            a_t, ev, hv, w = blended_kernel_inputs(el_cmd, GM_SUN, weights)
            cone, clock, coast, V, _, _ = _blended(GM_SUN, r, v, a_t, ev, hv, w, p, max_cone, eta_cut, 36)
            if problem.rendezvous:  # orbit-match quality with respect to the target itself (no phase offset)
                v_last = _lyapunov(GM_SUN, r, v, *blended_kernel_inputs(el_t[:5], GM_SUN, weights))[0]
            if not problem.rendezvous:
                v_min = min(v_min, V)
                if V < v_tol:
                    converged, reason = True, "orbit matched"
                    break
        else:
            acc = _accel_scale(r, p)
            speed = math.sqrt(2.0 * eta * acc * drn)
            v_des = -dr / drn * speed
            dv_need = v_des - dv
            need = float(np.linalg.norm(dv_need))
            # desired acceleration: gain the missing velocity over tau_terminal, and cancel the
            # differential solar gravity so the relative motion follows the braking curve
            dg = -GM_SUN * (r / np.linalg.norm(r) ** 3 - rt / np.linalg.norm(rt) ** 3)
            a_des = dv_need / tau_terminal - dg
            cone, clock, proj = _steer_inertial(r, v, a_des / np.linalg.norm(a_des), p, max_cone)
            proj *= (AU / np.linalg.norm(r)) ** 2
            # coast when little is left to gain or the sail cannot push usefully along it
            coast = need < 0.5 * acc * min_seg_s or proj < 0.2 * acc
            if coast:
                dt = min(seg, max(min_seg_s, 0.1 * drn / max(dvn, 1e-3)))
            else:
                dt = min(seg, max(min_seg_s, 0.5 * need / proj))
        dt = min(dt, t_max - t)
        mode = MODE_OFF if coast else MODE_RTN
        att = (0.0, 0.0, 0.0) if coast else (cone, clock, 0.0)
        y = integrate_final(y, np.array([t, t + dt]), np.array([mode], dtype=np.int64),
                            np.array([att]), p, rtol)
        t += dt
        times.append(t)
        modes.append(mode)
        atts.append(att)
        phases.append(phase)
        if progress is not None:
            progress.update(dt / DAY)
    if len(modes) == 0:  # already there at departure: one short sail-off segment keeps the schedule valid
        times.append(t0 + 1.0)
        modes.append(MODE_OFF)
        atts.append((0.0, 0.0, 0.0))
        phases.append("none")
        y = integrate_final(y, np.array([t0, t0 + 1.0]), np.array([MODE_OFF], dtype=np.int64),
                            np.zeros((1, 3)), p, rtol)
        t = t0 + 1.0
    schedule = Schedule(np.array(times), np.array(modes, dtype=np.int64), np.array(atts))
    rt, vt = target.state(t)
    miss_pos = float(np.linalg.norm(y[:3] - rt))
    miss_vel = float(np.linalg.norm(y[3:] - vt))
    phases = np.array(phases)
    history = {
        "reason": reason,
        "n_segments": len(modes),
        "days_match": float(np.sum(np.diff(schedule.t)[phases == "match"]) / DAY),
        "days_terminal": float(np.sum(np.diff(schedule.t)[phases == "terminal"]) / DAY),
        "n_terminal_entries": n_terminal_entries,
        "coast_fraction": float(np.mean(schedule.mode == MODE_OFF)),
        "phase": phases,
        "wall_s": time.perf_counter() - t_wall,
        "pos_tol": pos_tol, "vel_tol": vel_tol,
    }
    if not problem.rendezvous:
        history["lyapunov_min"] = v_min
    return TransferResult(problem=problem, schedule=schedule, tof=t - t0, y_final=y, miss_pos=miss_pos,
                          miss_vel=miss_vel, converged=converged, method="feedback", history=history)
