"""Minimum-time solar-sail transfers by direct multiple shooting (issue 4, G2).

Transcription
-------------
The transfer of duration TOF is cut into N segments of equal length h = TOF/N. Over segment k the sail
holds a cone/clock attitude fixed in the orbit (RTN) frame (schedule mode 1), so the cone limit is a
plain bound. The N segments are grouped into M consecutive shooting arcs; arc 0 starts at the departure
state, arcs 1..M-1 start at free states.

Decision vector x (scaled):
    x[0]            tau = TOF / TU, with TU = sqrt(AU^3 / GM_sun) = 58.13 days (canonical time unit)
    x[1 : 1+2N]     (cone_k, clock_k) rad, cone bounded to [-max_cone, +max_cone] (a signed cone is the
                    same attitude as |cone| with clock + 180 deg; signing removes the clock singularity
                    at cone 0; the returned schedule is normalised to cone >= 0)
    x[1+2N :]       arc initial states for arcs 1..M-1, position in AU and velocity in VU = AU/TU
                    (29.78 km/s)
Equality constraints: continuity between arcs (6 per junction, same scaling) and the terminal condition,
rendezvous ``y(t0+TOF) = y_target(t0+TOF)`` (6 equations) or orbit-only: angular-momentum vector (3,
in AU*VU) and the in-plane eccentricity vector (2, components along the target's periapsis and
semi-latus directions), 5 equations well defined at small e and i.
Inequality constraints: slew limit between successive segments, the angle between their normals (at the
switch the RTN frame is common, so it is the angle between the two RTN-frame normals) <= max_slew * h.
Objective: tau (minimum time), or for a fixed time a smoothness measure sum(1 - cos(angle change)) / N.

Derivatives
-----------
Variational equations integrated in numba alongside the state: for each segment the 6x6 state transition
matrix and the 6x2 sensitivity to (cone, clock), with a fixed-step classical Runge-Kutta 4 (``n_sub``
steps per segment, fixed during a solve, so the discrete map is smooth in x and its exact derivative is
the RK4-integrated variational system). The right-hand-side Jacobian is analytic for the Sun's gravity
and by central differences (relative step 1e-5, ~1e-10 relative accuracy) for the SRP term, which goes
through the non-ideal optical model and the RTN frame of the state. With the RTN attitude the dynamics
are autonomous, so d y_end / d h = f(y_end) for each segment. Tests compare these derivatives with
central differences of ``sim.batch.propagate_final_batch`` (the independent DOP853 propagator).

Solvers
-------
1. Feasibility at fixed TOF: ``scipy.optimize.least_squares`` (trf, bounds) on the equality residuals,
   starting from the warm start (G1's feedback result, or the crude guess below); if it cannot close,
   TOF is lengthened (continuation) a few times.
2. Free TOF: ``scipy.optimize.minimize(method="SLSQP")`` minimising tau with all constraints.
3. Polish: single shooting from the departure state with the project's DOP853 propagator
   (``sim.integrator.propagate_final``, the same code the replay uses) and Gauss-Newton minimum-norm
   corrections of the attitudes (Jacobian from the variational equations) until the replayed miss is
   below ``tol_pos``/``tol_vel``.

Third bodies: steps 1-2 (and the RK4 variational equations) are Sun + sail only. If the problem carries
a planet table (``TransferProblem.third_bodies``), the polish shoots with ``sim.integrator.propagate(...,
third_bodies=...)`` instead (``propagate_final`` has no third-body path) and the result is replayed in
the same model, so the returned schedule closes with the planets. For a minimum-time problem that
polish also corrects the TOF (the attitudes alone can hardly move the end of a minimum-time arc, see
``_polish``): the TOF is the Sun + sail optimum plus that small correction, not a minimum in the planets'
model (``history["polish_tof_change_s"]``). The polish's Jacobian stays the Sun + sail variational one:
it only gives the Newton direction, and the planets' pull changes the sensitivities by a small fraction,
so the iteration still converges (linearly instead of quadratically).

Crude warm start (when no ``warm`` is given): a cubic Hermite path in cylindrical coordinates (radius,
unwrapped longitude, height) between the departure state and the target's state at arrival, with the end
velocities as end slopes (phasing is built in by choosing the number of revolutions that best matches the
average angular rate); arc states are sampled on it and each segment's attitude points the sail normal
along the acceleration the path needs beyond gravity, clipped to the cone limit.

A result that does not close (replayed miss above tolerance) is returned with ``converged=False`` and
the best miss found.
"""
from __future__ import annotations

import math
import time as _time

import numpy as np
from numba import njit
from scipy.optimize import least_squares, minimize
from threadpoolctl import threadpool_limits

from bliss.guidance.problem import TransferProblem, TransferResult
from sim.constants import AU, DAY, GM_SUN
from sim.rtn import normal_to_cone_clock, rtn_normal_xyz
from sim.sail import srp_accel

#: Canonical time unit [s]: 1/(mean motion at 1 AU) = sqrt(AU^3/GM_sun) ~ 58.13 d.
TU = math.sqrt(AU**3 / GM_SUN)
#: Canonical velocity unit [m/s]: AU/TU ~ 29.78 km/s (circular speed at 1 AU).
VU = AU / TU
_SCALE = np.array([AU, AU, AU, VU, VU, VU])
_INV_SCALE = 1.0 / _SCALE

#: Default RK4 step of the optimiser's own propagation [s] (0.5 day: ~100 m agreement with DOP853 over
#: a 1.5-year transfer, measured; the polish then closes with DOP853 itself).
DEFAULT_STEP = 0.5 * DAY
#: Default closure tolerances on the replayed miss [m], [m/s] (brief: < 1000 km, < 1 m/s; we aim lower).
TOL_POS = 10e3
TOL_VEL = 0.01
#: SLSQP's tolerance on the objective change and constraint violation (scaled units: 1e-9 TU = 5 ms of
#: flight time, 1e-9 AU = 150 m); tighter stalls on the ~1e-10 consistency of the derivatives.
SLSQP_FTOL = 1e-9
#: Largest slew-limit excess [deg] a converged schedule may show (the polish's small attitude
#: corrections are not slew-constrained; SLSQP's solution satisfies the limit to ~1e-8).
SLEW_TOL_DEG = 0.05
#: Relative tolerance of the DOP853 used for the polish and the replay (the propagate() default).
REPLAY_RTOL = 1e-10
#: Bounds of the scaled time of flight tau = TOF / TU: 0.05 TU ~ 3 days to 60 TU ~ 9.5 years (our choice:
#: wider than any sail rendezvous we plan). TOF_MAX [s] is also how far a third-body table must reach.
TAU_MIN, TAU_MAX = 0.05, 60.0
TOF_MAX = TAU_MAX * TU

