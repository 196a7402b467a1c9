"""Feedback-law transfer planner: fly the onboard steering laws to a rendezvous (a warm start).

:func:`fly_feedback` simulates what the spacecraft would do if it flew its onboard laws from departure:
it evaluates a law on the state at each step, holds that attitude over the step (zero-order hold, the
``sim.integrator.Schedule`` convention) and propagates with the compiled integrator (Sun + sail). Phases:

1. **orbit matching** (``match``): the blended law (:mod:`bliss.guidance.steering`) drives
   (a, e-vector, h^) to the target's osculating orbit, coasting where it is ineffective (``eta_cut``);
   once the blended Lyapunov value is below ``v_phase_gate`` it also phases by a semi-major-axis offset
   (a_T (1 - k_phase dlambda), clipped to +/- ``max_phase_offset``; dlambda = the target's mean
   longitude minus ours). This phase is for targets the rendezvous law cannot yet reach.
2. **rendezvous** (phasing and terminal approach together): every ``rdv_check_days`` of matching, the
   rendezvous law (:mod:`bliss.guidance.rendezvous`: a fixed-arrival-time plan on the equinoctial
   elements linearised about the coasting arc, re-solved every step) looks for the earliest arrival epoch
   its plan closes, within ``tgo_max``; from then on it flies, moving the arrival later by ``tgo_step``
   whenever its plan stops closing (the linear prediction is optimistic far from the target), and hands
   back to matching if no arrival within ``tgo_max`` closes.
3. stop when |dr| < ``pos_tol`` and |dv| < ``vel_tol`` (converged), after ``max_years``, or when the flight
   comes closer to the Sun than ``sim.constants.MIN_SAFE_SUN_DISTANCE`` (0.2 AU, the film's limit). When not
   converged the returned flight is cut at its best approach (smallest |dr|/(a_c tau^2) +
   |dv|/(a_c tau), tau = ``tau_miss``) if that came within ``truncate_range``: the better warm start;
   ``history["reason"]`` says so.

Orbit-only problems (``rendezvous=False``) use the matching phase only and stop when the blended law's
Lyapunov function falls below ``v_tol`` (miss fields then hold the position/velocity difference to the
target at the end anyway, when the target has a state).
"""
from __future__ import annotations

import math
import time

import numpy as np

from bliss.guidance.problem import TransferProblem, TransferResult
from bliss.guidance.steering import _blended, _lyapunov, blended_kernel_inputs
from sim.constants import AU, DAY, GM_SUN, JULIAN_YEAR, MIN_SAFE_SUN_DISTANCE
from sim.dop853 import integrate_final
from sim.integrator import Schedule
from sim.kepler import rv2coe, true_to_mean

MODE_OFF, MODE_RTN = 0, 1
#: Shortest attitude dwell of the time-shared rendezvous law [s]: 5 minutes, the time scale of a BLISS
#: slew (the centre-of-mass-offset torque, order 1e-7 N m, turns the sail in minutes; shared/reference.md).
#: Shorter fractions are not flown (coasted instead); the next plan makes up for them.
MIN_FRACTION_S = 300.0


def _mean_longitude(r, v) -> float:
    """raan + argp + M [rad] of the osculating orbit (well defined for small i and e)."""
    a, e, i, raan, argp, nu = rv2coe(GM_SUN, r, v)
    return raan + argp + true_to_mean(nu, e)


def _perihelion(r, v) -> float:
    """Perihelion distance a (1 - e) [m] of the osculating orbit (r, v)."""
    a, e = rv2coe(GM_SUN, np.asarray(r, float), np.asarray(v, float))[:2]
    return a * (1.0 - e)


def _wrap(x: float) -> float:
    return (x + math.pi) % (2.0 * math.pi) - math.pi


