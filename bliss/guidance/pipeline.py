"""The ``bliss plan`` pipeline, callable without the CLI: departure state -> feedback-law transfer
(G1, ``bliss.guidance.feedback``, the warm start) -> minimum-time optimiser (G2,
``bliss.guidance.optimise``) -> replay of the final schedule with ``sim.integrator.propagate`` ->
``AttitudeSchedule``. Optionally a departure-window scan first (``bliss.guidance.window``).

``plan(request)`` takes a :class:`PlanRequest` (the validated inputs, built by
``bliss.cli.plan.build_inputs``) and returns a :class:`PlanOutcome`, everything the writers
(``bliss.io.plan_products``) need; it writes no files. Which starts the optimiser gets, and in which order
(feedback transfer, crude guesses, fallbacks), is decided in one place: :func:`optimiser_starts`.
Ground-side planning: it uses the simulator.

Third bodies: ``request.third_bodies`` (a ``sim.integrator.ThirdBodies`` table covering every departure
date plus the longest time of flight, or None) goes into each ``TransferProblem``. The feedback law and
the optimiser's multiple shooting stay Sun + sail; the optimiser's polish and the replay here fly the
planets, so the written schedule closes in the model the user asked for.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.constants import AU, DAY

if TYPE_CHECKING:  # annotations only: the planners are imported when a plan runs (CLI start-up stays quick)
    from bliss.guidance.problem import Limits, Target, TransferProblem, TransferResult
    from bliss.guidance.schedule import AttitudeSchedule
    from sim.sail import Sail

#: Arrival tolerances of the replayed schedule: 1,000 km and 1 m/s (issue 4 acceptance criterion,
#: well inside a 10 g sail's on-board navigation and terminal-approach capability).
TOL_POS_M = 1.0e6
TOL_VEL_M_S = 1.0
#: Output grid of the trajectory products: one state per day plus every segment switch.
OUTPUT_STEP_S = DAY
#: The feedback transfer is used as the optimiser's warm start only if it closed or ended within this
#: distance of the target [m] (0.02 AU); a warm start that misses by more starts the multiple shooting
#: from far-off arcs, which in our runs was slower and less reliable than the optimiser's own crude
#: (Hermite) guess.
WARM_MAX_MISS_M = 0.02 * AU
#: Time-of-flight guess for the crude start [s]: 500 days, the order of the minimum times of the
#: default sail to Bennu over most of the 2027-2032 window scan (about 290-575 days).
CRUDE_TOF_GUESS_S = 500.0 * DAY
#: Further crude starts the optimiser also solves from, keeping the shortest converged transfer [s]:
#: multiple shooting finds local minima, and at the default 2030-11-21 departure a single 500-day start
#: ends at 218.1 days while a 250-day start reaches 214.4 days (optimiser scans, docs/guidance.md).
EXTRA_TOF_GUESSES_S = (250.0 * DAY,)
#: Integrator tolerance of the replay (sim.integrator default, ~1e-10 relative).
REPLAY_RTOL = 1e-10


def departure_v_inf(t: float, v_inf) -> np.ndarray:
    """Excess-velocity vector [m/s]: none, a magnitude along Earth's velocity, or x y z in km/s."""
    if v_inf is None:
        return np.zeros(3)
    if len(v_inf) == 3:
        return np.asarray(v_inf, float) * 1e3
    # lazy: astropy, not paid by `bliss --help` (bliss.cli.plan imports this module)
    from sim.ephemeris import body_state

    _, v = body_state("earth", float(t))
    v = np.asarray(v, float)
    return v / np.linalg.norm(v) * v_inf[0] * 1e3


#: What a solver may raise on a hard problem (HiGHS or SLSQP failing, a singular matrix, an overflow): the
#: pipeline reports it in one line and goes on without that start (or that window date).
SOLVER_ERRORS = (RuntimeError, ArithmeticError, ValueError, np.linalg.LinAlgError)


