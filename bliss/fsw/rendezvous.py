"""Rendezvous guidance: phasing and terminal approach as one fixed-arrival-time predictive law.

An onboard law: it takes the spacecraft's state estimate, the time, the planned arrival epoch and the
target's prediction (a ``TargetPrediction`` message: two-body elements uploaded from the ground), and
returns the sail attitude to fly now. :class:`RendezvousLaw` holds its state between guidance steps (the
arrival epoch, the candidate attitudes' forces); the executive (``bliss.fsw.executive``) runs it in the
RENDEZVOUS phase.

Model. Modified equinoctial elements (MEE, ``sim.mee``) of the spacecraft, linearised about its own
coasting (Kepler) arc from now to the arrival epoch t_f:

    m(t_f) = m_kepler(t_f) + sum_k  Phi(t_f, tau) B(m(tau)) F_j (AU / r(tau))^2  integrated over segment k

with Phi the Kepler-flow state-transition matrix in MEE (central differences of the compiled Kepler
propagator), B the Gauss variational matrix in the RTN frame and F_j the sail's RTN acceleration at
1 AU for candidate attitude j (exact sail force model; cone/clock are RTN angles, so F_j is constant).
Elements, unlike Cartesian coordinates, stay nearly linear over large separations: a phase error of
tens of degrees is a plain difference in true longitude L, and a is a plain difference in p. So one
law does the phasing (in L) and the terminal rendezvous (all six elements), and its linear prediction
is good from hundreds of thousands of kilometres to a few: the linearisation error shrinks with the
remaining correction, and re-planning every step removes it (a shrinking-horizon, ZEM/ZEV-like law).

Plan. The time to go is cut into ``n_seg`` equal segments; in segment k the sail spends a time fraction
w_kj at candidate attitude j (sum_j w_kj <= 1, the rest edge-on). A linear programme (HiGHS)
minimises the weighted L1 miss of the six final elements and, with a small weight, the sail-on time;
the weights are 1/AU on p and 1 on f, g, h, k, L (each about a position error over the orbit radius).
"Edge-on" is no thrust unless the law is told what the sail really flies for it (``off_attitude``: the
attitude controller's feather hold, 60 deg cone, still gives cos^2 60 = 25 % of the thrust); then the arc
flown all at that attitude is propagated (RK4 on the MEE) in place of the Kepler arc, and each candidate
counts by its force minus the held one.
The first segment's fractions are what is flown now. The LP is one HiGHS model (``highspy``, :class:`PlanLP`) kept
between plans, refilled with the coefficients that change; by default each plan is solved from scratch
without presolve: the solution of ``scipy.optimize.linprog(method="highs")`` to rounding in 1/3 of its time. A plan whose predicted miss is not zero means the
arrival epoch is too early for this sail: :meth:`RendezvousLaw.command` moves it later in steps.

Candidate attitudes: Sun-facing, and 12 clock angles (every 30 deg) at cones 20, 35.26, 50 deg and the
cone limit (default 70 deg): 49 attitudes, each a vertex of the polytope of forces a segment can average.
"""
from __future__ import annotations

import math

import highspy
import numpy as np
from numba import njit

from bliss.fsw.messages import TargetPrediction
from bliss.fsw.orbit import wrap_angle as _wrap
from bliss.fsw.target import predicted_state
from sim.constants import AU, GM_SUN
from sim.kepler import kepler_propagate
from sim.mee import cart_to_mee, mee_to_cart
from sim.sail import rtn_accel_1au

