"""Earth return of a sample: reach the Earth's position with an arrival excess speed below a capsule limit.

The return leg of ``bliss.missions.jfc`` does not rendezvous with the Earth (matching its velocity costs
the sail ~8 km/s more from a comet's orbit); it only has to arrive at the Earth's centre's heliocentric
position with |v - v_Earth| = v_inf <= ``V_INF_ENTRY_MAX``, after which the capsule enters directly (as
Stardust's did). That is a flyby end condition plus a speed bound, so the leg is solved by the flyby
solver of ``bliss.missions.interstellar`` (:func:`~bliss.missions.interstellar.solve_flyby`: cone/clock
attitudes per segment, ``scipy.optimize.least_squares`` on the compiled DOP853 final state) with a
fourth residual, the excess of v_inf over the limit. Per arrival date, a continuation: first the
Earth's position alone, then the speed bound lowered step by step from the v_inf found, each solve from
the previous attitudes (a local solver started straight at the bound stays far from the Earth). The
earliest arrival: dates scanned every ``SCAN_STEP_DAYS`` from ``MIN_RETURN_DAYS``; the first that closes
(a 30-day grid: "earliest found", not bisected).

Replay: the schedule flown again with ``sim.integrator.propagate`` (rtol 1e-10), compared with the
Earth's state from the built-in ephemeris (``sim.ephemeris.body_state``): closed when the replayed
distance is within ``FLYBY_TOL_M`` (1,000 km, ``bliss plan``'s position tolerance; the entry corridor is
steered by the final approach's trim, not by this heliocentric plan) and v_inf <= ``V_INF_ENTRY_MAX``.
The Earth's gravity is neglected (patched conic: v_inf is the excess speed at the sphere of influence).
"""
from __future__ import annotations

import math
import time

import numpy as np

from bliss.missions.interstellar import FLYBY_TOL_M, REPLAY_RTOL, SOLVE_RTOL, _schedule, solve_flyby
from sim.constants import AU, DAY, GM_PLANETS
from sim.ephemeris import body_state
from sim.integrator import Schedule, propagate, propagate_final

#: Stardust's sample capsule entered at 12.9 km/s at the 125 km entry interface on 2006-01-15 (NASA
#: Stardust sample return press kit, January 2006: "the fastest re-entry of any human-made object").
STARDUST_ENTRY_SPEED_M_S = 12.9e3
ENTRY_INTERFACE_ALT_M = 125.0e3
#: Earth's equatorial radius [m] (WGS-84) and GM [m^3/s^2] (``sim.constants.GM_PLANETS``).
R_EARTH_M = 6378.137e3
GM_EARTH = GM_PLANETS["earth"]
#: Escape speed at the entry interface: sqrt(2 GM_E / (R_E + 125 km)) = 11.07 km/s.
V_ESC_INTERFACE_M_S = math.sqrt(2.0 * GM_EARTH / (R_EARTH_M + ENTRY_INTERFACE_ALT_M))
#: Stardust's excess speed: sqrt(12.9^2 - 11.07^2) = 6.62 km/s (energy: v_entry^2 = v_inf^2 + v_esc^2).
STARDUST_V_INF_M_S = math.sqrt(STARDUST_ENTRY_SPEED_M_S ** 2 - V_ESC_INTERFACE_M_S ** 2)
#: The limit used: the excess speed a flown sample capsule survived (6.62 km/s), as issue 14 asks.
V_INF_ENTRY_MAX = STARDUST_V_INF_M_S
#: Arrival-date scan of the return [days]: first date, step, last date.
MIN_RETURN_DAYS = 120.0
SCAN_STEP_DAYS = 30.0
MAX_RETURN_DAYS = 1200.0
#: Continuation on the speed bound: each step lowers it by this fraction of the current v_inf (at least
#: ``CONTINUATION_MIN_M_S``); a failed step is retried from the last solution with half the fraction,
#: until the step would be below ``CONTINUATION_MIN_M_S``; at most ``MAX_CONTINUATION_STEPS`` solves.
CONTINUATION_STEP = 0.1
CONTINUATION_MIN_M_S = 200.0
MAX_CONTINUATION_STEPS = 40
#: The last step aims this far below the limit [m/s]: the solver's closing margin (a tenth of 1,000 km
#: on the position residual) lets the speed exceed its bound by up to 0.1 m/s.
SPEED_MARGIN_M_S = 1.0
#: Attitude segments and solver starts of the return (more than the interstellar flyby's 6 and 1: the
#: return also bounds the speed and runs for years; 8 segments stalled at v_inf 12 km/s for 320P).
RETURN_SEGMENTS = 12
RETURN_STARTS = 3