def _slew_stats(problem, schedule):
    """(largest normal change between successive segments per day of the earlier segment [deg/day],
    number of switches above ``problem.limits.max_slew_deg_per_day``). A sail-off segment is edge-on at
    no particular clock angle: turning to it from a normal at cone c takes |90 deg - c| (the nearest
    edge-on normal, reached at constant clock), and between two sail-off segments nothing turns."""
    from sim.integrator import propagate
    from sim.rtn import cone_clock_to_normal

    if schedule.n_segments < 2:
        return 0.0, 0
    tr = propagate(problem.y_depart, schedule, problem.sail, rtol=1e-8)
    worst, over = 0.0, 0
    for k in range(schedule.n_segments - 1):
        y = tr.y[k + 1]  # state at the switch between segments k and k+1
        rhat = y[:3] / np.linalg.norm(y[:3])
        ends = []
        for j in (k, k + 1):
            if schedule.mode[j] == MODE_RTN:
                ends.append(cone_clock_to_normal(y[:3], y[3:], schedule.att[j, 0], schedule.att[j, 1]))
            elif schedule.mode[j] == MODE_OFF:
                ends.append(None)
            else:
                ends.append(np.asarray(schedule.att[j, :3], float))
        if ends[0] is None and ends[1] is None:
            ang = 0.0
        elif ends[0] is None or ends[1] is None:
            n = ends[1] if ends[0] is None else ends[0]
            ang = abs(90.0 - math.degrees(math.acos(max(-1.0, min(1.0, float(n @ rhat))))))
        else:
            ang = math.degrees(math.acos(max(-1.0, min(1.0, float(ends[0] @ ends[1])))))
        rate = ang / ((schedule.t[k + 1] - schedule.t[k]) / DAY)
        worst = max(worst, rate)
        over += rate > problem.limits.max_slew_deg_per_day * (1.0 + 1e-9)
    return worst, int(over)


class _SlewLimiter:
    """Turns the sail toward each commanded attitude at no more than the slew limit.

    Works on the normal's RTN components (at a switch the RTN frame is common to both segments, the
    convention of ``_slew_stats`` and of the optimiser's slew constraint). A command of None means edge-on
    (sail off): the nearest edge-on normal, at the current clock angle. Intermediate normals on the way
    to or from edge-on may have cones above the cone limit: the sail is feathering, not thrusting there.
    """

    def __init__(self, max_rate_deg_per_day: float):
        self.rate = math.radians(max_rate_deg_per_day) / DAY  # [rad/s]
        self.n = None  # RTN components of the last flown normal

    def step(self, cmd, dt: float):
        """(mode, (cone, clock, 0)) to fly for dt [s] toward ``cmd`` = (cone, clock) [rad] or None."""
        n = self.n
        if cmd is None:
            clock = math.atan2(n[2], n[1]) if n is not None and math.hypot(n[1], n[2]) > 1e-12 else 0.0
            target = np.array([0.0, math.cos(clock), math.sin(clock)])
        else:
            c, k = cmd
            target = np.array([math.cos(c), math.sin(c) * math.cos(k), math.sin(c) * math.sin(k)])
        if n is not None:
            theta = math.acos(max(-1.0, min(1.0, float(n @ target))))
            lim = self.rate * dt
            if theta > lim:
                perp = target - math.cos(theta) * n
                pn = float(np.linalg.norm(perp))
                if pn < 1e-12:  # commanded exactly opposite: turn about any axis normal to n
                    perp = np.cross(n, [0.0, 0.0, 1.0] if abs(n[2]) < 0.9 else [1.0, 0.0, 0.0])
                    pn = float(np.linalg.norm(perp))
                target = math.cos(lim) * n + math.sin(lim) * perp / pn
        self.n = target / np.linalg.norm(target)
        cone = math.acos(max(-1.0, min(1.0, float(self.n[0]))))
        if cone >= 0.5 * math.pi - 1e-9:
            return MODE_OFF, (0.0, 0.0, 0.0)
        return MODE_RTN, (cone, math.atan2(self.n[2], self.n[1]), 0.0)


