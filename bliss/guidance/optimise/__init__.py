"""Minimum-time solar-sail transfers by direct multiple shooting (moved to ``solve.py``; split next)."""
from bliss.guidance.optimise.solve import *  # noqa: F401,F403
from bliss.guidance.optimise.solve import _feasibility, _Progress, _slsqp, _Transcription  # noqa: F401
