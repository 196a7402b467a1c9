"""Compiled adaptive Runge-Kutta integrator: Dormand-Prince 8(5,3) ("DOP853", Hairer, Norsett & Wanner,
"Solving Ordinary Differential Equations I", 2nd ed., 1993, sec. II.5 and II.10), with the sail attitude
held constant over segments (zero-order hold), steps landing exactly on segment switches, 7th-order dense
output on a requested time grid, and events located on the dense output.

Everything here runs in numba on plain float arrays. The Butcher tableau is the published DOP853 one
(Hairer, Norsett & Wanner's coefficients, as in their Fortran code DOP853 and in scipy's
``scipy.integrate._ivp.dop853_coefficients``), written out below to double precision so that importing
the integrator does not import ``scipy.integrate`` (0.5 s at start and 0.3 s at exit);
``tests/test_integrator.py`` checks every number against scipy's table. The step loop, error control and
dense output are ours.

Events (rows of ``ev_par``, columns ``EV_*``):
- kind 0, closest approach to a Keplerian target: g = (r - r_T).(v - v_T) crosses zero upward (a local
  minimum of the distance).
- kind 1, distance from the Sun crossing ``EV_R``: g = |r| - R.
- kind 2, distance to a Keplerian target crossing ``EV_R``: g = |r - r_T| - R.
``EV_DIR`` selects crossings by direction (+1 increasing g, -1 decreasing, 0 both; kind 0 is always +1),
``EV_TERMINAL`` = 1 stops the integration at the event.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.constants import GM_SUN
from sim.dynamics import MODE_INERTIAL, derivative, segment_attitude
from sim.mee import cart_to_mee, mee_atol, mee_derivative, mee_rtn_derivative, mee_to_cart, segment_rtn_force
from sim.sail import K_SCALE, sail_numbers
from sim.kepler import elements_state

# --- the DOP853 tableau (Hairer, Norsett & Wanner 1993; dimensionless) ---------------------------------
#: Lower-triangular rows of A: row s holds A[s, 0..s-1] (stages 0..11 of the step, 12 the FSAL
#: stage at the new point, 13..15 the extra stages of the 7th-order dense output).
_A_ROWS = (
    (),
    (0.05260015195876773,),
    (0.0197250569845379, 0.0591751709536137),
    (0.02958758547680685, 0.0, 0.08876275643042054),
    (0.2413651341592667, 0.0, -0.8845494793282861, 0.924834003261792),
    (0.037037037037037035, 0.0, 0.0, 0.17082860872947386, 0.12546768756682242),
    (0.037109375, 0.0, 0.0, 0.17025221101954405, 0.06021653898045596, -0.017578125),
    (0.03709200011850479, 0.0, 0.0, 0.17038392571223998, 0.10726203044637328, -0.015319437748624402, 0.008273789163814023),
    (0.6241109587160757, 0.0, 0.0, -3.3608926294469414, -0.868219346841726, 27.59209969944671, 20.154067550477894, -43.48988418106996),
    (0.47766253643826434, 0.0, 0.0, -2.4881146199716677, -0.590290826836843, 21.230051448181193, 15.279233632882423, -33.28821096898486, -0.020331201708508627),
    (-0.9371424300859873, 0.0, 0.0, 5.186372428844064, 1.0914373489967295, -8.149787010746927, -18.52006565999696, 22.739487099350505, 2.4936055526796523, -3.0467644718982196),
    (2.273310147516538, 0.0, 0.0, -10.53449546673725, -2.0008720582248625, -17.9589318631188, 27.94888452941996, -2.8589982771350235, -8.87285693353063, 12.360567175794303, 0.6433927460157636),
    (0.054293734116568765, 0.0, 0.0, 0.0, 0.0, 4.450312892752409, 1.8915178993145003, -5.801203960010585, 0.3111643669578199, -0.1521609496625161, 0.20136540080403034, 0.04471061572777259),
    (0.056167502283047954, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25350021021662483, -0.2462390374708025, -0.12419142326381637, 0.15329179827876568, 0.00820105229563469, 0.007567897660545699, -0.008298),
    (0.03183464816350214, 0.0, 0.0, 0.0, 0.0, 0.028300909672366776, 0.053541988307438566, -0.05492374857139099, 0.0, 0.0, -0.00010834732869724932, 0.0003825710908356584, -0.00034046500868740456, 0.1413124436746325),
    (-0.42889630158379194, 0.0, 0.0, 0.0, 0.0, -4.697621415361164, 7.683421196062599, 4.06898981839711, 0.3567271874552811, 0.0, 0.0, 0.0, -0.0013990241651590145, 2.9475147891527724, -9.15095847217987),
)
_C = (0.0, 0.05260015195876773, 0.0789002279381516, 0.1183503419072274, 0.2816496580927726, 0.3333333333333333, 0.25, 0.3076923076923077, 0.6512820512820513, 0.6, 0.8571428571428571, 1.0, 1.0, 0.1, 0.2, 0.7777777777777778)
_E3 = (-0.18980075407240762, 0.0, 0.0, 0.0, 0.0, 4.450312892752409, 1.8915178993145003, -5.801203960010585, -0.4226823213237919, -0.1521609496625161, 0.20136540080403034, 0.02265179219836082, 0.0)
_E5 = (0.01312004499419488, 0.0, 0.0, 0.0, 0.0, -1.2251564463762044, -0.4957589496572502, 1.6643771824549864, -0.35032884874997366, 0.3341791187130175, 0.08192320648511571, -0.022355307863886294, 0.0)
_D = (
    (-8.428938276109013, 0.0, 0.0, 0.0, 0.0, 0.5667149535193777, -3.0689499459498917, 2.38466765651207, 2.117034582445028, -0.871391583777973, 2.2404374302607883, 0.6315787787694688, -0.08899033645133331, 18.148505520854727, -9.194632392478356, -4.436036387594894),
    (10.427508642579134, 0.0, 0.0, 0.0, 0.0, 242.28349177525817, 165.20045171727028, -374.5467547226902, -22.113666853125306, 7.733432668472264, -30.674084731089398, -9.332130526430229, 15.697238121770845, -31.139403219565178, -9.35292435884448, 35.81684148639408),
    (19.985053242002433, 0.0, 0.0, 0.0, 0.0, -387.0373087493518, -189.17813819516758, 527.8081592054236, -11.57390253995963, 6.8812326946963, -1.0006050966910838, 0.7777137798053443, -2.778205752353508, -60.19669523126412, 84.32040550667716, 11.99229113618279),
    (-25.69393346270375, 0.0, 0.0, 0.0, 0.0, -154.18974869023643, -231.5293791760455, 357.6391179106141, 93.40532418362432, -37.45832313645163, 104.0996495089623, 29.8402934266605, -43.53345659001114, 96.32455395918828, -39.17726167561544, -149.72683625798564),
)
#: B: the 8th-order weights, equal to the FSAL row A[12, :12]; E5, E3: the 5th- and 3rd-order error
#: estimator weights; D: the dense-output coefficients.

N_STAGES = 12
A = np.zeros((16, 16))                                      # (16, 16), stages 13..15 for dense output
for _s, _row in enumerate(_A_ROWS):
    A[_s, :_s] = _row
del _s, _row
B = A[12, :N_STAGES].copy()                                 # (12,)
C = np.array(_C)                                            # (16,)
E3 = np.array(_E3)                                          # (13,)
E5 = np.array(_E5)                                          # (13,)
E53 = np.array([_E5, _E3])                                  # (2, 13): rows E5, E3
D = np.array(_D)                                            # (4, 16)

SAFETY = 0.9        # step-size safety factor (Hairer's 0.9)
MIN_FACTOR = 0.333  # largest step decrease after a rejection (Hairer: 1/3)
MAX_FACTOR = 6.0    # largest step increase after an accepted step (Hairer: 6)
ERR_EXP = -1.0 / 8.0

# event parameter columns
EV_TERMINAL, EV_DIR, EV_R, EV_MU, EV_A, EV_E, EV_I, EV_RAAN, EV_ARGP, EV_M0, EV_T0 = range(11)
EV_NPAR = 11
EV_CLOSEST, EV_SUN_DISTANCE, EV_TARGET_DISTANCE = 0, 1, 2

#: State formulations: Cartesian [r, v], or modified equinoctial elements (sim.mee).
FORM_CARTESIAN, FORM_MEE = 0, 1

STATUS_OK, STATUS_EVENT, STATUS_MAX_STEPS, STATUS_STEP_UNDERFLOW = 0, 1, -1, -2

#: What :func:`step_to_try` says of the step: try it; only a floating-point sliver of the segment is left
#: (step to its end and go on); the step size underflowed.
STEP_TRY, STEP_SLIVER, STEP_UNDERFLOW = 0, 1, 2


#: Absolute-tolerance scales per unit rtol: 1e10 m of position (0.07 AU) and 2e3 m/s of velocity (the
#: same fraction of the ~30 km/s orbital speed); for MEE the same 1e10 m on p and 1 on the others.
ATOL_POS_PER_RTOL = 1e10
ATOL_VEL_PER_RTOL = 2e3


@njit(cache=True, inline="always")
def step_to_try(t, h, t_end):
    """``(h_try, last, what)``: the step to try from ``t`` [s] with the proposed step ``h`` [s] in a
    segment ending at ``t_end`` [s]: ``h`` itself, or what is left of the segment when ``h`` would reach it
    or fall short of it by less than 1e-3 h (``last``: the step lands on the segment end). ``what``:
    ``STEP_TRY``, ``STEP_SLIVER`` or ``STEP_UNDERFLOW`` (a step below 1e-12 of t). Shared by
    :func:`_integrator`'s step loop and ``sim.batch_lanes``, which must take the very same steps."""
    if t + h >= t_end or (t_end - (t + h)) < 1e-3 * h:
        h_try, last = t_end - t, True
    else:
        h_try, last = h, False
    if h_try <= 1e-12 * max(1.0, abs(t)):
        return h_try, last, STEP_SLIVER if last else STEP_UNDERFLOW
    return h_try, last, STEP_TRY


