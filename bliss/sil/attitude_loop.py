"""The attitude loop in software: the onboard MEKF and controller (``bliss.fsw.attitude``) flying the
simulated spacecraft (``sim.attitude_*``, ``sim.sensors``, kinematic inchworms ``sim.inchworm``), and,
multi-rate, the orbit (``sim.integrator``) driven by the sail normal the attitude loop actually achieves.

Rates: the attitude runs in control periods of ``period`` seconds (default 2 s: gyro sampled and the MEKF's
quaternion propagated, controller run, axes commanded; the Sun sensor every 10 s and the star camera every
60 s update the MEKF, whose covariance is propagated at those updates), each integrated in ``n_sub`` RK4
substeps with the inchworms moving step by step. The orbit runs in chunks of ``chunk_s`` (default 1 h): the
attitude loop flies the chunk with the heliocentric state predicted from the chunk's start (r + v t + a
t^2/2 with the Sun's gravity: the neglected third-order term, GM/r^3 v t^3/6, is about 10 m after an hour at
1 AU, and the sail's push, 0.9 mm/s^2 t^2/2, 6 km: a Sun direction right to 4e-8 rad and a velocity
direction, hence the orbit-frame target, to 1e-4 rad = 0.006 deg), records the mean true sail normal over
bins of ``bin_s`` (default 10 min), and ``sim.integrator.propagate`` then flies the chunk with those normals
held inertially, bin by bin. The navigation state the flight software gets is that prediction (perfect
navigation: orbit determination is not part of this loop).

For speed the whole attitude chunk runs as one numba function that calls the flight software's kernels
(``mekf_*``, ``control_step``, ``target_quaternion``) with plain arrays; the message-level classes
(``Mekf``, ``AttitudeController``) wrap the same kernels. The flight-software kernels see only sensor
readings and the navigation state, never the plant's truth.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from bliss.fsw.attitude.control import (C_FEATHER, N_S, S_SAFE_N, ControllerConfig, control_step, guard_cone,
                                        match_roll, target_quaternion)
from bliss.fsw.attitude.mekf import mekf_propagate_covariance, mekf_update_attitude, mekf_update_vector
from sim.attitude_dynamics import GP_L, GP_MP, GP_STEP, GP_VANE_STEP, plant_advance
from sim.attitude_geometry import SpacecraftGeometry
from sim.attitude_torques import torque_params
from sim.constants import GM_SUN
from sim.inchworm import A_RATE, A_REPORTED, A_TARGET, A_TRUE, DEFAULT_DRIVE_HZ, DEFAULT_SOFT_LIMIT, InchwormAxes
from sim.integrator import Schedule, propagate
from sim.quaternion import error_angles, normal_angle, quat_to_matrix, rotate_by_rate, to_body
from sim.rtn import normal_to_cone_clock
from sim.sail import Sail
from sim.sensors import (S_ARW, S_RRW, S_STAR_PERIOD, S_STAR_SIGMA, S_SUN_FOV, S_SUN_PERIOD, S_SUN_SIGMA,
                         SensorSpec,
                         gyro_sample, star_camera, sun_sensor)

#: Columns of the per-period record.
RECORD_COLUMNS = ("t_s", "pointing_error_rad", "estimated_error_rad", "cone_rad", "target_cone_rad",
                  "axis0_steps", "axis1_steps", "axis2_steps", "wx_rad_s", "wy_rad_s", "wz_rad_s",
                  "tau_x_nm", "tau_y_nm", "tau_z_nm", "knowledge_error_rad")
N_REC = len(RECORD_COLUMNS)
# counters layout
K_STEPS, K_SLEW_S, K_ERR2, K_ERRMAX, K_N, K_STAR_T, K_SUN_N, K_SUN_T, K_COV_T = 0, 3, 4, 5, 6, 7, 8, 9, 10
N_K = 11
# (K_COV_T: time the MEKF covariance was last propagated to; the integrated corrected rate since then is
# kept in a work row)


def controller_config(g: SpacecraftGeometry, **kw) -> ControllerConfig:
    """The controller's model of the spacecraft, as uploaded: from the geometry, payload centred."""
    _, _, inertia = g.mass_properties()
    return ControllerConfig(inertia=tuple(float(v) for v in inertia.diagonal()),
                            payload_fraction=g.payload_mass / g.total_mass, sail_area=g.sail_area + g.vane_area,
                            normal_coefficient=Sail(optics=g.optics).normal_coefficient,
                            vane_area=g.vane_area / 2, vane_radius=g.vane_radius, payload_step=g.payload_step,
                            vane_step=g.vane_step_rad, soft_limit=DEFAULT_SOFT_LIMIT, **kw)


