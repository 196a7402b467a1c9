"""Trajectory as CSV: one row per output time, SI units named in the header.

Columns (header row, comma separated; numbers in full double precision, ``%.17g``):

    epoch_tdb      ISO 8601 calendar epoch, TDB (e.g. 2028-01-01T00:00:00.000)
    t_tdb_s        seconds of TDB past J2000.0 (2000-01-01T12:00:00 TDB), the internal time
    x_m y_m z_m          heliocentric position, mean ecliptic and equinox of J2000 [m]
    vx_m_s vy_m_s vz_m_s heliocentric velocity, same frame [m/s]
    r_AU           distance from the Sun [AU, IAU 2012 B2]
    cone_deg       sail cone angle flown at that time [deg], NaN while the sail is off
    clock_deg      sail clock angle flown at that time [deg], NaN while the sail is off

Read it back with ``numpy.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding="utf-8")``
or ``numpy.loadtxt(path, delimiter=",", skiprows=1, usecols=range(1, 11))`` for the numbers.
"""
from __future__ import annotations

import os

import numpy as np

from sim.constants import AU
from sim.timeconv import tdb_seconds_to_epoch

__all__ = ["CSV_COLUMNS", "write_trajectory_csv", "tdb_seconds_to_iso"]

CSV_COLUMNS = ("epoch_tdb", "t_tdb_s", "x_m", "y_m", "z_m", "vx_m_s", "vy_m_s", "vz_m_s",
               "r_AU", "cone_deg", "clock_deg")

def tdb_seconds_to_iso(t_s) -> np.ndarray:
    """ISO 8601 TDB strings (millisecond precision) for seconds of TDB past J2000.0 (vectorised)."""
    t = tdb_seconds_to_epoch(np.atleast_1d(np.asarray(t_s, dtype=float)))
    t.precision = 3
    return np.atleast_1d(t.isot)


def write_trajectory_csv(path: str | os.PathLike, t_s, y, cone_rad=None, clock_rad=None) -> None:
    """Write states ``y`` (n, 6) [m, m/s] at times ``t_s`` (n,) [s TDB past J2000] to ``path``.

    ``cone_rad``/``clock_rad`` (n,) are the attitude flown at each row (NaN when the sail is off);
    omitted, the columns are NaN.
    """
    t_s = np.asarray(t_s, dtype=float)
    y = np.asarray(y, dtype=float)
    n = t_s.shape[0]
    if y.shape != (n, 6):
        raise ValueError(f"states must have shape ({n}, 6) to match {n} times, got {y.shape}")
    cone = np.full(n, np.nan) if cone_rad is None else np.asarray(cone_rad, dtype=float)
    clock = np.full(n, np.nan) if clock_rad is None else np.asarray(clock_rad, dtype=float)
    r_au = np.linalg.norm(y[:, :3], axis=1) / AU
    epochs = tdb_seconds_to_iso(t_s)
    numbers = np.column_stack([t_s, y, r_au, np.degrees(cone), np.degrees(clock)])
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(",".join(CSV_COLUMNS) + "\n")
        for epoch, row in zip(epochs, numbers):
            fh.write(epoch + "," + ",".join(f"{v:.17g}" for v in row) + "\n")
