"""Typed messages between the flight software's parts and the world around it.

Everything the onboard software (``bliss.fsw``) knows arrives as one of these, and everything it decides
leaves as one of these: the simulator, the HIL bench and the tests build them; the executive, the
attitude determination and the attitude/actuator controller read and write them. They are frozen
dataclasses (a message is a value, never mutated after it was sent); array fields are numpy float64
arrays that the constructor copies and marks read-only.

Units and frames (as everywhere below the public API, ``docs/architecture.md``): SI, radians, time in
TDB seconds past J2000.0, inertial frame heliocentric ecliptic J2000. Quaternions are **scalar-last**
``[x, y, z, w]`` and rotate inertial coordinates into body coordinates (the convention of
``bliss.guidance.schedule`` and of the CCSDS AEM we write). Body axes: +z is the sail normal (the face
the Sun pushes), +x and +y are the two payload-translation axes (inchworm axes 0 and 1); inchworm axis 2
turns the roll vane.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from sim.dynamics import MODE_INERTIAL, MODE_OFF, MODE_RTN


def _frozen_array(x, shape: tuple[int, ...] | None, name: str) -> np.ndarray:
    a = np.array(x, dtype=float)  # a copy: the sender may reuse its buffer
    if shape is not None and a.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: values must be finite, got {a!r}")
    a.flags.writeable = False
    return a


class AttitudeMode(IntEnum):
    """How an attitude command is held: the schedule's ``seg_mode`` codes, defined once in
    ``sim.dynamics`` (``docs/architecture.md``)."""

    OFF = MODE_OFF            #: sail edge-on to the Sun: no thrust
    RTN = MODE_RTN            #: cone/clock fixed in the orbit (radial-transverse-normal) frame
    INERTIAL = MODE_INERTIAL  #: sail normal fixed in the inertial frame


class Phase(IntEnum):
    """The executive's phase machine."""

    MATCH = 0       #: orbit matching (blended Lyapunov law, with phasing once nearly matched)
    RENDEZVOUS = 1  #: fixed-arrival-time plan on the linearised equinoctial elements
    TERMINAL = 2    #: within the arrival tolerances: hold edge-on, the transfer is done
    SAFE = 3        #: a fault or an unsafe orbit: hold edge-on until commanded out


@dataclass(frozen=True)
class NavStateEstimate:
    """The spacecraft's own heliocentric state as the onboard navigation knows it (ground orbit
    determination uploads, propagated onboard). ``cov``: 6x6 covariance [m, m/s]² or None."""

    t: float
    r: np.ndarray
    v: np.ndarray
    cov: np.ndarray | None = None

    def __post_init__(self):
        object.__setattr__(self, "r", _frozen_array(self.r, (3,), "NavStateEstimate.r"))
        object.__setattr__(self, "v", _frozen_array(self.v, (3,), "NavStateEstimate.v"))
        if self.cov is not None:
            object.__setattr__(self, "cov", _frozen_array(self.cov, (6, 6), "NavStateEstimate.cov"))

    @property
    def y(self) -> np.ndarray:
        """The state as one (6,) array [m, m/s] (a fresh writable copy)."""
        return np.concatenate([self.r, self.v])


@dataclass(frozen=True)
class TargetPrediction:
    """The target's motion as uploaded to the spacecraft: two-body elements about the Sun.

    ``elements``: ``[a m, e, i rad, raan rad, argp rad, M0 rad, epoch TDB s]`` (the layout of
    ``bliss.guidance.problem.Target.elements``); ``mu``: the gravitational parameter they use [m³/s²].
    The onboard software predicts the target's state at any time from these alone (Kepler's equation);
    it never sees the simulator's ephemeris.
    """

    name: str
    elements: np.ndarray
    mu: float

    def __post_init__(self):
        el = _frozen_array(self.elements, (7,), "TargetPrediction.elements")
        if not (el[0] > 0 and 0 <= el[1] < 1):
            raise ValueError(f"TargetPrediction {self.name!r}: need a > 0 m and 0 <= e < 1, got a={el[0]!r}, e={el[1]!r}")
        object.__setattr__(self, "elements", el)


