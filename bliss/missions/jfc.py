"""Jupiter-family comet sample return: Earth -> comet (rendezvous near perihelion, stay) -> Earth.

The mission is a chain of two minimum-time rendezvous legs, each solved by the planner that
``bliss plan`` uses (``bliss.guidance.pipeline.minimise_time``, multiple shooting + SLSQP + DOP853
polish), and a stay between them:

1. Leg 1 departs Earth's heliocentric state (zero excess speed, ``bliss.guidance.problem.departure_state``)
   at a date D and ends on the comet's two-body state (its MPC elements, ``sim.kepler.elements_state``).
   D is chosen so that the arrival can fall near a perihelion passage Tp: the latest date at least half
   the screen's leg time before Tp whose Earth-comet phase fits the survey screen's phasing model
   (:func:`phased_departure`). Each leg is planned as ``bliss plan`` plans: feedback-law warm start,
   optimiser, crude-guess fallbacks (:func:`solve_leg`). The arrival's offset from Tp is reported.
2. The stay: the sail co-orbits the comet for S days (>= ``MIN_STAY_DAYS``), i.e. it moves on the comet's
   two-body orbit (sail edge-on; the comet's gravity, ~1e-8 m/s^2 at 1 km for a 2 km nucleus, is
   neglected). Leg 2 therefore starts from the comet's state at arrival + S: where leg 1 ended
   (within leg 1's replayed miss, 1,000 km and 1 m/s) carried forward along the comet's orbit.
3. Leg 2 departs that state and ends at the Earth's position with an excess speed v_inf = |v - v_Earth|
   at most the capsule-entry limit ``V_INF_ENTRY_MAX`` (Stardust's 6.62 km/s), not on the Earth's
   state: ``bliss.missions.earth_return`` (a flyby of the Earth's position with a speed bound, solved by
   continuation on the bound, replayed at rtol 1e-10 and judged at 1,000 km and the bound). The
   leg's ``miss_vel`` is that v_inf.

The stay is free (>= 30 days) and the chain's options (:class:`ChainOptions`) choose it: a fixed stay
(default the shortest, 30 days), or co-orbiting until N days before the comet's next perihelion. A short
stay after a leg 1 that arrived after perihelion leaves leg 2 on the outbound branch, from which no
return was found (docs/missions.md); leaving 60 days before the next perihelion, with leg 1 departing
800 days before the first and the return scanned from 600 days, is the chain that closed (289P, 320P,
15P; ``bliss missions jfc --stay-until-perihelion-days 60 --lead-days 800 --return-min-days 600``,
the same code as ``benchmarks/jfc_sample_return.py``).

Each leg's schedule is replayed with ``sim.integrator.propagate`` at ``bliss plan``'s tolerance
(rtol 1e-10): leg 1 judged against 1,000 km and 1 m/s (``bliss.guidance.pipeline.TOL_POS_M``/
``TOL_VEL_M_S``), leg 2 against 1,000 km and ``V_INF_ENTRY_MAX``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from bliss.distributed import open_client
from bliss.guidance import pipeline
from bliss.guidance.problem import Limits, Target, TransferProblem, departure_state
from bliss.missions import earth_return
from bliss.missions.earth_return import V_INF_ENTRY_MAX, earth_state
from bliss.survey.screen import K_EFF, screen
from sim.constants import AU, DAY, GM_SUN, MIN_SAFE_SUN_DISTANCE
from sim.kepler import elements_state

#: Shortest stay at the comet [days] (issue 14: "stay at least 30 days").
MIN_STAY_DAYS = 30.0
#: Longest whole mission listed as "reachable" [days] (a number of days, not seconds): 6 years, a little below Stardust's 7-year
#: (1999-2006) comet sample return.
MAX_MISSION_DAYS = 6.0 * 365.25
#: Departure window (issue 14): 2028-2040.
WINDOW = ("2028-01-01", "2040-12-31")
#: A rendezvous "near perihelion": arrival within this many days of a perihelion passage.
NEAR_PERIHELION_DAYS = 60.0
#: Perihelion floor of the screen [AU]: comets whose perihelion is inside the sail's safe distance
#: (``sim.constants.MIN_SAFE_SUN_DISTANCE``, 0.2 AU) cannot be met at perihelion.
Q_MIN_AU = MIN_SAFE_SUN_DISTANCE / AU
#: Segments of each optimised leg (the survey's refine and the window scans use 20: < 0.1 % in TOF
#: against 40 on Bennu, docs/guidance.md).
LEG_SEGMENTS = 20


def comet_state(elements, t: float):
    """The comet's two-body state at ``t`` from its perihelion elements (M0 = 0 at Tp)."""
    r, v = elements_state(GM_SUN, *np.asarray(elements, float)[:7], float(t))
    return np.asarray(r, float), np.asarray(v, float)