@njit(cache=True, inline="always")
def step_after(h, h_try, err, last):
    """The next proposed step [s] after a step ``h_try`` with error norm ``err`` (> 1: rejected, shrunk by
    at most ``MIN_FACTOR``; else grown by at most ``MAX_FACTOR``). A step shortened to land on the segment
    end does not shrink the next segment's first step below the proposed ``h``."""
    if err > 1.0:
        return h_try * max(MIN_FACTOR, SAFETY * err ** ERR_EXP)
    factor = MAX_FACTOR if err == 0.0 else min(MAX_FACTOR, SAFETY * err ** ERR_EXP)
    return max(h, h_try * factor) if last else h_try * factor


@njit(cache=True)
def default_atol(rtol):
    """Absolute tolerances scaled with rtol: 1e10 m of position and 2e3 m/s of velocity per unit rtol
    (a position component near zero is then held to rtol x 0.07 AU, the velocity to the same fraction of
    the ~30 km/s orbital speed), so that rtol alone sets the accuracy."""
    atol = np.empty(6)
    for i in range(3):
        atol[i] = rtol * ATOL_POS_PER_RTOL
        atol[3 + i] = rtol * ATOL_VEL_PER_RTOL
    return atol


@njit(cache=True)
def _event_g(kind, par, t, y):
    if kind == EV_SUN_DISTANCE:
        return math.sqrt(y[0] ** 2 + y[1] ** 2 + y[2] ** 2) - par[EV_R]
    rt, vt = elements_state(par[EV_MU], par[EV_A], par[EV_E], par[EV_I], par[EV_RAAN], par[EV_ARGP],
                            par[EV_M0], par[EV_T0], t)
    dx, dy, dz = y[0] - rt[0], y[1] - rt[1], y[2] - rt[2]
    if kind == EV_CLOSEST:
        return dx * (y[3] - vt[0]) + dy * (y[4] - vt[1]) + dz * (y[5] - vt[2])
    return math.sqrt(dx * dx + dy * dy + dz * dz) - par[EV_R]