#: A non-converged warm start is used only if its miss is below this [m] (0.05 AU): a feedback run that
#: ends far from the target carries no useful phasing and its TOF is just the give-up time.
WARM_MAX_MISS = 0.05 * AU
#: Crude-guess TOF when nothing better is known [s] (one year; continuation lengthens it if needed).
DEFAULT_TOF_GUESS = 365.25 * DAY
#: Feasibility is accepted when the largest scaled equality residual is below this (1e-7 AU = 15 km,
#: 1e-7 VU = 3 mm/s); the polish then tightens the closure with DOP853.
FEAS_TOL = 1e-7

_FD_REL = 1e-5      # relative central-difference step for the SRP Jacobian (state)
_FD_ANG = 1e-5      # rad, central-difference step for the SRP sensitivity to cone/clock
_NAUG = 54          # 6 state + 36 STM + 12 attitude sensitivities


# ----------------------------------------------------------------------------------------------------
# compiled kernels (plain float arrays, SI)
# ----------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _srp_rtn(x, y, z, vx, vy, vz, cone, clock, p):
    nx, ny, nz = rtn_normal_xyz(x, y, z, vx, vy, vz, cone, clock)
    return srp_accel(x, y, z, nx, ny, nz, p)


@njit(cache=True)
def _f_state(s, cone, clock, p, out):
    x, y, z, vx, vy, vz = s[0], s[1], s[2], s[3], s[4], s[5]
    r2 = x * x + y * y + z * z
    g = -GM_SUN / (r2 * math.sqrt(r2))
    sx, sy, sz = _srp_rtn(x, y, z, vx, vy, vz, cone, clock, p)
    out[0] = vx
    out[1] = vy
    out[2] = vz
    out[3] = g * x + sx
    out[4] = g * y + sy
    out[5] = g * z + sz


@njit(cache=True)
def _f_aug(s, cone, clock, p, out, A, G, q):
    """State derivative plus variational equations: Phi' = A Phi, B' = A B + G."""
    _f_state(s, cone, clock, p, out)
    x, y, z = s[0], s[1], s[2]
    r2 = x * x + y * y + z * z
    r = math.sqrt(r2)
    vn = math.sqrt(s[3] * s[3] + s[4] * s[4] + s[5] * s[5])
    kk = GM_SUN / (r2 * r)
    for i in range(6):
        for j in range(6):
            A[i, j] = 0.0
    A[0, 3] = 1.0
    A[1, 4] = 1.0
    A[2, 5] = 1.0
    for i in range(3):
        for j in range(3):
            A[3 + i, j] = kk * (3.0 * s[i] * s[j] / r2 - (1.0 if i == j else 0.0))
    for j in range(6):
        st = _FD_REL * (r if j < 3 else vn)
        for i in range(6):
            q[i] = s[i]
        q[j] = s[j] + st
        px, py, pz = _srp_rtn(q[0], q[1], q[2], q[3], q[4], q[5], cone, clock, p)
        q[j] = s[j] - st
        mx, my, mz = _srp_rtn(q[0], q[1], q[2], q[3], q[4], q[5], cone, clock, p)
        A[3, j] += (px - mx) / (2.0 * st)
        A[4, j] += (py - my) / (2.0 * st)
        A[5, j] += (pz - mz) / (2.0 * st)
    for i in range(6):
        G[i, 0] = 0.0
        G[i, 1] = 0.0
    px, py, pz = _srp_rtn(x, y, z, s[3], s[4], s[5], cone + _FD_ANG, clock, p)
    mx, my, mz = _srp_rtn(x, y, z, s[3], s[4], s[5], cone - _FD_ANG, clock, p)
    G[3, 0] = (px - mx) / (2.0 * _FD_ANG)
    G[4, 0] = (py - my) / (2.0 * _FD_ANG)
    G[5, 0] = (pz - mz) / (2.0 * _FD_ANG)
    px, py, pz = _srp_rtn(x, y, z, s[3], s[4], s[5], cone, clock + _FD_ANG, p)
    mx, my, mz = _srp_rtn(x, y, z, s[3], s[4], s[5], cone, clock - _FD_ANG, p)
    G[3, 1] = (px - mx) / (2.0 * _FD_ANG)
    G[4, 1] = (py - my) / (2.0 * _FD_ANG)
    G[5, 1] = (pz - mz) / (2.0 * _FD_ANG)
    for i in range(6):
        for j in range(6):
            acc = 0.0
            for k in range(6):
                acc += A[i, k] * s[6 + 6 * k + j]
            out[6 + 6 * i + j] = acc
        for j in range(2):
            acc = G[i, j]
            for k in range(6):
                acc += A[i, k] * s[42 + 2 * k + j]
            out[42 + 2 * i + j] = acc


@njit(cache=True)
def _seg_state(y0, cone, clock, h, nsub, p, yend):
    s = y0.copy()
    k1 = np.empty(6)
    k2 = np.empty(6)
    k3 = np.empty(6)
    k4 = np.empty(6)
    w = np.empty(6)
    dt = h / nsub
    for _ in range(nsub):
        _f_state(s, cone, clock, p, k1)
        for i in range(6):
            w[i] = s[i] + 0.5 * dt * k1[i]
        _f_state(w, cone, clock, p, k2)
        for i in range(6):
            w[i] = s[i] + 0.5 * dt * k2[i]
        _f_state(w, cone, clock, p, k3)
        for i in range(6):
            w[i] = s[i] + dt * k3[i]
        _f_state(w, cone, clock, p, k4)
        for i in range(6):
            s[i] += dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
    yend[:] = s


@njit(cache=True)
def _seg_aug(y0, cone, clock, h, nsub, p, yend, phi, bm, fend):
    s = np.zeros(_NAUG)
    s[:6] = y0
    for i in range(6):
        s[6 + 7 * i] = 1.0
    k1 = np.empty(_NAUG)
    k2 = np.empty(_NAUG)
    k3 = np.empty(_NAUG)
    k4 = np.empty(_NAUG)
    w = np.empty(_NAUG)
    A = np.empty((6, 6))
    G = np.empty((6, 2))
    q = np.empty(6)
    dt = h / nsub
    for _ in range(nsub):
        _f_aug(s, cone, clock, p, k1, A, G, q)
        for i in range(_NAUG):
            w[i] = s[i] + 0.5 * dt * k1[i]
        _f_aug(w, cone, clock, p, k2, A, G, q)
        for i in range(_NAUG):
            w[i] = s[i] + 0.5 * dt * k2[i]
        _f_aug(w, cone, clock, p, k3, A, G, q)
        for i in range(_NAUG):
            w[i] = s[i] + dt * k3[i]
        _f_aug(w, cone, clock, p, k4, A, G, q)
        for i in range(_NAUG):
            s[i] += dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
    yend[:] = s[:6]
    for i in range(6):
        for j in range(6):
            phi[i, j] = s[6 + 6 * i + j]
        bm[i, 0] = s[42 + 2 * i]
        bm[i, 1] = s[43 + 2 * i]
    _f_state(yend, cone, clock, p, fend)


