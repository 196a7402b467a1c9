"""The ``--window START END STEP_DAYS`` option shared by departure-window commands (``bliss survey``;
``bliss plan`` has the same grammar inline and can call :func:`parse_window` too)."""
from __future__ import annotations

import math

import numpy as np

from bliss.cli import UsageError
from bliss.cli.plan import parse_date  # one date grammar for every command
from sim.constants import DAY


def parse_window(window, max_dates: int) -> np.ndarray:
    """Departure dates (TDB s past J2000) from ``(START, END, STEP_DAYS)`` strings; UsageError if bad."""
    start, end, step = window
    t0, t1 = parse_date(start, "--window START"), parse_date(end, "--window END")
    try:
        step_d = float(step)
    except ValueError:
        raise UsageError(f"--window STEP_DAYS must be a number of days, got {step!r}") from None
    if not (math.isfinite(step_d) and step_d > 0):
        raise UsageError(f"--window STEP_DAYS must be positive, got {step!r}")
    if t1 < t0:
        raise UsageError("--window END must not be before START")
    # every STEP_DAYS from START, none after END (plan.py's inline arange can overshoot END by < STEP/2)
    n = int(math.floor((t1 - t0) / (step_d * DAY) + 1e-9)) + 1
    dates = t0 + np.arange(n) * step_d * DAY
    if dates.size > max_dates:
        raise UsageError(f"--window would scan {dates.size} dates; use a larger STEP_DAYS (<= {max_dates} dates)")
    return dates
