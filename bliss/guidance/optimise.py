"""Minimum-time solar-sail transfers by direct multiple shooting (stub; being filled in by G2)."""
from __future__ import annotations

from bliss.guidance.problem import TransferProblem, TransferResult


def minimise_time(problem: TransferProblem, warm: TransferResult | None = None, n_segments: int = 40,
                  progress=None, **kwargs) -> TransferResult:
    """Minimum-time transfer warm-started from ``warm`` (see module docstring)."""
    raise NotImplementedError("minimise_time is being written (issue 4, G2)")


def solve_fixed_time(problem: TransferProblem, warm: TransferResult | None = None, n_segments: int = 40,
                     progress=None, **kwargs) -> TransferResult:
    """Transfer with the time of flight fixed to ``problem.tof_fixed`` (feasibility, minimum miss)."""
    raise NotImplementedError("solve_fixed_time is being written (issue 4, G2)")