@njit(cache=True)
def _shoot(arc_y0, arc_seg, att, h, nsub, p, var, YEND, PHI, BM, FEND):
    """Propagate every arc segment by segment (RK4); with ``var`` also the variational quantities."""
    y = np.empty(6)
    for m in range(arc_y0.shape[0]):
        y[:] = arc_y0[m]
        for k in range(arc_seg[m], arc_seg[m + 1]):
            if var:
                _seg_aug(y, att[k, 0], att[k, 1], h, nsub, p, YEND[k], PHI[k], BM[k], FEND[k])
            else:
                _seg_state(y, att[k, 0], att[k, 1], h, nsub, p, YEND[k])
            y[:] = YEND[k]


def shoot_rk4(y0, att, h, nsub, sail_params, var=True):
    """Single-arc RK4 propagation of N equal segments (public for tests): y_end, Phi(N,6,6), B(N,6,2), f(N,6).

    ``att`` (N, 2) cone/clock [rad], ``h`` segment duration [s], ``nsub`` RK4 steps per segment.
    """
    att = np.ascontiguousarray(att, dtype=float).reshape(-1, 2)
    n = att.shape[0]
    YEND, PHI, BM, FEND = np.zeros((n, 6)), np.zeros((n, 6, 6)), np.zeros((n, 6, 2)), np.zeros((n, 6))
    _shoot(np.ascontiguousarray(y0, dtype=float).reshape(1, 6), np.array([0, n], dtype=np.int64), att,
           float(h), int(nsub), sail_params, bool(var), YEND, PHI, BM, FEND)
    return YEND, PHI, BM, FEND


def chain_jacobian(PHI, BM, FEND, n_total):
    """Sensitivities of a single arc's final state: d y_f/d y_0 (6,6), d y_f/d att (6, N, 2), d y_f/d h (6,).

    ``n_total`` is unused except for clarity in callers (h is common to all segments)."""
    n = PHI.shape[0]
    S = np.eye(6)
    datt = np.zeros((6, n, 2))
    dh = np.zeros(6)
    for k in range(n - 1, -1, -1):
        datt[:, k, :] = S @ BM[k]
        dh += S @ FEND[k]
        S = S @ PHI[k]
    return S, datt, dh


# ----------------------------------------------------------------------------------------------------
# the transcription
# ----------------------------------------------------------------------------------------------------
def _perifocal_axes(i, raan, argp):
    cO, sO, ci, si, cw, sw = math.cos(raan), math.sin(raan), math.cos(i), math.sin(i), math.cos(argp), math.sin(argp)
    P = np.array([cO * cw - sO * sw * ci, sO * cw + cO * sw * ci, sw * si])
    Q = np.array([-cO * sw - sO * cw * ci, -sO * sw + cO * cw * ci, cw * si])
    return P, Q


def _orbit_invariants(y, P, Q):
    """[h (AU*VU), e.P, e.Q] of state y (SI): the 5 orbit-matching quantities."""
    r, v = y[:3], y[3:]
    h = np.cross(r, v)
    rn = np.linalg.norm(r)
    e = ((v @ v - GM_SUN / rn) * r - (r @ v) * v) / GM_SUN
    return np.concatenate([h / (AU * VU), [e @ P, e @ Q]])


