"""The attitude-schedule product: time-tagged constant-attitude segments for the sail.

One row per segment k, flown from ``t_start[k]`` to ``t_end[k]`` (TDB seconds past J2000):

- ``mode``     0 sail off (no SRP), 1 cone/clock held in the orbit RTN frame, 2 normal held inertially:
  the zero-order-hold convention of ``sim.integrator.Schedule`` (see docs/architecture.md).
- ``cone``, ``clock`` [rad]: the attitude in the RTN frame of the state at the segment start
  (``sim.rtn`` convention: n = cos(cone) R + sin(cone) (cos(clock) T + sin(clock) N)).
- ``normal`` (n, 3): inertial unit sail normal (heliocentric ecliptic J2000) at the segment start.
- ``quaternion`` (n, 4) and ``quaternion_end`` (n, 4): the attitude at the segment start and end.

Body frame (our definition):

- body +Z is the sail normal n (the face the Sun lights, the direction an ideal sail is pushed);
- body +X is d n / d cone = -sin(cone) R + cos(cone) (cos(clock) T + sin(clock) N), i.e. the unit
  projection of the Sun direction (-R) onto the sail plane, pointing toward the Sun (X . (-R) =
  sin(cone) >= 0). At cone 0 the projection vanishes and this definition continues it smoothly along
  the clock direction;
- body +Y = Z x X (right-handed).

Quaternion convention: **scalar last**, ``[qx, qy, qz, qw]``, with ``qw >= 0``. It is the inertial-to-body
(CCSDS "A2B", A = inertial, B = SC_BODY_1) attitude quaternion: as an active rotation of the inertial
axes it carries them onto the body axes, so rotating the unit vector +Z by q gives the sail normal in
inertial coordinates; equivalently, vector components transform as v_body = R(q)^T v_inertial, where
R(q) is the rotation matrix of q whose columns are the body axes expressed in the inertial frame.

Mode 1 segments (held in RTN) turn slowly with the orbit, so the end quaternion is evaluated from the
state at the segment end; mode 2 segments hold the body fixed inertially, so the end quaternion equals
the start one. Mode 0 (sail off) is reported as edge-on to the Sun (cone 90 deg, clock 0).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from bliss.fsw.slew import switch_angle, switch_rates
from sim.constants import DAY
from sim.dynamics import MODE_INERTIAL, MODE_OFF, MODE_RTN
from sim.integrator import Schedule, propagate
from sim.rtn import cone_clock_to_normal, normal_to_cone_clock, rtn_basis

#: Names of the modes as written in the schedule CSV.
MODE_NAMES = {MODE_OFF: "off", MODE_RTN: "rtn", MODE_INERTIAL: "inertial"}
MODE_CODES = {v: k for k, v in MODE_NAMES.items()}


def body_axes(r: np.ndarray, v: np.ndarray, cone: float, clock: float) -> np.ndarray:
    """3x3 matrix whose columns are body X, Y, Z in inertial coordinates for cone/clock [rad] at (r, v)."""
    b = rtn_basis(np.asarray(r, float), np.asarray(v, float))
    rr, tt, nn = b[0], b[1], b[2]
    d = math.cos(clock) * tt + math.sin(clock) * nn
    z = math.cos(cone) * rr + math.sin(cone) * d
    x = -math.sin(cone) * rr + math.cos(cone) * d
    y = np.cross(z, x)
    return np.column_stack([x, y, z])


def matrix_to_quaternion(m: np.ndarray) -> np.ndarray:
    """Scalar-last unit quaternion [qx, qy, qz, qw] (qw >= 0) of the rotation matrix m (Shepperd's method)."""
    m = np.asarray(m, float)
    tr = m[0, 0] + m[1, 1] + m[2, 2]
    cand = np.array([tr, m[0, 0], m[1, 1], m[2, 2]])
    k = int(np.argmax(cand))
    if k == 0:
        w = math.sqrt(1.0 + tr) / 2.0
        q = np.array([(m[2, 1] - m[1, 2]) / (4 * w), (m[0, 2] - m[2, 0]) / (4 * w),
                      (m[1, 0] - m[0, 1]) / (4 * w), w])
    elif k == 1:
        x = math.sqrt(1.0 + 2 * m[0, 0] - tr) / 2.0
        q = np.array([x, (m[0, 1] + m[1, 0]) / (4 * x), (m[0, 2] + m[2, 0]) / (4 * x),
                      (m[2, 1] - m[1, 2]) / (4 * x)])
    elif k == 2:
        y = math.sqrt(1.0 + 2 * m[1, 1] - tr) / 2.0
        q = np.array([(m[0, 1] + m[1, 0]) / (4 * y), y, (m[1, 2] + m[2, 1]) / (4 * y),
                      (m[0, 2] - m[2, 0]) / (4 * y)])
    else:
        z = math.sqrt(1.0 + 2 * m[2, 2] - tr) / 2.0
        q = np.array([(m[0, 2] + m[2, 0]) / (4 * z), (m[1, 2] + m[2, 1]) / (4 * z), z,
                      (m[1, 0] - m[0, 1]) / (4 * z)])
    if q[3] < 0:
        q = -q
    return q / np.linalg.norm(q)


def quaternion_to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrix of the scalar-last quaternion [qx, qy, qz, qw] (columns: body axes in inertial)."""
    x, y, z, w = np.asarray(q, float) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def rotate(q: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """Actively rotate vec by the scalar-last quaternion q (body +Z -> sail normal for our attitudes)."""
    return quaternion_to_matrix(q) @ np.asarray(vec, float)


@dataclass
class AttitudeSchedule:
    """Time-tagged constant-attitude segments (see the module docstring for frames and conventions)."""

    t_start: np.ndarray          # (n,) TDB s past J2000
    t_end: np.ndarray            # (n,) TDB s past J2000
    mode: np.ndarray             # (n,) int64: 0 off, 1 RTN-held, 2 inertially held
    cone: np.ndarray             # (n,) rad, RTN frame at the segment start
    clock: np.ndarray            # (n,) rad
    normal: np.ndarray           # (n, 3) inertial unit normal at the segment start
    quaternion: np.ndarray       # (n, 4) scalar-last inertial->body at the segment start
    quaternion_end: np.ndarray   # (n, 4) scalar-last inertial->body at the segment end
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.t_start)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_states(cls, seg_t, seg_mode, seg_att, y_start, y_end, meta=None) -> "AttitudeSchedule":
        """Build from the zero-order-hold arrays and the states (n, 6) at each segment start and end."""
        seg_t = np.asarray(seg_t, float)
        mode = np.asarray(seg_mode, np.int64)
        att = np.asarray(seg_att, float)
        y_start = np.asarray(y_start, float)
        y_end = np.asarray(y_end, float)
        n = len(mode)
        if seg_t.shape != (n + 1,) or att.shape != (n, 3) or y_start.shape != (n, 6) or y_end.shape != (n, 6):
            raise ValueError("schedule arrays disagree in length: need seg_t (n+1,), seg_mode (n,), "
                             "seg_att (n,3), states (n,6)")
        cone = np.empty(n)
        clock = np.empty(n)
        normal = np.empty((n, 3))
        q0 = np.empty((n, 4))
        q1 = np.empty((n, 4))
        for k in range(n):
            r0, v0 = y_start[k, :3], y_start[k, 3:]
            if mode[k] == MODE_RTN:
                cone[k], clock[k] = att[k, 0], att[k, 1]
            elif mode[k] == MODE_INERTIAL:
                nvec = att[k] / np.linalg.norm(att[k])
                cone[k], clock[k] = normal_to_cone_clock(r0, v0, nvec)
            elif mode[k] == MODE_OFF:
                cone[k], clock[k] = 0.5 * math.pi, 0.0
            else:
                raise ValueError(f"unknown schedule mode {mode[k]} in segment {k} (expected 0, 1 or 2)")
            axes0 = body_axes(r0, v0, cone[k], clock[k])
            # mode 2 keeps the exact stored normal (replays bit for bit); otherwise body +Z
            normal[k] = nvec if mode[k] == MODE_INERTIAL else axes0[:, 2]
            q0[k] = matrix_to_quaternion(axes0)
            if mode[k] == MODE_RTN:
                q1[k] = matrix_to_quaternion(body_axes(y_end[k, :3], y_end[k, 3:], cone[k], clock[k]))
            else:
                q1[k] = q0[k]
        return cls(seg_t[:-1].copy(), seg_t[1:].copy(), mode, cone, clock, normal, q0, q1, dict(meta or {}))

    @classmethod
    def from_result(cls, result, rtol: float = 1e-10) -> "AttitudeSchedule":
        """Build from a ``TransferResult``, propagating its schedule to get the segment start/end states."""
        sched = result.schedule
        prob = result.problem
        seg_t = np.asarray(sched.t, float)
        traj = propagate(np.asarray(prob.y_depart, float), sched, prob.sail, t_out=seg_t, rtol=rtol)
        ys = np.asarray(traj.y, float)
        if ys.shape[0] != len(seg_t) and ys.shape[-1] == len(seg_t):
            ys = ys.T
        return cls.from_states(seg_t, sched.mode, sched.att, ys[:-1], ys[1:],
                               meta={"method": getattr(result, "method", "")})

    # ------------------------------------------------------------------ checks
    def switch_angles(self) -> np.ndarray:
        """(n-1,) angle [rad] the sail normal turns at each switch: from the normal at the end of
        segment k (body +Z of ``quaternion_end[k]``) to the normal at the start of segment k+1, a sail-off
        segment counting as the nearest edge-on normal (``bliss.fsw.slew.switch_angle``)."""
        out = np.zeros(max(len(self) - 1, 0))
        for k in range(len(out)):
            axes = quaternion_to_matrix(self.quaternion[k + 1])  # body axes at the switch state
            # the radial direction at the switch: Z = cos(cone) R + sin(cone) d, X = -sin(cone) R + cos(cone) d
            rhat = math.cos(self.cone[k + 1]) * axes[:, 2] - math.sin(self.cone[k + 1]) * axes[:, 0]
            n_from = None if self.mode[k] == MODE_OFF else quaternion_to_matrix(self.quaternion_end[k])[:, 2]
            n_to = None if self.mode[k + 1] == MODE_OFF else self.normal[k + 1]
            out[k] = switch_angle(n_from, n_to, rhat)
        return out

    def slew_rates_deg_per_day(self) -> np.ndarray:
        """(n-1,) slew rate at each switch [deg/day], the quantity ``Limits.max_slew_deg_per_day`` bounds:
        the switch angle over the duration of the segment it starts (``bliss.fsw.slew``)."""
        return switch_rates(np.degrees(self.switch_angles()), self.seg_t(), DAY)

    # ------------------------------------------------------------------ conversions
    def seg_t(self) -> np.ndarray:
        """Switch times (n+1,) [TDB s]."""
        return np.concatenate([self.t_start, self.t_end[-1:]])

    def seg_att(self) -> np.ndarray:
        """Attitude rows (n, 3) in the integrator convention for each segment's mode."""
        att = np.zeros((len(self), 3))
        rtn = self.mode == MODE_RTN
        att[rtn, 0] = self.cone[rtn]
        att[rtn, 1] = self.clock[rtn]
        ine = self.mode == MODE_INERTIAL
        att[ine] = self.normal[ine]
        return att

    def to_sim(self):
        """The ``sim.integrator.Schedule`` that flies this product (exact for the stored arrays)."""
        return Schedule(self.seg_t(), self.mode.astype(np.int64), self.seg_att())
