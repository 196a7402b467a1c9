"""Interstellar objects (1I/ʻOumuamua, 2I/Borisov, 3I/ATLAS): earliest sail flyby, and why not rendezvous.

Parking orbit: the sail waits on Earth's heliocentric orbit (it shares Earth's heliocentric state, e.g.
parked near Sun-Earth L1/L2, whose 0.01 AU offset is neglected) and leaves, with zero excess speed, when
the object is discovered plus a response time (default 0 days). Discovery dates (UTC, from the discovery
circulars) are in :data:`DISCOVERY`; the lead time is perihelion minus discovery.

Flyby targeting (the minimum-time optimiser of ``bliss plan`` has rendezvous and orbit-matching terminal
conditions only, no position-only one, so the flyby has its own small solver on the same propagator):
the transfer to an encounter at t_enc is cut into ``N_SEGMENTS`` equal segments holding a cone/clock
attitude fixed in the orbit (RTN) frame (cone <= the 70 deg limit of ``Limits``); the three position
components of (sail - object) at t_enc are driven to zero by ``scipy.optimize.least_squares`` (bounded
trust region, finite-difference Jacobian of the compiled DOP853 final state
``sim.integrator.propagate_final``), from several constant-attitude starts. The earliest encounter is
found by scanning t_enc on a grid (``SCAN_STEP_DAYS``), skipping dates where the object is farther from
the sail's coasting position than a generous reach (0.5 (4 a_c) t^2, :func:`reach_bound`), then bisecting to ``BISECT_DAYS`` between the last failed and the
first closed date. A local solver: "earliest" means earliest found; a failed date may still be
reachable.

Replay: the schedule is flown again with ``sim.integrator.propagate`` (rtol 1e-10, the replay tolerance
of ``bliss plan``) and compared with the object's state from the universal-variable Kepler propagator
(``sim.kepler.kepler_propagate``, from its perihelion state), an independent path from the solver's
``elements_state``. A flyby is closed when that replayed distance is below ``FLYBY_TOL_M`` (1,000 km,
the position tolerance of ``bliss plan``; an imaging pass needs a known, not a small, distance).
"""
from __future__ import annotations

import math
import time

import numpy as np
from scipy.optimize import least_squares

from bliss.guidance.problem import Limits, departure_state
from sim.constants import AU, DAY, GM_SUN, MIN_SAFE_SUN_DISTANCE
from sim.dynamics import MODE_RTN
from sim.integrator import Schedule, propagate, propagate_final
from sim.kepler import elements_state, kepler_propagate
from sim.timeconv import epoch_to_tdb_seconds

#: Discovery dates (UTC; a day's precision is all a lead time needs): 1I by Pan-STARRS1 on
#: 2017-10-19 (MPEC 2017-U181; Meech et al. 2017, Nature 552, 378), 2I by G. Borisov on 2019-08-30
#: (MPEC 2019-R106), 3I by ATLAS (Rio Hurtado, Chile) on 2025-07-01 (MPEC 2025-N12). Keys: the
#: designation prefix of interstellar.csv.
DISCOVERY = {"1I": "2017-10-19", "2I": "2019-08-30", "3I": "2025-07-01"}
#: Flyby distance tolerance of the replay [m].
FLYBY_TOL_M = 1.0e6
#: Attitude segments of a flyby transfer.
N_SEGMENTS = 6
#: Encounter-time scan step and the bisection's final bracket [days]; longest transfer scanned [days].
SCAN_STEP_DAYS = 30.0
BISECT_DAYS = 2.0
MAX_TRANSFER_DAYS = 720.0
#: Starts tried per encounter date (the best of the 12 constant attitudes by initial miss) and the
#: solver's evaluation budget per unknown (cost control on this shared 2-core machine).
N_STARTS = 1
MAX_NFEV_PER_VAR = 30
#: Integrator tolerance inside the solver (the replay uses 1e-10).
SOLVE_RTOL = 1e-8
REPLAY_RTOL = 1e-10
#: Along-track efficiency of an ideal sail: the largest force component along the direction of motion
#: at 1 AU is cos^2(35.26 deg) sin(35.26 deg) = 0.385 of a_c (McInnes 1999, sec. 4.3).
ALONG_TRACK_FRACTION = math.cos(math.atan(1 / math.sqrt(2))) ** 2 * math.sin(math.atan(1 / math.sqrt(2)))
YEAR = 365.25 * DAY


