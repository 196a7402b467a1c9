"""Batch propagation: many trajectories at once, in parallel over the machine's cores (numba prange).

Each row is one trajectory: its own initial state, attitude schedule (all rows with the same number of
segments) and sail parameters. For Monte Carlo runs and optimiser finite differences.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from sim.dop853 import final_state_cartesian, final_state_mee, writable_c


@njit(cache=True, parallel=True)
def _final_batch_mee(Y0, SEG_T, SEG_MODE, SEG_ATT, P, rtol, out):
    for j in prange(Y0.shape[0]):
        out[j, :] = final_state_mee(Y0[j], SEG_T[j], SEG_MODE[j], SEG_ATT[j], P[j], rtol)


@njit(cache=True, parallel=True)
def _final_batch_cartesian(Y0, SEG_T, SEG_MODE, SEG_ATT, P, rtol, out):
    for j in prange(Y0.shape[0]):
        out[j, :] = final_state_cartesian(Y0[j], SEG_T[j], SEG_MODE[j], SEG_ATT[j], P[j], rtol)


#: One kernel per formulation, so that a batch compiles only its own (``sim.dop853.INTEGRATORS``).
_BATCH = {"mee": _final_batch_mee, "cartesian": _final_batch_cartesian}


def propagate_final_batch(Y0, SEG_T, SEG_MODE, SEG_ATT, P, rtol=1e-10, formulation="mee"):
    """Final states (n, 6) of n trajectories.

    Y0 (n, 6) m, m/s; SEG_T (n, nseg+1) TDB s; SEG_MODE (n, nseg) int; SEG_ATT (n, nseg, 3);
    P (n, n_params) from ``Sail.kernel_params()`` (a single row is broadcast to all trajectories).
    ``formulation``: ``"mee"`` or ``"cartesian"``, as ``sim.integrator.propagate``.
    """
    if formulation not in _BATCH:
        raise ValueError(f"formulation must be 'mee' or 'cartesian', got {formulation!r}")
    Y0 = writable_c(Y0)
    n = Y0.shape[0]
    # (broadcast_to gives read-only views: writable_c copies them, one kernel signature)
    SEG_T = writable_c(np.broadcast_to(SEG_T, (n,) + np.shape(SEG_T)[-1:]))
    SEG_MODE = writable_c(np.broadcast_to(SEG_MODE, (n,) + np.shape(SEG_MODE)[-1:]), np.int64)
    SEG_ATT = writable_c(np.broadcast_to(SEG_ATT, (n,) + np.shape(SEG_ATT)[-2:]))
    P = writable_c(np.broadcast_to(P, (n,) + np.shape(P)[-1:]))
    if SEG_T.shape[1] != SEG_MODE.shape[1] + 1 or SEG_ATT.shape[1] != SEG_MODE.shape[1]:
        raise ValueError("SEG_T must have one more column than SEG_MODE and SEG_ATT has rows")
    out = np.empty((n, 6))
    _BATCH[formulation](Y0, SEG_T, SEG_MODE, SEG_ATT, P, float(rtol), out)
    return out