def perihelion_passages(elements, t0: float, t1: float) -> np.ndarray:
    """Perihelion times [TDB s] of a two-body ellipse within [t0, t1]."""
    a, tp = float(elements[0]), float(elements[6])
    period = 2.0 * math.pi * math.sqrt(a ** 3 / GM_SUN)
    k0 = math.ceil((t0 - tp) / period)
    k1 = math.floor((t1 - tp) / period)
    return tp + period * np.arange(k0, k1 + 1)


def perihelion_leg_estimate(bodies, a_c: float) -> np.ndarray:
    """Cheap time [s] of one leg between Earth's orbit and the comet's perihelion state, in either
    direction (the two legs need the same velocity change). Velocity change: Edelbaum's circle-to-circle
    result between 1 AU (v0) and a circle at q (v_q) with the plane change i, ΔV_ai = sqrt(v0² + v_q² -
    2 v0 v_q cos(π/2 i)) (Edelbaum 1961, as in ``bliss.survey.screen``), plus the tangential excess of
    the comet's perihelion speed over the circle, v_p - v_q (v_p from vis-viva). Thrust: the survey
    screen's f = K_EFF a_c (1 AU / r_bar)², but with r_bar = sqrt(1 AU q): the sail works between
    Earth's orbit and the comet's perihelion, never near its aphelion. No phasing term (the departure
    date is chosen from the perihelion time). The survey's screen, built for rendezvous with a whole
    orbit, charges the full eccentricity change at r_bar = sqrt(1 AU a) and gives 2-3 times longer
    legs for these eccentric orbits (docs/missions.md)."""
    q = bodies.q_au * AU
    a = bodies.elements[:, 0]
    v0 = math.sqrt(GM_SUN / AU)
    vq = np.sqrt(GM_SUN / q)
    vp = np.sqrt(GM_SUN * (2.0 / q - 1.0 / a))
    dv = np.sqrt(np.maximum(v0 ** 2 + vq ** 2 - 2 * v0 * vq * np.cos(0.5 * np.pi * np.radians(bodies.i_deg)), 0.0))
    dv = dv + (vp - vq)
    f = K_EFF * a_c * (AU / np.sqrt(AU * q)) ** 2
    return dv / f


def screen_comets(bodies, dates, a_c: float) -> dict:
    """Cheap estimate for every comet: each leg from :func:`perihelion_leg_estimate`, plus the stay;
    beside it the survey's screen (``bliss.survey.screen.screen``, rendezvous with the whole orbit, over
    the departure ``dates``) for comparison. Comets with q below ``Q_MIN_AU`` are unreachable.
    Returns per-row arrays: leg_s, total_s (inf: not reachable), survey_screen_s, reason."""
    survey_tof, _, _ = screen(bodies.elements, dates, a_c)
    leg = perihelion_leg_estimate(bodies, a_c)
    reason = np.where(bodies.q_au < Q_MIN_AU, "perihelion inside the 0.2 AU safe distance", "")
    total = np.where(reason == "", 2.0 * leg + MIN_STAY_DAYS * DAY, np.inf)
    return {"leg_s": leg, "total_s": total, "survey_screen_s": survey_tof, "reason": reason}


@dataclass
class Leg:
    """One planned, replayed leg."""

    t_depart: float        # TDB s
    tof: float             # s
    converged: bool        # replay within 1,000 km and 1 m/s
    miss_pos: float        # m, replayed
    miss_vel: float        # m/s, replayed
    y_depart: np.ndarray   # (6,)
    y_final: np.ndarray    # (6,) replayed final state
    schedule: object       # sim.integrator.Schedule
    seconds: float         # wall time of the solve
    note: str = ""
    info: dict = field(default_factory=dict)  # leg 2: n_solves, r_min_au, comet_sun_distance_au

    @property
    def t_arrive(self) -> float:
        return self.t_depart + self.tof