@dataclass(frozen=True)
class AttitudeCommand:
    """The attitude the executive wants from ``t`` on.

    ``mode`` RTN: ``cone``/``clock`` [rad] in the orbit frame (``sim.rtn`` convention); INERTIAL:
    ``normal`` (3,) unit vector in the inertial frame; OFF: edge-on (cone/clock ignored).
    ``phase``: the executive phase that issued it. ``duration`` [s]: how long to hold it (the executive
    time-shares attitudes within a guidance step); None holds it until the next command.
    """

    t: float
    mode: AttitudeMode
    cone: float = 0.0
    clock: float = 0.0
    normal: np.ndarray | None = None
    phase: Phase = Phase.MATCH
    duration: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "mode", AttitudeMode(self.mode))
        object.__setattr__(self, "phase", Phase(self.phase))
        for name in ("t", "cone", "clock"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"AttitudeCommand.{name} must be finite, got {getattr(self, name)!r}")
        if self.duration is not None and not (math.isfinite(self.duration) and self.duration > 0):
            raise ValueError(f"AttitudeCommand.duration must be a positive number of seconds or None, "
                             f"got {self.duration!r}")
        if self.normal is not None:
            n = _frozen_array(self.normal, (3,), "AttitudeCommand.normal")
            if abs(float(np.linalg.norm(n)) - 1.0) > 1e-6:
                raise ValueError(f"AttitudeCommand.normal must be a unit vector, |n| = {np.linalg.norm(n)!r}")
            object.__setattr__(self, "normal", n)
        elif self.mode == AttitudeMode.INERTIAL:
            raise ValueError("AttitudeCommand: mode INERTIAL needs a normal")


@dataclass(frozen=True)
class AttitudeEstimate:
    """Onboard attitude determination's output: inertial-to-body quaternion ``q`` (scalar-last),
    body rate ``omega`` [rad/s] (body axes), gyro bias estimate ``bias`` [rad/s] and the 6x6 covariance
    of (attitude error [rad], bias error [rad/s]) or None."""

    t: float
    q: np.ndarray
    omega: np.ndarray
    bias: np.ndarray = field(default_factory=lambda: np.zeros(3))
    cov: np.ndarray | None = None

    def __post_init__(self):
        q = _frozen_array(self.q, (4,), "AttitudeEstimate.q")
        if abs(float(np.linalg.norm(q)) - 1.0) > 1e-6:
            raise ValueError(f"AttitudeEstimate.q must be a unit quaternion, |q| = {np.linalg.norm(q)!r}")
        object.__setattr__(self, "q", q)
        object.__setattr__(self, "omega", _frozen_array(self.omega, (3,), "AttitudeEstimate.omega"))
        object.__setattr__(self, "bias", _frozen_array(self.bias, (3,), "AttitudeEstimate.bias"))
        if self.cov is not None:
            object.__setattr__(self, "cov", _frozen_array(self.cov, (6, 6), "AttitudeEstimate.cov"))


#: Number of inchworm axes on a BLISS actuator board: 0 and 1 move the payload (body x and y),
#: 2 turns the roll vane.
N_AXES = 3


@dataclass(frozen=True)
class ActuatorCommand:
    """Inchworm axis targets: absolute positions in whole steps (3.5 µm each for the payload axes),
    one per axis, and the drive rate [Hz] (0.1-20 kHz, Rauf et al. 2022). ``None`` in ``target_steps``
    leaves that axis where it is."""

    t: float
    target_steps: tuple[int | None, ...]
    rate_hz: float

    def __post_init__(self):
        ts = tuple(None if s is None else int(s) for s in self.target_steps)
        if len(ts) != N_AXES:
            raise ValueError(f"ActuatorCommand.target_steps: need {N_AXES} axes, got {len(ts)}")
        object.__setattr__(self, "target_steps", ts)
        if not (np.isfinite(self.rate_hz) and self.rate_hz > 0):
            raise ValueError(f"ActuatorCommand.rate_hz must be a positive number of Hz, got {self.rate_hz!r}")