#: Cones [deg] of the candidate attitudes besides Sun-facing (plus the cone limit itself): 35.26 deg is
#: the largest transverse force of an ideal sail (McInnes 1999, sec. 4.3); 20 and 50 deg fill the
#: bubble between it and the Sun line and the limit.
CANDIDATE_CONES_DEG = (20.0, 35.26, 50.0)
#: Clock step of the candidate attitudes [deg].
CANDIDATE_CLOCK_STEP_DEG = 30.0
#: Default number of plan segments over the time to go.
DEFAULT_N_SEG = 20
#: Weight of the sail-on time in the plan's objective, relative to the weighted miss (a tie-breaker:
#: among plans that close, prefer the one with the least sail time).
SAIL_TIME_WEIGHT = 1.0e-6
#: Weights of the final-element miss: p [1/m] scaled by 1/AU, f, g, h, k and L as they are.
MISS_WEIGHTS = np.array([1.0 / AU, 1.0, 1.0, 1.0, 1.0, 1.0])
#: A plan "closes" when its predicted weighted miss (:func:`plan`; ~ position error over the orbit
#: radius) is below this: 1e-7 is 15 km at 1 AU, well inside the 1000 km tolerance, and the re-planning
#: removes the rest.
PLAN_CLOSED = 1.0e-7
#: A terminal-phase plan minimising the miss in the acceptance box's units (:func:`plan`'s ``box``) "closes"
#: below this L1 sum of position/pos_tol and velocity/vel_tol components: 1 %, 10 km and 1 cm/s in the
#: default box (1,000 km, 1 m/s), the scale of one approach OD upload's error.
TERMINAL_CLOSED = 1.0e-2
#: Shortest guidance step of the terminal phase (fixed arrival epoch) [s]: the plan's segments are
#: tgo / n_seg and would shrink without end as t_f approaches; an hour is still 12 of the shortest
#: time-shared fractions (``bliss.fsw.executive.MIN_FRACTION_S``, 5 min).
TERMINAL_MIN_SEGMENT_S = 3600.0
#: Grid of the single attitudes flown under the slew limit: cone [deg] and clock [deg] steps.
FINE_CONE_STEP_DEG = 2.0
FINE_CLOCK_STEP_DEG = 5.0
#: Central-difference steps of the MEE state-transition matrix: p [m], f, g, h, k, L [rad].
_FD_STEP = np.array([1.0e3, 1.0e-7, 1.0e-7, 1.0e-7, 1.0e-7, 1.0e-7])


def candidate_attitudes(max_cone: float, sail_params) -> tuple[np.ndarray, np.ndarray]:
    """(attitudes (J, 2) cone/clock [rad], RTN accelerations at 1 AU (3, J) [m/s^2])."""
    atts = [(0.0, 0.0)]
    cones = [math.radians(c) for c in CANDIDATE_CONES_DEG if math.radians(c) < max_cone - 1e-9] + [max_cone]
    for c in cones:
        atts += [(c, math.radians(k)) for k in np.arange(0.0, 360.0, CANDIDATE_CLOCK_STEP_DEG)]
    atts = np.array(atts)
    return atts, np.stack([rtn_force_1au(c, k, sail_params) for c, k in atts], axis=1)


def rtn_force_1au(cone: float, clock: float, sail_params) -> np.ndarray:
    """RTN components of the sail acceleration at 1 AU [m/s^2] for cone/clock [rad] in the RTN frame
    (the ``sim.sail`` force model; at distance r it scales as (1 AU / r)^2)."""
    return np.array(rtn_accel_1au(cone, clock, sail_params))


@njit(cache=True)
def _kepler_mee(m, dt):
    """MEE after dt [s] of Kepler motion from MEE m; L continuous (not wrapped)."""
    y = np.empty(6)
    mee_to_cart(m, y)
    r, v = kepler_propagate(GM_SUN, y[:3], y[3:], dt)
    y[:3] = r
    y[3:] = v
    out = np.empty(6)
    cart_to_mee(y, out)
    a = m[0] / (1.0 - m[1] * m[1] - m[2] * m[2])
    guess = m[5] + math.sqrt(GM_SUN / a**3) * dt
    out[5] = guess + _wrap(out[5] - guess)
    return out


@njit(cache=True)
def _stm(m, dt, step):
    """d m(dt) / d m(0) of the Kepler flow in MEE (6 x 6, central differences)."""
    P = np.empty((6, 6))
    for i in range(6):
        a = m.copy()
        b = m.copy()
        a[i] += step[i]
        b[i] -= step[i]
        fa = _kepler_mee(a, dt)
        fb = _kepler_mee(b, dt)
        for j in range(6):
            P[j, i] = (fa[j] - fb[j]) / (2.0 * step[i])
    return P