@njit(cache=True, inline="always")
def _deriv(form, third, t, y, mode, att, p, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel):
    """dy/dt as a 6-tuple. ``form`` and ``third`` are constants of the integrator (:func:`_integrator`):
    numba drops the branches not taken, so an integrator without third bodies compiles none of their
    code. The right-hand sides take and return numbers, and the caller stores the tuple with
    :func:`_put_row` after the call: an array that an inlined helper still holds across a compiled call
    keeps an atomic reference-count increment and decrement per call (2026-12-02, perf on this machine:
    they were half the step loop's time)."""
    if form == FORM_MEE:
        return mee_derivative(t, y, mode, att, p, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel, third)
    return derivative(t, y, mode, att, p, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel, third)


@njit(cache=True, inline="always")
def _stage_deriv(form, third, t, y, mode, att, p, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel, rtn_force):
    """:func:`_deriv` for the step's stages, the hot call sites: on MEE without third bodies a segment in
    RTN mode (or sail off) takes ``sim.mee.mee_rtn_derivative`` with the segment's ``rtn_force``
    (``sim.mee.segment_rtn_force``): ten numbers per call instead of twenty-five, the same results to the
    bit, 12 % less time on the one-year benchmarks (2026-12-02). The once-per-segment calls keep
    :func:`_deriv`: each call site of this one adds ~0.3 s to the kernel's compilation."""
    if form == FORM_MEE and not third:  # compile-time constants: a separate test, so that numba prunes it
        if mode != MODE_INERTIAL:  # run time
            return mee_rtn_derivative(y[0], y[1], y[2], y[3], y[4], y[5], p[K_SCALE], rtn_force[0], rtn_force[1],
                                      rtn_force[2])
    return _deriv(form, third, t, y, mode, att, p, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel)


