"""Time the survey screen on the whole packaged NEA catalogue, beside the same kernel run as plain
Python (numba's ``py_func``) on a subset, extrapolated. Prints the machine load before and after.

    python benchmarks/survey_screen.py [--dates N] [--python-rows N]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from bliss.survey.catalogue import load_catalogue
from bliss.survey.screen import K_ECC, K_EFF, K_PHASE, PERI_THRUST, T_MAX_DAYS, T_STEP_DAYS, earth_longitudes, screen, screen_kernel
from sim.constants import DAY
from sim.sail import Sail
from sim.timeconv import epoch_to_tdb_seconds


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dates", type=int, default=49, help="departure dates, every 30 days from 2028-01-01")
    ap.add_argument("--python-rows", type=int, default=200)
    a = ap.parse_args()
    print(f"loadavg before: {loadavg()}  (2 cores)")
    t0 = time.perf_counter()
    cat = load_catalogue()
    t_load = time.perf_counter() - t0
    dates = float(epoch_to_tdb_seconds("2028-01-01T00:00:00 TDB")) + np.arange(a.dates) * 30 * DAY
    a_c = Sail().characteristic_acceleration
    screen(cat.elements[:5], dates[:2], a_c)  # compile / load the numba cache outside the timing
    t0 = time.perf_counter()
    tof, _, _ = screen(cat.elements, dates, a_c)
    t_numba = time.perf_counter() - t0
    n = len(cat)
    sub = cat.elements[:: max(1, n // a.python_rows)][: a.python_rows]
    lon = earth_longitudes(dates)
    out = np.empty(sub.shape[0])
    bj = np.empty(sub.shape[0], np.int64)
    dv = np.empty(sub.shape[0])
    t0 = time.perf_counter()
    screen_kernel.py_func(sub, dates, lon, a_c, K_EFF, K_PHASE, K_ECC, PERI_THRUST, T_STEP_DAYS * DAY, T_MAX_DAYS * DAY,
                          out, bj, dv)
    t_py = (time.perf_counter() - t0) / sub.shape[0] * n
    print(f"catalogue load (pyarrow.csv + validation): {t_load:.2f} s for {n} rows")
    print(f"screen, numba kernel: {n} objects x {dates.size} dates in {t_numba:.2f} s "
          f"({t_numba / n * 1e6:.1f} us per object over the window; {np.isfinite(tof).sum()} reachable "
          f"within {T_MAX_DAYS:.0f} d)")
    print(f"screen, same kernel as plain Python: {t_py:.1f} s extrapolated from {sub.shape[0]} objects "
          f"(ratio {t_py / t_numba:.0f}x)")
    print(f"budget: 600 s for the catalogue -> numba screen uses {t_numba / 600 * 100:.2f} % of it")
    print(f"loadavg after: {loadavg()}")


if __name__ == "__main__":
    main()
