"""Propagation of a sail trajectory: the public face of the compiled DOP853 integrator.

Units: SI (m, m/s, s); time is TDB seconds past J2000.0; frame heliocentric ecliptic J2000. Users who
hold astropy Quantities convert at this boundary (``propagate`` accepts a Quantity state too).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim import dop853
from sim.dop853 import writable_c
from sim.dynamics import (MODE_INERTIAL, MODE_OFF, MODE_RTN, SCHEDULE_BAD_ATTITUDE, SCHEDULE_BAD_MODE,
                          SCHEDULE_BAD_NORMAL, SCHEDULE_BAD_TIMES, SCHEDULE_OK, empty_third_bodies,
                          schedule_problem)
from sim.kepler import elements_state
from sim.sail import Sail

_SCHEDULE_ERRORS = {
    SCHEDULE_BAD_TIMES: "schedule switch times must be finite and strictly increasing",
    SCHEDULE_BAD_MODE: "schedule modes must be 0 (off), 1 (RTN cone/clock) or 2 (inertial normal)",
    SCHEDULE_BAD_ATTITUDE: "schedule attitudes must be finite numbers",
    SCHEDULE_BAD_NORMAL: "inertial sail normals must be unit vectors",
}


@dataclass
class Schedule:
    """Zero-order-hold attitude schedule: segment k holds ``mode[k]``/``att[k]`` for t[k] <= t < t[k+1].

    ``mode``: 0 sail off, 1 cone/clock fixed in the RTN frame (att = [cone, clock, 0] rad),
    2 sail normal fixed in the inertial frame (att = unit vector).
    """

    t: np.ndarray
    mode: np.ndarray
    att: np.ndarray

    def __post_init__(self):
        self.t = writable_c(self.t).reshape(-1)
        self.mode = writable_c(self.mode, np.int64).reshape(-1)
        self.att = writable_c(self.att).reshape(-1, 3)
        self._check()

    def _check(self):
        t, mode, att = self.t, self.mode, self.att
        n = mode.shape[0]
        if n < 1 or t.shape[0] != n + 1 or att.shape[0] != n:
            raise ValueError(f"schedule needs n+1 switch times for n segments, got {t.shape[0]} times, "
                             f"{n} modes and {att.shape[0]} attitudes")
        problem = schedule_problem(t, mode, att)
        if problem != SCHEDULE_OK:
            raise ValueError(_SCHEDULE_ERRORS[problem])

    @classmethod
    def _of_kernel_arrays(cls, t, mode, att):
        """A schedule of arrays already in the kernels' form (C-contiguous, writable float64 t (n+1,) and
        att (n, 3), int64 mode (n,)), checked but not converted: the constructors below build such arrays,
        and on a one-year propagation of a few microseconds the conversions were a tenth of the call."""
        self = object.__new__(cls)
        self.t, self.mode, self.att = t, mode, att
        self._check()
        return self

    @property
    def t0(self) -> float:
        return float(self.t[0])

    @property
    def t1(self) -> float:
        return float(self.t[-1])

    @property
    def n_segments(self) -> int:
        return int(self.mode.shape[0])

    @classmethod
    def constant_rtn(cls, t0, t1, cone, clock=0.0):
        """One segment, cone/clock [rad] fixed in the orbit frame from t0 to t1 [s]."""
        return cls(np.array([t0, t1]), np.array([MODE_RTN]), np.array([[cone, clock, 0.0]]))

    @classmethod
    def from_rtn(cls, times, cones, clocks):
        """Segments with cone/clock [rad] fixed in the orbit frame; len(times) = len(cones) + 1."""
        cones = np.asarray(cones, dtype=float).reshape(-1)
        n = cones.shape[0]
        att = np.zeros((n, 3))
        att[:, 0] = cones
        att[:, 1] = clocks
        mode = np.empty(n, np.int64)
        mode.fill(MODE_RTN)  # (np.full is 4x slower on a few elements)
        return cls._of_kernel_arrays(writable_c(times).reshape(-1), mode, att)

    @classmethod
    def from_normals(cls, times, normals):
        """Segments with an inertially fixed unit sail normal each; len(times) = len(normals) + 1."""
        normals = np.asarray(normals, dtype=float).reshape(-1, 3)
        return cls(np.asarray(times, dtype=float), np.full(normals.shape[0], MODE_INERTIAL), normals)

    @classmethod
    def off(cls, t0, t1):
        """Sail off (pure two-body motion about the Sun, plus any third bodies)."""
        return cls(np.array([t0, t1]), np.array([MODE_OFF]), np.zeros((1, 3)))

    def truncated(self, t_end) -> "Schedule":
        """The same schedule cut (or extended, holding the last attitude) to end at t_end."""
        if t_end <= self.t[0]:
            raise ValueError("t_end must be after the schedule start")
        k = int(np.searchsorted(self.t, t_end, side="left"))
        k = min(max(k, 1), self.n_segments)
        t = np.concatenate([self.t[:k], [t_end]])
        return Schedule(t, self.mode[:k].copy(), self.att[:k].copy())


@dataclass
class ThirdBodies:
    """Point-mass perturbers from a uniform table (see ``sim.ephemeris.planet_table``)."""

    gm: np.ndarray      # (nb,) m^3/s^2
    t0: float           # s, time of the first sample
    dt: float           # s, sample spacing
    pos: np.ndarray     # (nb, nt, 3) m, heliocentric
    vel: np.ndarray     # (nb, nt, 3) m/s
    names: tuple = ()

    @classmethod
    def from_planet_table(cls, table, names=()):
        """From the ``(gms, t0, dt, pos, vel)`` tuple of ``sim.ephemeris.planet_table``."""
        gms, t0, dt, pos, vel = table
        return cls(np.asarray(gms, float), float(t0), float(dt), np.asarray(pos, float),
                   np.asarray(vel, float), tuple(names))

    def covers(self, t0, t1) -> bool:
        return self.t0 <= min(t0, t1) and max(t0, t1) <= self.t0 + self.dt * (self.pos.shape[1] - 1)

    def arrays(self):
        return (writable_c(self.gm), float(self.t0), float(self.dt), writable_c(self.pos), writable_c(self.vel))


@dataclass(frozen=True)
class EventSpec:
    """An event to watch for: build with the class methods."""

    kind: int
    params: np.ndarray
    name: str

    @classmethod
    def closest_approach(cls, target_elements, name="closest_approach", terminal=False):
        """Local minima of the distance to a Keplerian target.

        ``target_elements``: [mu, a, e, i, raan, argp, M0, t0] (SI, rad, mean anomaly M0 at t0), or an
        object with a ``kernel_elements()`` method returning that array (e.g. ``sim.ephemeris.SmallBody``).
        """
        el = _kernel_elements(target_elements)
        par = np.zeros(dop853.EV_NPAR)
        par[dop853.EV_TERMINAL] = float(terminal)
        par[dop853.EV_DIR] = 1.0
        par[dop853.EV_MU:dop853.EV_T0 + 1] = el
        return cls(dop853.EV_CLOSEST, par, name)

    @classmethod
    def sun_distance(cls, radius_m, direction=0, name="sun_distance", terminal=False):
        """Heliocentric distance crossing ``radius_m`` (direction +1 outward, -1 inward, 0 both)."""
        par = np.zeros(dop853.EV_NPAR)
        par[dop853.EV_TERMINAL] = float(terminal)
        par[dop853.EV_DIR] = float(direction)
        par[dop853.EV_R] = _positive(radius_m, "radius_m")
        return cls(dop853.EV_SUN_DISTANCE, par, name)

    @classmethod
    def target_distance(cls, target_elements, radius_m, direction=-1, name="target_distance", terminal=False):
        """Distance to a Keplerian target crossing ``radius_m`` (default: coming closer)."""
        ev = cls.closest_approach(target_elements)
        par = ev.params.copy()
        par[dop853.EV_TERMINAL] = float(terminal)
        par[dop853.EV_DIR] = float(direction)
        par[dop853.EV_R] = _positive(radius_m, "radius_m")
        return cls(dop853.EV_TARGET_DISTANCE, par, name)


@dataclass
class Event:
    name: str
    t: float            # TDB s past J2000
    y: np.ndarray       # (6,) state at the event
    distance: float     # m: to the target (target events) or to the Sun


@dataclass
class Trajectory:
    t: np.ndarray                 # (n,) output times
    y: np.ndarray                 # (n, 6) states, m and m/s
    t_final: float
    y_final: np.ndarray
    status: int                   # 0 done, 1 stopped by a terminal event
    nfev: int
    n_steps: int
    n_rejected: int
    events: list = field(default_factory=list)

    @property
    def r(self):
        return self.y[:, :3]

    @property
    def v(self):
        return self.y[:, 3:]


def _positive(x, what):
    x = float(x)
    if not (math.isfinite(x) and x > 0):
        raise ValueError(f"{what} must be a positive finite number, got {x!r}")
    return x


def _kernel_elements(target):
    if hasattr(target, "kernel_elements"):
        target = target.kernel_elements()
    el = np.asarray(target, dtype=float).reshape(-1)
    if el.shape != (8,) or not np.all(np.isfinite(el)):
        raise ValueError("target elements must be 8 finite numbers [mu, a, e, i, raan, argp, M0, t0]")
    return el


def _state_array(y0):
    if hasattr(y0, "unit"):
        raise ValueError("pass the state as a plain array [m, m/s] or use sim.frames helpers for Quantities")
    y = writable_c(y0).reshape(-1)
    # (a sum of the numbers is non-finite when one is (or when they overflow, as no state does): the cheap
    # check on this per-call path; as Python floats, 3x faster than a numpy reduction on 6 numbers)
    vals = y.tolist()
    if len(vals) != 6 or not math.isfinite(sum(vals)):
        raise ValueError(f"initial state must be 6 finite numbers [x, y, z, vx, vy, vz] in m and m/s, got {y0!r}")
    if not (vals[0] or vals[1] or vals[2]):
        raise ValueError("initial position must not be the Sun's centre")
    return y


_FORMS = {"mee": dop853.FORM_MEE, "cartesian": dop853.FORM_CARTESIAN}
_NO_THIRD_BODIES = empty_third_bodies()

#: Empty event arrays (read-only in the kernel), shared by every call without events.
_NO_EVENTS = (np.zeros(0, np.int64), np.zeros((0, dop853.EV_NPAR)), np.zeros(0), np.zeros((0, 6)),
              np.zeros(0, np.int64))


#: Default absolute tolerances by (rtol, formulation), read-only in the kernel: built once, not per call.
_DEFAULT_ATOL: dict = {}


def _default_atol(rtol, form):
    """As sim.mee.mee_atol / sim.dop853.default_atol, without a compiled call on this per-call path."""
    atol = _DEFAULT_ATOL.get((rtol, form))
    if atol is None:
        pos, vel = rtol * dop853.ATOL_POS_PER_RTOL, rtol * dop853.ATOL_VEL_PER_RTOL
        atol = np.array([pos, rtol, rtol, rtol, rtol, rtol] if form == dop853.FORM_MEE else [pos] * 3 + [vel] * 3)
        if len(_DEFAULT_ATOL) < 256:  # an optimiser sweeping rtol must not grow it without bound
            _DEFAULT_ATOL[(rtol, form)] = atol
    return atol


def propagate(y0, schedule: Schedule, sail: Sail, t_out=None, rtol=1e-10, atol=None,
              third_bodies: ThirdBodies | None = None, events=(), max_steps=5_000_000,
              max_events=10_000, formulation="mee") -> Trajectory:
    """Fly ``schedule`` from state ``y0`` (at ``schedule.t0``) to ``schedule.t1`` with ``sail``.

    ``t_out``: output times (sorted, within the schedule's span); default: the segment switch times.
    ``rtol``: relative tolerance of the embedded error estimate; ``atol`` defaults to
    ``sim.dop853.default_atol(rtol)``. ``third_bodies``: optional point-mass perturbers.
    ``events``: a sequence of :class:`EventSpec`.
    ``formulation``: the variables integrated, ``"mee"`` (modified equinoctial elements, default: far
    fewer steps for a sail's slow, smooth push) or ``"cartesian"``. Inputs and outputs are Cartesian
    either way, and ``atol`` applies to the integrated variables.
    """
    y0 = _state_array(y0)
    if not (0 < rtol < 1e-2):
        raise ValueError(f"rtol must be in (0, 1e-2), got {rtol!r}")
    form = _FORMS.get(formulation)
    if form is None:
        raise ValueError(f"formulation must be one of {sorted(_FORMS)}, got {formulation!r}")
    if atol is None:
        atol = _default_atol(rtol, form)
    else:
        atol = np.broadcast_to(np.asarray(atol, float), (6,)).copy()
    if t_out is None:
        t_out = schedule.t  # validated with the schedule; read-only in the kernel
    else:
        t_out = writable_c(t_out).reshape(-1)
        n_out = t_out.shape[0]
        # (.item(): Python floats compare 5x faster than numpy scalars)
        if n_out and (t_out.item(0) < schedule.t.item(0) or t_out.item(-1) > schedule.t.item(-1)
                      or (n_out > 1 and (t_out[1:] < t_out[:-1]).any())):
            raise ValueError("t_out must be sorted and lie within the schedule's time span")
    if third_bodies is None:
        tb = _NO_THIRD_BODIES
    else:
        if not third_bodies.covers(schedule.t0, schedule.t1):
            raise ValueError("the third-body table does not cover the propagation span; build it over "
                             "the whole span")
        tb = third_bodies.arrays()
    events = list(events)
    y_out = np.empty((t_out.shape[0], 6))
    y_out.fill(np.nan)  # (np.full is 4x slower on a few rows)
    if not events and tb is _NO_THIRD_BODIES:
        y, t, status, nfev, nacc, nrej, nev = dop853.PLAIN_INTEGRATORS[form](
            y0, schedule.t, schedule.mode, schedule.att, sail.kernel_array, float(rtol), atol, t_out, y_out,
            int(max_steps))
    else:
        if events:
            ev_kind = np.array([e.kind for e in events], dtype=np.int64)
            ev_par = np.array([e.params for e in events], dtype=np.float64).reshape(-1, dop853.EV_NPAR)
            ev_t, ev_y = np.zeros(max_events), np.zeros((max_events, 6))
            ev_which = np.zeros(max_events, dtype=np.int64)
        else:
            ev_kind, ev_par, ev_t, ev_y, ev_which = _NO_EVENTS
        y, t, status, nfev, nacc, nrej, nev = dop853.integrator(form, tb[0].shape[0] > 0)(
            y0, schedule.t, schedule.mode, schedule.att, sail.kernel_array, *tb,
            float(rtol), atol, t_out, y_out, ev_kind, ev_par, ev_t, ev_y, ev_which, int(max_steps))
    if status in (dop853.STATUS_MAX_STEPS, dop853.STATUS_STEP_UNDERFLOW):
        what = "too many steps" if status == dop853.STATUS_MAX_STEPS else "step size underflow"
        raise RuntimeError(f"integration failed at t={t:.6g} s ({what}); loosen rtol or check the state")
    found = []
    for j in range(nev):
        spec = events[ev_which[j]]
        found.append(Event(spec.name, float(ev_t[j]), ev_y[j].copy(), _event_distance(spec, ev_t[j], ev_y[j])))
    if status == dop853.STATUS_EVENT:  # outputs after a terminal event stay NaN: drop them
        keep = t_out <= t
        t_out, y_out = t_out[keep], y_out[keep]
    # (y is the kernel's own new array, and numba returns Python numbers: nothing to copy or convert)
    return Trajectory(t_out.copy(), y_out, t, y, status, nfev, nacc, nrej, found)


def _event_distance(spec: EventSpec, t, y):
    if spec.kind == dop853.EV_SUN_DISTANCE:
        return float(np.linalg.norm(y[:3]))
    p = spec.params
    rt, _ = elements_state(*p[dop853.EV_MU:dop853.EV_T0 + 1], t)
    return float(np.linalg.norm(y[:3] - rt))


def propagate_final(y0, seg_t, seg_mode, seg_att, sail_params, rtol=1e-10, formulation="mee"):
    """Final state only (Sun + sail), compiled and with no output arrays: for optimisers.

    Plain arrays in (as in :class:`Schedule`); ``sail_params`` from ``Sail.kernel_params()``. Through
    ``sim.dop853.integrate_final``, whose compiled cores ``sim.dop853.FINAL_STATES`` numba code may call.
    """
    return dop853.integrate_final(y0, seg_t, seg_mode, seg_att, sail_params, rtol, _FORMS[formulation])