def solve_leg(sail, t_depart, y_depart, target, tof_guess_s, limits=None, n_segments=LEG_SEGMENTS,
              feedback: bool = True, more_guesses_s=()) -> Leg:
    """Minimum-time rendezvous from ``y_depart`` at ``t_depart`` with ``target`` (a ``Target``), planned as
    ``bliss plan`` plans (``bliss.guidance.pipeline``): the feedback laws' transfer as the warm start, the
    optimiser from it, with its crude guesses (``pipeline.optimiser_starts``, plus one at ``tof_guess_s``)
    when the warm start is missing or does not close; then the replay (``pipeline.replay``, rtol 1e-10),
    judged at 1,000 km / 1 m/s. ``feedback=False`` skips the feedback laws (minutes of CPU for a comet
    leg) and starts from the crude guesses only."""
    t0 = time.perf_counter()
    problem = TransferProblem(sail=sail, t_depart=float(t_depart), y_depart=np.asarray(y_depart, float),
                              target=target, limits=limits if limits is not None else Limits())
    warm, failure = None, None if feedback else "skipped"
    try:
        warm = pipeline.fly_feedback(problem) if feedback else None
    except pipeline.SOLVER_ERRORS as exc:
        failure = pipeline.first_line(exc)
    best, notes = None, []
    for st, tg, note in pipeline.optimiser_starts(warm, failure, None):
        try:
            r = pipeline.minimise_time(problem, st, n_segments=n_segments, tof_guess=tg,
                                       extra_guesses=(float(tof_guess_s), *map(float, more_guesses_s))
                                       + pipeline.EXTRA_TOF_GUESSES_S)
        except pipeline.SOLVER_ERRORS as exc:
            notes.append(f"optimiser failed from the {note}: {pipeline.first_line(exc)}")
            continue
        if best is None or r.miss_pos < best.miss_pos:
            best = r
        if r.miss_pos <= pipeline.TOL_POS_M and r.miss_vel <= pipeline.TOL_VEL_M_S:
            break
    if best is None and warm is not None:
        best = warm
    if best is None:
        return Leg(float(t_depart), math.nan, False, math.nan, math.nan, problem.y_depart, np.full(6, np.nan),
                   None, time.perf_counter() - t0, "; ".join(notes) or f"feedback laws failed: {failure}")
    t_s, y = pipeline.replay(problem, best.schedule)
    r_t, v_t = target.state(float(t_s[-1]))
    dp, dv = float(np.linalg.norm(y[-1, :3] - r_t)), float(np.linalg.norm(y[-1, 3:] - v_t))
    ok = dp <= pipeline.TOL_POS_M and dv <= pipeline.TOL_VEL_M_S
    return Leg(float(t_depart), float(best.tof), ok, dp, dv, problem.y_depart, y[-1].copy(), best.schedule,
               time.perf_counter() - t0, "" if ok else "replayed arrival outside 1,000 km / 1 m/s")


#: Phase tolerance of the departure-date choice [deg] and the shortest leg-1 time it considers, as a
#: fraction of the screen's estimate (the survey's screen runs ~1.85 times the optimiser, docs/survey.md).
PHASE_TOL_DEG = 20.0
T_LO_FRACTION = 0.5


def phased_departure(elements, t_perihelion: float, leg_est_s: float) -> float:
    """Leg-1 departure date D for an arrival at ``t_perihelion``: the latest D (shortest leg) at least
    ``T_LO_FRACTION`` x the screen's leg time before perihelion whose phase fits the survey screen's
    phasing model (the sail's mean longitude gains (n_E + n_c) T / 2 over T = Tp - D, and must end at
    the comet's perihelion longitude, within ``PHASE_TOL_DEG``); scanned over 3 years in 5-day steps."""
    el = np.asarray(elements, float)
    n_c = math.sqrt(GM_SUN / el[0] ** 3)
    n_e = 2.0 * math.pi / (365.256363 * DAY)  # sidereal year
    r_p, _ = comet_state(el, t_perihelion)
    lam_p = math.atan2(r_p[1], r_p[0])
    t_hi = t_perihelion - T_LO_FRACTION * leg_est_s
    cands = t_hi - np.arange(0.0, 3 * 365.25, 5.0) * DAY
    best, best_err = t_hi, math.inf
    for d in cands:
        r_e, _ = earth_state(d)
        phi = math.atan2(r_e[1], r_e[0]) + 0.5 * (n_e + n_c) * (t_perihelion - d) - lam_p
        err = abs(math.degrees((phi + math.pi) % (2 * math.pi) - math.pi))
        if err <= PHASE_TOL_DEG:
            return float(d)
        if err < best_err:
            best, best_err = float(d), err
    return best


