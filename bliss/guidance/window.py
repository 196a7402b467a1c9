"""Departure-window scan: minimum time of flight against departure date (issue 4, G2).

For each departure epoch the problem factory builds a :class:`TransferProblem`; the minimum-time
optimiser (``bliss.guidance.optimise.minimise_time``) solves it, warm-started from ``warm_factory``
(e.g. G1's feedback law) when given, else from the crude Hermite guess at the previous date's optimal
time of flight (a continuation along the window: neighbouring dates have similar optimal transfers).
A date whose transfer does not close gives ``nan``.
"""
from __future__ import annotations

import logging
import math
from typing import Callable, Iterable

import numpy as np

from bliss.guidance.optimise import minimise_time
from bliss.guidance.problem import TransferProblem, TransferResult
from sim.constants import DAY

log = logging.getLogger(__name__)


def departure_window(problem_factory: Callable[[float], TransferProblem], dates: Iterable[float],
                     n_segments: int = 20, warm_factory: Callable[[TransferProblem], TransferResult] | None = None,
                     tof_guess: float = 450.0 * DAY, progress=None, results: list | None = None,
                     extra_guesses: Iterable[float] = (), notes: list | None = None,
                     **optimiser_kwargs) -> list[tuple[float, float, bool]]:
    """Scan departure dates ``dates`` (TDB s past J2000): list of ``(t_depart, tof_s or nan, converged)``.

    ``problem_factory(t)`` returns the problem departing at ``t``. ``warm_factory(problem)`` (optional)
    returns a warm-start TransferResult; without it the crude guess is used with TOF ``tof_guess`` [s]
    for the first date and the last converged TOF afterwards; ``extra_guesses`` [s] are further crude
    starts tried at every date (multi-start: transfers with a different number of revolutions are
    separate local optima), the shortest converged one is kept. ``progress=True`` shows a tqdm bar over
    dates. ``results`` (optional list) receives every TransferResult; ``notes`` (optional list) one string per
    date: "" or which starts failed and why (a failed start is skipped, never raised). Other keyword
    arguments go to :func:`minimise_time`.
    """
    dates = [float(t) for t in dates]
    if not dates:
        raise ValueError("dates must hold at least one departure time (TDB seconds past J2000)")
    if not all(math.isfinite(t) for t in dates):
        raise ValueError("departure dates must be finite TDB seconds past J2000")
    if not (math.isfinite(tof_guess) and tof_guess > 0):
        raise ValueError(f"tof_guess must be a positive number of seconds, got {tof_guess!r}")
    extra = [float(g) for g in extra_guesses]
    if not all(math.isfinite(g) and g > 0 for g in extra):
        raise ValueError("extra_guesses must be positive numbers of seconds")
    bar = None
    if progress is True:
        from tqdm import tqdm

        bar = tqdm(total=len(dates), desc="departure window")
    out = []
    guess = float(tof_guess)
    for t in dates:
        problem = problem_factory(t)
        tof, ok, failed = math.nan, False, []
        starts = [(warm_factory, None)] if warm_factory is not None else []
        starts += [(None, guess)] + [(None, g) for g in extra]
        for wf, g in starts:
            try:
                warm = wf(problem) if wf is not None else None
                res = minimise_time(problem, warm, n_segments=n_segments,
                                    tof_guess=None if warm is not None else g, **optimiser_kwargs)
            except (RuntimeError, ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:  # not a crash
                log.warning("departure %.0f s: optimiser failed (%s)", t, exc)
                text = str(exc).strip()
                failed.append(text.splitlines()[0] if text else type(exc).__name__)
                continue
            if results is not None:
                results.append(res)
            log.info("departure %.0f s: tof %.1f d, miss %.3g m %.3g m/s, converged %s", t, res.tof / DAY,
                     res.miss_pos, res.miss_vel, res.converged)
            if res.converged and not (ok and res.tof >= tof):
                tof, ok = res.tof, True
        if ok:
            guess = tof * 1.05
        out.append((t, tof, ok))
        if notes is not None:
            notes.append(f"optimiser failed from {len(failed)} of {len(starts)} starts ({failed[-1]})" if failed else "")
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"tof={tof / DAY:.0f} d" if ok else "not closed", refresh=False)
    if bar is not None:
        bar.close()
    return out
