"""The sail attitude schedule as CSV: one row per constant-attitude segment.

The file opens with comment lines starting with ``#`` (:data:`FRAME_NOTE`: the frames, since the CSV's
vectors and quaternions are ecliptic while ``attitude.aem``'s are ICRF), then the header row.

Columns (header row, comma separated; numbers in full double precision, ``%.17g``):

    start_epoch, end_epoch   ISO 8601 TDB calendar epochs of the segment (millisecond display)
    start_s, end_s           the same in seconds of TDB past J2000.0 (exact; use these to replay)
    cone_deg, clock_deg      attitude in the orbit RTN frame at the segment start [deg] (sim.rtn
                             convention: clock from T toward N)
    nx, ny, nz               inertial unit sail normal at the segment start (heliocentric mean ecliptic
                             and equinox of J2000)
    qx, qy, qz, qw           scalar-last inertial(ecliptic J2000)->body quaternion at the segment start
                             (body +Z = normal, +X = Sun direction projected on the sail; see
                             bliss.guidance.schedule)
    mode                     how the attitude is held over the segment: ``rtn`` (cone/clock fixed in
                             the RTN frame: replay from cone/clock), ``inertial`` (normal fixed
                             inertially: replay from nx, ny, nz) or ``off`` (no sail force)

:func:`read_schedule_csv` returns the arrays needed to rebuild the ``sim.integrator.Schedule``.
"""
from __future__ import annotations

import csv
import os

import numpy as np

from bliss.guidance.schedule import MODE_CODES, MODE_NAMES, MODE_INERTIAL, MODE_RTN, AttitudeSchedule
from bliss.io.csvout import tdb_seconds_to_iso

__all__ = ["SCHEDULE_COLUMNS", "write_schedule_csv", "read_schedule_csv"]

SCHEDULE_COLUMNS = ("start_epoch", "end_epoch", "start_s", "end_s", "cone_deg", "clock_deg",
                    "nx", "ny", "nz", "qx", "qy", "qz", "qw", "mode")


#: Comment lines written above the header (readers: skip lines starting with "#", e.g. pandas comment="#").
FRAME_NOTE = (
    "# BLISS sail attitude schedule, one row per constant-attitude segment; times TDB.",
    "# nx,ny,nz and the quaternion qx,qy,qz,qw (scalar last, inertial->body) are in the heliocentric mean",
    "# ECLIPTIC and equinox of J2000 -- not ICRF: attitude.aem gives the same attitude in ICRF (EME2000) axes.",
    "# cone_deg, clock_deg: the orbit RTN frame at the segment start (sim.rtn; clock from T toward N).",
)


def write_schedule_csv(path: str | os.PathLike, schedule: AttitudeSchedule) -> None:
    """Write ``schedule`` to ``path`` (columns :data:`SCHEDULE_COLUMNS`)."""
    n = len(schedule)
    e0 = tdb_seconds_to_iso(schedule.t_start) if n else []
    e1 = tdb_seconds_to_iso(schedule.t_end) if n else []
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(FRAME_NOTE) + "\n" + ",".join(SCHEDULE_COLUMNS) + "\n")
        for k in range(n):
            nums = [schedule.t_start[k], schedule.t_end[k], np.degrees(schedule.cone[k]),
                    np.degrees(schedule.clock[k]), *schedule.normal[k], *schedule.quaternion[k]]
            fh.write(f"{e0[k]},{e1[k]}," + ",".join(f"{float(v):.17g}" for v in nums)
                     + f",{MODE_NAMES[int(schedule.mode[k])]}\n")
        fh.flush()


def read_schedule_csv(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a schedule CSV: ``seg_t`` (n+1,), ``seg_mode`` (n,), ``seg_att`` (n, 3) for the integrator,
    plus the columns as arrays (``cone`` and ``clock`` in radians, ``normal`` (n, 3), ``quaternion`` (n, 4))."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(ln for ln in fh if not ln.startswith("#"))
        missing = [c for c in SCHEDULE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: not a BLISS schedule CSV (missing columns {', '.join(missing)})")
        rows = list(reader)
    if not rows:
        raise ValueError(f"{path}: schedule CSV has no segments")
    try:
        num = {c: np.array([float(r[c]) for r in rows]) for c in SCHEDULE_COLUMNS[2:-1]}
        mode = np.array([MODE_CODES[r["mode"].strip()] for r in rows], dtype=np.int64)
    except (ValueError, KeyError) as exc:
        raise ValueError(f"{path}: malformed schedule row ({exc}); expected numbers and mode "
                         f"in {sorted(MODE_CODES)}") from None
    if np.any(num["start_s"][1:] != num["end_s"][:-1]):
        raise ValueError(f"{path}: segments are not contiguous (end_s of a row must equal the next start_s)")
    cone, clock = np.radians(num["cone_deg"]), np.radians(num["clock_deg"])
    normal = np.column_stack([num["nx"], num["ny"], num["nz"]])
    att = np.zeros((len(rows), 3))
    rtn = mode == MODE_RTN
    att[rtn, 0], att[rtn, 1] = cone[rtn], clock[rtn]
    att[mode == MODE_INERTIAL] = normal[mode == MODE_INERTIAL]
    return {
        "seg_t": np.concatenate([num["start_s"], num["end_s"][-1:]]),
        "seg_mode": mode,
        "seg_att": att,
        "cone": cone,
        "clock": clock,
        "normal": normal,
        "quaternion": np.column_stack([num["qx"], num["qy"], num["qz"], num["qw"]]),
    }