def first_line(exc: BaseException) -> str:
    """First line of an exception's message (a solver's may span several), or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass(frozen=True)
class PlanRequest:
    """What to plan: the validated inputs of one ``bliss plan`` run (``bliss.cli.plan.build_inputs``)."""

    sail: "Sail"
    limits: "Limits"
    target: "Target"
    #: departure dates [TDB s past J2000]: the one of --date, or the window's
    dates: np.ndarray
    #: the --window dates [TDB s] (the same array as ``dates``), or None for a single date
    window: np.ndarray | None = None
    #: departure excess velocity [km/s]: (magnitude along Earth's velocity,) or (x, y, z); None = 0
    v_inf: tuple | None = None
    #: --tof-guess-days [s]: skip the feedback warm start and start the optimiser from its crude guess
    tof_guess: float | None = None
    #: ``sim.integrator.ThirdBodies`` table of --third-bodies, or None (Sun + sail)
    third_bodies: object | None = None
    #: ephemeris of Earth's departure state and of the third bodies: "builtin" or "de421"
    ephem: str = "builtin"
    #: what summary.json records under "ephemeris" (name and source)
    ephemeris_summary: dict = field(default_factory=dict)


@dataclass
class PlanOutcome:
    """What was planned: the transfer the products describe (``plan``'s result, the writers' input)."""

    problem: "TransferProblem"
    #: the feedback laws' transfer (the warm start), or None when skipped or failed
    warm: "TransferResult | None"
    #: the transfer written: the optimiser's best, or the feedback transfer if the optimiser failed
    best: "TransferResult"
    #: replayed trajectory: times [TDB s] (n,) and states (n, 6) [m, m/s], heliocentric ecliptic J2000
    t: np.ndarray
    y: np.ndarray
    attitude: "AttitudeSchedule"
    #: the target's position [m] and velocity [m/s] at the replayed arrival
    target_r: np.ndarray
    target_v: np.ndarray
    #: replayed arrival miss [m], [m/s], and whether it is within TOL_POS_M and TOL_VEL_M_S
    miss_pos: float
    miss_vel: float
    converged: bool
    #: window scan rows (t, tof, converged, feedback tof, feedback converged, note), or None
    window: list | None
    #: wall time of each stage [s]
    timings: dict
    #: which start the optimiser's kept transfer came from
    warm_start: str


class PlanFailed(RuntimeError):
    """The planner produced no transfer at all (nothing to write)."""


class _StageProgress:
    """Feeds the planners' progress into the one stage bar: G1 calls ``update(days)``, G2 calls it
    with a message."""

    #: Shortest interval between redraws [s], so logs of non-terminal runs stay short.
    MIN_INTERVAL_S = 0.5

    def __init__(self, bar, label):
        self.bar, self.label, self.days, self._last = bar, label, 0.0, 0.0

    def _show(self, text):
        now = time.monotonic()
        if now - self._last >= self.MIN_INTERVAL_S:
            self._last = now
            self.bar.set_postfix_str(f"{self.label}: {text}")

    def update(self, n=1):
        self.days += float(n)
        self._show(f"{self.days:.0f} days flown")

    def __call__(self, msg):
        self._show(str(msg))


def fly_feedback(problem, progress=None):
    """G1's feedback planner (the warm start)."""
    # lazy: numba, not paid by `bliss --help` (bliss.cli.plan imports this module)
    from bliss.guidance import feedback

    return feedback.fly_feedback(problem, progress=progress)


def minimise_time(problem, warm, n_segments=None, progress=None, tof_guess=None, extra_guesses=(),
                  extra_results=()):
    """G2's minimum-time optimiser: from ``warm``, or from its crude guess at ``tof_guess`` [s] when
    ``warm`` is None; plus a crude-guess start per TOF in ``extra_guesses`` [s] and the ``extra_results``
    of such starts already made."""
    # lazy: scipy, not paid by `bliss --help` (bliss.cli.plan imports this module)
    from bliss.guidance import optimise

    kw = {} if n_segments is None else {"n_segments": n_segments}
    if warm is None:
        kw["tof_guess"] = tof_guess
    return optimise.minimise_time(problem, warm, progress=progress, extra_guesses=extra_guesses,
                                  extra_results=extra_results, **kw)