@njit(cache=True)
def _seed(seed):
    np.random.seed(seed)


@njit(cache=True)
def _normal_angle(qa, qb):
    """Angle [rad] between the body +z axes of two attitudes."""
    e = np.empty(3)
    error_angles(qa, qb, e)
    return normal_angle(e)


@njit(cache=True)
def run_chunk(x, bias, axes, urand, mq, mb, mP, cs, steps_cmd, t0, n_periods, dt, n_sub, orb,
              seg_t, seg_mode, seg_att, cone_max, fixed, gp, tp, sens, cp, drive_hz, bin_n, out_normals,
              rec_every, rec, rec_i, counters, settle_rad, mwork):
    """Fly ``n_periods`` control periods from t0 (everything in place). ``orb``: r0 (3), v0 (3), a0 (3),
    t_orb0. Returns the next free record row."""
    vec = np.zeros((11, 3))  # work vectors, one row each
    cm, w0, gyro, sun, light_b, new, tau, r, v, light, nsum = (vec[0], vec[1], vec[2], vec[3], vec[4], vec[5],
                                                              vec[6], vec[7], vec[8], vec[9], vec[10])
    wsum = mwork[0]
    quats = np.empty((2, 4))
    qs, q_tgt = quats[0], quats[1]
    mats = np.empty((2, 3, 3))
    inertia, rmat = mats[0], mats[1]
    ib = 0
    j = 0
    u_i = 0
    for k in range(n_periods):
        t = t0 + k * dt
        tau_o = t - orb[9]
        for i in range(3):
            r[i] = orb[i] + orb[3 + i] * tau_o + 0.5 * orb[6 + i] * tau_o * tau_o
            v[i] = orb[3 + i] + orb[6 + i] * tau_o
        rn = math.sqrt(r[0] ** 2 + r[1] ** 2 + r[2] ** 2)
        for i in range(3):
            light[i] = r[i] / rn
        inv_r2 = 1.0 / (rn * rn)
        # the command in force (segment table)
        while j + 1 < seg_mode.shape[0] and t >= seg_t[j + 1]:
            j += 1
        if seg_mode[j] == 1:
            cone, clock = seg_att[j, 0], seg_att[j, 1]
        elif seg_mode[j] == 2:
            cone, clock = normal_to_cone_clock(r, v, seg_att[j])
        else:
            cone, clock = cp[C_FEATHER], 0.0
        cone = min(cone, cone_max)
        # flight software: safe-mode guard and controller on the current estimate
        to_body(mq, light, light_b)
        cone = guard_cone(cp, cs, light_b[2], cone)
        target_quaternion(r, v, cone, clock, q_tgt)
        match_roll(cs, mq, q_tgt, cone, clock)
        err_est = control_step(cp, cs, mq, q_tgt, light_b, math.cos(cone), inv_r2, steps_cmd, new, tau)
        for i in range(3):
            if new[i] != steps_cmd[i]:
                counters[K_STEPS + i] += abs(new[i] - steps_cmd[i])
                steps_cmd[i] = new[i]
                axes[i, A_TARGET] = new[i]
                axes[i, A_RATE] = drive_hz
        # plant over the period
        for i in range(3):
            w0[i] = x[4 + i]
        u_i = plant_advance(x, dt, n_sub, light, inv_r2, axes, urand, fixed, gp, tp, cm, inertia) % urand.shape[0]
        # sensors at the period's end, then the estimator
        for i in range(3):
            w0[i] = 0.5 * (w0[i] + x[4 + i])
        gyro_sample(w0, bias, sens[S_ARW], sens[S_RRW], dt, np.random.standard_normal(6), gyro)
        # the quaternion every gyro sample, the covariance once per measurement interval (its mean rate)
        for i in range(3):
            w0[i] = gyro[i] - mb[i]
            wsum[i] += w0[i] * dt
        rotate_by_rate(mq, w0, dt)
        counters[K_STAR_T] += dt
        counters[K_SUN_T] += dt
        sun_due = counters[K_SUN_T] >= sens[S_SUN_PERIOD] - 1e-9
        star_due = counters[K_STAR_T] >= sens[S_STAR_PERIOD] - 1e-9
        if sun_due or star_due:
            span = t + dt - counters[K_COV_T]
            for i in range(3):
                w0[i] = wsum[i] / span
                wsum[i] = 0.0
            mekf_propagate_covariance(mP, w0, span, sens[S_ARW], sens[S_RRW])
            counters[K_COV_T] = t + dt
        if sun_due:
            counters[K_SUN_T] = 0.0
            if sun_sensor(x[:4], light, sens[S_SUN_SIGMA], sens[S_SUN_FOV], np.random.standard_normal(2), sun):
                for i in range(3):
                    w0[i] = -light[i]
                mekf_update_vector(mq, mb, mP, sun, w0, sens[S_SUN_SIGMA])
                counters[K_SUN_N] += 1.0
        if star_due:
            counters[K_STAR_T] = 0.0
            star_camera(x[:4], sens[S_STAR_SIGMA], np.random.standard_normal(3), qs)
            mekf_update_attitude(mq, mb, mP, qs, sens[S_STAR_SIGMA])
        # truth bookkeeping
        err = _normal_angle(q_tgt, x[:4])
        counters[K_ERR2] += err * err
        counters[K_ERRMAX] = max(counters[K_ERRMAX], err)
        counters[K_N] += 1.0
        if err > settle_rad:
            counters[K_SLEW_S] += dt
        quat_to_matrix(x[:4], rmat)
        for i in range(3):
            nsum[i] += rmat[i, 2]
        if (k + 1) % bin_n == 0:
            nn = math.sqrt(nsum[0] ** 2 + nsum[1] ** 2 + nsum[2] ** 2)
            for i in range(3):
                out_normals[ib, i] = nsum[i] / nn
                nsum[i] = 0.0
            ib += 1
        if rec_every > 0 and k % rec_every == 0 and rec_i < rec.shape[0]:
            rec[rec_i, 0] = t + dt
            rec[rec_i, 1] = err
            rec[rec_i, 2] = err_est
            rec[rec_i, 3] = math.acos(min(1.0, max(-1.0, rmat[0, 2] * light[0] + rmat[1, 2] * light[1]
                                                     + rmat[2, 2] * light[2])))
            rec[rec_i, 4] = cone
            for i in range(3):
                rec[rec_i, 5 + i] = axes[i, A_TRUE]
                rec[rec_i, 8 + i] = x[4 + i]
                rec[rec_i, 11 + i] = tau[i]
            rec[rec_i, 14] = _normal_angle(mq, x[:4])
            rec_i += 1
    return rec_i


