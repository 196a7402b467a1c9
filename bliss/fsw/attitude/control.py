"""Attitude control: quaternion feedback with gain scheduling on the solar torque actually available, a
torque-limited slew profile, and the mapping of torque to payload offsets (two inchworm axes) and a roll
vane angle, quantised to whole steps.

The plant, as the flight software models it (the numbers are uploaded configuration, ``ControllerConfig``):

- Pitch/yaw (body x, y): shifting the payload (mass fraction f = m_p/m of the craft) by d moves the centre
  of mass by s = f d off the sail's axis; the sail's normal force F_n then makes tau = -s x F_n z, i.e.
  tau_x = -F_n f d_y, tau_y = F_n f d_x. F_n = C_n P_1AU (AU/r)^2 A cos^2(a) (C_n = 2 for the ideal sail,
  ``sim.sail.Sail.normal_coefficient`` for others; cos^2 is the ideal sail's law), so the available torque
  tau_max = F_n f d_max scales with cos^2(a)/r^2: that is what the gains are scheduled on.
- Roll (body z): the vane pair turned by +-g gives tau_z = -4 P a_v r_v cos^2(a) cos^2(g) sin(g) (a_v the
  area of one vane; ``sim.attitude_torques`` derives it), largest at g = 35.3 deg; we use |g| <= 30 deg.

The law (per channel: the tilt pair together, roll alone; e is the rotation vector of the estimate
against the target, q_est = q_tgt (x) dq, and a the available angular acceleration tau_max / I):

- Rate and disturbance observer. A MEMS gyro's angle random walk (2.4e-4 rad/s^0.5) is far too noisy to
  damp a body whose control accelerations are 1e-6 rad/s^2, and a gyro-rate damping term moved the payload
  by millimetres every period in our first runs. The controller therefore takes its rate from a
  steady-state observer on the MEKF's attitude error with the commanded acceleration as known input:
  states (theta, omega, a_d) per axis, a_d the unknown disturbance acceleration (centre-of-pressure
  offset, twist, optics), poles at w_o x (1, 1.3, 0.15), w_o = 0.006 rad/s (``observer_gains``). When the target moves
  (a new command, the orbit frame turning), the observer's angle is shifted by the same amount.
- Slew profile: when the target jumps, a rest-to-rest bang-bang reference e_ref(t) = e0 (1 - s(t)) over
  T = 2 sqrt(|e0| / a_s), a_s = 0.5 a at the worse of the present and the target cone; its acceleration
  is fed forward. The other half of the torque is margin for disturbances and feedback.
- Feedback: a = a_ref - w_n^2 (theta - e_ref) - 2 zeta w_n (omega - w_ref) - a_d, tau = I a, with
  w_n = sqrt(a / theta_sat) (theta_sat = 45 deg: the feedback alone would use the whole torque at 45 deg),
  zeta = 0.8. w_n scales with sqrt(a), i.e. with cos(cone)/r: the gain schedule.

Stability margins of the linear loop (observer + state feedback on the sampled double integrator):
:func:`loop_margins` (``docs/attitude.md`` states them).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.signal import place_poles

from bliss.fsw.messages import (N_AXES, ActuatorCommand, AttitudeCommand, AttitudeEstimate, AttitudeMode,
                                NavStateEstimate)
from sim.constants import AU, P_SRP_1AU
from sim.quaternion import error_angles, matrix_to_quat, normal_angle, quat_mul, to_body
from sim.rtn import normal_to_cone_clock

# controller-parameter array layout (see ControllerConfig.array)
(C_IXX, C_IYY, C_IZZ, C_FRAC, C_AREA, C_CN, C_VANE_A, C_VANE_R, C_STEP, C_VANE_STEP, C_SOFT, C_DT,
 C_SLEW_FRAC, C_THETA_SAT, C_ZETA, C_L1, C_L2, C_L3, C_DEADBAND, C_VANE_MAX, C_CONE_MAX,
 C_SLEW_TRIGGER, C_FEATHER, C_SAFE_CONE, C_RECOVER_CONE) = range(25)
N_C = 25
# controller-state array layout: observer (theta, omega, a_d) x 3 axes, slew start error, time since the
# slew started, slew durations (tilt, roll), previous target quaternion, last commanded acceleration, init,
# tilt axes at their stroke limit last period (anti-windup), safe mode on, safe-mode entries
S_TH, S_W, S_AD, S_E0 = 0, 3, 6, 9
S_TS, S_TT, S_TR = 12, 13, 14
S_QP, S_ACMD, S_INIT = 15, 19, 22
S_SAT, S_SAFE, S_SAFE_N = 23, 24, 25
# roll-matched target: the twist quaternion about the target normal and the (cone, clock) it was set for
S_TW, S_PC, S_PK = 26, 30, 31
N_S = 32


@dataclass(frozen=True)
class ControllerConfig:
    """The controller's model of the spacecraft and its tuning (SI units, radians). The model numbers are
    configuration uploaded to the craft; the simulation builds them from ``sim.attitude_geometry``."""

    inertia: tuple            # (Ixx, Iyy, Izz) kg m^2 about the CM, payload centred
    payload_fraction: float   # m_payload / m_total
    sail_area: float          # m^2
    normal_coefficient: float  # F_n / (P A) at cone 0 (2 for the ideal sail)
    vane_area: float          # m^2, one vane
    vane_radius: float        # m
    payload_step: float       # m per step (axes 0, 1)
    vane_step: float          # rad per step (axis 2)
    soft_limit: int           # steps, +- on every axis
    period: float = 2.0       # s, control period
    slew_fraction: float = 0.5
    theta_sat: float = math.radians(45.0)
    zeta: float = 0.8
    observer_bandwidth: float = 0.006  # rad/s
    slew_trigger: float = math.radians(0.2)  # a target jump this large starts a slew profile
    deadband_steps: int = 3
    vane_max: float = math.radians(30.0)
    cone_max: float = math.radians(75.0)  # beyond it the torque (cos^2) is too small to use
    # edge-on (OFF) is held feathered at this cone: cos^2 60 deg = 25 % of the Sun-facing torque, against
    # 7 % at 75 deg where slews out of the hold tipped the sail past 90 deg (docs/fly.md)
    feather_cone: float = math.radians(60.0)
    # safe mode: when the estimated cone passes safe_cone the controller aims at the Sun line (cone 0, the
    # most torque) until the estimated cone is back within recover_cone; past 90 deg the Sun lights the
    # sail's back and the payload's torque changes sign, so the guard acts before that
    safe_cone: float = math.radians(82.0)
    recover_cone: float = math.radians(20.0)
    drive_hz: float = 1000.0  # inchworm drive rate of the commands [Hz]

    def __post_init__(self):
        if not (self.period > 0 and 0 < self.slew_fraction <= 1 and self.theta_sat > 0 and self.zeta > 0):
            raise ValueError("ControllerConfig: period, theta_sat and zeta must be > 0 and slew_fraction in (0, 1]")
        if not (0 <= self.recover_cone < self.safe_cone < math.pi / 2 and 0 <= self.feather_cone <= self.cone_max
                and self.cone_max < math.pi / 2):
            raise ValueError("ControllerConfig: need 0 <= recover_cone < safe_cone < 90 deg and "
                             "0 <= feather_cone <= cone_max < 90 deg")

    def array(self) -> np.ndarray:
        a = np.zeros(N_C)
        a[C_IXX:C_IZZ + 1] = self.inertia
        a[C_FRAC], a[C_AREA], a[C_CN] = self.payload_fraction, self.sail_area, self.normal_coefficient
        a[C_VANE_A], a[C_VANE_R] = self.vane_area, self.vane_radius
        a[C_STEP], a[C_VANE_STEP], a[C_SOFT], a[C_DT] = self.payload_step, self.vane_step, self.soft_limit, self.period
        a[C_SLEW_FRAC], a[C_THETA_SAT], a[C_ZETA] = self.slew_fraction, self.theta_sat, self.zeta
        a[C_L1:C_L3 + 1] = observer_gains(self.period, self.observer_bandwidth)
        a[C_DEADBAND], a[C_VANE_MAX], a[C_CONE_MAX] = self.deadband_steps, self.vane_max, self.cone_max
        a[C_SLEW_TRIGGER] = self.slew_trigger
        a[C_FEATHER], a[C_SAFE_CONE], a[C_RECOVER_CONE] = self.feather_cone, self.safe_cone, self.recover_cone
        return a

    def available(self, cos_cone: float, r_m: float):
        """(tilt, roll) available angular accelerations [rad/s^2] at cone cos and distance r [m]."""
        out = np.zeros(2)
        _available(self.array(), cos_cone, 1.0 / r_m**2, out)
        return float(out[0]), float(out[1])


@njit(cache=True)
def _normal_force(cp, c, inv_r2):
    return cp[C_CN] * P_SRP_1AU * AU * AU * inv_r2 * cp[C_AREA] * c * c


@njit(cache=True)
def _vane_gain(cp, c, inv_r2):
    """tau_z = -gain cos^2(g) sin(g) [N m]."""
    return 4.0 * P_SRP_1AU * AU * AU * inv_r2 * cp[C_VANE_A] * cp[C_VANE_R] * c * c


@njit(cache=True)
def _available(cp, c, inv_r2, out):
    c = max(c, math.cos(cp[C_CONE_MAX]))
    d_max = cp[C_SOFT] * cp[C_STEP]
    out[0] = _normal_force(cp, c, inv_r2) * cp[C_FRAC] * d_max / max(cp[C_IXX], cp[C_IYY])
    g = cp[C_VANE_MAX]
    out[1] = _vane_gain(cp, c, inv_r2) * math.cos(g) ** 2 * math.sin(g) / cp[C_IZZ]


@njit(cache=True)
def _solve_vane(x, gmax):
    """g in [-gmax, gmax] with cos^2(g) sin(g) = x (clipped to the reachable range), Newton from x."""
    lim = math.cos(gmax) ** 2 * math.sin(gmax)
    if x >= lim:
        return gmax
    if x <= -lim:
        return -gmax
    g = x
    for _ in range(20):
        c, s = math.cos(g), math.sin(g)
        f = c * c * s - x
        if abs(f) < 1e-12:
            break
        g -= f / (c * c * c - 2.0 * s * s * c)
    return g


def observer_model(dt: float):
    """(A, B, C) of one axis of the observer: states (theta, omega, a_d), input the commanded angular
    acceleration, output theta; zero-order hold over dt."""
    A = np.array([[1.0, dt, 0.5 * dt * dt], [0.0, 1.0, dt], [0.0, 0.0, 1.0]])
    B = np.array([0.5 * dt * dt, dt, 0.0])
    C = np.array([1.0, 0.0, 0.0])
    return A, B, C


def observer_gains(dt: float, bandwidth: float) -> np.ndarray:
    """Gains L of the predictor-corrector observer x = x_pred + L (y - C x_pred): the eigenvalues of
    (I - L C) A placed at exp(-s dt) for s = bandwidth x (1, 1.3, 0.15). The slow third pole is mostly the
    disturbance estimate's: fed back, a_d acts as integral action, and estimating it 7x slower than angle
    and rate costs less phase at the crossover (39 deg margin instead of 36 deg with three equal poles)."""
    A, _, C = observer_model(dt)
    poles = np.exp(-bandwidth * dt * np.array([1.0, 1.3, 0.15]))
    # (I - L C) A = A - L (C A): the dual of placing A^T - (C A)^T L^T
    res = place_poles(A.T, (C @ A).reshape(3, 1), poles)
    return res.gain_matrix.reshape(3)


@njit(cache=True)
def _bang_bang(t, T):
    """Normalised rest-to-rest bang-bang position s in [0, 1] and its first two time derivatives."""
    if T <= 0.0 or t >= T:
        return 1.0, 0.0, 0.0
    x = t / T
    if x < 0.5:
        return 2.0 * x * x, 4.0 * x / T, 4.0 / (T * T)
    return 1.0 - 2.0 * (1.0 - x) ** 2, 4.0 * (1.0 - x) / T, -4.0 / (T * T)


@njit(cache=True)
def guard_cone(cp, cs, c_now, cone):
    """The cone [rad] to aim at: ``cone``, or 0 (the Sun line) in safe mode. Safe mode starts when the
    estimated cone (``c_now``: its cosine, from the MEKF's Sun direction in body axes) passes
    ``safe_cone`` and ends when it is back within ``recover_cone`` (hysteresis); ``cs`` counts the
    entries."""
    if cs[S_SAFE] == 0.0 and c_now < math.cos(cp[C_SAFE_CONE]):
        cs[S_SAFE] = 1.0
        cs[S_SAFE_N] += 1.0
    elif cs[S_SAFE] != 0.0 and c_now > math.cos(cp[C_RECOVER_CONE]):
        cs[S_SAFE] = 0.0
    return 0.0 if cs[S_SAFE] != 0.0 else cone


@njit(cache=True)
def match_roll(cs, q_est, q_tgt, cone, clock):
    """Turn the target ``q_tgt`` (in place) about its own normal to the roll the craft already has: the
    roll about the sail normal does not change the thrust, and a roll slew on the weak, light roll axis
    (vanes, I_zz = I_tilt / 12) couples into the tilt loop, which acts in body axes. At every new
    (cone, clock) the twist part of the rotation from target to estimate (swing-twist decomposition,
    dq = twist (x) swing, twist about z) is kept in ``cs`` and applied until the next one, so the slew is
    a pure swing of the normal along a great circle."""
    if cs[S_TW + 3] == 0.0 or cone != cs[S_PC] or clock != cs[S_PK]:
        c = np.empty(4)
        c[0], c[1], c[2], c[3] = -q_tgt[0], -q_tgt[1], -q_tgt[2], q_tgt[3]
        d = np.empty(4)
        quat_mul(c, q_est, d)
        n = math.sqrt(d[2] * d[2] + d[3] * d[3])
        cs[S_TW], cs[S_TW + 1] = 0.0, 0.0
        cs[S_TW + 2], cs[S_TW + 3] = (d[2] / n, d[3] / n) if n > 1e-12 else (0.0, 1.0)
        if cs[S_TW + 3] == 0.0:
            cs[S_TW + 3] = 1e-300  # a 180-deg twist: keep the "set" mark
        cs[S_PC], cs[S_PK] = cone, clock
    out = np.empty(4)
    quat_mul(q_tgt, cs[S_TW:S_TW + 4], out)
    for i in range(4):
        q_tgt[i] = out[i]


@njit(cache=True)
def control_step(cp, cs, q_est, q_tgt, light_b, c_tgt, inv_r2, cur_steps, out_steps, out_tau):
    """One control period (see the module docstring): new axis targets (whole steps) into ``out_steps``
    and the commanded torque [N m] into ``out_tau``; ``cs`` (``N_S``) is the controller's state (in place).

    ``light_b``: estimated Sun-to-spacecraft unit vector in body axes; ``c_tgt``: cosine of the target's
    cone; ``cur_steps``: the axes' current targets. Returns the estimated pointing error [rad] (angle of
    the sail normal from the target's)."""
    dt = cp[C_DT]
    e = np.empty(3)
    error_angles(q_tgt, q_est, e)
    c_now = light_b[2]
    avail = np.empty(2)
    _available(cp, c_now, inv_r2, avail)
    plan = np.empty(2)
    _available(cp, c_tgt, inv_r2, plan)
    # the disturbance state is kept per newton of sail normal force (a lever arm [m] over the inertia): a
    # centre-of-pressure offset, twist or optics torque scales with the force, so what the observer learnt
    # at one cone stays right at another (cos^2 changes it by 1/3 over a 35 deg slew)
    fn_now = _normal_force(cp, max(c_now, math.cos(cp[C_CONE_MAX])), inv_r2)
    new_slew = False
    if cs[S_INIT] == 0.0:
        for i in range(3):
            cs[S_TH + i] = e[i]
            cs[S_W + i] = 0.0
            cs[S_AD + i] = 0.0
            cs[S_ACMD + i] = 0.0
        cs[S_INIT] = 1.0
        new_slew = True
    else:
        e_old = np.empty(3)
        error_angles(cs[S_QP:S_QP + 4], q_est, e_old)
        shift = 0.0
        for i in range(3):
            ad = cs[S_AD + i] * fn_now
            acc = cs[S_ACMD + i] + ad
            cs[S_TH + i] += cs[S_W + i] * dt + 0.5 * acc * dt * dt + (e[i] - e_old[i])
            cs[S_W + i] += acc * dt
            shift += (e[i] - e_old[i]) ** 2
            nu = e[i] - cs[S_TH + i]
            cs[S_TH + i] += cp[C_L1] * nu
            cs[S_W + i] += cp[C_L2] * nu
            cs[S_AD + i] = (ad + cp[C_L3] * nu) / fn_now
        new_slew = math.sqrt(shift) > cp[C_SLEW_TRIGGER]
        if cs[S_SAT] == 0.0:  # anti-windup: the slew reference waits while the stroke is saturated
            cs[S_TS] += dt
    for i in range(4):
        cs[S_QP + i] = q_tgt[i]
    if new_slew:
        # a profile per channel only for errors beyond the trigger: a minimum-time profile for a small
        # error (say the first estimate's 0.03 deg) would still use half the torque, for nothing
        tilt0 = math.sqrt(cs[S_TH] ** 2 + cs[S_TH + 1] ** 2)
        for i in range(3):
            big = (tilt0 if i < 2 else abs(cs[S_TH + 2])) > cp[C_SLEW_TRIGGER]
            cs[S_E0 + i] = cs[S_TH + i] if big else 0.0
        cs[S_TS] = 0.0
        a_t = cp[C_SLEW_FRAC] * min(avail[0], plan[0])
        a_r = cp[C_SLEW_FRAC] * min(avail[1], plan[1])
        cs[S_TT] = 2.0 * math.sqrt(math.sqrt(cs[S_E0] ** 2 + cs[S_E0 + 1] ** 2) / a_t)
        cs[S_TR] = 2.0 * math.sqrt(abs(cs[S_E0 + 2]) / a_r)
    acc = np.empty(3)
    zeta = cp[C_ZETA]
    for i in range(3):
        s, sd, sdd = _bang_bang(cs[S_TS], cs[S_TT] if i < 2 else cs[S_TR])
        e0 = cs[S_E0 + i]
        wn = math.sqrt((avail[0] if i < 2 else avail[1]) / cp[C_THETA_SAT])
        acc[i] = (-e0 * sdd - wn * wn * (cs[S_TH + i] - e0 * (1.0 - s))
                  - 2.0 * zeta * wn * (cs[S_W + i] + e0 * sd) - cs[S_AD + i] * fn_now)
    out_tau[0] = cp[C_IXX] * acc[0]
    out_tau[1] = cp[C_IYY] * acc[1]
    out_tau[2] = cp[C_IZZ] * acc[2]
    for i in range(3):
        out_steps[i] = cur_steps[i]
    c = max(c_now, math.cos(cp[C_CONE_MAX]))
    lim = cp[C_SOFT]
    d = np.empty(2)
    d[0] = out_tau[1] / (fn_now * cp[C_FRAC])
    d[1] = -out_tau[0] / (fn_now * cp[C_FRAC])
    cs[S_SAT] = 0.0
    for i in range(2):
        x = d[i] / cp[C_STEP]
        # clipped before rounding: round() of a value beyond int64 (or of a NaN) is not a step count
        if x > lim or x < -lim:
            cs[S_SAT] = 1.0
            s = lim if x > 0.0 else -lim
        elif x == x:
            s = float(round(x))
        else:
            s = cur_steps[i]  # no usable command (NaN): hold
        if abs(s - cur_steps[i]) >= cp[C_DEADBAND]:
            out_steps[i] = s
    vg = _vane_gain(cp, c, inv_r2)
    g = _solve_vane(-out_tau[2] / vg, cp[C_VANE_MAX])
    s = min(max(round(g / cp[C_VANE_STEP]), -lim), lim)
    if abs(s - cur_steps[2]) >= cp[C_DEADBAND]:
        out_steps[2] = s
    # what the quantised, limited commands give (the model's acceleration): the observer's known input
    fn_real = _normal_force(cp, max(c_now, 0.0), inv_r2)
    cs[S_ACMD] = -fn_real * cp[C_FRAC] * out_steps[1] * cp[C_STEP] / cp[C_IXX]
    cs[S_ACMD + 1] = fn_real * cp[C_FRAC] * out_steps[0] * cp[C_STEP] / cp[C_IYY]
    g = out_steps[2] * cp[C_VANE_STEP]
    cs[S_ACMD + 2] = -_vane_gain(cp, max(c_now, 0.0), inv_r2) * math.cos(g) ** 2 * math.sin(g) / cp[C_IZZ]
    return normal_angle(e)


@njit(cache=True)
def target_quaternion(r, v, cone, clock, out):
    """Inertial-to-body quaternion of cone/clock [rad] in the RTN frame of (r, v), with the body axes of
    ``bliss.guidance.schedule``: z the sail normal, x the Sun direction projected on the sail plane.
    (The RTN basis of ``sim.rtn`` written out without temporaries: this runs every control period.)"""
    rn = math.sqrt(r[0] ** 2 + r[1] ** 2 + r[2] ** 2)
    R0, R1, R2 = r[0] / rn, r[1] / rn, r[2] / rn
    h0, h1, h2 = r[1] * v[2] - r[2] * v[1], r[2] * v[0] - r[0] * v[2], r[0] * v[1] - r[1] * v[0]
    hn = math.sqrt(h0 * h0 + h1 * h1 + h2 * h2)
    N0, N1, N2 = h0 / hn, h1 / hn, h2 / hn
    T0, T1, T2 = N1 * R2 - N2 * R1, N2 * R0 - N0 * R2, N0 * R1 - N1 * R0
    ca, sa, cd, sd = math.cos(cone), math.sin(cone), math.cos(clock), math.sin(clock)
    m = np.empty((3, 3))
    d0, d1, d2 = cd * T0 + sd * N0, cd * T1 + sd * N1, cd * T2 + sd * N2
    m[0, 2], m[1, 2], m[2, 2] = ca * R0 + sa * d0, ca * R1 + sa * d1, ca * R2 + sa * d2
    m[0, 0], m[1, 0], m[2, 0] = -sa * R0 + ca * d0, -sa * R1 + ca * d1, -sa * R2 + ca * d2
    m[0, 1] = m[1, 2] * m[2, 0] - m[2, 2] * m[1, 0]
    m[1, 1] = m[2, 2] * m[0, 0] - m[0, 2] * m[2, 0]
    m[2, 1] = m[0, 2] * m[1, 0] - m[1, 2] * m[0, 0]
    matrix_to_quat(m, out)


def bang_bang_time(angle_rad: float, accel: float) -> float:
    """Minimum rest-to-rest time [s] of a rotation by ``angle_rad`` with angular acceleration limited to
    ``accel`` [rad/s^2]: accelerate half-way, decelerate the other half, T = 2 sqrt(angle / accel)."""
    return 2.0 * math.sqrt(abs(angle_rad) / accel)


def command_target(cmd: AttitudeCommand, nav: NavStateEstimate, cone_max: float, feather: float | None = None):
    """(cone, clock) [rad] the controller aims at for a command: RTN as given, INERTIAL converted in the
    orbit frame of the navigation state, OFF feathered at ``feather`` (default ``cone_max``: at 90 deg no
    torque is left to hold it). Cones beyond ``cone_max`` are clipped."""
    if cmd.mode == AttitudeMode.RTN:
        cone, clock = cmd.cone, cmd.clock
    elif cmd.mode == AttitudeMode.INERTIAL:
        cone, clock = normal_to_cone_clock(nav.r, nav.v, np.asarray(cmd.normal))
    else:
        cone, clock = (cone_max if feather is None else feather), 0.0
    return min(float(cone), cone_max), float(clock)


@dataclass
class Budgets:
    """What the flight software reports: steps per axis, time spent slewing, pointing error."""

    steps: np.ndarray
    time_s: float = 0.0
    slewing_s: float = 0.0
    pointing_sq_sum: float = 0.0
    pointing_max: float = 0.0
    n: int = 0

    def steps_per_day(self) -> np.ndarray:
        return self.steps / max(self.time_s, 1e-300) * 86400.0

    def pointing_rms(self) -> float:
        return math.sqrt(self.pointing_sq_sum / max(self.n, 1))


class AttitudeController:
    """Message-level controller: attitude estimate + command + navigation state in, actuator command out
    through an :class:`~bliss.fsw.attitude.actuation.ActuatorPort` (or returned only, ``port=None``)."""

    def __init__(self, cfg: ControllerConfig, port=None, settle_rad: float = math.radians(0.5)):
        self.cfg, self.cp, self.port = cfg, cfg.array(), port
        self.cs = np.zeros(N_S)
        self.steps = np.zeros(N_AXES)
        self.tau = np.zeros(3)
        self.settle_rad = settle_rad
        self.budgets = Budgets(np.zeros(N_AXES))
        self.last_error = float("nan")

    def step(self, est: AttitudeEstimate, cmd: AttitudeCommand, nav: NavStateEstimate) -> ActuatorCommand:
        cone, clock = command_target(cmd, nav, self.cfg.cone_max, self.cfg.feather_cone)
        r = float(np.linalg.norm(nav.r))
        light_b = np.empty(3)
        to_body(np.asarray(est.q), nav.r / r, light_b)
        cone = guard_cone(self.cp, self.cs, float(light_b[2]), cone)
        q_tgt = np.empty(4)
        target_quaternion(nav.r, nav.v, cone, clock, q_tgt)
        match_roll(self.cs, np.asarray(est.q, float), q_tgt, cone, clock)
        new = np.empty(3)
        err = control_step(self.cp, self.cs, np.asarray(est.q), q_tgt, light_b, math.cos(cone), 1.0 / r**2,
                           self.steps, new, self.tau)
        b = self.budgets
        b.steps += np.abs(new - self.steps)
        b.time_s += self.cfg.period
        b.slewing_s += self.cfg.period if err > self.settle_rad else 0.0
        b.pointing_sq_sum += err * err
        b.pointing_max = max(b.pointing_max, err)
        b.n += 1
        self.last_error = err
        moved = tuple(int(s) if s != c else None for s, c in zip(new, self.steps))
        self.steps = new
        out = ActuatorCommand(est.t, moved, self.cfg.drive_hz)
        if self.port is not None:
            self.port.send(out)
        return out


def loop_margins(cfg: ControllerConfig, extra_delay_s: float = 0.0, cos_cone: float = 1.0, r_m: float = 0.9 * AU):
    """Stability margins of one tilt axis's linear loop, broken at the plant input.

    Plant: the double integrator theta'' = a sampled with a zero-order hold over the control period.
    Controller: the predictor-corrector observer (states theta, omega, a_d; it also feeds its own command
    back into its prediction) and the state feedback a = -(w_n^2 theta + 2 zeta w_n omega + a_d). An extra
    pure delay (actuator travel, computation) can be added. Evaluated by default where w_n is largest (cone
    0 at 0.9 AU, about Bennu's perihelion): there the sampling and any delay cost the most phase. Returns
    a dict: w_n [rad/s], crossover [rad/s], phase margin [deg], gain margin [dB] (upper; inf when the
    phase stays above -180 deg up to the Nyquist frequency), lower gain margin [dB], delay margin [s]."""
    dt = cfg.period
    a_t, _ = cfg.available(cos_cone, r_m)
    wn = math.sqrt(a_t / cfg.theta_sat)
    A, B, C = observer_model(dt)
    L = observer_gains(dt, cfg.observer_bandwidth)
    K = np.array([wn * wn, 2 * cfg.zeta * wn, 1.0])
    M = (np.eye(3) - np.outer(L, C)) @ A
    N = (np.eye(3) - np.outer(L, C)) @ B
    A2, B2 = A[:2, :2], B[:2]
    w = np.logspace(-5, math.log10(math.pi / dt), 20_000)
    z = np.exp(1j * w * dt)
    loop = np.empty(w.size, complex)
    for k, zk in enumerate(z):
        ctrl = K @ np.linalg.solve(np.eye(3) - (M - np.outer(N, K)) / zk, L)   # u = -ctrl y
        plant = C[:2] @ np.linalg.solve(zk * np.eye(2) - A2, B2)
        loop[k] = ctrl * plant * np.exp(-1j * w[k] * extra_delay_s)
    mag = np.abs(loop)
    ic = int(np.argmax(mag < 1.0))
    pm = 180.0 + math.degrees(np.angle(loop[ic]))
    ph = np.unwrap(np.angle(loop))
    ph = ph - 2 * math.pi * round((ph[ic] - np.angle(loop[ic])) / (2 * math.pi))
    below = np.nonzero(ph[ic:] < -math.pi)[0]
    gm_db = -20 * math.log10(mag[ic + below[0]]) if below.size else math.inf
    # the observer's disturbance state is integral action: at low frequency the phase is -270 deg, so the
    # loop is conditionally stable and also has a lower gain margin (how far the gain may drop)
    up = np.nonzero((ph[:ic - 1] < -math.pi) & (ph[1:ic] >= -math.pi))[0]
    gm_low_db = 20 * math.log10(mag[up[-1] + 1]) if up.size else math.inf
    return {"w_n": wn, "crossover": float(w[ic]), "phase_margin_deg": pm, "gain_margin_db": gm_db,
            "lower_gain_margin_db": gm_low_db, "delay_margin_s": math.radians(pm) / w[ic]}
