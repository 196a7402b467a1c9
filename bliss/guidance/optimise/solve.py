"""Solving the minimum-time and fixed-time transfers: least-squares feasibility with TOF continuation,
SLSQP, the DOP853 polish and the replayed result (the public entry points ``minimise_time`` and
``solve_fixed_time``; see ``bliss.guidance.optimise`` for the method).
"""
from __future__ import annotations

import math
import time as _time

import numpy as np
from scipy.optimize import least_squares, minimize
from threadpoolctl import threadpool_limits

from bliss.guidance.optimise.guesses import DEFAULT_TOF_GUESS, crude_guess, from_warm
from bliss.guidance.optimise.kernels import chain_jacobian, shoot_rk4
from bliss.guidance.optimise.transcription import (INV_SCALE, TAU_MIN, TOF_MAX, TU, Transcription,
                                                   orbit_invariants)
from bliss.guidance.problem import TransferProblem, TransferResult
from sim.constants import AU, DAY, GM_SUN
from sim.integrator import Schedule, propagate, propagate_final

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

#: A non-converged warm start is used only if its miss is below this [m] (0.05 AU): a feedback run that
#: ends far from the target carries no useful phasing and its TOF is just the give-up time.
WARM_MAX_MISS = 0.05 * AU
#: Feasibility is accepted when the largest scaled equality residual is below this (1e-7 AU = 15 km,
#: 1e-7 VU = 3 mm/s); the polish then tightens the closure with DOP853.
FEAS_TOL = 1e-7


# ----------------------------------------------------------------------------------------------------
# polish and result
# ----------------------------------------------------------------------------------------------------
def _schedule(problem, tof, att):
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
    s = _schedule(problem, tof, att)
    if problem.third_bodies is not None:
        return propagate(problem.y_depart, s, problem.sail, rtol=REPLAY_RTOL,
                         third_bodies=problem.third_bodies).y_final
    return propagate_final(problem.y_depart, s.t, s.mode, s.att, problem.sail.kernel_params(), REPLAY_RTOL)


def _terminal_residual(problem, tof, y, tr: Transcription):
    """Scaled terminal residual (the transcription's last rows) for a final state y."""
    if problem.rendezvous:
        rT, vT = problem.target.state(problem.t_depart + tof)
        return (y - np.concatenate([rT, vT])) * INV_SCALE
    return orbit_invariants(y, tr.P, tr.Q) - tr.gT


def _miss(problem, tof, y, tr: Transcription):
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


def _polish(problem, tof, att, tr: Transcription, tol_pos, tol_vel, max_iter=8, free_tof=False):
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
        dR_dy = np.diag(INV_SCALE) if problem.rendezvous else tr._invariant_jacobian(y)
        J = dR_dy @ datt.reshape(6, -1)
        if free_tof:  # d residual / d tau: all N segments stretch by TU/N, and the target moves on
            dR_dtau = dR_dy @ dh * (TU / n)
            if problem.rendezvous:
                t_end = problem.t_depart + tof
                rT, vT = problem.target.state(t_end)
                dR_dtau = dR_dtau - tr._target_rate(t_end, rT, vT) * INV_SCALE * TU
            J = np.column_stack([J, dR_dtau])
        step = np.linalg.lstsq(J, -res, rcond=None)[0]
        if free_tof:
            tof = float(np.clip(tof + step[-1] * TU, TAU_MIN * TU, TOF_MAX))
            step = step[:-1]
        att = att + step.reshape(-1, 2)
        att[:, 0] = np.clip(att[:, 0], -tr.cone_max, tr.cone_max)
    return best


def _result(problem, tof, att, tr, method, history, tol_pos, tol_vel, optimal_ok):
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
        tof, att, states = from_warm(problem, warm, n_segments)
        return tof, att, states, f"warm:{warm.method}"
    if tof_guess is None:
        tof_guess = problem.tof_fixed if problem.tof_fixed is not None else DEFAULT_TOF_GUESS
    att, states = crude_guess(problem, float(tof_guess), n_segments)
    return float(tof_guess), att, states, "crude-hermite"


def _feasibility(tr: Transcription, x0, fixed_tau: bool, max_nfev: int, prog):
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
    tr = Transcription(problem, n_segments, n_arcs, tof_max=1.6 * tof)
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
    s = warm.schedule
    t = s.t[0] + (s.t - s.t[0]) * (tof / (s.t[-1] - s.t[0]))
    return TransferResult(warm.problem, Schedule(t, s.mode.copy(), s.att.copy()), tof, warm.y_final,
                          warm.miss_pos, warm.miss_vel, warm.converged, warm.method, dict(warm.history))


def kkt_residual(tr: Transcription, x, active_tol: float = 1e-7) -> float:
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


def _slsqp(tr: Transcription, x0, fixed_tau: bool, max_iter: int, prog):
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
                   progress=None, extra_guesses=(), extra_results=(), **kwargs) -> TransferResult:
    """Minimum-time transfer (see :func:`_minimise_time_single` for the method and keyword arguments:
    n_arcs, tof_guess [s], tol_pos [m], tol_vel [m/s], max_iter, continuation, feas_nfev).

    Multi-start: the main solve (from ``warm`` or the crude guess at ``tof_guess``) plus one crude-guess
    solve per TOF in ``extra_guesses`` [s]; the shortest converged result wins (else the one with the
    smallest miss); ``history["multi_start"]`` lists (start TOF d, TOF d, converged) of every run.
    ``extra_results`` are such crude-guess runs already made (e.g. in another process while the warm start
    was flown), counted as if run here after the ``extra_guesses``.
    Transfers with different revolution counts / phasing are separate local optima, so a few guesses
    (e.g. 250, 365, 500 days for Bennu) are worth their cost."""
    extra = [float(g) for g in extra_guesses]
    if not all(math.isfinite(g) and g > 0 for g in extra):
        raise ValueError("extra_guesses must be positive times of flight in seconds")
    runs = [_minimise_time_single(problem, warm, n_segments, progress, **kwargs)]
    kwargs.pop("tof_guess", None)
    for g in extra:
        runs.append(_minimise_time_single(problem, None, n_segments, progress, tof_guess=g, **kwargs))
    runs += list(extra_results)
    if len(runs) == 1:
        return runs[0]
    ok = [r for r in runs if r.converged]
    best = min(ok, key=lambda r: r.tof) if ok else min(runs, key=lambda r: r.miss_pos / TOL_POS + r.miss_vel / TOL_VEL)
    best.history["multi_start"] = [(r.history.get("tof_start_days"), r.tof / DAY, r.converged) for r in runs]
    return best


minimise_time = _single_blas_thread(_minimise_time)
solve_fixed_time = _single_blas_thread(_solve_fixed_time)
