"""The sail's slew: the one definition of a schedule's slew rate, and the onboard limiter that keeps to it.

**Slew rate at a switch** (used by the onboard :class:`SlewLimiter`, the feedback planner's report
``bliss.guidance.feedback``, the optimiser's slew constraint and the schedule product's check
``bliss.guidance.schedule.AttitudeSchedule.slew_rates_deg_per_day``)::

    rate at the switch t_k  =  angle the sail normal turns at t_k  /  (t_{k+1} - t_k)

i.e. the angle divided by the duration of the segment the switch **starts**. Why that segment: in the
zero-order-hold schedule a segment's attitude is commanded at its start (the feedback laws decide it from
the state at that instant; nothing onboard knows it earlier), so the turn to it can begin only at the
switch and must be done within the segment it opens; that is what the limiter flies. Dividing by the
segment before the switch would ask the sail to start turning before the new attitude is known. (The
optimiser's segments are all equally long, so both readings agree there.)

**Angle at a switch**: between the two normals in the RTN frame of the state at the switch (the frame
is common to both segments there, so it is also the angle between the inertial normals). A sail-off
segment is edge-on at no particular clock angle: the turn to or from it is to the nearest edge-on
normal, |90 deg - cone| at constant clock; between two sail-off segments nothing turns.
"""
from __future__ import annotations

import math

import numpy as np

from bliss.fsw.messages import AttitudeMode
from sim.constants import DAY
from sim.rtn import cone_clock_to_rtn


def switch_angle(n_from, n_to, rhat) -> float:
    """Angle [rad] the normal turns at a switch from ``n_from`` to ``n_to`` (unit normals in any one
    frame, or None for a sail-off segment), ``rhat`` the radial unit vector at the switch in that frame."""
    if n_from is None and n_to is None:
        return 0.0
    if n_from is None or n_to is None:
        n = n_to if n_from is None else n_from
        return abs(0.5 * math.pi - math.acos(max(-1.0, min(1.0, _dot(n, rhat)))))
    return math.acos(max(-1.0, min(1.0, _dot(n_from, n_to))))


def _dot(a, b) -> float:
    # einsum, as AttitudeSchedule computed its switch angles before this module: the same last bit
    return float(np.einsum("i,i->", np.ascontiguousarray(a, dtype=float), np.ascontiguousarray(b, dtype=float)))


def switch_rates(angles, seg_t, time_unit: float = 1.0) -> np.ndarray:
    """Slew rates of the switches of a schedule with switch times ``seg_t`` (n+1,) [s]: the angle at each
    inner switch t_1 .. t_{n-1} (``angles``, (n-1,), any angle unit) over the duration of the segment it
    starts (this module's definition), in angle units per ``time_unit`` seconds (e.g. ``DAY``)."""
    seg_t = np.asarray(seg_t, dtype=float)
    return np.asarray(angles, dtype=float) / (np.diff(seg_t)[1:] / time_unit)


class SlewLimiter:
    """Turns the sail toward each commanded attitude at no more than the slew limit.

    Works on the normal's RTN components (at a switch the RTN frame is common to both segments). A
    command of None means edge-on (sail off): the nearest edge-on normal, at the current clock angle.
    Intermediate normals on the way to or from edge-on may have cones above the cone limit: the sail is
    feathering, not thrusting there.
    """

    def __init__(self, max_rate_deg_per_day: float):
        if not (math.isfinite(max_rate_deg_per_day) and max_rate_deg_per_day > 0):
            raise ValueError(f"slew limit must be a positive number of deg/day, got {max_rate_deg_per_day!r}")
        self.rate = math.radians(max_rate_deg_per_day) / DAY  # [rad/s]
        self.n = None  # RTN components of the last flown normal

    def step(self, cmd, dt: float) -> tuple[AttitudeMode, float, float]:
        """(mode, cone, clock [rad]) to fly for ``dt`` [s] toward ``cmd`` = (cone, clock) [rad] or None
        (edge-on); the turn from the last flown normal is at most the rate times ``dt``."""
        n = self.n
        if cmd is None:
            clock = math.atan2(n[2], n[1]) if n is not None and math.hypot(n[1], n[2]) > 1e-12 else 0.0
            target = np.array([0.0, math.cos(clock), math.sin(clock)])
        else:
            target = cone_clock_to_rtn(cmd[0], cmd[1])
        if n is not None:
            theta = math.acos(max(-1.0, min(1.0, float(n @ target))))
            lim = self.rate * dt
            if theta > lim:
                perp = target - math.cos(theta) * n
                pn = float(np.linalg.norm(perp))
                if pn < 1e-12:  # commanded exactly opposite: turn about any axis normal to n
                    perp = np.cross(n, [0.0, 0.0, 1.0] if abs(n[2]) < 0.9 else [1.0, 0.0, 0.0])
                    pn = float(np.linalg.norm(perp))
                target = math.cos(lim) * n + math.sin(lim) * perp / pn
        self.n = target / np.linalg.norm(target)
        cone = math.acos(max(-1.0, min(1.0, float(self.n[0]))))
        if cone >= 0.5 * math.pi - 1e-9:
            return AttitudeMode.OFF, 0.0, 0.0
        return AttitudeMode.RTN, cone, math.atan2(self.n[2], self.n[1])