@dataclass(frozen=True)
class ChainOptions:
    """How one sample-return chain is flown (``bliss missions jfc``'s and ``benchmarks/jfc_sample_return.py``'s
    options; one object so that both build the same problem).

    - ``lead_days``: leg 1 departs this many days before the perihelion passage [days]; None: the
      phased date of :func:`phased_departure`.
    - ``stay_days``: the stay at the comet [days], at least ``MIN_STAY_DAYS``; or
    - ``stay_until_perihelion_days``: stay (co-orbit) until this many days before the comet's *next*
      perihelion [days] (the stay is still at least ``MIN_STAY_DAYS``): the chain that closed (docs/missions.md).
    - ``return_min_days``/``return_max_days``: first and last Earth-arrival date of the return's scan
      [days after leaving the comet] (``bliss.missions.earth_return``: 120 and 1,200 by default).
    - ``feedback``: warm-start leg 1 from the feedback laws (minutes of CPU per leg) or not.
    """

    lead_days: float | None = None
    stay_days: float = MIN_STAY_DAYS
    stay_until_perihelion_days: float | None = None
    return_min_days: float = earth_return.MIN_RETURN_DAYS
    return_max_days: float = earth_return.MAX_RETURN_DAYS
    feedback: bool = True

    def check(self, names: dict | None = None) -> "ChainOptions":
        """Raise ``ValueError`` (one line naming the option, as ``names`` maps field names, e.g. to CLI
        flags) on a bad value; return self."""
        def nm(f):
            return (names or {}).get(f, f)

        def finite(x):
            return x is not None and math.isfinite(x)

        if self.lead_days is not None and not (finite(self.lead_days) and self.lead_days > 0):
            raise ValueError(f"{nm('lead_days')} must be a positive number of days, got {self.lead_days!r}")
        if not (finite(self.stay_days) and self.stay_days >= MIN_STAY_DAYS):
            raise ValueError(f"{nm('stay_days')} must be at least {MIN_STAY_DAYS:g} days, got {self.stay_days!r}")
        n = self.stay_until_perihelion_days
        if n is not None and not (finite(n) and n >= 0):
            raise ValueError(f"{nm('stay_until_perihelion_days')} must be a number of days >= 0, got {n!r}")
        if n is not None and self.stay_days != MIN_STAY_DAYS:
            raise ValueError(f"give either {nm('stay_days')} or {nm('stay_until_perihelion_days')}, not both")
        lo, hi = self.return_min_days, self.return_max_days
        if not (finite(lo) and lo > 0):
            raise ValueError(f"{nm('return_min_days')} must be a positive number of days, got {lo!r}")
        if not (finite(hi) and hi >= lo):
            raise ValueError(f"{nm('return_max_days')} must be a number of days >= {nm('return_min_days')} "
                             f"({lo:g}), got {hi!r}")
        return self


def leg1_departure(elements, t_perihelion: float, leg_est_s: float, options: ChainOptions) -> float:
    """Leg-1 departure date [TDB s]: ``lead_days`` before perihelion, else :func:`phased_departure`."""
    if options.lead_days is None:
        return phased_departure(elements, t_perihelion, leg_est_s)
    return float(t_perihelion) - options.lead_days * DAY


def leave_comet(elements, t_perihelion: float, t_arrive: float, options: ChainOptions) -> tuple[float, float]:
    """(date the sail leaves the comet [TDB s], next perihelion after ``t_perihelion`` [TDB s] or nan).
    The stay is ``stay_days``, or lasts until ``stay_until_perihelion_days`` before the next perihelion;
    never shorter than ``MIN_STAY_DAYS``."""
    stay = max(MIN_STAY_DAYS, options.stay_days) * DAY
    tp_next = math.nan
    if options.stay_until_perihelion_days is not None:
        tp_next = float(perihelion_passages(elements, t_perihelion + DAY, t_perihelion + 20 * 365.25 * DAY)[0])
        stay = max(MIN_STAY_DAYS * DAY, tp_next - options.stay_until_perihelion_days * DAY - t_arrive)
    return float(t_arrive) + stay, tp_next


