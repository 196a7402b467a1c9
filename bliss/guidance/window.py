"""Departure-window scan: minimum time of flight against departure date (stub; G2)."""
from __future__ import annotations


def departure_window(problem_factory, dates, **kwargs) -> list[tuple[float, float, bool]]:
    """For each departure ``t`` in ``dates`` (TDB s): (t, tof_s or nan, converged)."""
    raise NotImplementedError("departure_window is being written (issue 4, G2)")
