"""BLISS simulator: the physics and the world (sail force model, dynamics, integrator, ephemerides).

Never imports ``bliss`` or ``hil``.
"""
from sim import _numba_cache

#: numba's cache directory for this exact source tree (see ``sim/_numba_cache.py``).
NUMBA_CACHE = _numba_cache.configure()