def plan_sample_return(sail, elements, name: str, t_perihelion: float, leg1_est_s: float,
                       options: ChainOptions = ChainOptions(), limits=None, t_window=None, log=None) -> dict:
    """The whole chain for one comet and one perihelion passage (module docstring), flown as ``options``
    says. ``t_window`` (t0, t1): refuse a leg-1 departure outside it. ``log``: a callable given one line
    per step (None: quiet; Dask tasks). Returns a dict of plain values (Dask-friendly): the two legs'
    dates, times, replayed misses, a ``status``, and ``_legs`` (the :class:`Leg` objects)."""
    options.check()
    el = np.asarray(elements, float)
    say = log or (lambda s: None)
    comet = Target(name=name, elements=el)
    t_dep = leg1_departure(el, t_perihelion, leg1_est_s, options)
    out = {"name": name, "elements": el.tolist(), "t_perihelion": float(t_perihelion),
           "stay_days": float(options.stay_days), "leg1": None, "leg2": None, "status": ""}
    if t_window is not None and not t_window[0] <= t_dep <= t_window[1]:
        out["status"] = "leg-1 departure outside the window"
        out["leg1"] = {"t_depart": t_dep}
        say(f"{name}: {out['status']}")
        return out
    say(f"{name}: perihelion TDB s {t_perihelion:.0f}, leg 1 departs {(t_perihelion - t_dep) / DAY:.0f} d before")
    leg1 = solve_leg(sail, t_dep, departure_state(t_dep), comet, t_perihelion - t_dep, limits,
                     feedback=options.feedback)
    out["leg1"] = leg_summary(leg1)
    say(f"  leg 1: closed={leg1.converged} {leg1.tof / DAY:.1f} d, replayed {leg1.miss_pos:.1f} m / "
        f"{leg1.miss_vel:.2e} m/s ({leg1.seconds:.0f} s)")
    if not leg1.converged:
        out["status"] = f"leg 1 not closed ({leg1.note})"
        out["_legs"] = (leg1, None)
        return out
    t2, tp_next = leave_comet(el, t_perihelion, leg1.t_arrive, options)
    out["stay_days"] = (t2 - leg1.t_arrive) / DAY
    out["t_next_perihelion"] = tp_next
    r2, v2 = comet_state(el, t2)
    leg2 = return_leg(sail, t2, np.concatenate([r2, v2]), limits, options.return_min_days, options.return_max_days)
    out["leg2"] = leg_summary(leg2)
    out["leg2"].update(leg2.info)
    say(f"  leg 2: closed={leg2.converged} {leg2.tof / DAY:.1f} d, replayed {leg2.miss_pos / 1e3:.1f} km, "
        f"v_inf {leg2.miss_vel:.0f} m/s ({leg2.seconds:.0f} s) {leg2.note}")
    out["status"] = "closed" if leg2.converged else f"leg 2 not closed ({leg2.note})"
    if leg2.converged:
        out["total_days"] = (leg2.t_arrive - leg1.t_depart) / DAY
    out["_legs"] = (leg1, leg2)
    return out


def return_leg(sail, t2: float, y2, limits=None, min_days: float = earth_return.MIN_RETURN_DAYS,
               max_days: float = earth_return.MAX_RETURN_DAYS) -> Leg:
    """Leg 2 by ``bliss.missions.earth_return.earliest_return`` (arrival dates scanned from ``min_days``
    to ``max_days`` after ``t2``) as a :class:`Leg` (``miss_vel``: v_inf; ``info``: solves, closest
    approach to the Sun [AU], the comet's distance from the Sun at departure [AU])."""
    ret = earth_return.earliest_return(sail, y2, t2, limits, min_days=min_days, max_days=max_days)
    rep = ret.get("replay")
    info = {"n_solves": ret["n_solves"], "r_min_au": ret.get("r_min_au", math.nan),
            "comet_sun_distance_au": float(np.linalg.norm(np.asarray(y2, float)[:3])) / AU}
    return Leg(float(t2), ret.get("tof_days", math.nan) * DAY, bool(ret["closed"]), ret.get("miss_m", math.nan),
               ret.get("v_inf_m_s", math.nan), np.asarray(y2, float),
               rep["y"][-1].copy() if rep else np.full(6, np.nan), rep["schedule"] if rep else None,
               ret["seconds"], ret["note"], info)


def leg_summary(leg: Leg) -> dict:
    return {"t_depart": leg.t_depart, "t_arrive": leg.t_arrive, "tof_days": leg.tof / DAY,
            "converged": leg.converged, "miss_pos_m": leg.miss_pos, "miss_vel_m_s": leg.miss_vel,
            "seconds": leg.seconds, "note": leg.note}