@njit(cache=True, inline="always")
def _put_row(K, row, d):
    """K[row, :] = the 6-tuple d, element by element (a view of K per stage would cost two atomic
    reference-count updates)."""
    K[row, 0] = d[0]
    K[row, 1] = d[1]
    K[row, 2] = d[2]
    K[row, 3] = d[3]
    K[row, 4] = d[4]
    K[row, 5] = d[5]


@njit(cache=True, inline="always")
def _cart(form, y, out):
    """The Cartesian state of integration state y (a copy for FORM_CARTESIAN)."""
    if form == FORM_MEE:
        mee_to_cart(y, out)
    else:
        _copy6(y, out)


@njit(cache=True, inline="always")
def _copy6(src, dst):
    """dst[:6] = src[:6] as a loop (a slice assignment compiles broadcasting and error paths)."""
    for i in range(6):
        dst[i] = src[i]


@njit(cache=True, inline="always")
def _combine(W, r, n, K):
    """sum_{j < n} W[r, j] K[j, :] as a 6-tuple, each component summed in j order (as a loop over the
    components with an inner loop over j would: the same numbers), but with the six sums as independent
    running totals, so that the processor overlaps them instead of waiting on one chain of adds; the
    tableau's zeros are skipped (adding 0 x K changes no sum). Rows by index: no array views."""
    a0 = a1 = a2 = a3 = a4 = a5 = 0.0
    for j in range(n):
        w = W[r, j]
        if w != 0.0:
            a0 += w * K[j, 0]
            a1 += w * K[j, 1]
            a2 += w * K[j, 2]
            a3 += w * K[j, 3]
            a4 += w * K[j, 4]
            a5 += w * K[j, 5]
    return a0, a1, a2, a3, a4, a5


@njit(cache=True, inline="always")
def _stage_state(s, K, y, h, out):
    """The state at which stage s is evaluated: y + h sum_j A[s, j] K[j] (s = 12: the new point, as
    A[12, :12] = B)."""
    a0, a1, a2, a3, a4, a5 = _combine(A, s, s, K)
    out[0] = y[0] + h * a0
    out[1] = y[1] + h * a1
    out[2] = y[2] + h * a2
    out[3] = y[3] + h * a3
    out[4] = y[4] + h * a4
    out[5] = y[5] + h * a5


@njit(cache=True)
def _dense_eval(t_old, h, y_old, F, t, out):
    s = (t - t_old) / h
    s1 = 1.0 - s
    for i in range(6):
        out[i] = y_old[i] + s * (F[0, i] + s1 * (F[1, i] + s * (F[2, i] + s1 * (F[3, i] + s * (
            F[4, i] + s1 * (F[5, i] + s * F[6, i]))))))


@njit(cache=True)
def _error_norm(K, h, y, y_new, rtol, atol, relw):
    e5 = 0.0
    e3 = 0.0
    s5 = _combine(E53, 0, 13, K)
    s3 = _combine(E53, 1, 13, K)
    for i in range(6):
        sc = atol[i] + rtol * relw[i] * max(abs(y[i]), abs(y_new[i]))
        e5 += (s5[i] / sc) ** 2
        e3 += (s3[i] / sc) ** 2
    if e5 == 0.0 and e3 == 0.0:
        return 0.0
    return abs(h) * e5 / math.sqrt((e5 + 0.01 * e3) * 6.0)


