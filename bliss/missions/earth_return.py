"""Earth return of a sample: reach the Earth's position with an arrival excess speed below a capsule limit.

The return leg of ``bliss.missions.jfc`` does not rendezvous with the Earth (matching its velocity costs
the sail ~8 km/s more from a comet's orbit); it only has to arrive at the Earth's centre's heliocentric
position with |v - v_Earth| = v_inf <= ``V_INF_ENTRY_MAX``, after which the capsule enters directly (as
Stardust's did). That is a flyby end condition plus a speed bound, so the leg is solved by the flyby
solver of ``bliss.missions.interstellar`` (:func:`~bliss.missions.interstellar.solve_flyby`: cone/clock
attitudes per segment, ``scipy.optimize.least_squares`` on the compiled DOP853 final state) with a
fourth residual, the excess of v_inf over the limit. The earliest arrival is found as the flyby is:
arrival dates scanned every ``SCAN_STEP_DAYS`` from ``MIN_RETURN_DAYS``, then bisected to
``BISECT_DAYS`` between the last failure and the first success.

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

from bliss.missions.interstellar import FLYBY_TOL_M, N_SEGMENTS, REPLAY_RTOL, _schedule, solve_flyby
from sim.constants import AU, DAY, GM_PLANETS
from sim.ephemeris import body_state
from sim.integrator import Schedule, propagate

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
#: The limit used: 6.0 km/s, a 0.6 km/s margin below the excess speed of a flown capsule.
V_INF_ENTRY_MAX = 6.0e3
#: Arrival-date scan of the return [days]: first date, step, last date; bisection bracket.
MIN_RETURN_DAYS = 120.0
SCAN_STEP_DAYS = 30.0
MAX_RETURN_DAYS = 1200.0
BISECT_DAYS = 4.0
#: Attitude segments and solver starts of the return (more than the interstellar flyby's 6 and 1: the
#: return also bounds the speed and runs for years).
RETURN_SEGMENTS = 8
RETURN_STARTS = 3


def earth_state(t: float):
    """Earth's heliocentric ecliptic J2000 state at TDB seconds ``t`` (built-in ephemeris)."""
    r, v = body_state("earth", float(t))
    return np.asarray(r, float), np.asarray(v, float)


def _closes(miss_m: float) -> bool:
    # the solver's margin, as the flyby's: a tenth of the replay tolerance (the hinge residual is in it)
    return miss_m <= 0.1 * FLYBY_TOL_M


def replay_return(sail, y0, t0: float, t_arr: float, x, n_segments: int = RETURN_SEGMENTS) -> dict:
    """Fly the return's schedule again (``sim.integrator.propagate``, rtol 1e-10) and compare with the
    Earth: distance [m], v_inf [m/s], the schedule and the trajectory (daily points)."""
    seg_t, mode, att = _schedule(t0, t_arr, np.asarray(x, float), n_segments)
    sched = Schedule(seg_t, mode, att)
    grid = np.union1d(seg_t, np.arange(t0, t_arr, DAY))
    traj = propagate(np.asarray(y0, float), sched, sail, t_out=grid, rtol=REPLAY_RTOL)
    r_e, v_e = earth_state(t_arr)
    miss = float(np.linalg.norm(traj.y[-1, :3] - r_e))
    v_inf = float(np.linalg.norm(traj.y[-1, 3:] - v_e))
    return {"schedule": sched, "t": traj.t, "y": traj.y, "miss_m": miss, "v_inf_m_s": v_inf,
            "closed": miss <= FLYBY_TOL_M and v_inf <= V_INF_ENTRY_MAX}


def earliest_return(sail, y0, t0: float, limits=None, v_max: float = V_INF_ENTRY_MAX,
                    min_days: float = MIN_RETURN_DAYS, max_days: float = MAX_RETURN_DAYS,
                    step_days: float = SCAN_STEP_DAYS, n_segments: int = RETURN_SEGMENTS,
                    n_starts: int = RETURN_STARTS, progress=None) -> dict:
    """Earliest Earth arrival found from state ``y0`` at ``t0`` with v_inf <= ``v_max`` (module docstring).
    Returns a dict of plain values plus ``replay`` (the replayed trajectory) and ``attitudes``."""
    t_w = time.perf_counter()
    y0 = np.asarray(y0, float)
    n_tried = 0

    def attempt(t_arr):
        r_e, v_e = earth_state(t_arr)
        return solve_flyby(sail, y0, t0, t_arr, r_e, limits, n_segments, v_obj=v_e, v_max=v_max,
                           n_starts=n_starts)

    closed, last_fail, x_hi = None, None, None
    for d in np.arange(min_days, max_days + 0.5 * step_days, step_days):
        t_arr = t0 + d * DAY
        x, miss = attempt(t_arr)
        n_tried += 1
        if progress is not None:
            progress(d, miss)
        if _closes(miss):
            closed, x_hi = t_arr, x
            break
        last_fail = t_arr
    if closed is None:
        return {"closed": False, "t_depart": float(t0), "n_solves": n_tried, "seconds": time.perf_counter() - t_w,
                "note": f"no Earth return with v_inf <= {v_max / 1e3:g} km/s found within {max_days:g} days"}
    lo = last_fail if last_fail is not None else float(t0)
    hi = closed
    while hi - lo > BISECT_DAYS * DAY:
        mid = 0.5 * (lo + hi)
        x, miss = attempt(mid)
        n_tried += 1
        if _closes(miss):
            hi, x_hi = mid, x
        else:
            lo = mid
    rep = replay_return(sail, y0, float(t0), hi, x_hi, n_segments)
    r_min = float(np.min(np.linalg.norm(rep["y"][:, :3], axis=1)))
    return {"closed": rep["closed"], "t_depart": float(t0), "t_arrive": hi, "tof_days": (hi - t0) / DAY,
            "miss_m": rep["miss_m"], "v_inf_m_s": rep["v_inf_m_s"], "r_min_au": r_min / AU,
            "n_solves": n_tried, "seconds": time.perf_counter() - t_w, "replay": rep,
            "attitudes": np.asarray(x_hi, float), "n_segments": n_segments,
            "note": "" if rep["closed"] else "replayed arrival outside 1,000 km or above the v_inf limit"}