def _extra_starts(problem, guesses, n_segments) -> list:
    """The optimiser's crude-guess starts at each TOF in ``guesses`` [s], each on its own (as
    ``minimise_time(..., extra_guesses=guesses)`` runs them after its main start)."""
    return [minimise_time(problem, None, n_segments=n_segments, tof_guess=g) for g in guesses]


def departure_window(problem_factory, dates, progress=None, n_segments=None):
    """G2's window scan, with the feedback laws flown from every date too:
    [(t_depart, tof or nan, converged, feedback tof or nan, feedback converged, note)] per date; the note
    says which solver failed at that date ("" when none did), and the scan goes on."""
    # lazy: scipy, not paid by `bliss --help` (bliss.cli.plan imports this module)
    from bliss.guidance import window

    kw = {} if n_segments is None else {"n_segments": n_segments}
    notes = []
    rows = window.departure_window(problem_factory, dates, progress=progress, notes=notes, **kw)
    notes += [""] * (len(rows) - len(notes))
    bar = None
    if progress is True:
        from tqdm import tqdm

        bar = tqdm(total=len(rows), desc="feedback laws", file=sys.stderr)
    out = []
    for (t, tof, ok), note in zip(rows, notes):
        try:
            fb = fly_feedback(problem_factory(t))
            fb_tof, fb_ok = (fb.tof if fb.converged else math.nan), bool(fb.converged)
        except SOLVER_ERRORS as exc:
            fb_tof, fb_ok = math.nan, False
            note = "; ".join(n for n in (note, f"feedback law failed: {first_line(exc)}") if n)
        out.append((t, tof, ok, fb_tof, fb_ok, note))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return out


def make_problem(request: PlanRequest, t_depart: float):
    # lazy: astropy and numba, not paid by `bliss --help` (bliss.cli.plan imports this module)
    from bliss.guidance.problem import TransferProblem, departure_state

    # request.ephem (--ephem): Earth's departure state from "builtin" (default) or "de421". A v_inf
    # magnitude keeps the builtin Earth velocity's direction (departure_v_inf): the two ephemerides'
    # directions differ by < 0.01 arcsec, i.e. < 0.05 mm/s for a 1 km/s v_inf.
    y0 = departure_state(float(t_depart), departure_v_inf(t_depart, request.v_inf), ephem=request.ephem)
    return TransferProblem(sail=request.sail, t_depart=float(t_depart), y_depart=y0, target=request.target,
                           limits=request.limits, third_bodies=request.third_bodies)


def optimiser_starts(warm, feedback_failure: str | None, user_tof_guess: float | None) -> list:
    """The optimiser's starts, in the order tried: [(warm TransferResult or None, crude-guess TOF [s] or
    None, note for summary.json's warm_start)]. The one place that chooses them:

    - ``--tof-guess-days`` (``user_tof_guess``): its crude guess only (no feedback was flown);
    - the feedback law failed (``feedback_failure``, its message) or its transfer missed by more than
      ``WARM_MAX_MISS_M``: the crude guess at ``CRUDE_TOF_GUESS_S``;
    - otherwise the feedback transfer, then the crude guess as the fallback.
    ``EXTRA_TOF_GUESSES_S`` are added to every start except the user's (see :func:`plan`)."""
    crude = f"crude guess at {CRUDE_TOF_GUESS_S / DAY:.0f} days"
    if user_tof_guess is not None:
        return [(None, user_tof_guess, f"crude guess at {user_tof_guess / DAY:.0f} days (--tof-guess-days)")]
    if feedback_failure is not None:
        return [(None, CRUDE_TOF_GUESS_S, f"{crude} (the feedback warm start failed: {feedback_failure})")]
    if warm is None or not (warm.converged or warm.miss_pos <= WARM_MAX_MISS_M):
        missed = "" if warm is None else (f" (the feedback transfer missed by {warm.miss_pos / AU:.3g} AU > "
                                          f"{WARM_MAX_MISS_M / AU:g} AU)")
        return [(None, CRUDE_TOF_GUESS_S, crude + missed)]
    return [(warm, None, "feedback transfer"),
            (None, CRUDE_TOF_GUESS_S, f"{crude} (fallback: from the feedback transfer it did not close)")]