def candidate_passages(bodies, scr: dict, rows, t_window) -> list[tuple[int, float]]:
    """(row, perihelion time) pairs to optimise: for each row, the first perihelion whose leg-1
    departure (Tp - the screen's leg-1 time) lies in the departure window ``t_window`` (t0, t1)."""
    out = []
    for k in rows:
        est = scr["leg_s"][k]
        if not math.isfinite(est):
            continue
        for tp in perihelion_passages(bodies.elements[k], t_window[0] + est, t_window[1] + est):
            out.append((int(k), float(tp)))
            break
    return out


def mission_record(res: dict) -> dict:
    """One planned chain as JSON-able values, schedules included, so that the saved solution can be
    flown again (``tests/test_missions.py``): the layout of ``benchmarks/jfc_sample_return.py``'s
    ``missions.json`` and of ``bliss missions jfc``'s ``jfc_missions.json``. ISO dates are TDB."""
    # lazy: astropy's time scales, only when a record is written
    from sim.timeconv import tdb_seconds_to_epoch

    def iso(t):
        return "" if t is None or not math.isfinite(t) else str(tdb_seconds_to_epoch(float(t)).tdb.isot)[:10]

    def sched(s):
        return None if s is None else {k: np.asarray(getattr(s, k)).tolist() for k in ("t", "mode", "att")}

    tp = res["t_perihelion"]
    out = {"name": res["name"], "status": res["status"], "elements": res["elements"], "t_perihelion": tp,
           "perihelion": iso(tp), "stay_days": res["stay_days"]}
    if math.isfinite(res.get("t_next_perihelion", math.nan)):
        out.update({"t_next_perihelion": res["t_next_perihelion"], "next_perihelion": iso(res["t_next_perihelion"])})
    legs = res.get("_legs") or (None, None)
    for key, leg in zip(("leg1", "leg2"), legs):
        if leg is None:
            continue
        d = {"t_depart": leg.t_depart, "departure": iso(leg.t_depart), "y_depart": leg.y_depart.tolist(),
             "closed": leg.converged, "tof_days": leg.tof / DAY, "seconds": leg.seconds, "note": leg.note,
             "miss_m": leg.miss_pos, "schedule": sched(leg.schedule), **leg.info}
        if math.isfinite(leg.tof):
            d.update({"t_arrive": leg.t_arrive, "arrival": iso(leg.t_arrive)})
        if key == "leg1":
            d.update({"miss_m_s": leg.miss_vel, "arrival_minus_perihelion_days": (leg.t_arrive - tp) / DAY})
        else:
            d["v_inf_m_s"] = leg.miss_vel
        out[key] = d
    if "total_days" in res:
        out["total_days"] = res["total_days"]
    return out


def run_jfc(bodies, sail, t_window, n_optimise: int = 10, names=None, options: ChainOptions = ChainOptions(),
            scheduler=None, n_workers=None, limits=None, on_result=None) -> dict:
    """Screen every comet, then plan the sample return of the ``n_optimise`` best (or of ``names``), each
    chain flown as ``options`` says, as Dask tasks (``bliss.distributed.open_client``: a local cluster,
    or ``scheduler``). ``on_result(result, done, total)`` is called as each comet finishes (progress).
    Returns the screen arrays, the rows optimised and one :func:`plan_sample_return` result per row
    (rows with no perihelion passage that suits the window are left out)."""
    # lazy: dask's client library, only when the optimiser runs
    from distributed import as_completed

    options.check()
    t0, t1 = float(t_window[0]), float(t_window[1])
    dates = np.arange(t0, t1 + 1.0, 30.0 * DAY)
    t_w = time.perf_counter()
    scr = screen_comets(bodies, dates, sail.characteristic_acceleration)
    timings = {"screen_s": time.perf_counter() - t_w}
    if names:
        rows = [bodies.index(n) for n in names]
    else:
        order = np.argsort(scr["total_s"], kind="stable")
        rows = [int(k) for k in order[:n_optimise] if np.isfinite(scr["total_s"][k])]
    cands = candidate_passages(bodies, scr, rows, (t0, t1))
    results = {}
    t_w = time.perf_counter()
    if cands:
        with open_client(scheduler, n_workers) as client:
            futs = {client.submit(plan_sample_return, sail, bodies.elements[k], str(bodies.designation[k]), tp,
                                  float(scr["leg_s"][k]), options, limits, (t0, t1), pure=False): k
                    for k, tp in cands}
            for fut in as_completed(list(futs)):
                results[futs[fut]] = fut.result()
                if on_result is not None:
                    on_result(results[futs[fut]], len(results), len(futs))
    timings["optimise_s"] = time.perf_counter() - t_w
    return {"screen": scr, "rows": rows, "results": results, "timings": timings}
