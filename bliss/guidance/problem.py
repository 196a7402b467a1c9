"""Transfer-problem definitions shared by the ground's guidance modules (planning and its contract).

A :class:`TransferProblem` says *who* flies (a :class:`sim.sail.Sail`), *from where and when* (departure
epoch and heliocentric state), *to what* (a :class:`Target`: a small body, any state function, or an
orbit given by elements) and *within which limits* (:class:`Limits`). Planners (the feedback law in
``feedback.py``, the optimiser in ``optimise.py``) return a :class:`TransferResult` whose schedule can be
replayed exactly by :func:`sim.integrator.propagate`.

Units: SI and radians; time is TDB seconds past J2000; frame heliocentric ecliptic J2000.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from bliss.fsw.messages import TargetPrediction
from sim.constants import GM_SUN
from sim.ephemeris import SmallBody, body_state
from sim.kepler import elements_state, rv2coe, true_to_mean
from sim.sail import Sail

if TYPE_CHECKING:  # pragma: no cover - typing only
    from sim.integrator import Schedule, ThirdBodies

#: Index names of the orbit-only target elements array ``[a, e, i, raan, argp, M0, epoch_t]``.
EL_A, EL_E, EL_I, EL_RAAN, EL_ARGP, EL_M0, EL_EPOCH = range(7)


@dataclass
class Target:
    """What to rendezvous with (or whose orbit to match).

    Give exactly one source of truth for the target's motion; :meth:`state` picks, in order:

    - ``state_fn``: any callable ``t_tdb_s -> (r [m] (3,), v [m/s] (3,))``;
    - ``body``: a :class:`sim.ephemeris.SmallBody` (its ``state(t)`` or ``sim.ephemeris.body_state``);
    - ``elements``: ``[a m, e, i rad, raan rad, argp rad, M0 rad, epoch_t TDB s]`` propagated as a
      two-body (Kepler) orbit about the Sun (GM_SUN, JPL DE430). Two-body motion drifts from a real
      asteroid's orbit over decades (planetary perturbations, Yarkovsky); fine for planning.
    """

    name: str
    body: "SmallBody | None" = None
    state_fn: Callable[[float], tuple[np.ndarray, np.ndarray]] | None = None
    elements: np.ndarray | None = None

    def __post_init__(self):
        if self.elements is not None:
            el = np.asarray(self.elements, dtype=float).reshape(-1)
            if el.size != 7 or not np.all(np.isfinite(el)):
                raise ValueError(
                    f"target {self.name!r}: elements must be 7 finite numbers "
                    "[a m, e, i rad, raan rad, argp rad, M0 rad, epoch TDB s]")
            if not (el[EL_A] > 0 and 0 <= el[EL_E] < 1):
                raise ValueError(f"target {self.name!r}: elements need a > 0 m and 0 <= e < 1 (ellipse)")
            self.elements = el
        if self.state_fn is None and self.body is None and self.elements is None:
            raise ValueError(f"target {self.name!r}: give one of state_fn, body or elements")

    def state(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Heliocentric ecliptic J2000 position [m] and velocity [m/s] at TDB seconds ``t``."""
        if self.state_fn is not None:
            r, v = self.state_fn(float(t))
            return np.asarray(r, dtype=float), np.asarray(v, dtype=float)
        if self.body is not None:
            if hasattr(self.body, "state"):
                r, v = self.body.state(float(t))
            else:  # pragma: no cover - depends on sim.ephemeris' final shape
                r, v = body_state(self.body, float(t))
            return np.asarray(r, dtype=float), np.asarray(v, dtype=float)
        el = self.elements
        r, v = elements_state(GM_SUN, el[0], el[1], el[2], el[3], el[4], el[5], el[6], float(t))
        return np.asarray(r, dtype=float), np.asarray(v, dtype=float)

    def orbit_elements(self, t: float | None = None) -> np.ndarray:
        """Osculating ``[a, e, i, raan, argp]`` (m, rad) of the target (at ``t`` if it is not an elements target)."""
        if self.elements is not None:
            return self.elements[:5].copy()
        if t is None:
            raise ValueError(f"target {self.name!r}: give a time to evaluate its osculating elements")
        r, v = self.state(t)
        coe = rv2coe(GM_SUN, r, v)
        return np.asarray(coe[:5], dtype=float)

    @property
    def two_body(self) -> bool:
        """True when the target moves on fixed two-body elements (``elements`` or a ``SmallBody``): its
        :meth:`prediction` is then the same message at every time."""
        return self.state_fn is None and (self.body is None or isinstance(self.body, SmallBody))

    def prediction(self, t: float) -> TargetPrediction:
        """The target prediction the ground uploads to the flight software at ``t``: two-body elements.

        For ``elements`` or a ``SmallBody`` these are its own elements, so the onboard prediction
        (``bliss.fsw.target``) equals :meth:`state` exactly. For a target known only as a state function
        (or a body without elements) the flight software gets the osculating elements of its state at
        ``t`` (epoch ``t``): a fresh orbit determination of the target, to be re-sent every guidance step.
        The onboard prediction then follows the true state only as far as two-body motion does: exactly
        at ``t``, drifting ahead of it (planetary perturbations) toward the arrival epoch.
        """
        if self.state_fn is None and self.body is None:
            return TargetPrediction(self.name, self.elements, GM_SUN)
        if isinstance(self.body, SmallBody) and self.state_fn is None:
            return TargetPrediction(self.name, self.body.kernel_elements()[1:], self.body.mu)
        r, v = self.state(t)
        a, e, i, raan, argp, nu = rv2coe(GM_SUN, r, v)
        return TargetPrediction(self.name, [a, e, i, raan, argp, true_to_mean(nu, e), float(t)], GM_SUN)