class _Transcription:
    """Multiple-shooting transcription of a TransferProblem on N segments and M arcs."""

    def __init__(self, problem: TransferProblem, n_segments: int, n_arcs: int, tof_max: float,
                 step: float = DEFAULT_STEP):
        if n_segments < 1 or n_arcs < 1 or n_arcs > n_segments:
            raise ValueError("need 1 <= n_arcs <= n_segments")
        self.pb = problem
        self.N, self.M = int(n_segments), int(n_arcs)
        self.arc_seg = np.round(np.linspace(0, self.N, self.M + 1)).astype(np.int64)
        self.nsub = max(2, int(math.ceil(tof_max / self.N / step)))
        self.p = problem.sail.kernel_params()
        self.cone_max = math.radians(problem.limits.max_cone_deg)
        self.slew_rate = math.radians(problem.limits.max_slew_deg_per_day) / DAY  # rad/s
        self.nx = 1 + 2 * self.N + 6 * (self.M - 1)
        self.rendezvous = bool(problem.rendezvous)
        if not self.rendezvous:
            el = problem.target.orbit_elements(problem.t_depart)
            a, e, i, raan, argp = el
            self.P, self.Q = _perifocal_axes(i, raan, argp)
            hT = math.sqrt(GM_SUN * a * (1.0 - e * e))
            self.gT = np.concatenate([hT * np.cross(self.P, self.Q) / (AU * VU), [e, 0.0]])
        self.nterm = 6 if self.rendezvous else 5
        self.neq = 6 * (self.M - 1) + self.nterm
        self._cache_key = None
        self._have_jac = False
        self.n_eval = 0

    # --- packing -----------------------------------------------------------------------------------
    def unpack(self, x):
        tau = x[0]
        att = x[1:1 + 2 * self.N].reshape(self.N, 2)
        arc_y0 = np.empty((self.M, 6))
        arc_y0[0] = self.pb.y_depart
        if self.M > 1:
            arc_y0[1:] = x[1 + 2 * self.N:].reshape(self.M - 1, 6) * _SCALE
        return tau, att, arc_y0

    def pack(self, tof, att, arc_states):
        x = np.empty(self.nx)
        x[0] = tof / TU
        x[1:1 + 2 * self.N] = np.asarray(att, dtype=float).reshape(-1)
        if self.M > 1:
            x[1 + 2 * self.N:] = (np.asarray(arc_states, dtype=float).reshape(self.M - 1, 6) * _INV_SCALE).reshape(-1)
        return x

    def bounds(self):
        lo = np.full(self.nx, -np.inf)
        hi = np.full(self.nx, np.inf)
        lo[0], hi[0] = TAU_MIN, TAU_MAX
        lo[1:1 + 2 * self.N:2] = -self.cone_max
        hi[1:1 + 2 * self.N:2] = self.cone_max
        lo[2:1 + 2 * self.N:2] = -4.0 * math.pi
        hi[2:1 + 2 * self.N:2] = 4.0 * math.pi
        return lo, hi

    # --- evaluation --------------------------------------------------------------------------------
    def _evaluate(self, x, need_jac=True):
        """Residuals (and with ``need_jac`` their Jacobian) at x; cached, values-only runs skip the
        variational equations (~15x cheaper: line-search trial points need no derivatives)."""
        key = x.tobytes()
        if key == self._cache_key and (self._have_jac or not need_jac):
            return
        tau, att, arc_y0 = self.unpack(x)
        h = tau * TU / self.N
        n = self.N
        self.YEND, self.PHI = np.zeros((n, 6)), np.zeros((n, 6, 6))
        self.BM, self.FEND = np.zeros((n, 6, 2)), np.zeros((n, 6))
        _shoot(arc_y0, self.arc_seg, np.ascontiguousarray(att), h, self.nsub, self.p, bool(need_jac),
               self.YEND, self.PHI, self.BM, self.FEND)
        self.n_eval += 1
        t_end = self.pb.t_depart + tau * TU
        y_end = self.YEND[n - 1]
        c = np.empty(self.neq)
        J = np.zeros((self.neq, self.nx)) if need_jac else None
        for m in range(self.M):
            k0, k1 = self.arc_seg[m], self.arc_seg[m + 1]
            if m < self.M - 1:
                rows = slice(6 * m, 6 * m + 6)
                c[rows] = (self.YEND[k1 - 1] - arc_y0[m + 1]) * _INV_SCALE
            else:
                rows = slice(6 * m, 6 * m + self.nterm)
                if self.rendezvous:
                    rT, vT = self.pb.target.state(t_end)
                    c[rows] = (y_end - np.concatenate([rT, vT])) * _INV_SCALE
                else:
                    c[rows] = _orbit_invariants(y_end, self.P, self.Q) - self.gT
            if not need_jac:
                continue
            S = np.eye(6)
            dh = np.zeros(6)
            datt = np.zeros((6, k1 - k0, 2))
            for k in range(k1 - 1, k0 - 1, -1):
                datt[:, k - k0, :] = S @ self.BM[k]
                dh += S @ self.FEND[k]
                S = S @ self.PHI[k]
            if m < self.M - 1:
                dR_dy = np.diag(_INV_SCALE)
                J[rows, 1 + 2 * self.N + 6 * m:1 + 2 * self.N + 6 * m + 6] -= np.eye(6)
                dR_dt = np.zeros(6)
            elif self.rendezvous:
                dR_dy = np.diag(_INV_SCALE)
                dR_dt = -self._target_rate(t_end, rT, vT) * _INV_SCALE
            else:
                dR_dy = self._invariant_jacobian(y_end)
                dR_dt = np.zeros(5)
            J[rows, 0] += dR_dy @ dh * (TU / self.N) + dR_dt * TU
            J[rows, 1 + 2 * k0:1 + 2 * k1] += (dR_dy @ datt.reshape(6, -1))
            if m > 0:
                cols = slice(1 + 2 * self.N + 6 * (m - 1), 1 + 2 * self.N + 6 * m)
                J[rows, cols] += dR_dy @ S @ np.diag(_SCALE)
        self.c, self.J = c, J
        self._have_jac = bool(need_jac)
        self._cache_key = key

    def _target_rate(self, t, rT, vT):
        dt = 60.0
        _, vp = self.pb.target.state(t + dt)
        _, vm = self.pb.target.state(t - dt)
        return np.concatenate([vT, (vp - vm) / (2.0 * dt)])

    def _invariant_jacobian(self, y):
        Jg = np.empty((5, 6))
        for j in range(6):
            st = 1e-7 * (np.linalg.norm(y[:3]) if j < 3 else np.linalg.norm(y[3:]))
            yp, ym = y.copy(), y.copy()
            yp[j] += st
            ym[j] -= st
            Jg[:, j] = (_orbit_invariants(yp, self.P, self.Q) - _orbit_invariants(ym, self.P, self.Q)) / (2 * st)
        return Jg

    def eq(self, x):
        self._evaluate(x, need_jac=False)
        return self.c.copy()

    def eq_jac(self, x):
        self._evaluate(x)
        return self.J.copy()

    # --- slew limit ----------------------------------------------------------------------------------
    def _slew_terms(self, x):
        a = x[1:1 + 2 * self.N:2]
        d = x[2:1 + 2 * self.N:2]
        ca, sa = np.cos(a), np.sin(a)
        dd = d[:-1] - d[1:]
        cosd, sind = np.cos(dd), np.sin(dd)
        cth = ca[:-1] * ca[1:] + sa[:-1] * sa[1:] * cosd
        g_a1 = -sa[:-1] * ca[1:] + ca[:-1] * sa[1:] * cosd
        g_a2 = -ca[:-1] * sa[1:] + sa[:-1] * ca[1:] * cosd
        g_d1 = -sa[:-1] * sa[1:] * sind
        return cth, g_a1, g_a2, g_d1

    def slew(self, x):
        if self.N < 2:
            return np.zeros(0)
        cth = self._slew_terms(x)[0]
        lim = min(math.pi, self.slew_rate * x[0] * TU / self.N)
        return cth - math.cos(lim)

    def slew_jac(self, x):
        n = self.N - 1
        J = np.zeros((max(n, 0), self.nx))
        if n <= 0:
            return J
        cth, g_a1, g_a2, g_d1 = self._slew_terms(x)
        k = np.arange(n)
        J[k, 1 + 2 * k] = g_a1
        J[k, 3 + 2 * k] = g_a2
        J[k, 2 + 2 * k] = g_d1
        J[k, 4 + 2 * k] = -g_d1
        lim = self.slew_rate * x[0] * TU / self.N
        if lim < math.pi:
            J[:, 0] = math.sin(lim) * self.slew_rate * TU / self.N
        return J

    def smooth(self, x):
        if self.N < 2:
            return 0.0, np.zeros(self.nx)
        cth, g_a1, g_a2, g_d1 = self._slew_terms(x)
        f = float(np.sum(1.0 - cth)) / self.N
        g = np.zeros(self.nx)
        k = np.arange(self.N - 1)
        np.add.at(g, 1 + 2 * k, -g_a1 / self.N)
        np.add.at(g, 3 + 2 * k, -g_a2 / self.N)
        np.add.at(g, 2 + 2 * k, -g_d1 / self.N)
        np.add.at(g, 4 + 2 * k, g_d1 / self.N)
        return f, g


