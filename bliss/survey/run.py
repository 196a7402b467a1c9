"""``bliss survey`` without the CLI: screen a catalogue over a departure window, refine the best.

:func:`run_survey` screens every row (``bliss.survey.screen``), ranks by the screen's time, and sends
the ``n_refine`` best to the minimum-time optimiser (``bliss.survey.refine``) as Dask tasks, each
trying the screen's ``dates_per_target`` best departure dates. It writes no files
(``bliss.survey.products`` does).
"""
from __future__ import annotations

import sys
import time

import numpy as np

from bliss.distributed import open_client
from bliss.survey.catalogue import Catalogue
from bliss.survey.refine import refine
from bliss.survey.screen import screen, screen_per_date


def run_survey(cat: Catalogue, sail, dates, n_refine: int = 100, dates_per_target: int = 2, scheduler=None,
               n_workers=None, limits=None, show_progress: bool = True, on_refined=None) -> dict:
    """Returns a dict of per-row arrays (catalogue order) plus ``order`` (rows by screen time),
    ``refined`` (row indices refined) and ``timings`` [s]. ``on_refined(row, result)`` is called as each
    refined object finishes (catalogue row index, :func:`bliss.survey.refine.refine_target`'s dict)."""
    from tqdm import tqdm

    dates = np.asarray(dates, float)
    timings = {}
    t0 = time.perf_counter()
    with tqdm(total=len(cat), desc="screen", unit="NEA", disable=not show_progress, file=sys.stderr) as bar:
        tof, t_best, dv = screen(cat.elements, dates, sail.characteristic_acceleration, progress=bar)
    timings["screen_s"] = time.perf_counter() - t0
    order = np.argsort(tof, kind="stable")
    n_ref = int(min(n_refine, np.isfinite(tof).sum()))
    rows = order[:n_ref]
    opt_tof = np.full(len(cat), np.nan)
    opt_dep = np.full(len(cat), np.nan)
    opt_ok = np.zeros(len(cat), bool)
    opt_miss = np.full(len(cat), np.nan)
    if n_ref:
        per_date = screen_per_date(cat.elements[rows], dates, sail.characteristic_acceleration)
        k = max(1, min(int(dates_per_target), dates.size))
        pick = np.argsort(per_date, axis=1, kind="stable")[:, :k]
        t1 = time.perf_counter()
        with open_client(scheduler, n_workers) as client, \
                tqdm(total=n_ref, desc="refine (optimiser)", unit="NEA", disable=not show_progress,
                     file=sys.stderr) as bar:
            res = refine(client, sail, cat.elements[rows], [dates[p] for p in pick],
                         [per_date[i, p] for i, p in enumerate(pick)], limits=limits, progress=bar,
                         on_result=None if on_refined is None else lambda k, r: on_refined(int(rows[k]), r))
        timings["refine_s"] = time.perf_counter() - t1
        for r_idx, r in zip(rows, res):
            opt_tof[r_idx] = r["tof_s"]
            opt_dep[r_idx] = r["t_depart"]
            opt_ok[r_idx] = r["converged"]
            opt_miss[r_idx] = r["miss_pos_m"]
    return {"screen_tof_s": tof, "screen_t_depart": t_best, "screen_dv_m_s": dv, "opt_tof_s": opt_tof,
            "opt_t_depart": opt_dep, "opt_converged": opt_ok, "opt_miss_m": opt_miss, "order": order,
            "refined": rows, "timings": timings}