def short_name(designation: str) -> str:
    return designation.split("/")[0].strip()


def object_state(elements, t: float):
    """Object's two-body state at ``t`` (hyperbolic elements, M0 = 0 at perihelion)."""
    r, v = elements_state(GM_SUN, *np.asarray(elements, float)[:7], float(t))
    return np.asarray(r, float), np.asarray(v, float)


def object_state_universal(elements, t: float):
    """The same state through the universal-variable propagator from the perihelion state (replay check)."""
    el = np.asarray(elements, float)
    rp, vp = object_state(el, el[6])
    r, v = kepler_propagate(GM_SUN, rp, vp, float(t) - el[6])
    return np.asarray(r, float), np.asarray(v, float)


def _schedule(t0, t1, x, n):
    att = np.zeros((n, 3))
    att[:, 0] = x[0::2]
    att[:, 1] = x[1::2]
    return np.linspace(t0, t1, n + 1), np.full(n, MODE_RTN, np.int64), att


def solve_flyby(sail, y0, t0: float, t_enc: float, r_obj, limits=None, n_segments: int = N_SEGMENTS,
                v_obj=None, v_max: float | None = None, n_starts: int = N_STARTS, warm=None):
    """Attitudes (cone, clock per segment, rad) taking the sail from ``y0`` at ``t0`` to ``r_obj`` at
    ``t_enc``; returns (x, miss [m]) of the best start. With ``v_obj`` and ``v_max`` [m/s] a fourth
    residual, the relative speed's excess over ``v_max`` (max(0, |v - v_obj| - v_max), 1 km/s weighted
    as 1e6 km), bounds the arrival speed (the Earth return of ``bliss.missions.earth_return``); the
    returned miss is then the norm of all four residuals in metres. ``warm``: an attitude vector tried
    before the constant-attitude starts (a continuation's previous solution)."""
    lim = limits if limits is not None else Limits()
    cmax = math.radians(lim.max_cone_deg)
    params = sail.kernel_params()
    y0 = np.ascontiguousarray(y0, float)

    def resid(x):
        seg_t, mode, att = _schedule(t0, t_enc, x, n_segments)
        y = np.asarray(propagate_final(y0, seg_t, mode, att, params, SOLVE_RTOL))
        res = (y[:3] - r_obj) / 1.0e9  # units of 1e6 km: well scaled for the trust region
        if v_max is None:
            return res
        excess = max(0.0, float(np.linalg.norm(y[3:] - v_obj)) - v_max)
        return np.append(res, excess / 1.0e3)

    lo = np.tile([0.0, -4 * math.pi], n_segments)
    hi = np.tile([cmax, 4 * math.pi], n_segments)
    starts = [np.tile([c, k], n_segments) for c in (0.0, math.radians(35.26), min(cmax, math.radians(60)))
              for k in np.radians([0.0, 90.0, 180.0, 270.0])]
    starts.sort(key=lambda x: float(np.linalg.norm(resid(x))))
    if warm is not None:
        starts.insert(0, np.clip(np.asarray(warm, float), lo, hi))
    best_x, best = None, math.inf
    for x0 in starts[:n_starts]:
        sol = least_squares(resid, x0, bounds=(lo, hi), x_scale=1.0, xtol=1e-12, ftol=1e-14, gtol=1e-14,
                            max_nfev=MAX_NFEV_PER_VAR * (2 * n_segments + 1), diff_step=1e-7)
        miss = float(np.linalg.norm(sol.fun)) * 1.0e9
        if miss < best:
            best_x, best = sol.x, miss
        if best < 0.1 * FLYBY_TOL_M:
            break
    return best_x, best


