"""The multiple-shooting transcription of a transfer: decision vector, bounds, equality constraints
(arc continuity, terminal condition) with their Jacobian, the slew-limit constraints and the smoothness
objective (see ``bliss.guidance.optimise`` for the method). Canonical units TU and VU scale the variables.
"""
from __future__ import annotations

import math

import numpy as np

from bliss.guidance.optimise.kernels import shoot
from bliss.guidance.problem import TransferProblem
from sim.kepler import perifocal_axes
from sim.constants import AU, DAY, GM_SUN

#: Canonical time unit [s]: 1/(mean motion at 1 AU) = sqrt(AU^3/GM_sun) ~ 58.13 d.
TU = math.sqrt(AU**3 / GM_SUN)
#: Canonical velocity unit [m/s]: AU/TU ~ 29.78 km/s (circular speed at 1 AU).
VU = AU / TU
SCALE = np.array([AU, AU, AU, VU, VU, VU])
INV_SCALE = 1.0 / SCALE

#: Default RK4 step of the optimiser's own propagation [s] (0.5 day: ~100 m agreement with DOP853 over
#: a 1.5-year transfer, measured; the polish then closes with DOP853 itself).
DEFAULT_STEP = 0.5 * DAY
#: Bounds of the scaled time of flight tau = TOF / TU: 0.05 TU ~ 3 days to 60 TU ~ 9.5 years (our choice:
#: wider than any sail rendezvous we plan). TOF_MAX [s] is also how far a third-body table must reach.
TAU_MIN, TAU_MAX = 0.05, 60.0
TOF_MAX = TAU_MAX * TU


def _perifocal_axes(i, raan, argp):
    P, Q, _ = perifocal_axes(i, raan, argp)  # the one definition, sim.kepler
    return np.array(P), np.array(Q)


def orbit_invariants(y, P, Q):
    """[h (AU*VU), e.P, e.Q] of state y (SI): the 5 orbit-matching quantities."""
    r, v = y[:3], y[3:]
    h = np.cross(r, v)
    rn = np.linalg.norm(r)
    e = ((v @ v - GM_SUN / rn) * r - (r @ v) * v) / GM_SUN
    return np.concatenate([h / (AU * VU), [e @ P, e @ Q]])


class Transcription:
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
            arc_y0[1:] = x[1 + 2 * self.N:].reshape(self.M - 1, 6) * SCALE
        return tau, att, arc_y0

    def pack(self, tof, att, arc_states):
        x = np.empty(self.nx)
        x[0] = tof / TU
        x[1:1 + 2 * self.N] = np.asarray(att, dtype=float).reshape(-1)
        if self.M > 1:
            x[1 + 2 * self.N:] = (np.asarray(arc_states, dtype=float).reshape(self.M - 1, 6) * INV_SCALE).reshape(-1)
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
        shoot(arc_y0, self.arc_seg, np.ascontiguousarray(att), h, self.nsub, self.p, bool(need_jac),
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
                c[rows] = (self.YEND[k1 - 1] - arc_y0[m + 1]) * INV_SCALE
            else:
                rows = slice(6 * m, 6 * m + self.nterm)
                if self.rendezvous:
                    rT, vT = self.pb.target.state(t_end)
                    c[rows] = (y_end - np.concatenate([rT, vT])) * INV_SCALE
                else:
                    c[rows] = orbit_invariants(y_end, self.P, self.Q) - self.gT
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
                dR_dy = np.diag(INV_SCALE)
                J[rows, 1 + 2 * self.N + 6 * m:1 + 2 * self.N + 6 * m + 6] -= np.eye(6)
                dR_dt = np.zeros(6)
            elif self.rendezvous:
                dR_dy = np.diag(INV_SCALE)
                dR_dt = -self._target_rate(t_end, rT, vT) * INV_SCALE
            else:
                dR_dy = self._invariant_jacobian(y_end)
                dR_dt = np.zeros(5)
            J[rows, 0] += dR_dy @ dh * (TU / self.N) + dR_dt * TU
            J[rows, 1 + 2 * k0:1 + 2 * k1] += (dR_dy @ datt.reshape(6, -1))
            if m > 0:
                cols = slice(1 + 2 * self.N + 6 * (m - 1), 1 + 2 * self.N + 6 * m)
                J[rows, cols] += dR_dy @ S @ np.diag(SCALE)
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
            Jg[:, j] = (orbit_invariants(yp, self.P, self.Q) - orbit_invariants(ym, self.P, self.Q)) / (2 * st)
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
