"""Golden results of the scenarios (``scenarios/golden/NAME.json``) and the comparison against them.

A golden holds what a scenario's stages gave when it was last accepted (``bliss scenario run NAME
--update-golden``). :func:`compare` lists every quantity that moved beyond its tolerance, one readable
line each, naming the stage, the quantity, the old and new values and by how much.

Tolerances (absolute, plus a relative part for misses): chosen well above the run-to-run spread of one
machine (the planners are deterministic: identical inputs give identical bits here) and well below any
change that matters: a time of flight moving 0.01 day (15 min), an arrival miss moving 1 km + 1 %
(the rendezvous tolerance is 1000 km), a schedule attitude moving 0.1 deg (the cone; the clock by the
angle it turns the sail normal, :func:`_clock_diff`).

The attitude stage (closed software-in-the-loop) is also deterministic for its seed here (bit-identical
run to run, tests/scenarios/test_attitude_stage.py), but its noise-driven numbers could move on another
CPU's floating point like a change of seed: their tolerances are about half the spread over seeds 1-3 of
bennu-default's 2-day span (measured 2026-12-01: pointing rms 2.3509 / 2.3533 / 2.3566 deg, max
19.999 / 20.017 / 20.010 deg, trajectory deviation 77.84 / 77.79 / 78.04 km, navigation error
90.0 / 99.0 / 88.5 km, inchworm steps 150862 / 148135 / 149611); counts (slews, safe-mode entries, OD
uploads, control cycles, fault events) are exact.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from bliss.scenarios.model import SCENARIO_DIR

GOLDEN_DIR = SCENARIO_DIR / "golden"

#: quantity -> (absolute tolerance, relative tolerance); unlisted numbers: 1e-6 abs + 1e-6 rel.
TOLERANCES = {
    "tof_days": (0.01, 0.0),
    "miss_km": (1.0, 0.01),
    "miss_m_s": (1e-3, 0.01),
    "max_cone_deg": (0.1, 0.0),
    "mean_cone_deg": (0.1, 0.0),
    "max_slew_deg_per_day": (0.1, 0.01),
    "coast_fraction": (1e-3, 0.0),
    "days_match": (0.01, 0.0),
    "days_rendezvous": (0.01, 0.0),
    "lyapunov_min": (1e-9, 0.01),
    "schedule.t_days": (0.01, 0.0),
    "schedule.cone_deg": (0.1, 0.0),
    "schedule.clock_deg": (0.1, 0.0),
    "pointing_error_rms_deg": (0.003, 0.0),
    "pointing_error_max_deg": (0.01, 0.0),
    "trajectory_deviation_km": (0.1, 0.0),
    "trajectory_deviation_max_km": (0.1, 0.0),
    "nav_error_final_km": (5.0, 0.0),
    "inchworm_steps": (1500.0, 0.0),
}
DEFAULT_TOL = (1e-6, 1e-6)


def golden_path(name: str, folder: Path = GOLDEN_DIR) -> Path:
    return Path(folder) / f"{name}.json"


def read(name: str, folder: Path = GOLDEN_DIR) -> dict | None:
    p = golden_path(name, folder)
    return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else None


def write(name: str, results: dict, folder: Path = GOLDEN_DIR) -> Path:
    """Write the golden of ``name`` atomically (temporary file + rename)."""
    p = golden_path(name, folder)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"scenario": name, "stages": results}, indent=1, sort_keys=True) + "\n",
                   encoding="utf-8")
    tmp.replace(p)
    return p


def _num_diff(key, old, new):
    a, r = TOLERANCES.get(key, DEFAULT_TOL)
    if old is None or new is None or not (math.isfinite(old) and math.isfinite(new)):
        return None if old == new or (old != old and new != new) else (f"{old!r} -> {new!r}")
    tol = a + r * abs(old)
    if abs(new - old) <= tol:
        return None
    rel = f", {100 * (new - old) / abs(old):+.3g} %" if old else ""
    return f"{old:.6g} -> {new:.6g} ({new - old:+.4g}{rel}; tolerance {tol:.3g})"


def _list_diff(key, old, new):
    if len(old) != len(new):
        return f"length {len(old)} -> {len(new)}"
    o, n = np.asarray(old, float), np.asarray(new, float)
    a, r = TOLERANCES.get(key, DEFAULT_TOL)
    err = np.abs(n - o) - (a + r * np.abs(o))
    if not np.any(err > 0):
        return None
    k = int(np.argmax(np.abs(n - o)))
    return (f"{int(np.sum(err > 0))} of {len(o)} entries beyond tolerance {a:g}; largest at [{k}]: "
            f"{o[k]:.6g} -> {n[k]:.6g} ({n[k] - o[k]:+.4g})")


def _clock_diff(old_cone, old_clock, new_cone, new_clock):
    """The clock angles compared by what they do to the sail normal: the angle between the old and new
    normals n = (cos cone, sin cone cos clock, sin cone sin clock) in RTN, each normal given the old cone,
    against the clock's tolerance. At a small cone the clock hardly moves the normal (at cone 2.7 deg a
    clock 0.13 deg off turns it 0.006 deg), and the optimiser's last bits, which differ between
    processors, move it freely there; the cone is compared on its own."""
    if len(old_clock) != len(new_clock) or len(old_cone) != len(old_clock) or len(new_cone) != len(new_clock):
        return f"length {len(old_clock)} -> {len(new_clock)}"
    a, _ = TOLERANCES["schedule.clock_deg"]
    c = np.radians(np.asarray(old_cone, float))
    k_old, k_new = np.radians(np.asarray(old_clock, float)), np.radians(np.asarray(new_clock, float))
    # angle between the two normals with the same cone: 2 asin(sin(cone) |sin((k_new - k_old) / 2)|)
    turn = np.degrees(2.0 * np.arcsin(np.clip(np.abs(np.sin(c) * np.sin(0.5 * (k_new - k_old))), 0.0, 1.0)))
    if not np.any(turn > a):
        return None
    k = int(np.argmax(turn))
    return (f"{int(np.sum(turn > a))} of {len(turn)} entries turn the sail normal beyond {a:g} deg; largest at "
            f"[{k}]: clock {np.degrees(k_old[k]):.6g} -> {np.degrees(k_new[k]):.6g} deg at cone "
            f"{np.degrees(c[k]):.4g} deg ({turn[k]:.4g} deg)")


def compare(golden: dict, results: dict) -> list[str]:
    """Lines ``stage.quantity: old -> new (change; tolerance)`` for everything that moved."""
    out = []
    for stage, old in golden.get("stages", {}).items():
        new = results.get(stage)
        if new is None:
            out.append(f"{stage}: in the golden but not run")
            continue
        for key, ov in old.items():
            nv = new.get(key, "<missing>")
            if isinstance(ov, dict):
                for sub, osv in ov.items():
                    nsv = nv.get(sub, []) if isinstance(nv, dict) else []
                    if f"{key}.{sub}" == "schedule.clock_deg":
                        d = _clock_diff(ov.get("cone_deg", []), osv, nv.get("cone_deg", []) if
                                        isinstance(nv, dict) else [], nsv)
                    else:
                        d = _list_diff(f"{key}.{sub}", osv, nsv)
                    if d:
                        out.append(f"{stage}.{key}.{sub}: {d}")
                continue
            if isinstance(ov, bool) or isinstance(ov, str) or isinstance(nv, (bool, str)):
                if ov != nv:
                    out.append(f"{stage}.{key}: {ov!r} -> {nv!r}")
                continue
            if isinstance(ov, int) and isinstance(nv, int):
                if ov != nv:
                    out.append(f"{stage}.{key}: {ov} -> {nv} ({nv - ov:+d})")
                continue
            d = _num_diff(key, ov, nv)
            if d:
                out.append(f"{stage}.{key}: {d}")
    return out