@dataclass
class Limits:
    """Attitude limits a schedule must respect.

    max_cone_deg: 70 deg by default. The ideal sail's thrust falls as cos^2(cone) (cos^2 70 deg = 0.12
        of the Sun-facing value) while the useful transverse component cos^2 sin peaks at 35.26 deg
        (McInnes 1999, sec. 4.3); beyond ~70 deg the force is too small to be worth the attitude
        sensitivity and a real film's non-ideal losses, so optimal transfers seldom need more. It is
        a bound on every segment's cone angle.
    max_slew_deg_per_day: 10 deg/day by default, a limit on the *schedule* (change of the sail normal
        between successive segments divided by the segment duration), not on the actuator: BLISS's
        centre-of-mass-offset torque (order 1e-7 N m, PisterLab bliss-low-level 2020, see
        shared/reference.md) turns the sail in minutes, but a gentle schedule keeps attitude control
        far from saturation and the trajectory robust to attitude errors.
    """

    max_cone_deg: float = 70.0
    max_slew_deg_per_day: float = 10.0

    def __post_init__(self):
        if not (math.isfinite(self.max_cone_deg) and 0.0 < self.max_cone_deg <= 90.0):
            raise ValueError(f"max_cone_deg must lie in (0, 90] degrees, got {self.max_cone_deg!r}")
        if not (math.isfinite(self.max_slew_deg_per_day) and self.max_slew_deg_per_day > 0.0):
            raise ValueError(f"max_slew_deg_per_day must be positive degrees per day, got {self.max_slew_deg_per_day!r}")


@dataclass
class TransferProblem:
    """A sail transfer: sail, departure epoch/state, target, limits, fixed or free time of flight.

    ``third_bodies``: optional planet table (``sim.integrator.ThirdBodies``, e.g. built by
    ``bliss.cli.third_bodies.third_body_table``) for the force model the final schedule must close in.
    The optimiser's core and the feedback law stay Sun + sail; only the optimiser's DOP853 polish and
    the replays fly the planets (see ``bliss.guidance.optimise``). The table must start at or before
    ``t_depart`` and reach past the arrival, else propagation raises ValueError. None: Sun + sail.
    """

    sail: Sail
    t_depart: float            # TDB s past J2000
    y_depart: np.ndarray       # (6,) departure heliocentric state [m, m/s]
    target: Target
    limits: Limits = field(default_factory=Limits)
    tof_fixed: float | None = None  # [s]; None = free final time (minimum time)
    rendezvous: bool = True         # False = match the target's orbit only (5 elements)
    third_bodies: "ThirdBodies | None" = None  # planets for the polish and the replay; None = Sun + sail

    def __post_init__(self):
        y = np.asarray(self.y_depart, dtype=float).reshape(-1)
        if y.size != 6 or not np.all(np.isfinite(y)):
            raise ValueError("y_depart must be 6 finite numbers [x, y, z m, vx, vy, vz m/s]")
        self.y_depart = y
        if not math.isfinite(self.t_depart):
            raise ValueError(f"t_depart must be finite TDB seconds past J2000, got {self.t_depart!r}")
        if self.tof_fixed is not None and not (math.isfinite(self.tof_fixed) and self.tof_fixed > 0):
            raise ValueError(f"tof_fixed must be a positive number of seconds or None, got {self.tof_fixed!r}")
        if self.third_bodies is not None:
            if not hasattr(self.third_bodies, "covers"):
                raise TypeError("third_bodies must be a sim.integrator.ThirdBodies table or None")
            if not self.third_bodies.covers(self.t_depart, self.t_depart):
                raise ValueError("the third-body table does not cover the departure epoch; build it from "
                                 "t_depart onward")

    @property
    def third_body_names(self) -> tuple[str, ...]:
        """Names of the perturbing planets (empty: Sun + sail only)."""
        return tuple(self.third_bodies.names) if self.third_bodies is not None else ()


@dataclass
class TransferResult:
    """A planned transfer. ``schedule`` replays exactly with :func:`sim.integrator.propagate`."""

    problem: TransferProblem
    schedule: "Schedule"
    tof: float                 # [s]
    y_final: np.ndarray        # (6,) propagated final state [m, m/s]
    miss_pos: float            # [m], |r_final - r_target(t_final)| (orbit-only: element-space miss, see history)
    miss_vel: float            # [m/s]
    converged: bool
    method: str                # "feedback", "multiple-shooting N=.."
    history: dict[str, Any] = field(default_factory=dict)  # iterations, constraint violation, timings


def departure_state(t_depart: float, v_inf=np.zeros(3), ephem: str = "builtin") -> np.ndarray:
    """Heliocentric ecliptic J2000 state (6,) [m, m/s] of the Earth at ``t_depart`` plus excess velocity.

    ``v_inf`` [m/s] (3,) is the hyperbolic excess velocity in the same frame (zero: leave with the
    Earth's velocity). ``ephem``: the ``sim.ephemeris`` source of the Earth's state, "builtin" (default)
    or "de421" (Earth differs by ~1.4-2.3 km, 1.2-1.7 mm/s at the CLI's default dates; docs/ephemerides.md). The Earth's own gravity after departure is neglected (the sail starts at the
    Earth's centre's heliocentric state), a standard patched-conic approximation for planning.
    """
    v_inf = np.asarray(v_inf, dtype=float).reshape(-1)
    if v_inf.size != 3 or not np.all(np.isfinite(v_inf)):
        raise ValueError("v_inf must be 3 finite numbers in m/s")
    r, v = body_state("earth", float(t_depart), ephem)
    return np.concatenate([np.asarray(r, dtype=float), np.asarray(v, dtype=float) + v_inf])
