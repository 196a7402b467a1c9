"""A ``bliss plan`` schedule as the attitude loop flies it: the schedule CSV read back into a
``sim.integrator.Schedule`` and the departure state it starts from."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from bliss.fsw.attitude.control import target_quaternion
from bliss.guidance.problem import departure_state
from bliss.io.schedule_csv import read_schedule_csv
from sim.integrator import Schedule
from sim.rtn import normal_to_cone_clock


def load_plan_schedule(path, ephem: str = "builtin"):
    """(Schedule, departure state (6,) [m, m/s]) from a ``bliss plan`` schedule.csv: the departure state
    is Earth's at the first segment's start with no excess velocity (the plan's default)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"schedule file {path} not found; run 'bliss plan --out DIR' and pass DIR/schedule.csv")
    d = read_schedule_csv(path)
    sched = Schedule(d["seg_t"], d["seg_mode"], d["seg_att"])
    return sched, np.asarray(departure_state(sched.t0, ephem=ephem), float)


def initial_attitude(schedule: Schedule, y0) -> np.ndarray:
    """The quaternion of the schedule's first attitude at state y0 (the craft starts on target)."""
    r, v = np.asarray(y0[:3], float), np.asarray(y0[3:], float)
    mode, att = int(schedule.mode[0]), schedule.att[0]
    if mode == 1:
        cone, clock = att[0], att[1]
    elif mode == 2:
        cone, clock = normal_to_cone_clock(r, v, np.asarray(att, float))
    else:
        cone, clock = 0.5 * math.pi, 0.0
    q = np.empty(4)
    target_quaternion(r, v, float(cone), float(clock), q)
    return q
