"""Minimum-time solar-sail transfers by direct multiple shooting (issue 4, G2).

Modules: ``kernels`` (the compiled RK4 and variational equations), ``transcription`` (decision vector,
constraints, Jacobians), ``guesses`` (starting guesses), ``solve`` (feasibility, SLSQP, polish, the
public entry points). This package re-exports the public names.

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
from bliss.guidance.optimise.guesses import DEFAULT_TOF_GUESS, crude_guess
from bliss.guidance.optimise.kernels import chain_jacobian, shoot_rk4
from bliss.guidance.optimise.solve import (FEAS_TOL, KKT_TOL, REPLAY_RTOL, SLEW_TOL_DEG, SLSQP_FTOL, TOL_POS,
                                           TOL_VEL, WARM_MAX_MISS, kkt_residual, minimise_time,
                                           solve_fixed_time)
from bliss.guidance.optimise.transcription import DEFAULT_STEP, TAU_MAX, TAU_MIN, TOF_MAX, TU, VU, Transcription

__all__ = ["DEFAULT_STEP", "DEFAULT_TOF_GUESS", "FEAS_TOL", "KKT_TOL", "REPLAY_RTOL", "SLEW_TOL_DEG",
           "SLSQP_FTOL", "TAU_MAX", "TAU_MIN", "TOF_MAX", "TOL_POS", "TOL_VEL", "TU", "VU", "WARM_MAX_MISS",
           "Transcription", "chain_jacobian", "crude_guess", "kkt_residual", "minimise_time", "shoot_rk4",
           "solve_fixed_time"]
