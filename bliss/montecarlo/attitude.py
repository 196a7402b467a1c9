"""Attitude-loop Monte Carlo runs (``bliss montecarlo --mode attitude``): the scenario's attitude span
(``[attitude]``, ``bliss.scenarios.sil_span``) flown in the closed software-in-the-loop once per run with
dispersed actuator faults, centre-of-pressure offset and sensor noise.

Run ``i`` of a campaign seeded ``S`` draws from ``SeedSequence(S, spawn_key=(i, 1))``: a stream of its
own, so the open- and closed-loop draws of run ``i`` (``spawn_key=(i,)``, ``dispersions.draw``) are the
same whether or not the attitude mode runs. From the scenario's one-sigma errors (``[errors]``):

- ``actuator_fault_probability``: the chance that the run has one inchworm axis fault: axis uniform among
  the 3 (0, 1 payload, 2 vane), start uniform over the span, stuck (0 %) or stalled (10-90 % of its cycles
  travelling, uniform) with equal odds, lasting to the span's end;
- ``cp_offset_mm``: the sail's centre-of-pressure offset, the scenario's ``[attitude] cp_offset_mm`` plus
  N(0, sigma) per axis (clipped to the +-5 mm the geometry allows);
- ``sensor_noise_fraction``: the Sun sensor, star camera and gyro noise scaled by 1 + N(0, sigma) (at
  least 0.1);
- the run's sensor-noise and OD-error seed (the span's ``seed``) is drawn from the same stream.

The orbit is not dispersed here (the open- and closed-loop modes do that): the span starts from the
nominal state, so the spread is the attitude loop's. Fault plan entries of the scenario are kept.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from bliss.io.faultplan import FaultEntry, FaultPlan
from bliss.scenarios import sil_span
from sim.constants import DAY

#: Dispersed parameters of an attitude run (result columns).
PARAMETERS = ("fault_axis", "fault_start_h", "fault_percent", "cp_offset_x_mm", "cp_offset_y_mm",
              "sensor_noise_factor")
#: Result columns of an attitude run (``sil_span.results``' numbers).
OUTCOMES = ("reason", "pointing_error_rms_deg", "pointing_error_max_deg", "slews", "safe_mode_entries",
            "trajectory_deviation_km", "nav_error_final_km", "fault_events")
#: Largest centre-of-pressure offset [mm] (bliss fly's --cp-offset-mm range).
CP_MAX_MM = 5.0


def draw(errors, base: sil_span.SpanInputs, seed: int, index: int) -> tuple[sil_span.SpanInputs, dict]:
    """The dispersed span of run ``index`` and its parameter row."""
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(index), 1)))
    e = errors
    row = {"fault_axis": -1, "fault_start_h": math.nan, "fault_percent": math.nan}
    entries = list(base.faults.entries) if base.faults is not None else []
    if rng.random() < e.actuator_fault_probability:
        axis = int(rng.integers(3))
        at_s = float(rng.uniform(0.0, base.days * DAY))
        pct = 0 if rng.random() < 0.5 else int(rng.integers(10, 91))
        entries.append(FaultEntry(at_s=at_s, kind="axis_stall", axis=axis, percent=pct))
        row.update(fault_axis=axis, fault_start_h=at_s / 3600.0, fault_percent=float(pct))
    cp = np.array(base.cp_offset_m) * 1e3 + rng.normal(0.0, e.cp_offset_mm, 2) if e.cp_offset_mm > 0 \
        else np.array(base.cp_offset_m) * 1e3
    cp = np.clip(cp, -CP_MAX_MM, CP_MAX_MM)
    k = max(0.1, 1.0 + rng.normal(0.0, e.sensor_noise_fraction)) if e.sensor_noise_fraction > 0 else 1.0
    s = base.sensors
    sensors = dataclasses.replace(s, sun_sigma=s.sun_sigma * k, star_sigma=s.star_sigma * k, gyro_arw=s.gyro_arw * k)
    faults = FaultPlan(tuple(sorted(entries, key=lambda f: f.at_s)), "drawn") if entries else None
    inputs = dataclasses.replace(base, seed=int(rng.integers(2**31)), cp_offset_m=tuple(cp * 1e-3),
                                 sensors=sensors, faults=faults)
    row.update(cp_offset_x_mm=float(cp[0]), cp_offset_y_mm=float(cp[1]), sensor_noise_factor=float(k))
    return inputs, row


def fly_run(problem, errors, nominal: dict, seed: int, index: int) -> dict:
    """Run ``index``: the span flown with its draw. ``nominal``: {"inputs": SpanInputs, "t0", "y0"} (the
    span's start, computed once per campaign)."""
    inputs, row = draw(errors, nominal["inputs"], seed, index)
    res = sil_span.fly(problem, inputs, nominal["t0"], np.asarray(nominal["y0"], float))
    out = sil_span.results(res, inputs.start_day)
    row.update({k: out[k] for k in OUTCOMES})
    return row