@njit(cache=True)
def _gauss(m):
    """Gauss variational matrix d m/dt = B a_RTN of the MEE (6 x 3), as ``sim.mee.rhs_mee``."""
    p, f, g, h, k, L = m[0], m[1], m[2], m[3], m[4], m[5]
    cL, sL = math.cos(L), math.sin(L)
    w = 1.0 + f * cL + g * sL
    sq = math.sqrt(p / GM_SUN)
    s2 = 1.0 + h * h + k * k
    hk = h * sL - k * cL
    B = np.zeros((6, 3))
    B[0, 1] = 2.0 * p / w * sq
    B[1, 0] = sq * sL
    B[1, 1] = sq * ((w + 1.0) * cL + f) / w
    B[1, 2] = -sq * hk * g / w
    B[2, 0] = -sq * cL
    B[2, 1] = sq * ((w + 1.0) * sL + g) / w
    B[2, 2] = sq * hk * f / w
    B[3, 2] = sq * s2 * cL / (2.0 * w)
    B[4, 2] = sq * s2 * sL / (2.0 * w)
    B[5, 2] = sq * hk / w
    return B


#: Step of the onboard propagation of the edge-on (feathered) arc [s]: RK4 on the MEE, whose only fast
#: variable is L (2 pi a year); 6 h steps keep it within 1e-12 of the Kepler flow with no force
#: (tests/test_rendezvous_law.py).
REST_ARC_STEP_S = 21600.0


@njit(cache=True)
def _mee_rate(m, F_off, out):
    """d(MEE)/dt of the Sun's gravity plus a constant RTN acceleration ``F_off`` at 1 AU (scaled (AU/r)^2)."""
    B = _gauss(m)
    w = 1.0 + m[1] * math.cos(m[5]) + m[2] * math.sin(m[5])
    r = m[0] / w
    s = (AU / r) ** 2
    for i in range(6):
        out[i] = s * (B[i, 0] * F_off[0] + B[i, 1] * F_off[1] + B[i, 2] * F_off[2])
    out[5] += math.sqrt(GM_SUN * m[0]) * (w / m[0]) ** 2


@njit(cache=True)
def _rest_arc_mee(y, tgo, F_off, step):
    """Final MEE (L continuous) after ``tgo`` [s] from state ``y`` flying the constant RTN acceleration
    ``F_off`` (at 1 AU): the edge-on hold's arc, RK4 on the equinoctial elements."""
    m = np.empty(6)
    cart_to_mee(y, m)
    n = max(8, int(math.ceil(tgo / step)))
    h = tgo / n
    k1, k2, k3, k4, tmp = np.empty(6), np.empty(6), np.empty(6), np.empty(6), np.empty(6)
    for _ in range(n):
        _mee_rate(m, F_off, k1)
        for i in range(6):
            tmp[i] = m[i] + 0.5 * h * k1[i]
        _mee_rate(tmp, F_off, k2)
        for i in range(6):
            tmp[i] = m[i] + 0.5 * h * k2[i]
        _mee_rate(tmp, F_off, k3)
        for i in range(6):
            tmp[i] = m[i] + h * k3[i]
        _mee_rate(tmp, F_off, k4)
        for i in range(6):
            m[i] += h * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]) / 6.0
    return m


@njit(cache=True)
def _sensitivity(y, tgo, n_seg, F1, step):
    """(Kepler-predicted final MEE (6,), G (6, n_seg * J)): effect on the final MEE of flying each
    candidate attitude for the whole of each segment (Simpson's rule over the segment)."""
    m0 = np.empty(6)
    cart_to_mee(y, m0)
    mf = _kepler_mee(m0, tgo)
    J = F1.shape[1]
    G = np.zeros((6, n_seg * J))
    h = tgo / n_seg
    for k in range(n_seg):
        for q in range(3):
            s = (k + 0.5 * q) * h
            wq = h * (1.0 if q != 1 else 4.0) / 6.0
            ms = _kepler_mee(m0, s)
            r = ms[0] / (1.0 + ms[1] * math.cos(ms[5]) + ms[2] * math.sin(ms[5]))
            M = _stm(ms, tgo - s, step) @ _gauss(ms) * (wq * (AU / r) ** 2)
            G[:, k * J:(k + 1) * J] += M @ F1
    return mf, G