class _RendezvousLaw:
    """The rendezvous phase's state: the arrival epoch and the candidate attitudes' forces."""

    def __init__(self, problem, n_seg, tgo_step, tgo_max, tgo_floor):
        from bliss.guidance.rendezvous import candidate_attitudes

        self.target = problem.target
        self.atts, self.F1 = candidate_attitudes(math.radians(problem.limits.max_cone_deg),
                                                 problem.sail.kernel_params())
        self.n_seg, self.tgo_step, self.tgo_max, self.tgo_floor = n_seg, tgo_step, tgo_max, tgo_floor
        self.max_cone_deg, self.sail_params = problem.limits.max_cone_deg, problem.sail.kernel_params()
        self.fine = self.F_fine = None  # single-attitude grid, built on first use (slew-limited flights)
        self.t_f = math.nan
        self.n_plans = 0
        self.n_extensions = 0

    def _plan(self, t, y, t_f):
        from bliss.guidance.rendezvous import plan

        rt, vt = self.target.state(t_f)
        self.n_plans += 1
        return plan(y, t_f - t, np.concatenate([rt, vt]), self.F1, self.n_seg)

    def first_arrival(self, t, y, tgo_min):
        """Earliest arrival epoch (on the ``tgo_step`` grid from ``tgo_min``) the linear plan closes, or None."""
        tgo = max(tgo_min, self.tgo_floor)
        while tgo <= self.tgo_max:
            w0, h, miss, _ = self._plan(t, y, t + tgo)
            if miss <= PLAN_CLOSED:
                self.t_f = t + tgo
                return self.t_f
            tgo += self.tgo_step
        return None

    def single_attitude(self, w0):
        """(cone, clock) [rad] whose force is nearest the mean force of the fractions ``w0``, or None when
        no thrust (edge-on) is nearer."""
        if self.fine is None:  # a finer grid of single attitudes than the plan's candidates
            from bliss.guidance.rendezvous import rtn_force_1au

            cones = np.radians(np.arange(0.0, self.max_cone_deg + 1e-9, FINE_CONE_STEP_DEG))
            clocks = np.radians(np.arange(0.0, 360.0, FINE_CLOCK_STEP_DEG))
            self.fine = np.array([(0.0, 0.0)] + [(c, k) for c in cones[1:] for k in clocks])
            self.F_fine = np.stack([rtn_force_1au(c, k, self.sail_params) for c, k in self.fine], axis=1)
        u = self.F1 @ w0
        err = np.linalg.norm(self.F_fine - u[:, None], axis=0)
        k = int(np.argmin(err))
        if float(np.linalg.norm(u)) <= err[k]:
            return None
        return float(self.fine[k, 0]), float(self.fine[k, 1])

    def command(self, t, y):
        """(first-segment fractions (J,), segment length [s]) for the current arrival epoch, moved later
        in ``tgo_step`` steps while the plan does not close; None when no arrival within ``tgo_max`` closes."""
        self.t_f = max(self.t_f, t + self.tgo_floor)
        while True:
            w0, h, miss, _ = self._plan(t, y, self.t_f)
            if miss <= PLAN_CLOSED:
                return w0, h
            if self.t_f + self.tgo_step - t > self.tgo_max:
                return None
            self.t_f += self.tgo_step
            self.n_extensions += 1


#: A rendezvous plan "closes" when its predicted weighted miss (``rendezvous.plan``; ~ position error
#: over the orbit radius) is below this: 1e-7 is 15 km at 1 AU, well inside the 1000 km tolerance,
#: and the re-planning removes the rest.
PLAN_CLOSED = 1.0e-7
#: The rendezvous law hands back to the matching phase when the osculating perihelion falls below this
#: fraction of the lower of the departure orbit's and the target's perihelia (for Earth -> Bennu 0.75 x
#: 0.897 AU = 0.67 AU). Its linear plan knows nothing of the Sun's proximity, and in a sweep of departure
#: dates (2027-2032, every 30 days) it dived toward the Sun on 10 of 72 dates while chasing an arrival
#: epoch it kept moving later.
PERIHELION_FLOOR = 0.75
#: Grid of the single attitudes flown under the slew limit: cone [deg] and clock [deg] steps.
FINE_CONE_STEP_DEG = 2.0
FINE_CLOCK_STEP_DEG = 5.0