def replay(problem, schedule, step_s: float = OUTPUT_STEP_S):
    """Propagate ``schedule`` from the problem's departure state (with the problem's third bodies, if
    any): (t, y) on a grid holding every switch."""
    # lazy: numba, not paid by `bliss --help` (bliss.cli.plan imports this module)
    from sim.integrator import propagate

    seg_t = np.asarray(schedule.t, float)
    # plus a log-spaced tail (1 minute to 10 days before arrival) so the approach plot resolves the end
    tail = seg_t[-1] - np.geomspace(60.0, min(10 * DAY, 0.5 * (seg_t[-1] - seg_t[0])), 40)
    grid = np.union1d(seg_t, np.concatenate([np.arange(seg_t[0], seg_t[-1], step_s), tail]))
    traj = propagate(problem.y_depart, schedule, problem.sail, t_out=grid, rtol=REPLAY_RTOL,
                     third_bodies=problem.third_bodies)
    return traj.t, traj.y


def plan(request: PlanRequest, n_segments=None, show_progress=True, log=print,
         fork_extra_starts: bool = False) -> PlanOutcome:
    """Run the planning pipeline; returns everything the writers need (no files written).

    With ``fork_extra_starts`` the optimiser's extra crude-guess starts (``EXTRA_TOF_GUESSES_S``), which do
    not depend on the feedback warm start, run in a process forked before the feedback laws are flown, on
    the second core (``bliss.io.forked.ForkedCall``); the result is the same as without (same runs, same
    arithmetic, combined in the same order). If that process fails, the starts run here as before."""
    from tqdm import tqdm

    # lazy: numba, not paid by `bliss --help` (bliss.cli.plan imports this module)
    from bliss.guidance.schedule import AttitudeSchedule

    timings = {}
    window_rows = None
    early = None  # the extra starts' process (fork_extra_starts)
    n_stages = 3 + (request.window is not None) + (request.tof_guess is None)
    # no ETA: the stages differ in length by 10x and the first run also compiles the kernels
    bar = tqdm(total=n_stages, desc="bliss plan", unit="stage", bar_format="{desc}: stage {n}/{total} "
               "[{elapsed}]{postfix}", disable=not show_progress, file=sys.stderr, leave=False)
    try:
        if request.window is not None:
            bar.set_postfix_str(f"window scan ({len(request.window)} dates)")
            t_w = time.perf_counter()
            window_rows = departure_window(lambda t: make_problem(request, t), request.window,
                                           progress=show_progress, n_segments=n_segments)
            timings["window_s"] = time.perf_counter() - t_w
            for row in window_rows:
                if len(row) >= 6 and row[5]:
                    # lazy: astropy, not paid by `bliss --help` (bliss.cli.plan imports this module)
                    from sim.timeconv import tdb_seconds_to_epoch

                    log(f"bliss plan: window: departure {tdb_seconds_to_epoch(row[0]).iso[:10]}: "
                        f"{'skipped' if not row[2] else 'kept'}, {row[5]}")
            t_dep = _choose_departure(window_rows)
            bar.update(1)
        else:
            t_dep = float(request.dates[0])
        problem = make_problem(request, t_dep)
        extra = EXTRA_TOF_GUESSES_S if request.tof_guess is None else ()
        if fork_extra_starts and extra:
            # lazy: only a command that asks for it forks
            from bliss.io.forked import ForkedCall

            early = ForkedCall(lambda: _extra_starts(problem, extra, n_segments))

        warm, feedback_failure = None, None
        if request.tof_guess is None:
            bar.set_postfix_str("feedback warm start")
            t_w = time.perf_counter()
            try:
                warm = fly_feedback(problem, progress=_StageProgress(bar, "feedback") if show_progress else None)
            except SOLVER_ERRORS as exc:
                feedback_failure = first_line(exc)
                log(f"bliss plan: the feedback warm start failed ({feedback_failure}); the optimiser starts "
                    f"from its crude guess")
            timings["feedback_s"] = time.perf_counter() - t_w
            bar.update(1)

        bar.set_postfix_str("minimum-time optimisation")
        t_w = time.perf_counter()
        attempts = optimiser_starts(warm, feedback_failure, request.tof_guess)
        extra_results = ()
        if early is not None:
            try:
                extra, extra_results = (), early.result()
            except RuntimeError as exc:
                log(f"bliss plan: the optimiser's extra starts failed in their own process "
                    f"({first_line(exc)}); running them here")
            early = None
        warm_note = attempts[0][2]
        best, failures = None, []
        for st, tg, note in attempts:
            try:
                r = minimise_time(problem, st, n_segments=n_segments, tof_guess=tg, extra_guesses=extra,
                                  extra_results=extra_results,
                                  progress=_StageProgress(bar, "optimiser") if show_progress else None)
            except SOLVER_ERRORS as exc:
                failures.append(f"{note}: {first_line(exc)}")
                log(f"bliss plan: optimiser failed from the {note} ({first_line(exc)})")
                continue
            if best is None or r.miss_pos < best.miss_pos:
                best, warm_note = r, note
            if r.miss_pos <= TOL_POS_M and r.miss_vel <= TOL_VEL_M_S:
                break
        if best is None:
            if warm is None:
                raise PlanFailed("the optimiser failed (" + "; ".join(failures) + ")")
            log("bliss plan: keeping the feedback transfer")
            best, warm_note = warm, "none (the optimiser failed; feedback transfer kept)"
        timings["optimise_s"] = time.perf_counter() - t_w
        bar.update(1)

        bar.set_postfix_str("replay")
        t_w = time.perf_counter()
        t_s, y = replay(problem, best.schedule)
        seg_t = np.asarray(best.schedule.t, float)
        idx = np.searchsorted(t_s, seg_t)
        att = AttitudeSchedule.from_states(seg_t, best.schedule.mode, best.schedule.att,
                                           y[idx[:-1]], y[idx[1:]], meta={"method": best.method})
        r_t, v_t = problem.target.state(float(t_s[-1]))
        miss_pos = float(np.linalg.norm(y[-1, :3] - r_t))
        miss_vel = float(np.linalg.norm(y[-1, 3:] - v_t))
        timings["replay_s"] = time.perf_counter() - t_w
        bar.update(1)
    finally:
        bar.close()
        if early is not None:  # the plan stopped before the optimiser (an error, Ctrl-C): stop that process
            early.close()
    # "converged" = the rendezvous is closed, judged on the replay (what the files will fly); whether
    # the optimiser also certified minimum time is reported beside it (optimiser_converged).
    converged = miss_pos <= TOL_POS_M and miss_vel <= TOL_VEL_M_S
    return PlanOutcome(problem=problem, warm=warm, best=best, t=t_s, y=y, attitude=att,
                       target_r=np.asarray(r_t), target_v=np.asarray(v_t), miss_pos=miss_pos, miss_vel=miss_vel,
                       converged=converged, window=window_rows, timings=timings, warm_start=warm_note)


def _choose_departure(rows) -> float:
    """Departure with the shortest converged TOF; else the smallest finite TOF; else the first date.
    Rows are (t, tof, converged, ...) (the feedback columns, if any, are not used)."""
    rows = [(float(r[0]), float(r[1]), bool(r[2])) for r in rows]
    conv = [r for r in rows if r[2] and math.isfinite(r[1])]
    if conv:
        return min(conv, key=lambda r: r[1])[0]
    fin = [r for r in rows if math.isfinite(r[1])]
    return min(fin, key=lambda r: r[1])[0] if fin else rows[0][0]