def _integrator(form, third=False):
    """The compiled step loop for one formulation (``form``: FORM_CARTESIAN or FORM_MEE, see
    :func:`integrate`), with third bodies (``third``) or without (then it refuses a non-empty table).

    ``form`` is a constant of the closure, so numba drops the other formulation's branches (here and in
    the inlined helpers ``_deriv`` and ``_cart``) before it compiles: the MEE kernel, the one every
    default propagation and plan uses, does not compile the Cartesian right-hand side (with its share of
    the step loop, 1.1 s of CPU of a first ``bliss propagate`` on an empty cache on this 2-core machine,
    2026-12-02, ``benchmarks/first_propagate_compiles.py``), and the other way round. numba's cache keeps
    the two kernels apart by their names and the closure's value of ``form``. ``third`` likewise: the
    third bodies' pull is compiled only into the ``*_third`` kernels, which a run with a third-body
    table uses (:func:`integrator`)."""

    def integrate_form(y0, seg_t, seg_mode, seg_att, p, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel,
                       rtol, atol, t_out, y_out, ev_kind, ev_par, ev_t, ev_y, ev_which, max_steps):
        if not third and tb_gm.shape[0] > 0:
            raise ValueError("this integrator has no third bodies: use sim.dop853.integrator(form, True)")
        nseg = seg_mode.shape[0]
        n_out = t_out.shape[0]
        n_ev_spec = ev_kind.shape[0]
        ev_cap = ev_t.shape[0]
        K = np.empty((16, 6))
        F = np.empty((7, 6))
        y = np.empty(6)
        # weights of the relative part of the error scale: the true longitude L of MEE grows without bound
        # (2 pi per revolution), so its error is held in absolute terms only
        relw = np.ones(6)
        if form == FORM_MEE:
            cart_to_mee(y0, y)
            relw[5] = 0.0
        else:
            _copy6(y0, y)
        yc = np.empty(6)  # Cartesian scratch for outputs and events
        y_new = np.empty(6)
        att = np.empty(4)
        ytmp = np.empty(6)
        g_old = np.empty(n_ev_spec)
        nfev = 0
        n_acc = 0
        n_rej = 0
        n_ev = 0
        status = STATUS_OK
        t = seg_t[0]
        j_out = 0
        while j_out < n_out and t_out[j_out] <= t:  # outputs at (or before) the start
            _copy6(y0, y_out[j_out])
            j_out += 1
        for e in range(n_ev_spec):
            g_old[e] = _event_g(ev_kind[e], ev_par[e], t, y0)
        h = 0.0
        steps = 0
        tu = math.sqrt(math.sqrt(y0[0] ** 2 + y0[1] ** 2 + y0[2] ** 2) ** 3 / GM_SUN)  # s, canonical time unit
        for k in range(nseg):
            t_end = seg_t[k + 1]
            mode = seg_mode[k]
            segment_attitude(mode, seg_att[k], att)
            if form == FORM_MEE and not third:  # only _stage_deriv's RTN path uses it
                rtn_force = segment_rtn_force(mode, att[0], att[1], att[2], att[3], sail_numbers(p))
            else:
                rtn_force = (0.0, 0.0, 0.0)
            _put_row(K, 0, _deriv(form, third, t, y, mode, att, p, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel))
            nfev += 1
            if h == 0.0:
                # initial step (Hairer et al. 1993, sec. II.4, simplified). Their formula assumes a problem
                # in unit-scaled time (it sets h^8 max(|f|, |f'|) = 0.01), so it is applied in the orbit's
                # canonical time unit tu = sqrt(r^3 / GM_sun) (58 d at 1 AU) and converted back: in seconds
                # it starts a sail's year with a 0.4 s step and spends ~8 steps growing it (6x per step)
                d0 = 0.0
                d1 = 0.0
                for i in range(6):
                    sc = atol[i] + rtol * relw[i] * abs(y[i])
                    d0 += (y[i] / sc) ** 2
                    d1 += (K[0, i] / sc) ** 2
                d0 = math.sqrt(d0 / 6.0)
                d1 = math.sqrt(d1 / 6.0) * tu
                h = 1e-6 * tu if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1 * tu
                for i in range(6):
                    ytmp[i] = y[i] + h * K[0, i]
                _put_row(K, 1, _deriv(form, third, t + h, ytmp, mode, att, p, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel))
                nfev += 1
                d2 = 0.0
                for i in range(6):
                    sc = atol[i] + rtol * relw[i] * abs(y[i])
                    d2 += ((K[1, i] - K[0, i]) / sc) ** 2
                d2 = math.sqrt(d2 / 6.0) / h * tu * tu
                if max(d1, d2) <= 1e-15:
                    h1 = max(1e-6 * tu, h * 1e-3)
                else:
                    h1 = (0.01 / max(d1, d2)) ** (1.0 / 8.0) * tu
                h = min(100.0 * h, h1)
            while t < t_end:
                if steps >= max_steps:
                    status = STATUS_MAX_STEPS
                    break
                h_try, last, what = step_to_try(t, h, t_end)
                if what == STEP_SLIVER:
                    t = t_end
                    break
                if what == STEP_UNDERFLOW:
                    status = STATUS_STEP_UNDERFLOW
                    break
                # --- one DOP853 step ---
                for s in range(1, N_STAGES):
                    _stage_state(s, K, y, h_try, ytmp)
                    _put_row(K, s, _stage_deriv(form, third, t + C[s] * h_try, ytmp, mode, att, p, tb_gm, tb_t0,
                                                tb_dt, tb_pos, tb_vel, rtn_force))
                _stage_state(12, K, y, h_try, y_new)
                t_new = t_end if last else t + h_try
                nfev += N_STAGES - 1
                steps += 1
                # the error estimate does not use the derivative at the new point (E5[12] = E3[12] = 0): that
                # stage waits until the step is accepted and something needs it (below)
                err = _error_norm(K, h_try, y, y_new, rtol, atol, relw)
                if err > 1.0:
                    n_rej += 1
                    h = step_after(h, h_try, err, last)
                    continue
                n_acc += 1
                # --- accepted: dense output only if something needs it in (t, t_new): an output exactly at
                # t_new (a segment switch, on the default grid) is y_new itself and costs no extra stages ---
                need_dense = j_out < n_out and t_out[j_out] < t_new
                g_new_any = False
                if n_ev_spec > 0:
                    _cart(form, y_new, yc)
                for e in range(n_ev_spec):
                    g_new = _event_g(ev_kind[e], ev_par[e], t_new, yc)
                    d = ev_par[e, EV_DIR] if ev_kind[e] != EV_CLOSEST else 1.0
                    crossed = (g_old[e] < 0.0 <= g_new and d >= 0.0) or (g_old[e] > 0.0 >= g_new and d <= 0.0)
                    if crossed:
                        g_new_any = True
                # Stage 12, the derivative at the new point, is the next step's first stage (FSAL) and a
                # dense-output stage; 13-15 are dense-output stages. A step that ends its segment needs stage
                # 12 for dense output only: the next segment starts with the derivative under its own
                # attitude (one evaluation of 13 per segment on a schedule flown one step per segment; a
                # rejected step no longer pays for it either). One call site for the four stages (each site adds
                # to the compilation, see _stage_deriv).
                dense = need_dense or g_new_any
                s_end = 16 if dense else 13
                for s in range(12 if (dense or not last) else s_end, s_end):
                    if s == 12:
                        t_s = t_new
                        _copy6(y_new, ytmp)
                    else:
                        t_s = t + C[s] * h_try
                        _stage_state(s, K, y, h_try, ytmp)
                    _put_row(K, s, _stage_deriv(form, third, t_s, ytmp, mode, att, p, tb_gm, tb_t0, tb_dt, tb_pos,
                                                tb_vel, rtn_force))
                    nfev += 1
                if dense:
                    for i in range(6):
                        dy = y_new[i] - y[i]
                        F[0, i] = dy
                        F[1, i] = h_try * K[0, i] - dy
                        F[2, i] = 2.0 * dy - h_try * (K[12, i] + K[0, i])
                    for r in range(4):
                        d = _combine(D, r, 16, K)
                        for i in range(6):
                            F[3 + r, i] = h_try * d[i]
                # events: locate on the dense output (bisection with regula falsi, Illinois variant)
                stop_t = t_new
                stopped = False
                for e in range(n_ev_spec):
                    g_new = _event_g(ev_kind[e], ev_par[e], t_new, yc)
                    d = ev_par[e, EV_DIR] if ev_kind[e] != EV_CLOSEST else 1.0
                    up = g_old[e] < 0.0 <= g_new
                    down = g_old[e] > 0.0 >= g_new
                    if (up and d >= 0.0) or (down and d <= 0.0):
                        ta, tb = t, t_new
                        ga, gb = g_old[e], g_new
                        side = 0
                        tc = tb
                        for _ in range(100):
                            tc = (ta * gb - tb * ga) / (gb - ga)
                            if not (ta < tc < tb):
                                tc = 0.5 * (ta + tb)
                            _dense_eval(t, h_try, y, F, tc, ytmp)
                            _cart(form, ytmp, yc)
                            gc = _event_g(ev_kind[e], ev_par[e], tc, yc)
                            if (gc < 0.0) == (ga < 0.0):
                                ta, ga = tc, gc
                                if side == -1:
                                    gb *= 0.5
                                side = -1
                            else:
                                tb, gb = tc, gc
                                if side == 1:
                                    ga *= 0.5
                                side = 1
                            if tb - ta < 1e-6 * max(1.0, abs(h_try)) * 1e-3 or gc == 0.0:
                                break
                        _dense_eval(t, h_try, y, F, tc, ytmp)
                        if n_ev < ev_cap:
                            ev_t[n_ev] = tc
                            _cart(form, ytmp, ev_y[n_ev])
                            ev_which[n_ev] = e
                            n_ev += 1
                        if ev_par[e, EV_TERMINAL] != 0.0 and tc <= stop_t:
                            stop_t = tc
                            stopped = True
                        # the search used yc as scratch: the next event is checked at the new point
                        _cart(form, y_new, yc)
                    g_old[e] = g_new
                # outputs in (t, stop_t]
                while j_out < n_out and t_out[j_out] <= stop_t:
                    if t_out[j_out] == t_new:
                        _cart(form, y_new, y_out[j_out])
                    else:
                        _dense_eval(t, h_try, y, F, t_out[j_out], ytmp)
                        _cart(form, ytmp, y_out[j_out])
                    j_out += 1
                if stopped:
                    _dense_eval(t, h_try, y, F, stop_t, y)
                    t = stop_t
                    status = STATUS_EVENT
                    break
                t = t_new
                _copy6(y_new, y)
                if not last:
                    for i in range(6):  # FSAL: the new point's derivative is the next step's first stage
                        K[0, i] = K[12, i]
                h = step_after(h, h_try, err, last)
            if status != STATUS_OK:
                break
        y_final = np.empty(6)
        _cart(form, y, y_final)
        return y_final, t, status, nfev, n_acc, n_rej, n_ev

    # its own name (in numba's cache folder, compile listings and errors), then compiled
    name = ("integrate_mee" if form == FORM_MEE else "integrate_cartesian") + ("_third" if third else "")
    integrate_form.__name__ = integrate_form.__qualname__ = name
    return njit(cache=True)(integrate_form)


