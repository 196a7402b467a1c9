"""Batch propagation: many trajectories at once, in parallel over the machine's cores (numba prange).

Each row is one trajectory: its own initial state, attitude schedule (all rows with the same number of
segments) and sail parameters. For Monte Carlo runs and optimiser finite differences.

Two methods:

* ``"rows"`` (default): one scalar DOP853 per row (``sim.dop853.final_state_mee`` or ``_cartesian``), in the
  chosen formulation (modified equinoctial elements by default, or Cartesian); rows may have different
  segment times.
* ``"lanes"``: blocks of ``sim.batch_lanes.W`` rows stepped in lockstep by one vectorised DOP853 on
  Cartesian coordinates (``sim.batch_lanes``); several times faster per core, but every row must share the
  same segment times (a row's step sizes are then shared with the other rows of its block, which only
  makes them smaller).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from sim.batch_lanes import W, final_batch_lanes
from sim.dop853 import STATUS_OK, final_state_cartesian, final_state_mee, writable_c


@njit(cache=True, parallel=True)
def _final_batch_mee(Y0, SEG_T, SEG_MODE, SEG_ATT, P, rtol, out):
    for j in prange(Y0.shape[0]):
        out[j, :] = final_state_mee(Y0[j], SEG_T[j], SEG_MODE[j], SEG_ATT[j], P[j], rtol)


@njit(cache=True, parallel=True)
def _final_batch_cartesian(Y0, SEG_T, SEG_MODE, SEG_ATT, P, rtol, out):
    for j in prange(Y0.shape[0]):
        out[j, :] = final_state_cartesian(Y0[j], SEG_T[j], SEG_MODE[j], SEG_ATT[j], P[j], rtol)


#: One ``"rows"`` kernel per formulation, so that a batch compiles only its own (``sim.dop853.INTEGRATORS``).
_BATCH = {"mee": _final_batch_mee, "cartesian": _final_batch_cartesian}


def propagate_final_batch(Y0, SEG_T, SEG_MODE, SEG_ATT, P, rtol=1e-10, formulation=None, method="rows", lanes=W):
    """Final states (n, 6) of n trajectories.

    Y0 (n, 6) m, m/s; SEG_T (n, nseg+1) TDB s; SEG_MODE (n, nseg) int; SEG_ATT (n, nseg, 3);
    P (n, n_params) from ``Sail.kernel_params()`` (a single row of any of them is broadcast to all
    trajectories).
    ``method``: ``"rows"`` or ``"lanes"`` (see the module docstring). ``formulation``: ``"mee"`` or
    ``"cartesian"``, as ``sim.integrator.propagate``; the default is ``"mee"`` for ``"rows"``; ``"lanes"``
    integrates Cartesian coordinates only. ``"lanes"`` needs one set of segment times for all rows
    (SEG_T of shape (nseg+1,), or rows all equal) and raises ValueError otherwise; ``lanes``: rows per
    block (1 to ``sim.batch_lanes.W`` = 8, which fills the SIMD registers).
    """
    if method not in ("rows", "lanes"):
        raise ValueError(f"method must be 'rows' or 'lanes', got {method!r}")
    if formulation is None:
        formulation = "mee" if method == "rows" else "cartesian"
    if formulation not in _BATCH:
        raise ValueError(f"formulation must be 'mee' or 'cartesian', got {formulation!r}")
    if int(lanes) != lanes or not 1 <= lanes <= W:
        raise ValueError(f"lanes must be a whole number from 1 to {W}, got {lanes!r}")
    if method == "lanes" and formulation != "cartesian":
        raise ValueError("method='lanes' integrates Cartesian coordinates only: pass formulation='cartesian' "
                         "(or leave it out), or use method='rows' for MEE")
    Y0 = writable_c(Y0)
    if Y0.ndim != 2 or Y0.shape[1] != 6:
        raise ValueError(f"Y0 must have shape (n, 6), got {Y0.shape}")
    n = Y0.shape[0]
    # (broadcast_to gives read-only views: writable_c copies them, one kernel signature)
    SEG_MODE = writable_c(np.broadcast_to(SEG_MODE, (n,) + np.shape(SEG_MODE)[-1:]), np.int64)
    SEG_ATT = writable_c(np.broadcast_to(SEG_ATT, (n,) + np.shape(SEG_ATT)[-2:]))
    P = writable_c(np.broadcast_to(P, (n,) + np.shape(P)[-1:]))
    nseg = SEG_MODE.shape[1]
    if np.shape(SEG_T)[-1] != nseg + 1 or SEG_ATT.shape[1] != nseg:
        raise ValueError("SEG_T must have one more column than SEG_MODE and SEG_ATT has rows")
    out = np.empty((n, 6))
    if method == "rows":
        SEG_T = writable_c(np.broadcast_to(SEG_T, (n,) + np.shape(SEG_T)[-1:]))
        _BATCH[formulation](Y0, SEG_T, SEG_MODE, SEG_ATT, P, float(rtol), out)
        return out
    seg_t = np.asarray(SEG_T, dtype=np.float64)
    if seg_t.ndim == 2:
        if n > 0 and not np.array_equal(seg_t, np.broadcast_to(seg_t[:1], seg_t.shape)):
            raise ValueError("method='lanes' needs the same segment times SEG_T for every row (the rows of a "
                             "block share their steps); rows with different times: use method='rows'")
        seg_t = seg_t[0] if seg_t.shape[0] else seg_t.reshape(-1)
    status = np.zeros(n, np.int64)
    if n:
        final_batch_lanes(Y0, writable_c(seg_t), SEG_MODE, SEG_ATT, P, float(rtol), int(lanes), out, status)
    bad = np.flatnonzero(status != STATUS_OK)
    if bad.size:
        raise RuntimeError(f"method='lanes': integration failed (sim.dop853 status {status[bad[0]]}) for rows "
                           f"{bad[:8].tolist()}{' ...' if bad.size > 8 else ''}")
    return out