# ----------------------------------------------------------------------------------------------------
# warm starts
# ----------------------------------------------------------------------------------------------------
def _cyl(r, v):
    rho = math.hypot(r[0], r[1])
    th = math.atan2(r[1], r[0])
    drho = (r[0] * v[0] + r[1] * v[1]) / rho
    dth = (r[0] * v[1] - r[1] * v[0]) / rho**2
    return np.array([rho, th, r[2]]), np.array([drho, dth, v[2]])


def _hermite(p0, d0, p1, d1, T, s):
    """Cubic Hermite value, first and second time derivatives at fraction s of duration T."""
    s2, s3 = s * s, s * s * s
    h00, h10, h01, h11 = 2 * s3 - 3 * s2 + 1, s3 - 2 * s2 + s, -2 * s3 + 3 * s2, s3 - s2
    v = h00 * p0 + h10 * T * d0 + h01 * p1 + h11 * T * d1
    dh00, dh10, dh01, dh11 = 6 * s2 - 6 * s, 3 * s2 - 4 * s + 1, -6 * s2 + 6 * s, 3 * s2 - 2 * s
    dv = (dh00 * p0 + dh10 * T * d0 + dh01 * p1 + dh11 * T * d1) / T
    ddh00, ddh10, ddh01, ddh11 = 12 * s - 6, 6 * s - 4, -12 * s + 6, 6 * s - 2
    ddv = (ddh00 * p0 + ddh10 * T * d0 + ddh01 * p1 + ddh11 * T * d1) / T**2
    return v, dv, ddv


def _cyl_to_cart(c, dc, ddc):
    rho, th, z = c
    drho, dth, dz = dc
    ddrho, ddth, ddz = ddc
    ct, st = math.cos(th), math.sin(th)
    r = np.array([rho * ct, rho * st, z])
    er, et = np.array([ct, st, 0.0]), np.array([-st, ct, 0.0])
    v = drho * er + rho * dth * et + np.array([0, 0, dz])
    a = (ddrho - rho * dth**2) * er + (rho * ddth + 2 * drho * dth) * et + np.array([0, 0, ddz])
    return r, v, a


def _target_end_state(problem, tof):
    """Target state at arrival (for orbit-only problems: the target body's own point on its orbit, a
    reasonable aim point for the guess)."""
    return problem.target.state(problem.t_depart + tof)


def crude_guess(problem: TransferProblem, tof: float, n_segments: int):
    """Hermite-path warm start: (segment attitudes (N,2), states at segment starts (N+1,6))."""
    r0, v0 = problem.y_depart[:3], problem.y_depart[3:]
    r1, v1 = _target_end_state(problem, tof)
    c0, d0 = _cyl(r0, v0)
    c1, d1 = _cyl(r1, v1)
    mean_rate = 0.5 * (d0[1] + d1[1])
    dth = c1[1] - c0[1]
    k = round((mean_rate * tof - dth) / (2 * math.pi))
    c1 = c1.copy()
    c1[1] = c0[1] + dth + 2 * math.pi * k
    cone_max = math.radians(problem.limits.max_cone_deg)
    states = np.empty((n_segments + 1, 6))
    att = np.empty((n_segments, 2))
    for j in range(n_segments + 1):
        s = j / n_segments
        c, dc, ddc = _hermite(c0, d0, c1, d1, tof, s)
        r, v, a = _cyl_to_cart(c, dc, ddc)
        states[j] = np.concatenate([r, v])
        if j < n_segments:
            sm = (j + 0.5) / n_segments
            c, dc, ddc = _hermite(c0, d0, c1, d1, tof, sm)
            r, v, a = _cyl_to_cart(c, dc, ddc)
            need = a + GM_SUN * r / np.linalg.norm(r) ** 3
            cone, clock = normal_to_cone_clock(r, v, need / max(np.linalg.norm(need), 1e-30))
            att[j] = (min(cone, cone_max), clock)
    return att, states


def _from_warm(problem: TransferProblem, warm: TransferResult, n_segments: int):
    """Resample a warm TransferResult on N equal segments: (tof, attitudes (N,2), states (N+1,6))."""
    from sim.integrator import propagate

    tof = float(warm.tof)
    t = problem.t_depart + np.linspace(0.0, tof, n_segments + 1)
    sched = warm.schedule
    if abs(sched.t[0] - problem.t_depart) > 1.0:
        raise ValueError("warm start schedule must start at the problem's departure time")
    if sched.t[-1] < t[-1]:
        sched = sched.truncated(t[-1])
    traj = propagate(problem.y_depart, sched, problem.sail, t_out=np.clip(t, sched.t[0], sched.t[-1]),
                     rtol=1e-9)
    states = traj.y
    cone_max = math.radians(problem.limits.max_cone_deg)
    att = np.empty((n_segments, 2))
    for j in range(n_segments):
        tm = 0.5 * (t[j] + t[j + 1])
        k = min(max(int(np.searchsorted(sched.t, tm, side="right")) - 1, 0), sched.n_segments - 1)
        mode = int(sched.mode[k])
        if mode == 1:
            cone, clock = sched.att[k, 0], sched.att[k, 1]
        elif mode == 2:
            cone, clock = normal_to_cone_clock(states[j, :3], states[j, 3:], sched.att[k])
        else:
            cone, clock = cone_max, 0.0
        att[j] = (float(np.clip(cone, -cone_max, cone_max)), clock)
    return tof, att, states


# ----------------------------------------------------------------------------------------------------
# polish and result
# ----------------------------------------------------------------------------------------------------
def _schedule(problem, tof, att):
    from sim.integrator import Schedule

    att = np.asarray(att, dtype=float)
    cones = att[:, 0].copy()
    clocks = att[:, 1].copy()
    neg = cones < 0
    cones[neg] = -cones[neg]
    clocks[neg] += math.pi
    clocks = (clocks + math.pi) % (2 * math.pi) - math.pi
    times = problem.t_depart + np.linspace(0.0, tof, att.shape[0] + 1)
    return Schedule.from_rtn(times, cones, clocks)


def _final_dop853(problem, tof, att):
    """Final state of the schedule flown with DOP853 in the problem's force model (Sun + sail, plus its
    third bodies if it has any: propagate_final has no third-body path, so then the full propagate)."""
    from sim.integrator import propagate, propagate_final

    s = _schedule(problem, tof, att)
    if problem.third_bodies is not None:
        return propagate(problem.y_depart, s, problem.sail, rtol=REPLAY_RTOL,
                         third_bodies=problem.third_bodies).y_final
    return propagate_final(problem.y_depart, s.t, s.mode, s.att, problem.sail.kernel_params(), REPLAY_RTOL)