def replay_flyby(sail, y0, t0, t_enc, x, elements, n_segments: int = N_SEGMENTS) -> dict:
    """Fly the schedule again (``sim.integrator.propagate``, rtol 1e-10) and compare with the object's
    universal-variable state: distance [m] and relative speed [m/s] at the encounter, and the trajectory."""
    seg_t, mode, att = _schedule(t0, t_enc, x, n_segments)
    sched = Schedule(seg_t, mode, att)
    grid = np.union1d(seg_t, np.arange(t0, t_enc, DAY))
    traj = propagate(np.asarray(y0, float), sched, sail, t_out=grid, rtol=REPLAY_RTOL)
    r_o, v_o = object_state_universal(elements, t_enc)
    return {"schedule": sched, "t": traj.t, "y": traj.y, "miss_m": float(np.linalg.norm(traj.y[-1, :3] - r_o)),
            "v_rel_m_s": float(np.linalg.norm(traj.y[-1, 3:] - v_o))}


#: Acceleration allowance of the reach pre-filter, as a multiple of a_c: the sail's thrust at 0.5 AU
#: (a_c (1 AU / 0.5 AU)^2 = 4 a_c). A sail leaving 1 AU needs months to get inside 0.5 AU, so for the
#: transfers scanned here this exceeds any acceleration it can have; dates the filter skips are
#: reported as skipped, not as proven unreachable.
REACH_ACCEL_FACTOR = 4.0


def reach_bound(sail, dt: float) -> float:
    """Displacement [m] beyond which the pre-filter skips an encounter date: 0.5 (4 a_c) dt^2, the
    distance a constant push of ``REACH_ACCEL_FACTOR`` a_c in one fixed direction would add to the
    sail's coasting path in ``dt`` [s]."""
    return 0.5 * REACH_ACCEL_FACTOR * sail.characteristic_acceleration * dt * dt


def earliest_flyby(sail, elements, t_depart: float, limits=None, max_days: float = MAX_TRANSFER_DAYS,
                   step_days: float = SCAN_STEP_DAYS) -> dict:
    """Earliest closed flyby of the object from Earth's state at ``t_depart`` (module docstring)."""
    t_w = time.perf_counter()
    y0 = departure_state(float(t_depart))
    params = sail.kernel_params()
    off = (np.array([t_depart, t_depart + 1.0]), np.zeros(1, np.int64), np.zeros((1, 3)))
    closed, last_fail, n_tried = None, None, 0

    def attempt(t_enc):
        r_o, _ = object_state(elements, t_enc)
        seg_t = off[0].copy()
        seg_t[1] = t_enc
        coast = np.asarray(propagate_final(y0, seg_t, off[1], off[2], params, SOLVE_RTOL))[:3]
        if np.linalg.norm(coast - r_o) > reach_bound(sail, t_enc - t_depart):
            return None, math.inf
        return solve_flyby(sail, y0, t_depart, t_enc, r_o, limits)

    for d in np.arange(step_days, max_days + 0.5 * step_days, step_days):
        t_enc = t_depart + d * DAY
        x, miss = attempt(t_enc)
        n_tried += x is not None
        if miss <= 0.1 * FLYBY_TOL_M:
            closed = (t_enc, x)
            break
        last_fail = t_enc
    if closed is None:
        return {"closed": False, "t_depart": float(t_depart), "n_solves": n_tried,
                "seconds": time.perf_counter() - t_w, "note": f"no flyby found within {max_days:g} days"}
    lo = last_fail if last_fail is not None else float(t_depart)
    hi, x_hi = closed
    while hi - lo > BISECT_DAYS * DAY:
        mid = 0.5 * (lo + hi)
        x, miss = attempt(mid)
        n_tried += x is not None
        if miss <= 0.1 * FLYBY_TOL_M:
            hi, x_hi = mid, x
        else:
            lo = mid
    rep = replay_flyby(sail, y0, float(t_depart), hi, x_hi, elements)
    r_enc = float(np.linalg.norm(rep["y"][-1, :3]))
    return {"closed": rep["miss_m"] <= FLYBY_TOL_M, "t_depart": float(t_depart), "t_encounter": hi,
            "tof_days": (hi - t_depart) / DAY, "miss_m": rep["miss_m"], "v_rel_m_s": rep["v_rel_m_s"],
            "r_sun_au": r_enc / AU, "n_solves": n_tried, "seconds": time.perf_counter() - t_w,
            "replay": rep, "attitudes": x_hi, "note": ""}