@dataclass
class LoopResult:
    """What a flight with the attitude loop produced."""

    record: np.ndarray                 # (n, N_REC), columns RECORD_COLUMNS
    steps: np.ndarray                  # (3,) steps commanded per axis
    duration_s: float
    pointing_rms_rad: float
    pointing_max_rad: float
    time_off_target_s: float           # time with the true error above the settle threshold
    y_final: np.ndarray | None = None  # orbit state at the end (coupled flights)
    y_perfect: np.ndarray | None = None  # attitude-perfect flight's state at the end
    chunks: list = field(default_factory=list)  # (t, |r - r_perfect| m) at chunk ends (coupled flights)

    @property
    def steps_per_day(self) -> np.ndarray:
        return self.steps / self.duration_s * 86400.0

    @property
    def deviation_m(self) -> float:
        if self.y_final is None or self.y_perfect is None:
            return float("nan")
        return float(np.linalg.norm(self.y_final[:3] - self.y_perfect[:3]))


def windowed_tilt_rate(record: np.ndarray, window_s: float = 60.0):
    """(t [s], |mean tilt rate| [rad/s]): the sail normal's angular rate (the x/y part of the body rate)
    averaged over ``window_s`` windows ending at each t."""
    t, w = record[:, 0], record[:, 8:10]
    dt = float(np.median(np.diff(t))) if t.size > 1 else 1.0
    win = max(1, int(round(window_s / dt)))
    if t.size <= win:
        return t[:0], t[:0]
    c = np.cumsum(np.vstack([np.zeros((1, 2)), w]), axis=0)
    wm = (c[win:] - c[:-win]) / win
    return t[win - 1:], np.hypot(wm[:, 0], wm[:, 1])