def _terminal_residual(problem, tof, y, tr: _Transcription):
    """Scaled terminal residual (the transcription's last rows) for a final state y."""
    if problem.rendezvous:
        rT, vT = problem.target.state(problem.t_depart + tof)
        return (y - np.concatenate([rT, vT])) * _INV_SCALE
    return _orbit_invariants(y, tr.P, tr.Q) - tr.gT


def _miss(problem, tof, y, tr: _Transcription):
    """(miss_pos m, miss_vel m/s) of the final state y."""
    if problem.rendezvous:
        rT, vT = problem.target.state(problem.t_depart + tof)
        return float(np.linalg.norm(y[:3] - rT)), float(np.linalg.norm(y[3:] - vT))
    # orbit-only: element-space miss expressed as a distance / speed (see docs/guidance.md)
    res = _terminal_residual(problem, tof, y, tr)
    a = problem.target.orbit_elements(problem.t_depart)[0]
    hT = np.linalg.norm(tr.gT[:3])
    frac = max(np.linalg.norm(res[:3]) / hT, np.linalg.norm(res[3:]))
    return float(frac * a), float(frac * math.sqrt(GM_SUN / a))


def _polish(problem, tof, att, tr: _Transcription, tol_pos, tol_vel, max_iter=8, free_tof=False):
    """Gauss-Newton on the attitudes with DOP853 residuals and variational Jacobians.

    Returns ``(att, y_final, miss_pos, miss_vel, tof)`` of the best iterate. The TOF is fixed unless
    ``free_tof``: then it is corrected too (minimum-norm step in attitudes [rad] and tau = TOF/TU). The
    minimum-time optimisers free it when the problem has third bodies: at a minimum-time point the
    final state's sensitivity to the attitudes alone is nearly rank deficient (Sun + sail optimum of
    the default Bennu mission: smallest singular value 1.3e-6 against 0.3 for the largest), so the
    planets' few-thousand-km push cannot be taken out by the attitudes alone; with the TOF free the
    default mission closed in two iterations, lengthening the TOF by 3.2 minutes.

    The residuals are flown in the problem's force model, with its third bodies if it has any; the
    Jacobian is always the Sun + sail RK4 variational one (only the Newton direction: the planets
    perturb the sensitivities a little, which slows the convergence from quadratic to linear)."""
    att = np.array(att, dtype=float)
    n = att.shape[0]
    tof = float(tof)
    best = None
    for it in range(max_iter + 1):
        y = _final_dop853(problem, tof, att)
        mp, mv = _miss(problem, tof, y, tr)
        if best is None or (mp / tol_pos + mv / tol_vel) < (best[2] / tol_pos + best[3] / tol_vel):
            best = (att.copy(), y, mp, mv, tof)
        if mp < 0.01 * tol_pos and mv < 0.01 * tol_vel or it == max_iter:
            break
        res = _terminal_residual(problem, tof, y, tr)
        YEND, PHI, BM, FEND = shoot_rk4(problem.y_depart, att, tof / n, tr.nsub, tr.p, var=True)
        _, datt, dh = chain_jacobian(PHI, BM, FEND, n)
        dR_dy = np.diag(_INV_SCALE) if problem.rendezvous else tr._invariant_jacobian(y)
        J = dR_dy @ datt.reshape(6, -1)
        if free_tof:  # d residual / d tau: all N segments stretch by TU/N, and the target moves on
            dR_dtau = dR_dy @ dh * (TU / n)
            if problem.rendezvous:
                t_end = problem.t_depart + tof
                rT, vT = problem.target.state(t_end)
                dR_dtau = dR_dtau - tr._target_rate(t_end, rT, vT) * _INV_SCALE * TU
            J = np.column_stack([J, dR_dtau])
        step = np.linalg.lstsq(J, -res, rcond=None)[0]
        if free_tof:
            tof = float(np.clip(tof + step[-1] * TU, TAU_MIN * TU, TOF_MAX))
            step = step[:-1]
        att = att + step.reshape(-1, 2)
        att[:, 0] = np.clip(att[:, 0], -tr.cone_max, tr.cone_max)
    return best


def _result(problem, tof, att, tr, method, history, tol_pos, tol_vel, optimal_ok):
    from sim.integrator import propagate

    sched = _schedule(problem, tof, att)
    traj = propagate(problem.y_depart, sched, problem.sail, rtol=REPLAY_RTOL, third_bodies=problem.third_bodies)
    y = traj.y_final.copy()
    mp, mv = _miss(problem, tof, y, tr)
    closed = mp < tol_pos and mv < tol_vel
    history = dict(history)
    history.update(closed=closed, miss_pos_m=mp, miss_vel_mps=mv, tol_pos_m=tol_pos, tol_vel_mps=tol_vel)
    if tr.N > 1:
        x = tr.pack(tof, att, np.zeros((tr.M - 1, 6)))
        theta = np.degrees(np.arccos(np.clip(tr._slew_terms(x)[0], -1.0, 1.0)))
        limit = min(180.0, math.degrees(tr.slew_rate * tof / tr.N))
        history["max_slew_violation_deg"] = float(max(0.0, np.max(theta) - limit))
    slew_ok = history.get("max_slew_violation_deg", 0.0) <= SLEW_TOL_DEG
    return TransferResult(problem=problem, schedule=sched, tof=float(tof), y_final=y, miss_pos=mp,
                          miss_vel=mv, converged=bool(closed and optimal_ok and slew_ok), method=method,
                          history=history)


# ----------------------------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------------------------
class _Progress:
    def __init__(self, progress, total, desc):
        self.bar = None
        self.fn = None
        if progress is True:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, leave=False)
        elif callable(progress):
            self.fn = progress

    def step(self, msg):
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(msg, refresh=False)
        elif self.fn is not None:
            self.fn(msg)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _initial(problem, warm, n_segments, tof_guess):
    if warm is not None:
        tof, att, states = _from_warm(problem, warm, n_segments)
        return tof, att, states, f"warm:{warm.method}"
    if tof_guess is None:
        tof_guess = problem.tof_fixed if problem.tof_fixed is not None else DEFAULT_TOF_GUESS
    att, states = crude_guess(problem, float(tof_guess), n_segments)
    return float(tof_guess), att, states, "crude-hermite"


def _feasibility(tr: _Transcription, x0, fixed_tau: bool, max_nfev: int, prog):
    """Least-squares on the equality residuals (TOF fixed if fixed_tau). Returns (x, |c|_inf)."""
    lo, hi = tr.bounds()
    free = np.arange(1 if fixed_tau else 0, tr.nx)
    x_full = x0.copy()
    x_full[free] = np.clip(x_full[free], lo[free] + 1e-12, hi[free] - 1e-12)

    def fun(z):
        x_full[free] = z
        prog.step(f"feasibility |c|={np.max(np.abs(tr.eq(x_full))):.2e}")
        return tr.eq(x_full)

    def jac(z):
        x_full[free] = z
        return tr.eq_jac(x_full)[:, free]

    sol = least_squares(fun, x_full[free], jac=jac, bounds=(lo[free], hi[free]), method="trf",
                        xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=max_nfev, x_scale="jac")
    x = x0.copy()
    x[free] = sol.x
    return x, float(np.max(np.abs(tr.eq(x))))