def earth_state(t: float):
    """Earth's heliocentric ecliptic J2000 state at TDB seconds ``t`` (built-in ephemeris)."""
    r, v = body_state("earth", float(t))
    return np.asarray(r, float), np.asarray(v, float)


def _closes(miss_m: float) -> bool:
    # the solver's margin, as the flyby's: a tenth of the replay tolerance (the hinge residual is in it)
    return miss_m <= 0.1 * FLYBY_TOL_M


def replay_return(sail, y0, t0: float, t_arr: float, x, n_segments: int = RETURN_SEGMENTS,
                  v_max: float = V_INF_ENTRY_MAX, target_state=earth_state) -> dict:
    """Fly the return's schedule again (``sim.integrator.propagate``, rtol 1e-10) and compare with the
    Earth (``target_state``, a planted body in the tests): distance [m], v_inf [m/s], the schedule, the
    trajectory (daily points) and ``closed`` (within 1,000 km and v_inf <= ``v_max``)."""
    seg_t, mode, att = _schedule(t0, t_arr, np.asarray(x, float), n_segments)
    sched = Schedule(seg_t, mode, att)
    grid = np.union1d(seg_t, np.arange(t0, t_arr, DAY))
    traj = propagate(np.asarray(y0, float), sched, sail, t_out=grid, rtol=REPLAY_RTOL)
    r_e, v_e = target_state(t_arr)
    miss = float(np.linalg.norm(traj.y[-1, :3] - r_e))
    v_inf = float(np.linalg.norm(traj.y[-1, 3:] - v_e))
    return {"schedule": sched, "t": traj.t, "y": traj.y, "miss_m": miss, "v_inf_m_s": v_inf,
            "closed": miss <= FLYBY_TOL_M and v_inf <= v_max}


def _arrival(sail, y0, t0, t_arr, x, n_segments):
    """Final state (6,) of the attitude vector ``x`` (solver tolerance)."""
    seg_t, mode, att = _schedule(t0, t_arr, x, n_segments)
    return np.asarray(propagate_final(y0, seg_t, mode, att, sail.kernel_params(), SOLVE_RTOL))


#: Braking starts of the return: the first k segments at the cone of the largest along-track force
#: (35.26 deg) with the clock angle of ``sim.dynamics.MODE_RTN`` that opposes the motion (180 deg), the
#: rest at the 70 deg cone limit (least thrust). From a comet's orbit the sail must first shed orbital
#: energy near perihelion; a local solver from constant attitudes stays near the comet's orbit.
BRAKING_SEGMENTS = (1, 2, 3)


def braking_starts(n_segments: int) -> list:
    """Attitude vectors (cone, clock per segment) for :data:`BRAKING_SEGMENTS` braking segments."""
    out = []
    for k in BRAKING_SEGMENTS:
        cone = np.where(np.arange(n_segments) < k, math.atan(1 / math.sqrt(2)), math.radians(70.0))
        out.append(np.column_stack([cone, np.full(n_segments, math.pi)]).ravel())
    return out