def rendezvous_numbers(sail, elements, v_rel_m_s: float | None = None) -> dict:
    """Why a rendezvous is out of reach: the velocity to cancel against the sail's velocity capacity.

    - ``v_inf_m_s``: the object's hyperbolic excess speed sqrt(GM / |a|).
    - ``dv_match_1au_m_s``: speed difference between the object and a circular prograde orbit where
      the object crosses 1 AU (or at perihelion if q > 1 AU): the least velocity change to be co-moving
      there, starting from Earth-like motion.
    - ``dv_per_year_m_s``: a_c x 1 yr at 1 AU (the Sun-facing, purely radial push: an upper bound)
      and the along-track share 0.385 a_c x 1 yr (steerable).
    - ``years_at_1au``: dv_match over the along-track capacity, if the sail could stay at 1 AU.
    - ``object_r_after_au``: the object's distance from the Sun that long after perihelion.
    - ``chase_dv_m_s``: the most velocity a sail flying outward with the object at v_inf from 1 AU can
      still gain, integral of a_c (1 AU / r)^2 dt with r = 1 AU + v_inf t: a_c (1 AU) / v_inf.
    """
    el = np.asarray(elements, float)
    a, e = el[0], el[1]
    q = a * (1 - e)
    v_inf = math.sqrt(GM_SUN / abs(a))
    r_m = max(AU, q)
    v_obj = math.sqrt(GM_SUN * (2 / r_m - 1 / a))
    h_obj = math.sqrt(GM_SUN * q * (1 + e))
    v_t = h_obj / r_m                            # object's transverse speed there
    v_r = math.sqrt(max(v_obj ** 2 - v_t ** 2, 0.0))
    v_c = math.sqrt(GM_SUN / r_m)
    cos_i = math.cos(el[2])                      # retrograde objects move against the circular orbit
    dv_match = math.sqrt(v_r ** 2 + v_t ** 2 + v_c ** 2 - 2 * v_t * v_c * cos_i)
    a_c = sail.characteristic_acceleration
    along = ALONG_TRACK_FRACTION * a_c * YEAR
    years = dv_match / along
    # distance after `years`: hyperbolic two-body from perihelion
    r_after, _ = kepler_propagate(GM_SUN, *object_state(el, el[6]), years * YEAR)
    out = {"v_inf_m_s": v_inf, "r_match_au": r_m / AU, "dv_match_1au_m_s": dv_match,
           "dv_per_year_radial_m_s": a_c * YEAR, "dv_per_year_along_track_m_s": along,
           "years_at_1au": years, "object_r_after_au": float(np.linalg.norm(r_after)) / AU,
           "chase_dv_m_s": a_c * AU / v_inf}
    if v_rel_m_s is not None:
        out["flyby_v_rel_m_s"] = float(v_rel_m_s)
        out["years_flyby_v_rel"] = float(v_rel_m_s) / along
    return out


def departure_date(designation: str, t_perihelion: float, lead_days=None, response_days: float = 0.0):
    """(departure TDB s, discovery date text) for one object: discovery + response, or ``lead_days``
    before perihelion when given. ValueError for an object without a known discovery date."""
    key = short_name(designation)
    disc = DISCOVERY.get(key)
    if lead_days is not None:
        return float(t_perihelion) - float(lead_days) * DAY, disc or ""
    if disc is None:
        raise ValueError(f"no discovery date known for {designation!r} (known: {', '.join(DISCOVERY)}); "
                         "give --lead-days")
    return float(epoch_to_tdb_seconds(disc)) + float(response_days) * DAY, disc


def plan_all(bodies, sail, lead_days=None, response_days: float = 0.0, max_days: float = 720.0, limits=None) -> list:
    """The earliest flyby and the rendezvous numbers of every object in ``bodies``."""
    out = []
    for k in range(len(bodies)):
        el = bodies.elements[k]
        t_dep, disc = departure_date(bodies.designation[k], el[6], lead_days, response_days)
        res = earliest_flyby(sail, el, t_dep, limits=limits, max_days=max_days)
        res["discovery"] = disc
        res["lead_days"] = (el[6] - t_dep) / DAY
        res["rendezvous"] = rendezvous_numbers(sail, el, res.get("v_rel_m_s"))
        out.append(res)
    return out