def _setup(problem, warm, n_segments, n_arcs, tof_guess):
    if not isinstance(problem, TransferProblem):
        raise TypeError("problem must be a bliss.guidance.problem.TransferProblem")
    if not (isinstance(n_segments, (int, np.integer)) and n_segments >= 2):
        raise ValueError(f"n_segments must be an integer >= 2, got {n_segments!r}")
    tof, att, states, origin = _initial(problem, warm, n_segments, tof_guess)
    if n_arcs is None:
        n_arcs = max(1, min(n_segments, int(round(tof / (60 * DAY)))))
    tr = _Transcription(problem, n_segments, n_arcs, tof_max=1.6 * tof)
    att = att.copy()
    att[:, 0] = np.clip(att[:, 0], -tr.cone_max, tr.cone_max)
    x0 = tr.pack(tof, att, states[tr.arc_seg[1:-1]])
    return tr, x0, origin


def _solve_fixed_time(problem: TransferProblem, warm: TransferResult | None = None, n_segments: int = 40,
                     progress=None, n_arcs: int | None = None, tol_pos: float = TOL_POS,
                     tol_vel: float = TOL_VEL, max_iter: int = 200) -> TransferResult:
    """Transfer with TOF = ``problem.tof_fixed`` (or the warm start's TOF if that is None).

    Least-squares feasibility, then SLSQP minimising attitude changes subject to the constraints and the
    slew limit, then the DOP853 polish. ``converged`` is True only if the replayed miss is within
    ``tol_pos`` [m] and ``tol_vel`` [m/s].
    """
    t_start = _time.perf_counter()
    tof_guess = problem.tof_fixed
    if warm is not None and tof_guess is not None and abs(warm.tof - tof_guess) > 1.0:
        warm = _rescaled(warm, tof_guess)
    tr, x0, origin = _setup(problem, warm, n_segments, n_arcs, tof_guess)
    prog = _Progress(progress, None, "fixed-time")
    try:
        x, cinf = _feasibility(tr, x0, True, max_iter, prog)
        x, sl_ok, nit = _slsqp(tr, x, fixed_tau=True, max_iter=max_iter, prog=prog)
    finally:
        prog.close()
    tof, att, _ = tr.unpack(x)
    tof = tof * TU
    att_p, _, mp, mv, _ = _polish(problem, tof, att, tr, tol_pos, tol_vel)
    hist = dict(origin=origin, feasibility_cinf=cinf, slsqp_success=sl_ok, slsqp_iterations=nit,
                slsqp_message=getattr(tr, "slsqp_message", ""), n_evaluations=tr.n_eval, n_segments=tr.N, n_arcs=tr.M, rk4_substeps=tr.nsub,
                seconds=_time.perf_counter() - t_start)
    return _result(problem, tof, att_p, tr, f"multiple-shooting N={tr.N} M={tr.M} fixed-time", hist,
                   tol_pos, tol_vel, True)


def _rescaled(warm: TransferResult, tof: float) -> TransferResult:
    """The warm schedule with its segment times stretched to a new TOF (attitudes kept)."""
    from sim.integrator import Schedule

    s = warm.schedule
    t = s.t[0] + (s.t - s.t[0]) * (tof / (s.t[-1] - s.t[0]))
    return TransferResult(warm.problem, Schedule(t, s.mode.copy(), s.att.copy()), tof, warm.y_final,
                          warm.miss_pos, warm.miss_vel, warm.converged, warm.method, dict(warm.history))


def kkt_residual(tr: _Transcription, x, active_tol: float = 1e-7) -> float:
    """First-order optimality of the minimum-time point x: relative residual of the best least-squares
    fit of the objective gradient (e_tau) by the gradients of the equality constraints, the active slew
    constraints and the active variable bounds. Small (<< 1) means no feasible first-order descent
    direction is left. Multiplier signs are not checked (an approximate KKT test)."""
    rows = [tr.eq_jac(x)]
    if tr.N > 1:
        sv = tr.slew(x)
        act = sv < active_tol
        if np.any(act):
            rows.append(tr.slew_jac(x)[act])
    lo, hi = tr.bounds()
    at_bound = (x - lo < active_tol) | (hi - x < active_tol)
    if np.any(at_bound):
        rows.append(np.eye(tr.nx)[at_bound])
    A = np.vstack(rows)
    g = np.zeros(tr.nx)
    g[0] = 1.0
    lam = np.linalg.lstsq(A.T, g, rcond=None)[0]
    return float(np.linalg.norm(A.T @ lam - g))


#: A min-time point whose SLSQP run stopped without its own success flag is still accepted as optimal
#: if it is feasible and its KKT residual (see kkt_residual) is below this.
KKT_TOL = 1e-4


def _slsqp(tr: _Transcription, x0, fixed_tau: bool, max_iter: int, prog):
    lo, hi = tr.bounds()
    free = np.arange(1 if fixed_tau else 0, tr.nx)
    x_full = x0.copy()

    def full(z):
        x_full[free] = z
        return x_full

    if fixed_tau:
        def obj(z):
            f, g = tr.smooth(full(z))
            return f, g[free]
    else:
        def obj(z):
            g = np.zeros(free.size)
            g[0] = 1.0
            return float(z[0]), g

    cons = [dict(type="eq", fun=lambda z: tr.eq(full(z)), jac=lambda z: tr.eq_jac(full(z))[:, free])]
    if tr.N > 1:
        cons.append(dict(type="ineq", fun=lambda z: tr.slew(full(z)), jac=lambda z: tr.slew_jac(full(z))[:, free]))
    it = [0]

    def cb(z):
        it[0] += 1
        prog.step(f"it {it[0]} TOF={z[0] * TU / DAY if not fixed_tau else x_full[0] * TU / DAY:.2f} d "
                  f"|c|={np.max(np.abs(tr.eq(full(z)))):.1e}")

    z = np.clip(x0[free], lo[free], hi[free])
    nit = 0
    for attempt in range(3):  # SLSQP's line search sometimes stalls; a restart rebuilds its Hessian
        sol = minimize(obj, z, jac=True, method="SLSQP", bounds=list(zip(lo[free], hi[free])),
                       constraints=cons, callback=cb, options=dict(maxiter=max(1, max_iter - nit), ftol=SLSQP_FTOL))
        nit += int(sol.nit)
        z = sol.x
        if sol.success or nit >= max_iter or int(sol.status) == 9:
            break
    x = x0.copy()
    x[free] = sol.x
    tr.slsqp_message = f"{sol.message} (status {sol.status}, attempts {attempt + 1})"
    return x, bool(sol.success), nit