def fly_feedback(problem: TransferProblem, seg_days: float = 1.0, progress=None, *,
                 max_years: float = 4.0,
                 pos_tol: float = 1.0e6, vel_tol: float = 1.0, v_tol: float = 1.0e-6,
                 k_phase: float = 0.3, max_phase_offset: float = 0.05,
                 v_phase_gate: float = 1.0e-3, phasing_a_weight: float | None = None,
                 rdv_check_days: float = 10.0, tgo_min: float = 30.0 * DAY, tgo_max: float = 600.0 * DAY,
                 tgo_step: float = 10.0 * DAY, tgo_floor: float = 2.0 * DAY, n_rdv_seg: int = 20,
                 slew_limited: bool = False,
                 tau_miss: float = 10.0 * DAY, truncate_at_best: bool = True, truncate_range: float = 1.0e10,
                 weights=None, eta_cut: float = 0.35, rtol: float = 1e-9) -> TransferResult:
    """Plan a transfer by flying the onboard feedback laws; returns a :class:`TransferResult`.

    ``seg_days``: guidance step [days] (the law is re-evaluated at least this often; the rendezvous law
    splits a step into thrust fractions and steps faster when its segments get shorter). ``progress``:
    a tqdm-like object with ``update(n)`` (days flown) or None. Tolerances: ``pos_tol`` [m] (default
    1000 km) and ``vel_tol`` [m/s] (default 1 m/s) for the rendezvous; ``v_tol`` (dimensionless
    Lyapunov value) for orbit-only problems. ``max_years`` [Julian years] caps the flight (default 4).
    Matching: ``weights``, ``eta_cut`` (the blended law, steering.py); ``k_phase`` [1/rad],
    ``max_phase_offset`` (fraction of a), ``v_phase_gate``, ``phasing_a_weight`` (W_a while phasing;
    None keeps ``weights``): phasing by a semi-major-axis offset. Rendezvous: every ``rdv_check_days``
    of matching the rendezvous law looks for the earliest arrival epoch between ``tgo_min`` and
    ``tgo_max`` [s] from now (grid ``tgo_step`` [s]) its plan closes and, if there is one, takes over;
    ``n_rdv_seg`` plan segments, never less than ``tgo_floor`` [s] to go.
    ``tau_miss`` [s]: miss metric scale; the flight is cut at its best approach only when that came
    within ``truncate_range`` [m] (default 1e10 m, 0.07 AU), otherwise the whole flight is returned.
    ``slew_limited`` (default False): True flies one attitude per step and turns toward each new command
    at no more than ``problem.limits.max_slew_deg_per_day`` (the rendezvous law then flies the single
    attitude whose force is nearest its plan's mean force). Measured from 2030-11-21 it then does NOT
    close (best 18,600 km / 7.6 m/s in 4 years, docs/guidance.md), so by default the rendezvous law
    time-shares between attitudes within a step, which closes but switches far faster than the slew
    limit (``history["max_slew_deg_per_day"]`` says how far); the optimiser's schedule respects it.
    ``rtol``: integrator tolerance.
    """
    if not (math.isfinite(seg_days) and seg_days > 0):
        raise ValueError(f"seg_days must be a positive number of days, got {seg_days!r}")
    if not (math.isfinite(max_years) and max_years > 0):
        raise ValueError(f"max_years must be a positive number of years, got {max_years!r}")
    if not (0 < tgo_floor <= tgo_min <= tgo_max and tgo_step > 0 and n_rdv_seg >= 1):
        raise ValueError(f"rendezvous settings need 0 < tgo_floor <= tgo_min <= tgo_max [s], tgo_step > 0 [s] "
                         f"and n_rdv_seg >= 1; got tgo_floor={tgo_floor!r}, tgo_min={tgo_min!r}, "
                         f"tgo_max={tgo_max!r}, tgo_step={tgo_step!r}, n_rdv_seg={n_rdv_seg!r}")
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
    law = _RendezvousLaw(problem, n_rdv_seg, tgo_step, tgo_max, tgo_floor) if problem.rendezvous else None
    n_rdv_entries = 0
    limiter = _SlewLimiter(problem.limits.max_slew_deg_per_day) if slew_limited else None
    t_next_check = t0
    n_perihelion_handbacks = 0
    q_floor = PERIHELION_FLOOR * min(_perihelion(y[:3], y[3:]),
                                     _perihelion(*target.state(t0))) if problem.rendezvous else 0.0
    tof_first_plan = math.nan
    v_min = math.inf
    reason = "max_years"
    n_phasing = 0
    a_c = sail.characteristic_acceleration
    best_j, best_k, best_y, best_dr = math.inf, 0, y.copy(), math.inf
    dlam_gate = math.nan  # phase error [rad] when phasing started

    def fly(dt, mode, att, ph):
        nonlocal y, t
        y = integrate_final(y, np.array([t, t + dt]), np.array([mode], dtype=np.int64), np.array([att]), p, rtol)
        t += dt
        times.append(t)
        modes.append(mode)
        atts.append(att)
        phases.append(ph)

    while t < t_max - 1.0:
        r, v = y[:3], y[3:]
        if float(np.linalg.norm(r)) < MIN_SAFE_SUN_DISTANCE:
            reason = f"too close to the Sun (< {MIN_SAFE_SUN_DISTANCE / AU:g} AU, sim.constants.MIN_SAFE_SUN_DISTANCE)"
            break
        rt, vt = target.state(t)
        drn, dvn = float(np.linalg.norm(r - rt)), float(np.linalg.norm(v - vt))
        if problem.rendezvous:
            j = drn / (a_c * tau_miss ** 2) + dvn / (a_c * tau_miss)
            if j < best_j:
                best_j, best_k, best_y, best_dr = j, len(modes), y.copy(), drn
            if drn < pos_tol and dvn < vel_tol:
                converged, reason = True, "rendezvous"
                break
            if phase == "match" and t >= t_next_check:
                t_next_check = t + rdv_check_days * DAY
                if law.first_arrival(t, y, tgo_min) is not None:
                    phase = "rendezvous"
                    n_rdv_entries += 1
                    if n_rdv_entries == 1:
                        tof_first_plan = law.t_f - t0
        t_start = t
        if phase == "rendezvous" and _perihelion(r, v) < q_floor:
            # the linear plan is diving sunward (it can, chasing an arrival epoch it keeps moving): hand
            # back to the blended law, which raises the orbit toward the target's, and re-plan later
            phase = "match"
            n_perihelion_handbacks += 1
            t_next_check = t + rdv_check_days * DAY
        if phase == "rendezvous":
            cmd = law.command(t, y)
            if cmd is None:  # no arrival within tgo_max closes any more: back to matching the orbit
                phase = "match"
            else:
                w0, h = cmd
                dt = min(seg, h, t_max - t)
                if limiter is not None:
                    fly(dt, *limiter.step(law.single_attitude(w0), dt), phase)
                else:
                    for k in np.nonzero(w0 * dt > MIN_FRACTION_S)[0]:
                        fly(w0[k] * dt, MODE_RTN, (law.atts[k, 0], law.atts[k, 1], 0.0), phase)
                    rest = dt - (t - t_start)
                    if rest > MIN_FRACTION_S:
                        fly(rest, MODE_OFF, (0.0, 0.0, 0.0), phase)
        if phase == "match":
            el_cmd = np.array(target.orbit_elements(t)[:5], dtype=float)
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
            dt = min(seg, t_max - t)
            if limiter is not None:
                fly(dt, *limiter.step(None if coast else (cone, clock), dt), phase)
            else:
                fly(dt, MODE_OFF if coast else MODE_RTN, (0.0, 0.0, 0.0) if coast else (cone, clock, 0.0), phase)
        if progress is not None:
            progress.update((t - t_start) / DAY)
    if len(modes) == 0:  # already there at departure: one short sail-off segment keeps the schedule valid
        fly(1.0, MODE_OFF, (0.0, 0.0, 0.0), "none")
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
    durations = np.diff(schedule.t)
    history = {
        "reason": reason,
        "n_segments": len(modes),
        "days_match": float(np.sum(durations[phases == "match"]) / DAY),
        "days_rendezvous": float(np.sum(durations[phases == "rendezvous"]) / DAY),
        "n_rendezvous_entries": n_rdv_entries,
        # time of flight the rendezvous law first planned (linear prediction) vs what it took
        "tof_first_plan_days": tof_first_plan / DAY,
        "n_rendezvous_plans": law.n_plans if law is not None else 0,
        "n_arrival_extensions": law.n_extensions if law is not None else 0,
        "n_perihelion_handbacks": n_perihelion_handbacks,
        "phase_error_at_gate_deg": math.degrees(dlam_gate),
        "days_phasing": n_phasing * seg_days,
        "coast_fraction": float(np.sum(durations[schedule.mode == MODE_OFF]) / max(np.sum(durations), 1e-300)),
        "phase": phases,
        "wall_s": time.perf_counter() - t_wall,
        "days_flown": t_flown / DAY,
        "pos_tol": pos_tol, "vel_tol": vel_tol,
        # measured on the flown schedule (none over the limit when slew_limited)
        "max_slew_deg_per_day": max_slew,
        "n_slew_over_limit": n_slew_over,
    }
    if not problem.rendezvous:
        history["lyapunov_min"] = v_min
    return TransferResult(problem=problem, schedule=schedule, tof=t - t0, y_final=y, miss_pos=miss_pos,
                          miss_vel=miss_vel, converged=converged, method="feedback", history=history)