@dataclass(frozen=True)
class ActuatorState:
    """What the actuators report: positions in whole steps, whether each axis is still moving, and the
    fault flags of each axis (bit field; ``bliss.protocol.messages`` names the bits for the boards)."""

    t: float
    position_steps: tuple[int, ...]
    moving: tuple[bool, ...] = (False,) * N_AXES
    faults: tuple[int, ...] = (0,) * N_AXES

    def __post_init__(self):
        for name in ("position_steps", "moving", "faults"):
            val = tuple(getattr(self, name))
            if len(val) != N_AXES:
                raise ValueError(f"ActuatorState.{name}: need {N_AXES} axes, got {len(val)}")
            object.__setattr__(self, name, val)


@dataclass(frozen=True)
class GuidanceInputs:
    """What the executive reads at each step: the navigation estimate and the target prediction."""

    nav: NavStateEstimate
    target: TargetPrediction

    def __post_init__(self):
        if not isinstance(self.nav, NavStateEstimate) or not isinstance(self.target, TargetPrediction):
            raise TypeError("GuidanceInputs needs a NavStateEstimate and a TargetPrediction")


@dataclass(frozen=True)
class GuidanceOutput:
    """What the executive decided at ``t``: its ``phase`` after the step, the attitude ``commands`` to fly
    in order (each with its ``duration``; together they fill the guidance step; on TERMINAL and SAFE one
    edge-on command held until further notice), the ``events`` of the step (one line each, for the
    log), ``reason`` (why it is in TERMINAL or SAFE, else "") and ``lyapunov`` (the matching law's
    Lyapunov value V this step, nan when it did not run)."""

    t: float
    phase: Phase
    commands: tuple[AttitudeCommand, ...]
    events: tuple[str, ...] = ()
    reason: str = ""
    lyapunov: float = math.nan

    def __post_init__(self):
        object.__setattr__(self, "phase", Phase(self.phase))
        object.__setattr__(self, "commands", tuple(self.commands))
        object.__setattr__(self, "events", tuple(str(e) for e in self.events))
        if not all(isinstance(c, AttitudeCommand) for c in self.commands):
            raise TypeError("GuidanceOutput.commands must be AttitudeCommand messages")


# ---- attitude sensor readings ----------------------------------------------------------------
@dataclass(frozen=True)
class GyroMeasurement:
    """Three-axis rate gyro: the mean body rate [rad/s] (body axes, bias and noise included) over the
    ``dt`` [s] that ends at ``t``."""

    t: float
    rate: np.ndarray
    dt: float

    def __post_init__(self):
        object.__setattr__(self, "rate", _frozen_array(self.rate, (3,), "GyroMeasurement.rate"))
        if not (np.isfinite(self.dt) and self.dt > 0):
            raise ValueError(f"GyroMeasurement.dt must be a positive number of seconds, got {self.dt!r}")


@dataclass(frozen=True)
class SunSensorMeasurement:
    """Sun sensor: unit vector toward the Sun in body axes, or ``None`` when the Sun is outside its
    field of view."""

    t: float
    direction: np.ndarray | None

    def __post_init__(self):
        if self.direction is not None:
            d = _frozen_array(self.direction, (3,), "SunSensorMeasurement.direction")
            if abs(float(np.linalg.norm(d)) - 1.0) > 1e-6:
                raise ValueError(f"SunSensorMeasurement.direction must be a unit vector, |d| = {np.linalg.norm(d)!r}")
            object.__setattr__(self, "direction", d)


@dataclass(frozen=True)
class StarCameraMeasurement:
    """Star-camera attitude fix: inertial-to-body quaternion ``q`` (scalar-last)."""

    t: float
    q: np.ndarray

    def __post_init__(self):
        q = _frozen_array(self.q, (4,), "StarCameraMeasurement.q")
        if abs(float(np.linalg.norm(q)) - 1.0) > 1e-6:
            raise ValueError(f"StarCameraMeasurement.q must be a unit quaternion, |q| = {np.linalg.norm(q)!r}")
        object.__setattr__(self, "q", q)