integrate_mee = _integrator(FORM_MEE)
integrate_cartesian = _integrator(FORM_CARTESIAN)
#: The compiled integrator of each formulation (Sun and sail); numba code calls the one it needs directly.
INTEGRATORS = {FORM_MEE: integrate_mee, FORM_CARTESIAN: integrate_cartesian}
#: The same with the third bodies' pull (compiled on first use).
THIRD_BODY_INTEGRATORS = {FORM_MEE: _integrator(FORM_MEE, True), FORM_CARTESIAN: _integrator(FORM_CARTESIAN, True)}


def integrator(form, third: bool):
    """The compiled integrator of formulation ``form``, with the third bodies' pull if ``third`` (a
    non-empty third-body table)."""
    return (THIRD_BODY_INTEGRATORS if third else INTEGRATORS)[form]


def integrate(y0, seg_t, seg_mode, seg_att, p, tb_gm, tb_t0, tb_dt, tb_pos, tb_vel,
              rtol, atol, t_out, y_out, ev_kind, ev_par, ev_t, ev_y, ev_which, max_steps, form):
    """Integrate the Cartesian state y0 from seg_t[0] to seg_t[-1] over the attitude segments.

    ``form`` selects the variables integrated: FORM_CARTESIAN, or FORM_MEE (modified equinoctial
    elements; ``atol`` then applies to them, see ``sim.mee.mee_atol``). Inputs and outputs are Cartesian.

    Fills ``y_out`` (len(t_out), 6) at the requested times (sorted, within the span) and the event arrays
    (``ev_t`` (m,), ``ev_y`` (m, 6), ``ev_which`` (m,)) up to their capacity m.
    Returns (y_final (6,), t_final, status, nfev, n_accepted, n_rejected, n_events).
    Plain Python: the kernel of the formulation in :data:`INTEGRATORS` does the work.
    """
    return integrator(form, tb_gm.shape[0] > 0)(y0, seg_t, seg_mode, seg_att, p, tb_gm, tb_t0, tb_dt, tb_pos,
                                                tb_vel, rtol, atol, t_out, y_out, ev_kind, ev_par, ev_t, ev_y,
                                                ev_which, max_steps)


