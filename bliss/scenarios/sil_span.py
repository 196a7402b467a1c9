"""The attitude stage's flight: a short span of the mission flown in the closed software-in-the-loop
(``bliss.sil.closed_loop.fly_closed_loop``, what ``bliss fly --actuators sim`` flies): the onboard
executive commanding, the MEKF and attitude controller steering the simulated sail through the
kinematic inchworm axes, the orbit driven by the normal actually achieved, ground OD uploads.

:func:`span_inputs` turns a scenario's ``[attitude]`` table and fault plan into a :class:`SpanInputs`
(picklable, so a Monte Carlo ships it to Dask workers); :func:`span_start` gives the state at the span's
start (departure, or the feedback laws flown to ``start_day``); :func:`fly` flies it and returns the
stage's results.

Faults: ``sensor_dropout`` is flown by ``fly_closed_loop`` itself; ``axis_stall`` (a stuck axis at 0 %,
else an axis passing ``percent`` % of its cycles) by :class:`FaultyAxes`, which applies it to the
kinematic axes from the first 10-min orbit bin boundary at or after its ``at_s`` (the bin is the loop's
coupling step, ``fly_closed_loop``'s ``bin_s``). Fault times count from the span's start.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bliss.guidance.feedback import fly_feedback
from bliss.io.telemetry import BenchEvent
from bliss.sil.attitude_loop import AttitudeLoop, controller_config
from bliss.sil.closed_loop import fly_closed_loop
from bliss.sil.navigation import GroundOD
from bliss.sil.plan_flight import initial_attitude
from sim.attitude_geometry import SpacecraftGeometry
from sim.constants import DAY, GM_SUN, JULIAN_YEAR
from sim.inchworm import A_STALL_PCT, A_STUCK
from sim.integrator import Schedule
from sim.sail import OPTICS
from sim.sensors import SensorSpec


@dataclass(frozen=True)
class SpanInputs:
    """One attitude-loop span (SI units)."""

    start_day: float
    days: float
    period_s: float
    seed: int
    optics: str
    cp_offset_m: tuple
    sensors: SensorSpec
    od_period_s: float
    od_sigma_r_m: float
    od_sigma_v_m_s: float
    od_approach_period_s: float
    od_approach_range_m: float
    faults: object = None  # a bliss.io.faultplan.FaultPlan (sensor_dropout, axis_stall) or None


def span_inputs(sc, fault_plan=None) -> SpanInputs:
    """The scenario's attitude span (``sc.attitude``) with its fault plan (``fault_plan``: the scenario's,
    ``bliss.scenarios.model.fault_plan``)."""
    a = sc.attitude
    sensors = SensorSpec(sun_sigma=math.radians(a.sun_sigma_deg), star_sigma=math.radians(a.star_sigma_deg),
                         gyro_arw=math.radians(a.gyro_arw_deg_rt_s))
    return SpanInputs(start_day=float(a.start_day), days=float(a.days), period_s=float(a.period_s),
                      seed=int(a.seed), optics=sc.sail.optics,
                      cp_offset_m=tuple(float(v) * 1e-3 for v in a.cp_offset_mm), sensors=sensors,
                      od_period_s=float(a.od_period_days) * DAY, od_sigma_r_m=float(a.od_sigma_km) * 1e3,
                      od_sigma_v_m_s=float(a.od_sigma_cm_s) / 100,
                      od_approach_period_s=float(a.od_approach_period_days) * DAY,
                      od_approach_range_m=float(a.od_approach_range_km) * 1e3, faults=fault_plan)


def span_start(problem, start_day: float) -> tuple[float, np.ndarray]:
    """(t [TDB s], state) at the span's start: departure, or the feedback laws flown ``start_day`` days."""
    if start_day == 0:
        return float(problem.t_depart), problem.y_depart.copy()
    res = fly_feedback(problem, max_years=start_day * DAY / JULIAN_YEAR, truncate_at_best=False)
    return float(problem.t_depart + res.tof), res.y_final.copy()


