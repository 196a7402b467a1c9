"""The survey's refine stage: the real minimum-time optimiser on the screen's best candidates.

Every call into the planner goes through ONE adapter, :func:`optimise_rendezvous`, so the planner's
interface (``bliss.guidance.pipeline``) can be re-pointed in one place. :func:`refine` runs the adapter
as Dask tasks on a cluster from :func:`bliss.distributed.open_client`.

Each task solves the minimum-time rendezvous (Sun + sail, the same force model as ``bliss plan``'s
optimiser) from Earth at one departure date, from the optimiser's crude (Hermite) guess at the screen's
time of flight plus one extra guess, keeping the shortest converged transfer (multi-start, as the
pipeline does; ``bliss.guidance.optimise``).
"""
from __future__ import annotations

import math
import time

import numpy as np

from bliss.guidance import pipeline
from bliss.guidance.problem import Limits, Target
from sim.constants import DAY

#: Segments of the optimised schedule. 20 is what the window scans use (bliss.guidance.window); at the
#: default Bennu date 20, 40 and 60 segments gave 214.3-214.4 days (docs/guidance.md), so 20 costs
#: < 0.1 % in TOF for about a third of the time of the default 40.
REFINE_SEGMENTS = 20
#: Arrival tolerances of a refined transfer: the optimiser's own (10 km, 1 cm/s,
#: bliss.guidance.optimise.TOL_POS / TOL_VEL) decide `converged`.


def optimise_rendezvous(sail, elements, t_depart: float, tof_guesses_s, n_segments: int = REFINE_SEGMENTS,
                        limits=None, feedback_fallback: bool = False) -> dict:
    """THE adapter to the planner: minimum-time rendezvous with the two-body orbit ``elements``
    (``[a m, e, i rad, raan rad, argp rad, M0 rad, epoch TDB s]``) departing Earth at ``t_depart``
    (TDB s past J2000) with zero excess speed.

    ``tof_guesses_s``: crude-guess times of flight [s] to start from (multi-start; the shortest converged
    transfer wins). ``feedback_fallback``: when no crude start closes, fly the feedback laws (``bliss
    plan``'s warm start) and optimise from their transfer (long many-revolution transfers, where a crude
    guess is too far off). Returns ``{"tof_s", "converged", "miss_pos_m", "miss_vel_m_s", "seconds",
    "start"}`` (``tof_s`` nan when no start closed; ``start``: "crude" or "feedback", the last tried).
    Optimiser failures (RuntimeError, LinAlgError) count as not converged, never as a crash.
    """
    guesses = [float(g) for g in tof_guesses_s]
    request = pipeline.PlanRequest(sail=sail, limits=limits if limits is not None else Limits(),
                                   target=Target(name="survey target", elements=np.asarray(elements, float)),
                                   dates=np.array([float(t_depart)]))
    t0 = time.perf_counter()
    problem = pipeline.make_problem(request, float(t_depart))
    starts = [("crude", lambda: pipeline.minimise_time(problem, None, n_segments=n_segments, tof_guess=guesses[0],
                                                        extra_guesses=tuple(guesses[1:])))]
    if feedback_fallback:
        starts.append(("feedback", lambda: pipeline.minimise_time(problem, pipeline.fly_feedback(problem),
                                                                   n_segments=n_segments)))
    out = {}
    for name, solve in starts:
        try:
            r = solve()
            out = {"tof_s": float(r.tof) if r.converged else math.nan, "converged": bool(r.converged),
                   "miss_pos_m": float(r.miss_pos), "miss_vel_m_s": float(r.miss_vel), "start": name}
        except (RuntimeError, FloatingPointError, ValueError, np.linalg.LinAlgError) as exc:
            out = {"tof_s": math.nan, "converged": False, "miss_pos_m": math.nan, "miss_vel_m_s": math.nan,
                   "start": name, "error": str(exc)}
        if out["converged"]:
            break
    out["seconds"] = time.perf_counter() - t0
    return out


#: Crude-guess bounds [days] for the refine's first start (the screen's estimate, clipped) and its
#: second start: the pipeline's two crude guesses (bliss.guidance.pipeline: 500 days, plus 250 days).
GUESS_MIN_DAYS, GUESS_MAX_DAYS = 120.0, 1000.0


def tof_guesses(screen_tof_s: float) -> list[float]:
    """Starts for the optimiser [s]: the screen's estimate (clipped to 120-1000 days) and the pipeline's
    crude guess on the other side of 375 days (250 or 500 days)."""
    g = min(max(screen_tof_s / DAY if math.isfinite(screen_tof_s) else GUESS_MAX_DAYS, GUESS_MIN_DAYS),
            GUESS_MAX_DAYS)
    return [g * DAY, (500.0 if g < 375.0 else 250.0) * DAY]


def refine_target(sail, elements, dates, screen_tofs, limits=None) -> dict:
    """One Dask task: the optimiser at each departure date in ``dates`` (the screen's best few), the
    shortest converged transfer kept. Returns ``{"tof_s", "t_depart", "converged", "miss_pos_m",
    "miss_vel_m_s", "seconds", "n_dates"}``."""
    best = None
    total = 0.0
    for t, s in zip(dates, screen_tofs):
        r = optimise_rendezvous(sail, elements, float(t), tof_guesses(float(s)), limits=limits)
        total += r["seconds"]
        r["t_depart"] = float(t)
        if best is None or (r["converged"] and not (best["converged"] and best["tof_s"] <= r["tof_s"])):
            best = r
    best["seconds"] = total
    best["n_dates"] = len(dates)
    return best


def refine(client, sail, elements, dates_per_target, screen_tofs_per_target, limits=None, progress=None,
           on_result=None):
    """Run :func:`refine_target` for every candidate as Dask tasks on ``client``; results in input order.
    ``on_result(k, result)`` is called as each candidate ``k`` finishes (e.g. to stream it to a log)."""
    from distributed import as_completed

    futures = [client.submit(refine_target, sail, np.asarray(el, float), list(d), list(s), limits, pure=False)
               for el, d, s in zip(elements, dates_per_target, screen_tofs_per_target)]
    index = {f.key: k for k, f in enumerate(futures)}
    out = [None] * len(futures)
    for fut in as_completed(futures):
        k = index[fut.key]
        out[k] = fut.result()
        if on_result is not None:
            on_result(k, out[k])
        if progress is not None:
            progress.update(1)
    return out
