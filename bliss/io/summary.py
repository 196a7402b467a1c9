"""JSON summary of a planned transfer (``summary.json`` of ``bliss plan``).

Keys (SI unless the key names another unit; epochs ISO 8601 TDB; times also as TDB seconds past J2000;
states in the internal frame, heliocentric mean ecliptic and equinox of J2000):

- ``sail``: mass_kg, area_m2, optics (name and coefficients), characteristic_acceleration_m_s2
  (a_c), lightness_number (beta);
- ``target``: name and, for element targets, the elements; ``limits``: max_cone_deg,
  max_slew_deg_per_day;
- ``departure``: epoch, t_tdb_s, state [x, y, z m, vx, vy, vz m/s], v_inf_m_s;
- ``arrival``: epoch, t_tdb_s, state (replayed), target_state, position_error_m and
  velocity_error_m_s: the miss found by **replaying** the written schedule from the departure state
  with ``sim.integrator.propagate`` (not the optimiser's own estimate);
- ``tof_days``, ``method``, ``converged``, ``n_segments``;
- ``feedback``: the warm start's tof_days, miss, converged, beside ``optimised`` (tof_days, miss);
- ``window`` (when a departure window was scanned): rows of departure epoch, tof_days, converged.

Non-finite numbers are written as ``null`` (JSON has no NaN).
"""
from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np

__all__ = ["write_summary", "read_summary", "sail_summary", "jsonable"]


def jsonable(obj: Any) -> Any:
    """Plain JSON types: numpy arrays/scalars to lists/floats, NaN/inf to None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    return obj


def sail_summary(sail) -> dict:
    """The sail block: mass, area, optics, a_c and beta."""
    o = sail.optics
    return {
        "mass_kg": sail.mass,
        "area_m2": sail.area,
        "optics": {
            "name": o.name, "reflectivity": o.reflectivity, "specular": o.specular,
            "b_front": o.b_front, "b_back": o.b_back, "eps_front": o.eps_front, "eps_back": o.eps_back,
            "back_reflective": o.back_reflective,
        },
        "characteristic_acceleration_m_s2": sail.characteristic_acceleration,
        "lightness_number": sail.lightness_number,
    }


def write_summary(path: str | os.PathLike, summary: dict) -> None:
    """Write ``summary`` as indented JSON (strict: no NaN tokens)."""
    text = json.dumps(jsonable(summary), indent=2, allow_nan=False)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
        fh.flush()


def read_summary(path: str | os.PathLike) -> dict:
    """Read a summary written by :func:`write_summary`."""
    with open(path, encoding="utf-8") as fh:
        try:
            return json.load(fh)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not a JSON summary ({exc})") from None