def slew_complete_time(record: np.ndarray, t_command: float, err_tol: float = math.radians(0.5),
                       rate_tol: float = math.radians(0.01) / 60.0, window_s: float = 60.0) -> float:
    """Time [s] after ``t_command`` at which the true pointing error is first within ``err_tol`` [rad]
    while the sail normal's rate averaged over ``window_s`` (0.01 deg/min by default) is within
    ``rate_tol`` [rad/s]. NaN if never."""
    sel = record[:, 0] > t_command
    t, wm = windowed_tilt_rate(record[sel], window_s)
    err = record[sel, 1][record[sel].shape[0] - t.size:]
    ok = (err < err_tol) & (wm < rate_tol)
    return float(t[np.argmax(ok)] - t_command) if ok.any() else float("nan")


class AttitudeLoop:
    """The spacecraft (plant, sensors, axes) and its flight software, ready to fly.

    ``q0``: the initial true attitude (the MEKF starts from a star-camera-quality fix of it).
    """

    def __init__(self, t0: float, q0, geometry: SpacecraftGeometry = SpacecraftGeometry(),
                 sensors: SensorSpec = SensorSpec(), config: ControllerConfig | None = None, seed: int = 1,
                 n_sub: int = 2, settle_rad: float = math.radians(0.5), axes: InchwormAxes | None = None):
        self.g, self.spec = geometry, sensors
        self.cfg = config if config is not None else controller_config(geometry)
        self.dt, self.n_sub, self.settle_rad = self.cfg.period, int(n_sub), settle_rad
        self.t = float(t0)
        rng = np.random.default_rng(seed)
        _seed(seed)
        self.x = np.zeros(7)
        self.x[:4] = np.asarray(q0, float) / np.linalg.norm(q0)
        self.bias = rng.normal(size=3) * sensors.gyro_bias0
        self.axes = (axes if axes is not None else InchwormAxes()).state
        self.urand = rng.random(65_536)
        self.mq = self.x[:4].copy()
        star_camera(self.x[:4], sensors.star_sigma, rng.normal(size=3), self.mq)
        self.mb = np.zeros(3)
        self.mP = np.diag([sensors.star_sigma**2] * 3 + [sensors.gyro_bias0**2] * 3)
        self.cs = np.zeros(N_S)
        self.steps_cmd = np.zeros(3)
        self.drive_hz = DEFAULT_DRIVE_HZ  # the axes' drive rate in flight time [Hz]; a board loop sets its own
        self.counters = np.zeros(N_K)
        self.counters[K_COV_T] = self.t
        self.mwork = np.zeros((1, 3))  # integrated corrected rate since the last covariance propagation
        self.fixed = geometry.fixed_part()
        self.gp = np.zeros(4)
        self.gp[GP_MP], self.gp[GP_L] = geometry.payload_mass, geometry.tether_length
        self.gp[GP_STEP], self.gp[GP_VANE_STEP] = geometry.payload_step, geometry.vane_step_rad
        self.tp = torque_params(geometry)
        self.sens = sensors.array()
        self.cp = self.cfg.array()

    def fly_attitude(self, duration_s: float, y_orbit, seg_t, seg_mode, seg_att, rec_every: int = 1,
                     bin_s: float | None = None):
        """Fly the attitude alone for ``duration_s`` with the orbit predicted from ``y_orbit`` at the
        current time. Returns (record rows, bin normals)."""
        n = int(round(duration_s / self.dt))
        bin_n = max(1, int(round((bin_s or duration_s) / self.dt)))
        y = np.asarray(y_orbit, float)
        rn = np.linalg.norm(y[:3])
        orb = np.concatenate([y[:3], y[3:], -GM_SUN * y[:3] / rn**3, [self.t]])
        normals = np.zeros((max(1, n // bin_n), 3))
        rec = np.zeros((n // rec_every + 1 if rec_every > 0 else 0, N_REC))
        n_rec = run_chunk(self.x, self.bias, self.axes, self.urand, self.mq, self.mb, self.mP, self.cs,
                         self.steps_cmd, self.t, n, self.dt, self.n_sub, orb,
                         np.ascontiguousarray(seg_t, float), np.ascontiguousarray(seg_mode, np.int64),
                         np.ascontiguousarray(seg_att, float).reshape(-1, 3), self.cfg.cone_max, self.fixed,
                         self.gp, self.tp, self.sens, self.cp, self.drive_hz, bin_n, normals, rec_every,
                         rec, 0, self.counters, self.settle_rad, self.mwork)
        self.t += n * self.dt
        return rec[:n_rec], normals

    def result(self, record, duration_s, **kw) -> LoopResult:
        c = self.counters
        return LoopResult(record, c[K_STEPS:K_STEPS + 3].copy(), duration_s, math.sqrt(c[K_ERR2] / max(c[K_N], 1)),
                          float(c[K_ERRMAX]), float(c[K_SLEW_S]), **kw)

    @property
    def reported_steps(self) -> np.ndarray:
        return self.axes[:, A_REPORTED].copy()


def fly_coupled(schedule: Schedule, y0, t0: float, t1: float, sail: Sail, loop: AttitudeLoop,
                chunk_s: float = 3600.0, bin_s: float = 600.0, rec_every: int = 30, rtol: float = 1e-10,
                progress=None) -> LoopResult:
    """Fly ``schedule`` (a ``sim.integrator.Schedule``, e.g. ``AttitudeSchedule.to_sim()``) from state y0
    at t0 to t1 with the attitude loop in it, and, beside it, the attitude-perfect flight of the same
    schedule. ``chunk_s`` must be a whole number of ``bin_s``, and ``bin_s`` of the control period."""
    if not (t0 >= schedule.t0 and t1 <= schedule.t1 and t1 > t0):
        raise ValueError("the span [t0, t1] must lie inside the schedule")
    n_bins = int(round(chunk_s / bin_s))
    if abs(n_bins * bin_s - chunk_s) > 1e-9 or abs(round(bin_s / loop.dt) * loop.dt - bin_s) > 1e-9:
        raise ValueError("chunk_s must be a whole number of bin_s, and bin_s of the control period")
    y = np.asarray(y0, float).copy()
    recs, chunks = [], []
    t = t0
    loop.t = t0
    loop.counters[K_COV_T] = t0
    seg_t, seg_mode, seg_att = schedule.t, schedule.mode, schedule.att
    perfect_sched = Schedule(seg_t, seg_mode, seg_att).truncated(t1)
    t_chunks, y_chunks = [], []
    while t < t1 - 1e-6:
        span = min(chunk_s, t1 - t)
        nb = max(1, int(round(span / bin_s)))
        span = nb * bin_s if t + nb * bin_s <= t1 + 1e-6 else span
        rec, normals = loop.fly_attitude(span, y, seg_t, seg_mode, seg_att, rec_every, bin_s=span / nb)
        recs.append(rec)
        times = t + np.arange(nb + 1) * (span / nb)
        times[-1] = t + span
        traj = propagate(y, Schedule.from_normals(times, normals[:nb]), sail, t_out=times[-1:], rtol=rtol)
        y = traj.y_final.copy()
        t = t + span
        t_chunks.append(t)
        y_chunks.append(y)
        if progress is not None:
            progress(t)
    # the attitude-perfect flight, sampled at the chunk ends
    ref = propagate(np.asarray(y0, float), perfect_sched, sail, t_out=np.array(t_chunks), rtol=rtol)
    rec_all = np.concatenate(recs) if recs else np.zeros((0, N_REC))
    return loop.result(rec_all, t1 - t0, y_final=y, y_perfect=ref.y_final.copy(),
                       chunks=[(float(tc), float(np.linalg.norm(ref.y[k, :3] - yc[:3])))
                               for k, (tc, yc) in enumerate(zip(t_chunks, y_chunks))])


__all__ = ["AttitudeLoop", "LoopResult", "RECORD_COLUMNS", "controller_config", "fly_coupled", "run_chunk",
           "slew_complete_time", "windowed_tilt_rate"]