@njit(inline="always")
def _plain(form, y0, seg_t, seg_mode, seg_att, p, rtol, atol, t_out, y_out, max_steps):
    """The Sun-and-sail integrator of formulation ``form`` for a call with no third bodies and no events,
    with the ten arguments such a call needs: the empty tables are made inside. From Python a compiled
    call costs per argument it unboxes; on a one-year constant-cone propagation (~7 us of integration)
    the twenty arguments of the full kernel were 1.1 us more than these ten (2026-12-02, this machine).
    Returns what the full kernel returns. Inlined into the two kernels below, where ``form`` is a
    constant (as :func:`_final_state`). (A closure over the integrator kernel, as :func:`_integrator` is
    a closure over ``form``, missed numba's cache in every new process: a dispatcher in the closure
    keys the cache index differently each time.)"""
    integrate_form = integrate_mee if form == FORM_MEE else integrate_cartesian
    return integrate_form(y0, seg_t, seg_mode, seg_att, p, np.zeros(0), 0.0, 1.0, np.zeros((0, 2, 3)),
                          np.zeros((0, 2, 3)), rtol, atol, t_out, y_out, np.zeros(0, np.int64),
                          np.zeros((0, EV_NPAR)), np.zeros(0), np.zeros((0, 6)), np.zeros(0, np.int64), max_steps)