def _minimise_time_single(problem: TransferProblem, warm: TransferResult | None = None, n_segments: int = 40,
                  progress=None, n_arcs: int | None = None, tof_guess: float | None = None,
                  tol_pos: float = TOL_POS, tol_vel: float = TOL_VEL, max_iter: int | None = None,
                  continuation=(1.0, 1.15, 1.3, 1.5), feas_nfev: int = 100) -> TransferResult:
    """Minimum-time transfer, warm-started from ``warm`` (G1's feedback result) or the crude guess.

    Continuation: feasibility (least squares) at the warm TOF times each factor in ``continuation`` until
    the constraints close, then SLSQP with free TOF, then the DOP853 polish. A warm start that neither
    converged nor came within ``WARM_MAX_MISS`` is not used; the crude guess (TOF ``tof_guess`` [s], default
    ``DEFAULT_TOF_GUESS``) is always tried if the warm start cannot be closed. Returns ``converged=False``
    (with the best miss found) if the transfer cannot be closed or SLSQP reports failure.
    """
    t_start = _time.perf_counter()
    if max_iter is None:  # SLSQP iterations grow with the number of variables (measured ~5 N from a crude start)
        max_iter = 200 + 8 * int(n_segments)
    prog = _Progress(progress, None, "min-time")
    hist = {"continuation": []}
    starts = []
    if warm is not None and (warm.converged or warm.miss_pos < WARM_MAX_MISS):
        starts.append(warm)
    elif warm is not None:
        hist["warm_rejected"] = f"{warm.method}: miss {warm.miss_pos:.3g} m, not converged"
    starts.append(None)  # the crude Hermite guess is always the fallback
    best = None
    try:
        for w0 in starts:
            for factor in continuation:
                if w0 is not None:
                    w, tg = (w0 if factor == 1.0 else _rescaled(w0, w0.tof * factor)), None
                else:
                    w = None
                    base = tof_guess if tof_guess is not None else (
                        problem.tof_fixed or (warm.tof if warm is not None and warm.converged else DEFAULT_TOF_GUESS))
                    tg = base * factor
                tr, x0, origin = _setup(problem, w, n_segments, n_arcs, tg)
                x, cinf = _feasibility(tr, x0, True, feas_nfev, prog)
                hist["continuation"].append((origin, float(x0[0] * TU / DAY), cinf))
                if best is None or cinf < best[2]:
                    best = (tr, x, cinf, origin, x0)
                if cinf < FEAS_TOL:
                    break
            if best[2] < FEAS_TOL:
                break
        tr, x, cinf, origin, x0 = best
        x, sl_ok, nit = _slsqp(tr, x, fixed_tau=False, max_iter=max_iter, prog=prog)
    finally:
        prog.close()
    cinf_final = float(np.max(np.abs(tr.eq(x))))
    kkt = kkt_residual(tr, x)
    optimal = sl_ok or (kkt < KKT_TOL and cinf_final < 1e-6)
    tau, att, _ = tr.unpack(x)
    tof = tau * TU
    # with third bodies the polish may also stretch the TOF (see _polish); Sun + sail: TOF as optimised
    tof_opt = tof
    att_p, _, mp, mv, tof = _polish(problem, tof, att, tr, tol_pos, tol_vel,
                                    free_tof=problem.third_bodies is not None)
    hist.update(origin=origin, feasibility_cinf=cinf, slsqp_success=sl_ok, slsqp_iterations=nit,
                slsqp_message=getattr(tr, "slsqp_message", ""),
                slsqp_cinf=cinf_final, kkt_residual=kkt, optimal=optimal, n_evaluations=tr.n_eval,
                n_segments=tr.N, n_arcs=tr.M, rk4_substeps=tr.nsub, seconds=_time.perf_counter() - t_start,
                tof_start_days=float(x0[0] * TU / DAY), tof_optimised_sun_sail_days=tof_opt / DAY,
                polish_tof_change_s=tof - tof_opt)
    return _result(problem, tof, att_p, tr, f"multiple-shooting N={tr.N} M={tr.M}", hist, tol_pos, tol_vel,
                   optimal)


def _single_blas_thread(fn):
    """Run ``fn`` with BLAS/LAPACK limited to one thread: the optimiser's matrices are small (~100 x 100)
    and multi-threaded OpenBLAS on them was up to 80x slower on a shared 2-core machine (measured:
    150x86 SVD 1.3 s with 2 threads vs 15 ms with 1)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper


def _minimise_time(problem: TransferProblem, warm: TransferResult | None = None, n_segments: int = 40,
                   progress=None, extra_guesses=(), **kwargs) -> TransferResult:
    """Minimum-time transfer (see :func:`_minimise_time_single` for the method and keyword arguments:
    n_arcs, tof_guess [s], tol_pos [m], tol_vel [m/s], max_iter, continuation, feas_nfev).

    Multi-start: the main solve (from ``warm`` or the crude guess at ``tof_guess``) plus one crude-guess
    solve per TOF in ``extra_guesses`` [s]; the shortest converged result wins (else the one with the
    smallest miss); ``history["multi_start"]`` lists (start TOF d, TOF d, converged) of every run.
    Transfers with different revolution counts / phasing are separate local optima, so a few guesses
    (e.g. 250, 365, 500 days for Bennu) are worth their cost."""
    extra = [float(g) for g in extra_guesses]
    if not all(math.isfinite(g) and g > 0 for g in extra):
        raise ValueError("extra_guesses must be positive times of flight in seconds")
    runs = [_minimise_time_single(problem, warm, n_segments, progress, **kwargs)]
    kwargs.pop("tof_guess", None)
    for g in extra:
        runs.append(_minimise_time_single(problem, None, n_segments, progress, tof_guess=g, **kwargs))
    if len(runs) == 1:
        return runs[0]
    ok = [r for r in runs if r.converged]
    best = min(ok, key=lambda r: r.tof) if ok else min(runs, key=lambda r: r.miss_pos / TOL_POS + r.miss_vel / TOL_VEL)
    best.history["multi_start"] = [(r.history.get("tof_start_days"), r.tof / DAY, r.converged) for r in runs]
    return best


minimise_time = _single_blas_thread(_minimise_time)
solve_fixed_time = _single_blas_thread(_solve_fixed_time)