@njit(cache=True)
def _cart_jacobian(m, step):
    """d y / d m of the Cartesian state y (6,) [m, m/s] with respect to the MEE m (6 x 6, central differences)."""
    P = np.empty((6, 6))
    ya, yb = np.empty(6), np.empty(6)
    for i in range(6):
        a = m.copy()
        b = m.copy()
        a[i] += step[i]
        b[i] -= step[i]
        mee_to_cart(a, ya)
        mee_to_cart(b, yb)
        for j in range(6):
            P[j, i] = (ya[j] - yb[j]) / (2.0 * step[i])
    return P


def plan(y, tgo: float, y_target_f, F1, n_seg: int = DEFAULT_N_SEG, F_off=None, lp: PlanLP | None = None,
         box=None):
    """Plan the rest of the rendezvous. Returns (first-segment fractions (J,), segment length [s],
    predicted weighted miss (0 when the plan closes), weighted miss if the sail stays edge-on); both misses
    are inf when the linear model cannot be built from ``y`` (non-finite, e.g. a sun-grazing orbit).

    ``F_off`` (3,): RTN acceleration at 1 AU [m/s^2] of what the sail really flies for "edge-on" (the rest
    of each segment), None for none. A sail held feathered short of 90 deg still thrusts (cos^2 60 deg =
    25 % at the attitude controller's 60-deg hold, ``bliss.fsw.attitude.control``): the plan then counts
    it, each candidate's column becoming its force minus the held one's and the held force flown over the
    whole time to go moving the Kepler prediction.
    ``lp``: the :class:`PlanLP` to solve it with (kept between plans); None solves a new one from scratch.
    ``box``: (pos_tol [m], vel_tol [m/s]) to minimise the final miss in the acceptance box's units instead:
    the L1 of the Cartesian position over pos_tol and velocity over vel_tol (the element miss mapped through
    d(y)/d(MEE) at the target's final state); the predicted miss returned is then in those units (1: on the
    edge of the box, per component)."""
    y = np.ascontiguousarray(y, dtype=float)
    J = F1.shape[1]
    Fs = F1 if F_off is None else np.hstack([F1, np.reshape(F_off, (3, 1))])
    mf, G = _sensitivity(y, float(tgo), int(n_seg), np.ascontiguousarray(Fs, dtype=float), _FD_STEP)
    if not (np.all(np.isfinite(G)) and np.all(np.isfinite(mf))):
        # no usable model from this state (e.g. a near-parabolic sun-grazing orbit): the plan does not close
        return np.zeros(J), tgo / n_seg, math.inf, math.inf
    mt = np.empty(6)
    cart_to_mee(np.ascontiguousarray(y_target_f, dtype=float), mt)
    d = mt - mf
    d[5] = _wrap(d[5])
    if F_off is not None:
        # the arc with the hold all the way is propagated, not linearised: a 25 % sail flown for weeks is far
        # from the Kepler arc, and a linearised hold left a second-order miss the plan could not remove
        # (the fractions can only swap the hold for a candidate); fractions w_kj then move the final
        # elements by w_kj (G_kj - G_k,off)
        d = mt - _rest_arc_mee(y, float(tgo), np.ascontiguousarray(F_off, dtype=float), REST_ARC_STEP_S)
        d[5] = _wrap(d[5])
        G = G.reshape(6, n_seg, J + 1)
        G = (G[:, :, :J] - G[:, :, J:]).reshape(6, n_seg * J)
    if box is None:
        WG, Wd = MISS_WEIGHTS[:, None] * G, MISS_WEIGHTS * d
    else:
        # the element weights count 1 m/s like ~5,000 km (both as a fraction of the orbit's scale, 30 km/s and
        # 1.1 AU), the acceptance box (1,000 km, 1 m/s) like 1,000 km: on the box's scale the terminal plan
        # trades velocity it has to spare for position (docs/fly.md "The terminal miss")
        Jc = _cart_jacobian(mt, _FD_STEP) / np.repeat([box[0], box[1]], 3)[:, None]
        WG, Wd = Jc @ G, Jc @ d
    # Each miss row scaled to O(1) (its slacks in units of s): unscaled, a short time to go makes every
    # coefficient and right-hand side ~1e-4..1e-8, at HiGHS's absolute feasibility tolerance (1e-7), and
    # its simplex ended with status 15 ("unknown", primal infeasible) on this always-feasible LP (issue 9:
    # 2028-04-30 departure, 3.2 days to go). The slack costs s_i / max s keep the objective's weighting.
    s = np.max(np.abs(WG), axis=1)
    s = np.where(s > 0.0, s, 1.0)
    if lp is None:
        lp = PlanLP(n_seg, J, warm=False)
    x = lp.solve(WG / s[:, None], Wd / s, SAIL_TIME_WEIGHT / s.max(), s / s.max())
    w0 = np.clip(x[:J], 0.0, 1.0)
    return w0, tgo / n_seg, float(np.tile(s, 2) @ x[n_seg * J:]), float(np.sum(np.abs(Wd)))


