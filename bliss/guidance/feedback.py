"""Feedback-law transfer planner (stub; being filled in)."""
from __future__ import annotations


def fly_feedback(problem, seg_days=1.0, progress=None, max_years=4.0):
    """Fly the blended law, phasing and terminal rendezvous; return a TransferResult."""
    raise NotImplementedError