@njit(cache=True)
def integrate_plain_mee(y0, seg_t, seg_mode, seg_att, p, rtol, atol, t_out, y_out, max_steps):
    """:func:`integrate_mee` without third bodies and events (see :func:`_plain`)."""
    return _plain(FORM_MEE, y0, seg_t, seg_mode, seg_att, p, rtol, atol, t_out, y_out, max_steps)


@njit(cache=True)
def integrate_plain_cartesian(y0, seg_t, seg_mode, seg_att, p, rtol, atol, t_out, y_out, max_steps):
    """:func:`integrate_cartesian` without third bodies and events (see :func:`_plain`)."""
    return _plain(FORM_CARTESIAN, y0, seg_t, seg_mode, seg_att, p, rtol, atol, t_out, y_out, max_steps)


#: The no-third-bodies, no-events entry of each formulation (``sim.integrator.propagate``'s common call,
#: and :func:`integrate_final`'s).
PLAIN_INTEGRATORS = {FORM_MEE: integrate_plain_mee, FORM_CARTESIAN: integrate_plain_cartesian}


@njit(inline="always")
def _final_state(y0, seg_t, seg_mode, seg_att, p, rtol, form):
    """Final state only, Sun + sail, no third bodies, no output grid, no events. Inlined into the kernels
    below, where ``form`` is a constant: numba drops the other formulation's branch (:func:`_integrator`)."""
    if form == FORM_MEE:
        atol = mee_atol(rtol)
        integrate_form = integrate_plain_mee
    else:
        atol = default_atol(rtol)
        integrate_form = integrate_plain_cartesian
    # np.int64(...): a bare constant would be typed as a literal and compile the integrator a second time
    y, t, status, nfev, na, nr, ne = integrate_form(y0, seg_t, seg_mode, seg_att, p, rtol, atol, np.zeros(0),
                                                    np.zeros((0, 6)), np.int64(10_000_000))
    return y


@njit(cache=True)
def final_state_mee(y0, seg_t, seg_mode, seg_att, p, rtol):
    """The compiled core of :func:`integrate_final` on MEE, callable from numba code (``sim.batch``)
    with the argument types it lists (float64/int64 C arrays)."""
    return _final_state(y0, seg_t, seg_mode, seg_att, p, rtol, FORM_MEE)


@njit(cache=True)
def final_state_cartesian(y0, seg_t, seg_mode, seg_att, p, rtol):
    """As :func:`final_state_mee` on Cartesian coordinates."""
    return _final_state(y0, seg_t, seg_mode, seg_att, p, rtol, FORM_CARTESIAN)


#: The compiled final-state core of each formulation (see :data:`INTEGRATORS`).
FINAL_STATES = {FORM_MEE: final_state_mee, FORM_CARTESIAN: final_state_cartesian}


def writable_c(a, dtype=np.float64):
    """``a`` as a C-contiguous, writable array of ``dtype`` (a copy only if it is not one already).

    numba compiles a kernel once per argument *type*, and a read-only or non-contiguous array is a
    different type from a writable contiguous one: every array handed to a kernel from Python goes
    through here, so each kernel is compiled for one signature only."""
    a = np.ascontiguousarray(a, dtype=dtype)
    return a if a.flags.writeable else a.copy()


def integrate_final(y0, seg_t, seg_mode, seg_att, p, rtol, form=FORM_MEE):
    """Final state only, Sun + sail, no third bodies, no output grid, no events (optimiser workhorse).

    Plain arrays as :func:`integrate` takes them; ``p`` from ``Sail.kernel_params()``. From numba code
    call the formulation's kernel in :data:`FINAL_STATES` (all arguments given, as float64/int64 C arrays)."""
    return FINAL_STATES[form](writable_c(y0), writable_c(seg_t), writable_c(seg_mode, np.int64),
                              writable_c(seg_att), writable_c(p), float(rtol))