class PlanLP:
    """The plan's linear programme as one HiGHS model (``highspy``), kept between guidance steps.

    Variables: the n_seg * J fractions w (0 <= w <= 1), then six miss slacks s_minus and six s_plus (>= 0).
    Rows: one per segment, sum_j w_kj <= 1, then the six scaled miss rows A w - s_minus + s_plus = b.
    Only A, b and the costs change between plans; the segment rows, the bounds and the layout stay.

    Each LP is solved by HiGHS's dual simplex without presolve, the same solution as
    ``scipy.optimize.linprog(method="highs")`` (dual simplex after presolve) to rounding. ``warm``: start
    each solve from the previous optimal basis (successive plans differ little, so the dual simplex needs a
    few pivots instead of a solve from scratch; the optimum is degenerate, and another vertex of it may come out).
    """

    def __init__(self, n_seg: int, J: int, warm: bool = True):
        self.n_seg, self.J, self.warm = n_seg, J, warm
        nv = n_seg * J
        self.h = highspy._Highs()  # the bare solver: highspy.Highs adds Python callbacks and prints a banner
        for key, val in (("output_flag", False), ("simplex_strategy", 1)):  # 1: dual simplex (as scipy's linprog)
            self.h.setOptionValue(key, val)
        lp = self.lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = nv + 12, n_seg + 6
        lp.col_lower_ = np.zeros(nv + 12)
        lp.col_upper_ = np.concatenate([np.ones(nv), np.full(12, highspy.kHighsInf)])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = nv + 12, n_seg + 6
        self.row_lower = np.concatenate([np.full(n_seg, -highspy.kHighsInf), np.zeros(6)])
        self.row_upper = np.concatenate([np.ones(n_seg), np.zeros(6)])
        # column-wise entries: fraction column i has the segment row i // J (1) and the six miss rows (A);
        # slack column i has -1 (s_minus_i) or +1 (s_plus_i) on miss row i
        miss_rows = n_seg + np.arange(6)
        self.rows = np.concatenate([np.column_stack([np.arange(nv) // J, np.tile(miss_rows, (nv, 1))]).ravel(),
                                    np.tile(miss_rows, 2)]).astype(np.int32)
        self.cols = np.concatenate([np.repeat(np.arange(nv), 7), nv + np.arange(12)])
        self.vals = np.concatenate([np.zeros(7 * nv), -np.ones(6), np.ones(6)])
        self.vals[0:7 * nv:7] = 1.0
        self.basis = None

    def solve(self, A: np.ndarray, b: np.ndarray, cost_w: float, cost_slack: np.ndarray) -> np.ndarray:
        """Optimal (w, s_minus, s_plus) for miss rows ``A`` (6, n_seg * J) = ``b`` (6,), cost ``cost_w`` per
        unit of sail-on fraction and ``cost_slack`` (6,) per unit of each miss slack."""
        nv, lp = self.n_seg * self.J, self.lp
        self.vals[:7 * nv].reshape(nv, 7)[:, 1:] = A.T
        keep = self.vals != 0.0  # no stored zeros (as scipy's sparse matrix)
        lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum(np.bincount(self.cols[keep], minlength=nv + 12))])
        lp.a_matrix_.index_ = self.rows[keep]
        lp.a_matrix_.value_ = self.vals[keep]
        lp.col_cost_ = np.concatenate([np.full(nv, cost_w), cost_slack, cost_slack])
        self.row_lower[self.n_seg:] = b
        self.row_upper[self.n_seg:] = b
        lp.row_lower_, lp.row_upper_ = self.row_lower, self.row_upper
        for fast in (True, False):
            # fast: no presolve (on this small LP it costs more than it saves: 2x less time per plan, the same
            # solutions to 3e-13 on the default plan's 406 LPs), from the previous basis when warm. Not
            # optimal (never seen): again from scratch with presolve, scipy's linprog path.
            self.h.passModel(lp)
            self.h.setOptionValue("presolve", "off" if fast else "on")
            if fast and self.warm and self.basis is not None:
                self.h.setBasis(self.basis)
            self.h.run()
            status = self.h.getModelStatus()
            if status == highspy.HighsModelStatus.kOptimal:
                break
        else:  # the LP is always feasible (slacks): a solver failure
            raise RuntimeError(f"rendezvous plan: linear programme failed ({self.h.modelStatusToString(status)})")
        if self.warm:
            self.basis = self.h.getBasis()
        return np.array(self.h.getSolution().col_value)