def reach_with_speed_bound(sail, y0, t0: float, t_arr: float, v_max: float = V_INF_ENTRY_MAX, limits=None,
                           n_segments: int = RETURN_SEGMENTS, n_starts: int = RETURN_STARTS,
                           target_state=earth_state):
    """One arrival date: the Earth's position first (no speed bound), then the bound lowered step by step
    (``CONTINUATION_STEP`` of the current v_inf, at least ``CONTINUATION_MIN_M_S``), each solve starting
    from the previous solution, down to ``v_max``. Returns (x, position miss [m], v_inf [m/s], closed)."""
    r_e, v_e = target_state(t_arr)
    x, miss = solve_flyby(sail, y0, t0, t_arr, r_e, limits, n_segments, n_starts=n_starts)
    for warm in braking_starts(n_segments):
        if _closes(miss):
            break
        xb, mb = solve_flyby(sail, y0, t0, t_arr, r_e, limits, n_segments, n_starts=1, warm=warm)
        if mb < miss:
            x, miss = xb, mb
    if not _closes(miss):
        return x, miss, math.nan, False
    y = _arrival(sail, y0, t0, t_arr, x, n_segments)
    v_inf = float(np.linalg.norm(y[3:] - v_e))
    step = CONTINUATION_STEP
    for _ in range(MAX_CONTINUATION_STEPS):
        if v_inf <= v_max:
            return x, float(np.linalg.norm(y[:3] - r_e)), v_inf, True
        bound = max(v_max - SPEED_MARGIN_M_S, v_inf - max(step * v_inf, CONTINUATION_MIN_M_S))
        x_new, miss = solve_flyby(sail, y0, t0, t_arr, r_e, limits, n_segments, v_obj=v_e, v_max=bound,
                                  n_starts=1, warm=x)
        if not _closes(miss):
            step *= 0.5  # a failed step: retry from the last solution with half the step
            if step * v_inf < CONTINUATION_MIN_M_S:
                break
            continue
        x = x_new
        y = _arrival(sail, y0, t0, t_arr, x, n_segments)
        v_inf = float(np.linalg.norm(y[3:] - v_e))
    return x, float(np.linalg.norm(y[:3] - r_e)), v_inf, v_inf <= v_max


def earliest_return(sail, y0, t0: float, limits=None, v_max: float = V_INF_ENTRY_MAX,
                    min_days: float = MIN_RETURN_DAYS, max_days: float = MAX_RETURN_DAYS,
                    step_days: float = SCAN_STEP_DAYS, n_segments: int = RETURN_SEGMENTS,
                    n_starts: int = RETURN_STARTS, progress=None, target_state=earth_state) -> dict:
    """Earliest Earth arrival found from state ``y0`` at ``t0`` with v_inf <= ``v_max`` (module docstring):
    the arrival dates of the scan in order, each by :func:`reach_with_speed_bound`; the first that closes is
    replayed. Returns a dict of plain values plus ``replay`` (the replayed trajectory) and ``attitudes``."""
    t_w = time.perf_counter()
    y0 = np.asarray(y0, float)
    n_tried, found, best = 0, None, (math.inf, None)
    for d in np.arange(min_days, max_days + 0.5 * step_days, step_days):
        t_arr = t0 + d * DAY
        x, miss, v_inf, ok = reach_with_speed_bound(sail, y0, t0, t_arr, v_max, limits, n_segments, n_starts,
                                                    target_state)
        n_tried += 1
        if progress is not None:
            progress(d, miss, v_inf)
        if math.isfinite(v_inf) and v_inf < best[0]:
            best = (v_inf, d)
        if ok:
            found = (t_arr, x)
            break
    if found is None:
        low = (f"; lowest v_inf reached at the Earth's position {best[0] / 1e3:.1f} km/s ({best[1]:.0f} d)"
               if best[1] is not None else "; the Earth's position itself was not reached")
        return {"closed": False, "t_depart": float(t0), "n_solves": n_tried, "seconds": time.perf_counter() - t_w,
                "best_v_inf_m_s": best[0],
                "note": f"no Earth return with v_inf <= {v_max / 1e3:g} km/s found within {max_days:g} days" + low}
    t_arr, x = found
    rep = replay_return(sail, y0, float(t0), t_arr, x, n_segments, v_max, target_state)
    r_min = float(np.min(np.linalg.norm(rep["y"][:, :3], axis=1)))
    return {"closed": rep["closed"], "t_depart": float(t0), "t_arrive": t_arr, "tof_days": (t_arr - t0) / DAY,
            "miss_m": rep["miss_m"], "v_inf_m_s": rep["v_inf_m_s"], "r_min_au": r_min / AU,
            "n_solves": n_tried, "seconds": time.perf_counter() - t_w, "replay": rep,
            "attitudes": np.asarray(x, float), "n_segments": n_segments,
            "note": "" if rep["closed"] else "replayed arrival outside 1,000 km or above the v_inf limit"}
