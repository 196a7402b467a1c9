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
from sim.kepler import kepler_propagate, rv2coe, true_to_mean

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


def _desired_relative_velocity(r, v, dr, acc, eta):
    """Braking-curve relative velocity [m/s] toward the target, per axis of the spacecraft's RTN frame.

    A sail brakes along +R (away from the Sun) with up to ``acc`` and along +/-T, +/-N with up to about
    0.385 ``acc`` (cos^2 sin at the 35.26 deg cone), but can never push toward the Sun. So: along T and
    N, and radially from outside the target (dr . R > 0, coming in sunward, braked by the sail), the
    desired closing speed is sqrt(2 eta a_axis |d|); from inside (going out, which only gravity could
    brake) it is the slow natural rate n |d| (n = local mean motion), so no outward speed is built up
    that the sail could not take out again.
    """
    from sim.rtn import rtn_basis

    b = rtn_basis(r, v)
    d = b @ dr
    rn = float(np.linalg.norm(r))
    n_local = math.sqrt(GM_SUN / rn ** 3)
    out = np.empty(3)
    if d[0] > 0.0:
        out[0] = -math.sqrt(2.0 * eta * acc * d[0])
    else:
        out[0] = n_local * (-d[0])
    for k in (1, 2):
        out[k] = -math.copysign(math.sqrt(2.0 * eta * 0.385 * acc * abs(d[k])), d[k])
    return b.T @ out


def fly_feedback(problem: TransferProblem, seg_days: float = 1.0, progress=None, *,
                 max_years: float = 4.0,
                 pos_tol: float = 1.0e6, vel_tol: float = 2.0, v_tol: float = 1.0e-6,
                 k_phase: float = 0.3, max_phase_offset: float = 0.05,
                 terminal_range: float = 1.0e9, terminal_speed: float = 300.0, eta: float = 0.25, tgo_min: float = 2.0 * DAY, v_terminal: float = 1.0e-4, v_phase_gate: float = 1.0e-3, phasing_a_weight: float | None = None,
                 tau_miss: float = 10.0 * DAY, truncate_at_best: bool = True,
                 min_seg_s: float = 0.02 * DAY, weights=None, eta_cut: float = 0.35, rtol: float = 1e-9) -> TransferResult:
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
    n_phasing = 0
    a_c = sail.characteristic_acceleration
    best_j, best_k, best_y = math.inf, 0, y.copy()
    dlam_gate = math.nan  # phase error [rad] when phasing started
    pending_coast = 0.0
    while t < t_max - 1.0:
        r, v = y[:3], y[3:]
        rt, vt = target.state(t)
        dr = r - rt
        dv = v - vt
        drn, dvn = float(np.linalg.norm(dr)), float(np.linalg.norm(dv))
        if problem.rendezvous:
            j = drn / (a_c * tau_miss ** 2) + dvn / (a_c * tau_miss)
            if j < best_j:
                best_j, best_k, best_y = j, len(modes), y.copy()
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
            v_last = _lyapunov(GM_SUN, r, v, *blended_kernel_inputs(el_cmd, GM_SUN, weights))[0]
            # phasing starts once the orbit is roughly matched and stays on (latched) unless the match is
            # lost by a wide margin: the a offset itself raises V with respect to the target's orbit
            phasing = problem.rendezvous and (v_last < v_phase_gate or (n_phasing > 0 and v_last < 10.0 * v_phase_gate))
            if phasing:
                # phasing: fly a slightly smaller (faster) orbit when behind, larger when ahead
                dlam = _wrap(_mean_longitude(rt, vt) - _mean_longitude(r, v))
                off = max(-max_phase_offset, min(max_phase_offset, k_phase * dlam))
                el_cmd[0] *= 1.0 - off
                if n_phasing == 0:
                    dlam_gate = dlam
                n_phasing += 1
            a_t, ev, hv, w = blended_kernel_inputs(el_cmd, GM_SUN, weights)
            if n_phasing > 0 and phasing_a_weight is not None:
                w = w.copy()
                w[0] = phasing_a_weight
            cone, clock, coast, V, _, _ = _blended(GM_SUN, r, v, a_t, ev, hv, w, p, max_cone, eta_cut, 36)
            if not problem.rendezvous:
                v_min = min(v_min, V)
                if V < v_tol:
                    converged, reason = True, "orbit matched"
                    break
        else:
            acc = _accel_scale(r, p)
            # zero-effort-miss / zero-effort-velocity guidance (the optimal fixed-horizon feedback for a
            # double integrator, a = -6 ZEM/t^2 - 4... written with the coasting prediction so solar
            # gravity is accounted for): predict both bodies coasting for t_go, command
            # a = -6 dr_pred / t_go^2 + 2 dv_pred / t_go, and fly it with the sail as closely as the
            # cone limit allows (duty-cycled when less than the sail's full push along it is needed)
            t_go = max(tgo_min, 2.0 * math.sqrt(drn / acc) + 2.0 * dvn / acc)
            rp, vp = kepler_propagate(GM_SUN, r, v, t_go)
            rtp, vtp = target.state(t + t_go)
            a_cmd = -6.0 * (rp - rtp) / t_go ** 2 + 2.0 * (vp - vtp) / t_go
            a_need = float(np.linalg.norm(a_cmd))
            cone, clock, proj = _steer_inertial(r, v, a_cmd / a_need, p, max_cone)
            proj *= (AU / np.linalg.norm(r)) ** 2
            dt = min(seg, max(min_seg_s, t_go / 10.0))
            coast = proj < 0.1 * acc
            if not coast and a_need < proj:  # duty cycle: push for a fraction of the segment
                frac = a_need / proj
                if frac * dt < min_seg_s:
                    coast = True
                elif frac < 0.95:
                    dt = frac * dt
                    pending_coast = (1.0 - frac) * dt / frac
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
        if pending_coast > 0.0 and t + pending_coast < t_max:
            y = integrate_final(y, np.array([t, t + pending_coast]), np.array([MODE_OFF], dtype=np.int64),
                                np.zeros((1, 3)), p, rtol)
            t += pending_coast
            dt += pending_coast
            times.append(t)
            modes.append(MODE_OFF)
            atts.append((0.0, 0.0, 0.0))
            phases.append(phase)
        pending_coast = 0.0
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
    t_flown = t - t0
    if problem.rendezvous and not converged and truncate_at_best and best_k > 0 and best_k < len(modes):
        # hand back the flight up to its best approach (a better warm start than where the clock ran out)
        times, modes, atts, phases = times[:best_k + 1], modes[:best_k], atts[:best_k], phases[:best_k]
        t, y = times[-1], best_y
        reason += ", truncated at best approach"
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
        "phase_error_at_gate_deg": math.degrees(dlam_gate),
        "days_phasing": n_phasing * seg_days,
        "coast_fraction": float(np.mean(schedule.mode == MODE_OFF)),
        "phase": phases,
        "wall_s": time.perf_counter() - t_wall,
        "days_flown": t_flown / DAY,
        "pos_tol": pos_tol, "vel_tol": vel_tol,
    }
    if not problem.rendezvous:
        history["lyapunov_min"] = v_min
    return TransferResult(problem=problem, schedule=schedule, tof=t - t0, y_final=y, miss_pos=miss_pos,
                          miss_vel=miss_vel, converged=converged, method="feedback", history=history)
