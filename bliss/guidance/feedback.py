"""Feedback-law transfer planner: fly the onboard steering laws to a rendezvous (a warm start).

:func:`fly_feedback` simulates what the spacecraft would do if it flew its onboard laws
(:mod:`bliss.guidance.steering`) from departure: it evaluates the law on the state at each segment
start, holds that attitude over the segment (zero-order hold, the ``sim.integrator.Schedule``
convention) and propagates the segment with the compiled integrator (Sun + sail). Three phases:

1. **orbit matching** (``match``): the blended law drives (a, e-vector, h^) to the target's osculating
   orbit, coasting where it is ineffective (``eta_cut``).
2. **phasing**, once the blended Lyapunov value with respect to the target's orbit is below
   ``v_phase_gate`` (latched until it exceeds ten times that): the commanded semi-major axis becomes
   a_T (1 - k_phase dlambda), clipped to +/- ``max_phase_offset``, where dlambda is the target's mean
   longitude minus ours: a spacecraft behind the target flies a slightly smaller, faster orbit and
   catches up (drift rate -3/2 n da/a), one ahead a larger one.
3. **terminal rendezvous** (``terminal``), within ``terminal_range`` and ``terminal_speed`` of the
   target with the orbit matched to ``v_terminal``: a receding-horizon plan on the linearised
   (Clohessy-Wiltshire) relative motion about the target, see :func:`_terminal_mpc`. The horizon
   (``tgo_min`` .. ``tgo_max``, default 150-250 days) is long because a sail cannot push sunward: it
   moves inward only by retro-thrust and orbital motion, on the 1/n time scale.
4. stop when |dr| < ``pos_tol`` and |dv| < ``vel_tol`` (converged) or after ``max_years``. When not
   converged the returned flight is cut at its best approach (smallest |dr|/(a_c tau^2) +
   |dv|/(a_c tau), tau = ``tau_miss``) if that came within ``truncate_range``: the better warm start;
   ``history["reason"]`` says so.

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
from bliss.guidance.steering import _blended, _lyapunov, blended_kernel_inputs
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


def _cw_matrices(n, T, N):
    """Clohessy-Wiltshire state transition over T and the effect of each of N piecewise-constant
    accelerations on the final state (6 x 3N), Hill frame x radial, y along-track, z normal."""
    from scipy.linalg import expm

    A = np.zeros((6, 6))
    A[0:3, 3:6] = np.eye(3)
    A[3, 0] = 3.0 * n * n
    A[3, 4] = 2.0 * n
    A[4, 3] = -2.0 * n
    A[5, 2] = -n * n
    h = T / N
    M = np.zeros((9, 9))
    M[:6, :6] = A * h
    M[3:6, 6:9] = np.eye(3) * h
    E = expm(M)
    Phi_h, G_h = E[:6, :6], E[:6, 6:9]
    Phi_T = np.linalg.matrix_power(Phi_h, N)
    G = np.zeros((6, 3 * N))
    P = np.eye(6)
    for k in range(N - 1, -1, -1):  # segment k acts, then N-1-k free segments follow
        G[:, 3 * k:3 * k + 3] = P @ G_h
        P = P @ Phi_h
    return Phi_T, G


#: Candidate sail attitudes of the terminal planner: (cone, clock) [deg] in the RTN frame. Sun-facing,
#: and 8 clocks at 35.26 deg (largest transverse force) and at 60 deg (small force, mostly transverse).
_MPC_ATTITUDES = [(0.0, 0.0)] + [(35.26, c) for c in range(0, 360, 45)] + [(60.0, c) for c in range(0, 360, 45)]


def _terminal_mpc(r, v, rt, vt, p, max_cone, N, T):
    """Receding-horizon plan for the first segment: list of (duration fraction, cone, clock) and the
    segment length [s].

    Relative state in the target's Hill frame (x radial, y along-track, z normal; Clohessy-Wiltshire
    linearisation about the target's instantaneous angular rate). Horizon T [s] (time to go) cut into
    N segments; in segment k the sail spends a fraction w_kj of the
    time at each candidate attitude j (the exact force of the sail model at that attitude), the rest
    edge-on. Minimises |W x(T)|^2 + rho |w|^2 with 0 <= w_kj <= 1 (bounded linear least squares);
    fractions summing above 1 in the first segment are scaled down.
    """
    from scipy.optimize import lsq_linear
    from sim.rtn import cone_clock_to_normal
    from sim.sail import srp_accel

    rtn_ = np.linalg.norm(rt)
    xh = rt / rtn_
    hv = np.cross(rt, vt)
    zh = hv / np.linalg.norm(hv)
    yh = np.cross(zh, xh)
    C = np.vstack([xh, yh, zh])
    w = np.linalg.norm(hv) / rtn_ ** 2  # target's angular rate [rad/s]
    dr = C @ (r - rt)
    dv = C @ (v - vt) - np.cross([0.0, 0.0, w], dr)
    drn = float(np.linalg.norm(dr))
    atts = [(math.radians(c), math.radians(k)) for c, k in _MPC_ATTITUDES if math.radians(c) <= max_cone + 1e-12]
    F = np.empty((3, len(atts)))
    for j, (c, k) in enumerate(atts):
        n = cone_clock_to_normal(r, v, c, k)
        F[:, j] = C @ np.array(srp_accel(r[0], r[1], r[2], n[0], n[1], n[2], p))
    Phi, G = _cw_matrices(w, T, N)
    x0 = np.concatenate([dr, dv])
    L = max(drn, 1e5)
    Wd = np.concatenate([np.full(3, 1.0 / L), np.full(3, T / L)])
    J = len(atts)
    A = np.zeros((6, N * J))
    for k in range(N):
        A[:, k * J:(k + 1) * J] = (G[:, 3 * k:3 * k + 3] @ F) * Wd[:, None]
    b = -Wd * (Phi @ x0)
    rho = 1e-4 * float(np.max(np.abs(A))) ** 2
    A_aug = np.vstack([A, math.sqrt(rho) * np.eye(N * J)])
    b_aug = np.concatenate([b, np.zeros(N * J)])
    sol = lsq_linear(A_aug, b_aug, bounds=(0.0, 1.0), method="bvls")
    w0 = sol.x[:J]
    tot = float(np.sum(w0))
    if tot > 1.0:
        w0 = w0 / tot
    plan = [(float(w0[j]), atts[j][0], atts[j][1]) for j in range(J) if w0[j] > 1e-3]
    return plan, T / N


def _slew_stats(problem, schedule):
    """(largest normal change between successive segments per day of the earlier segment [deg/day],
    number of switches above ``problem.limits.max_slew_deg_per_day``). Sail-off segments count as
    edge-on (cone 90 deg, clock 0), the convention of ``bliss.guidance.schedule``."""
    from sim.integrator import propagate
    from sim.rtn import cone_clock_to_normal

    if schedule.n_segments < 2:
        return 0.0, 0
    tr = propagate(problem.y_depart, schedule, problem.sail, rtol=1e-8)
    worst, over = 0.0, 0
    for k in range(schedule.n_segments - 1):
        y = tr.y[k + 1]  # state at the switch between segments k and k+1
        ends = []
        for j in (k, k + 1):
            if schedule.mode[j] == MODE_RTN:
                ends.append(cone_clock_to_normal(y[:3], y[3:], schedule.att[j, 0], schedule.att[j, 1]))
            elif schedule.mode[j] == MODE_OFF:
                ends.append(cone_clock_to_normal(y[:3], y[3:], 0.5 * math.pi, 0.0))
            else:
                ends.append(schedule.att[j])
        ang = math.degrees(math.acos(max(-1.0, min(1.0, float(ends[0] @ ends[1])))))
        rate = ang / ((schedule.t[k + 1] - schedule.t[k]) / DAY)
        worst = max(worst, rate)
        over += rate > problem.limits.max_slew_deg_per_day
    return worst, int(over)


def fly_feedback(problem: TransferProblem, seg_days: float = 1.0, progress=None, *,
                 max_years: float = 4.0,
                 pos_tol: float = 1.0e6, vel_tol: float = 2.0, v_tol: float = 1.0e-6,
                 k_phase: float = 0.3, max_phase_offset: float = 0.05,
                 terminal_range: float = 1.0e9, terminal_speed: float = 300.0, v_terminal: float = 1.0e-4,
                 tgo_min: float = 150.0 * DAY, tgo_max: float = 250.0 * DAY, n_mpc: int = 8,
                 v_phase_gate: float = 1.0e-3, phasing_a_weight: float | None = None,
                 tau_miss: float = 10.0 * DAY, truncate_at_best: bool = True, truncate_range: float = 1.0e10,
                 min_seg_s: float = 0.02 * DAY, weights=None, eta_cut: float = 0.35, rtol: float = 1e-9) -> TransferResult:
    """Plan a transfer by flying the onboard feedback laws; returns a :class:`TransferResult`.

    ``seg_days``: segment length [days] (terminal segments are split into thrust fractions; none is
    shorter than ``0.01 min_seg_s`` [s]). ``progress``: a tqdm-like object with ``update(n)`` (days
    flown) or None. Tolerances: ``pos_tol`` [m] (default 1000 km) and ``vel_tol`` [m/s] for the
    rendezvous; ``v_tol`` (dimensionless Lyapunov value) for orbit-only problems. ``max_years``
    [Julian years] caps the flight (default 4). ``k_phase`` [1/rad], ``max_phase_offset`` (fraction of
    a), ``v_phase_gate``, ``phasing_a_weight`` (W_a while phasing; None keeps ``weights``): phasing.
    ``terminal_range`` [m], ``terminal_speed`` [m/s], ``v_terminal``: terminal entry; ``tgo_min``,
    ``tgo_max`` [s], ``n_mpc``: its horizon. ``weights``, ``eta_cut``: the blended law (steering.py).
    ``tau_miss`` [s]: miss metric scale; the flight is cut at its best approach only when that came
    within ``truncate_range`` [m] (default 1e10 m, 0.07 AU), otherwise the whole flight is returned.
    ``rtol``: integrator tolerance.
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
    best_j, best_k, best_y, best_dr = math.inf, 0, y.copy(), math.inf
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
                best_j, best_k, best_y, best_dr = j, len(modes), y.copy(), drn
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
            # receding-horizon relative guidance on the linearised (Clohessy-Wiltshire) relative motion
            # about the target, choosing time fractions at candidate sail attitudes (exact sail forces)
            # receding horizon: the time to go is set by the range (with a floor of about 1/n, the time
            # scale on which a sail, which cannot push sunward, moves radially inward by retro-thrust)
            acc0 = _accel_scale(r, p)
            t_go = min(tgo_max, max(tgo_min, 3.0 * math.sqrt(drn / (0.2 * acc0))))
            plan, h = _terminal_mpc(r, v, rt, vt, p, max_cone, n_mpc, t_go)
            h = min(seg, max(min_seg_s, h))
            for frac, c_, k_ in plan:
                if frac * h >= 0.01 * min_seg_s and t + frac * h < t_max:
                    y = integrate_final(y, np.array([t, t + frac * h]), np.array([MODE_RTN], dtype=np.int64),
                                        np.array([[c_, k_, 0.0]]), p, rtol)
                    t += frac * h
                    times.append(t)
                    modes.append(MODE_RTN)
                    atts.append((c_, k_, 0.0))
                    phases.append(phase)
            used = sum(f for f, _, _ in plan)
            coast = True
            dt = max((1.0 - used) * h, 0.01 * min_seg_s)
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
    if (problem.rendezvous and not converged and truncate_at_best and 0 < best_k < len(modes)
            and best_dr < truncate_range):
        # hand back the flight up to its best approach (a better warm start than where the clock ran out)
        times, modes, atts, phases = times[:best_k + 1], modes[:best_k], atts[:best_k], phases[:best_k]
        t, y = times[-1], best_y
        reason += ", truncated at best approach"
    schedule = Schedule(np.array(times), np.array(modes, dtype=np.int64), np.array(atts))
    rt, vt = target.state(t)
    miss_pos = float(np.linalg.norm(y[:3] - rt))
    miss_vel = float(np.linalg.norm(y[3:] - vt))
    phases = np.array(phases)
    max_slew, n_slew_over = _slew_stats(problem, schedule)
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
        # the feedback law does not enforce limits.max_slew_deg_per_day; report how far it is from it
        "max_slew_deg_per_day": max_slew,
        "n_slew_over_limit": n_slew_over,
    }
    if not problem.rendezvous:
        history["lyapunov_min"] = v_min
    return TransferResult(problem=problem, schedule=schedule, tof=t - t0, y_final=y, miss_pos=miss_pos,
                          miss_vel=miss_vel, converged=converged, method="feedback", history=history)