class RendezvousLaw:
    """The rendezvous phase's state between guidance steps: the arrival epoch ``t_f`` [TDB s], the
    candidate attitudes and their forces, and counters (plans solved, arrival extensions).

    ``max_cone`` [rad], ``sail_params`` (``sim.sail.Sail.kernel_params()``), ``n_seg`` plan segments,
    arrival epochs on a ``tgo_step`` [s] grid up to ``tgo_max`` [s] ahead, never less than ``tgo_floor``
    [s] to go. ``warm_lp``: warm-start each plan's LP from the previous plan's basis (:class:`PlanLP`; 3x
    faster, but the LP is degenerate, so the flight may take another, equally optimal, first segment).
    ``fix_within`` [s]: the terminal phase; once the arrival epoch is that close it is fixed (no floor, no
    extension) and, when the plan no longer closes, the least-miss plan of the LP is flown anyway
    (0: never fixed, the arrival epoch slides and extends as before). Near arrival a plan that defers its
    braking to the last segments stops closing 1-2 days out, and an extension by months let the craft
    drift off (docs/fly.md, "The end game").
    """

    def __init__(self, max_cone: float, sail_params, n_seg: int, tgo_step: float, tgo_max: float,
                 tgo_floor: float, warm_lp: bool = False, off_attitude=None, fix_within: float = 0.0,
                 terminal_box=None):
        self.atts, self.F1 = candidate_attitudes(max_cone, sail_params)
        # what "edge-on" really flies: (cone, clock) [rad] of the held attitude, or None for no thrust
        self.F_off = None if off_attitude is None else rtn_force_1au(*off_attitude, sail_params)
        self.n_seg, self.tgo_step, self.tgo_max, self.tgo_floor = n_seg, tgo_step, tgo_max, tgo_floor
        self.max_cone, self.sail_params = max_cone, sail_params
        self.fine = self.F_fine = None  # single-attitude grid, built on first use (slew-limited flights)
        self.warm_lp, self.lp = warm_lp, None  # the plan's LP (PlanLP), built on the first plan
        self.t_f = math.nan
        self.n_plans = 0
        self.n_extensions = 0
        self.fix_within, self.fixed = fix_within, False  # terminal phase: arrival epoch fixed
        self.n_unclosed = 0  # least-miss plans flown in the terminal phase
        # (pos_tol [m], vel_tol [m/s]): the terminal phase's plans minimise the miss in these units (``plan``'s
        # ``box``); None: in the element weights, as before the fix
        self.terminal_box = terminal_box

    def _plan(self, t, y, t_f, target: TargetPrediction, n_seg: int | None = None):
        rt, vt = predicted_state(target, t_f)
        self.n_plans += 1
        if self.lp is None:
            self.lp = PlanLP(self.n_seg, self.F1.shape[1], warm=self.warm_lp)
        box = self.terminal_box if self.fixed else None
        n = self.n_seg if n_seg is None else n_seg
        return plan(y, t_f - t, np.concatenate([rt, vt]), self.F1, n, self.F_off,
                    self.lp if n == self.n_seg else None, box)

    def first_arrival(self, t, y, tgo_min, target: TargetPrediction):
        """Earliest arrival epoch (on the ``tgo_step`` grid from ``tgo_min``) the linear plan closes, or None."""
        tgo = max(tgo_min, self.tgo_floor)
        self.fixed = False
        while tgo <= self.tgo_max:
            w0, h, miss, _ = self._plan(t, y, t + tgo, target)
            if miss <= PLAN_CLOSED:
                self.t_f = t + tgo
                return self.t_f
            tgo += self.tgo_step
        return None

    def single_attitude(self, w0):
        """(cone, clock) [rad] whose force is nearest the mean force of the fractions ``w0``, or None when
        no thrust (edge-on) is nearer."""
        if self.fine is None:  # a finer grid of single attitudes than the plan's candidates
            cones = np.radians(np.arange(0.0, math.degrees(self.max_cone) + 1e-9, FINE_CONE_STEP_DEG))
            clocks = np.radians(np.arange(0.0, 360.0, FINE_CLOCK_STEP_DEG))
            self.fine = np.array([(0.0, 0.0)] + [(c, k) for c in cones[1:] for k in clocks])
            self.F_fine = np.stack([rtn_force_1au(c, k, self.sail_params) for c, k in self.fine], axis=1)
        u = self.F1 @ w0
        err = np.linalg.norm(self.F_fine - u[:, None], axis=0)
        k = int(np.argmin(err))
        if float(np.linalg.norm(u)) <= err[k]:
            return None
        return float(self.fine[k, 0]), float(self.fine[k, 1])

    def command(self, t, y, target: TargetPrediction):
        """(first-segment fractions (J,), segment length [s]) for the current arrival epoch, moved later
        in ``tgo_step`` steps while the plan does not close; None when no arrival within ``tgo_max`` closes.
        In the terminal phase (``fixed``) the arrival epoch stays, the plan's least-miss fractions are flown
        whether it closes or not, and the segment length is at least an hour (or the time to go), so the
        flight reaches ``t_f`` in a bounded number of steps."""
        if not self.fixed and self.fix_within > 0.0 and self.t_f - t <= self.fix_within:
            self.fixed = True
        if self.fixed:
            tgo = self.t_f - t
            n_seg = None
            if self.terminal_box is not None and tgo < self.n_seg * TERMINAL_MIN_SEGMENT_S:
                # segments of at least the hour that is flown: a plan of shorter segments had its first
                # fractions flown for an hour (``TERMINAL_MIN_SEGMENT_S``), not the plan it solved
                n_seg = max(1, int(tgo // TERMINAL_MIN_SEGMENT_S))
            w0, h, miss, _ = self._plan(t, y, self.t_f, target, n_seg)
            self.n_unclosed += miss > (PLAN_CLOSED if self.terminal_box is None else TERMINAL_CLOSED)
            return w0, max(h, min(tgo, TERMINAL_MIN_SEGMENT_S))
        self.t_f = max(self.t_f, t + self.tgo_floor)
        while True:
            w0, h, miss, _ = self._plan(t, y, self.t_f, target)
            if miss <= PLAN_CLOSED:
                return w0, h
            if self.t_f + self.tgo_step - t > self.tgo_max:
                return None
            self.t_f += self.tgo_step
            self.n_extensions += 1