class FaultyAxes:
    """The kinematic inchworm axes of ``loop`` (an ``AttitudeLoop``) with ``axis_stall`` faults: has
    ``fly_attitude`` like the loop (``fly_closed_loop``'s ``actuators``), split at the orbit bins where a
    fault starts or ends; ``events`` (drained by ``fly_closed_loop``) say when."""

    def __init__(self, loop: AttitudeLoop, stalls, t0: float):
        self.loop, self.t0 = loop, float(t0)
        self.stalls = [s for s in stalls if s.kind == "axis_stall"]
        self.switches = sorted({t0 + s.at_s for s in self.stalls} | {t0 + s.end_s for s in self.stalls
                                                                       if s.end_s is not None})
        self.events: list = []
        self.state = {}  # axis -> percent in force (absent: healthy)

    def _apply(self, t: float):
        now = {}
        for s in self.stalls:
            if self.t0 + s.at_s <= t + 1e-6 and (s.end_s is None or t + 1e-6 < self.t0 + s.end_s):
                now[s.axis] = s.percent
        for axis in sorted(set(now) | set(self.state)):
            if now.get(axis) == self.state.get(axis):
                continue
            ax = self.loop.axes
            pct = now.get(axis)
            ax[axis, A_STUCK] = 1.0 if pct == 0 else 0.0
            ax[axis, A_STALL_PCT] = 100.0 if pct is None else float(pct) or 100.0
            self.events.append(BenchEvent(t, "axis_stall" if pct is not None else "axis_restored", axis,
                                          "stuck" if pct == 0 else (f"stalled: {pct} % of cycles travel"
                                                                    if pct is not None else "healthy again")))
        self.state = now

    def fly_attitude(self, duration_s, y_orbit, seg_t, seg_mode, seg_att, rec_every=1, bin_s=None):
        loop, dt = self.loop, self.loop.dt
        n = int(round(duration_s / dt))
        bin_n = max(1, int(round((bin_s or duration_s) / dt)))
        self._apply(loop.t)
        if n % bin_n or n // bin_n <= 1:  # one bin (or a part of one): no split
            return loop.fly_attitude(duration_s, y_orbit, seg_t, seg_mode, seg_att, rec_every, bin_s)
        y = np.asarray(y_orbit, float)
        r0, v0, t_chunk = y[:3], y[3:], loop.t
        acc = -GM_SUN * r0 / np.linalg.norm(r0) ** 3
        left, recs, normals = n // bin_n, [], []
        while left:
            nxt = next((s for s in self.switches if s > loop.t + 1e-6), None)
            k = left if nxt is None else min(left, max(1, math.ceil((nxt - loop.t) / (bin_n * dt) - 1e-9)))
            tau = loop.t - t_chunk  # the chunk's prediction (as AttitudeLoop.fly_attitude's) at this piece
            y_piece = np.concatenate([r0 + v0 * tau + 0.5 * acc * tau ** 2, v0 + acc * tau])
            rec, nrm = loop.fly_attitude(k * bin_n * dt, y_piece, seg_t, seg_mode, seg_att, rec_every, bin_n * dt)
            recs.append(rec)
            normals.append(nrm[:k])
            left -= k
            self._apply(loop.t)
        return np.concatenate(recs), np.concatenate(normals)


def fly(problem, inputs: SpanInputs, t0: float | None = None, y0=None):
    """Fly the span (from ``span_start`` unless ``t0``/``y0`` are given): the ``ClosedLoopResult``."""
    if y0 is None:
        t0, y0 = span_start(problem, inputs.start_day)
    g = SpacecraftGeometry(optics=OPTICS[inputs.optics], cp_offset=tuple(inputs.cp_offset_m))
    sched0 = Schedule(np.array([t0, t0 + DAY]), np.array([1], np.int64), np.zeros((1, 3)))
    loop = AttitudeLoop(t0, initial_attitude(sched0, y0), geometry=g, sensors=inputs.sensors,
                        config=controller_config(g, period=inputs.period_s), seed=inputs.seed)
    od = GroundOD(inputs.od_period_s, inputs.od_sigma_r_m, inputs.od_sigma_v_m_s, seed=inputs.seed,
                  approach_period=inputs.od_approach_period_s, approach_range=inputs.od_approach_range_m)
    plan = inputs.faults
    act = FaultyAxes(loop, plan.entries, t0) if plan is not None and any(
        e.kind == "axis_stall" for e in plan.entries) else None
    return fly_closed_loop(problem, y0, t0, t0 + inputs.days * DAY, loop, od, faults=plan, actuators=act)


def results(res, start_day: float) -> dict:
    """The attitude stage's quantities (JSON-ready) of a ``ClosedLoopResult``."""
    dev = res.deviation_m / 1e3 if res.orbit.shape[0] else np.zeros(1)
    return {"reason": str(res.reason), "start_day": float(start_day), "days_flown": float(res.days),
            "pointing_error_rms_deg": math.degrees(res.pointing_rms_rad),
            "pointing_error_max_deg": math.degrees(res.pointing_max_rad),
            "slews": int(res.n_slews), "safe_mode_entries": int(res.n_safe_mode),
            "trajectory_deviation_km": float(dev[-1]), "trajectory_deviation_max_km": float(dev.max()),
            "nav_error_final_km": float(res.nav_error_m[-1] / 1e3) if res.orbit.shape[0] else 0.0,
            "od_updates": int(res.n_od_updates), "control_cycles": int(res.n_cycles),
            "inchworm_steps": float(np.sum(res.steps)),  # a float: compared within a tolerance, not exactly
            "fault_events": sum(1 for e in res.events if e.kind in ("axis_stall", "sensor_dropout"))}


#: The attitude stage's quantities (``results``' keys).
QUANTITIES = ("reason", "start_day", "days_flown", "pointing_error_rms_deg", "pointing_error_max_deg", "slews",
              "safe_mode_entries", "trajectory_deviation_km", "trajectory_deviation_max_km", "nav_error_final_km",
              "od_updates", "control_cycles", "inchworm_steps", "fault_events")
