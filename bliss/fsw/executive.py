"""The onboard executive: the phase machine that runs the guidance laws, in the shape flight software
uses (Basilisk's Reset/Update, F Prime's components): :meth:`Executive.reset` with an
:class:`ExecutiveConfig`, then :meth:`Executive.step` ``(t, GuidanceInputs) -> GuidanceOutput`` once
per guidance step. It reads the world only through its inputs (``bliss.fsw.messages``).

Phases (``messages.Phase``):

- **MATCH**: the orbit-matching law with phasing (:mod:`bliss.fsw.matching`). Every ``rdv_check`` of
  matching the rendezvous law looks for the earliest arrival epoch, between ``tgo_min`` and ``tgo_max``
  from now, its plan closes; if there is one the executive enters RENDEZVOUS.
- **RENDEZVOUS**: the fixed-arrival-time law (:class:`bliss.fsw.rendezvous.RendezvousLaw`), re-planned
  every step, time-sharing the step between candidate attitudes (fractions shorter than
  ``MIN_FRACTION_S`` are coasted) or, with ``slew_limited``, flying one attitude through the
  :class:`bliss.fsw.slew.SlewLimiter`. Back to MATCH when no arrival within ``tgo_max`` closes any more,
  or when the osculating perihelion falls below ``perihelion_floor`` times the lower of the first
  estimate's and the target's perihelia (the perihelion guard: the linear plan knows nothing of the Sun).
- **TERMINAL**: within ``pos_tol`` and ``vel_tol`` of the predicted target (or, for orbit matching only,
  the Lyapunov value below ``v_tol``): hold edge-on; the transfer is done. Also, with the terminal phase
  on (``fix_arrival_within``), at the fixed arrival epoch whatever the miss ("arrival epoch reached").
- **SAFE**: closer to the Sun than ``min_sun_distance`` (``sim.constants.MIN_SAFE_SUN_DISTANCE``, the
  film's limit): hold edge-on until commanded out (a new ``reset``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bliss.fsw.matching import OrbitMatching
from bliss.fsw.messages import AttitudeCommand, AttitudeMode, GuidanceInputs, GuidanceOutput, Phase
from bliss.fsw.orbit import perihelion
from bliss.fsw.rendezvous import DEFAULT_N_SEG, RendezvousLaw
from bliss.fsw.slew import SlewLimiter
from bliss.fsw.target import predicted_elements, predicted_state
from sim.constants import AU, DAY, GM_SUN, MIN_SAFE_SUN_DISTANCE

#: Shortest attitude dwell of the time-shared rendezvous law [s]: 5 minutes, the time scale of a BLISS
#: slew (the centre-of-mass-offset torque, order 1e-7 N m, turns the sail in minutes; shared/reference.md).
#: Shorter fractions are not flown (coasted instead); the next plan makes up for them.
MIN_FRACTION_S = 300.0
#: The rendezvous law hands back to the matching phase when the osculating perihelion falls below this
#: fraction of the lower of the departure orbit's and the target's perihelia (for Earth -> Bennu 0.75 x
#: 0.897 AU = 0.67 AU). Its linear plan knows nothing of the Sun's proximity, and in a sweep of departure
#: dates (2027-2032, every 30 days) it dived toward the Sun on 10 of 72 dates while chasing an arrival
#: epoch it kept moving later.
PERIHELION_FLOOR = 0.75
#: In the terminal phase (``ExecutiveConfig.terminal_box``) the flight ends before the arrival epoch only
#: within this fraction of ``pos_tol`` and ``vel_tol`` (else at the epoch): the fraction of the acceptance
#: box kept as margin for what the estimate does not see (navigation error, 5-26 km in the whole SIL).
TERMINAL_AIM = 0.5


@dataclass(frozen=True)
class ExecutiveConfig:
    """What the executive is told at reset (SI units, radians; times TDB seconds past J2000).

    ``sail_params``: the sail's optical model (``sim.sail.Sail.kernel_params()``); ``max_cone`` [rad] and
    ``max_slew_deg_per_day``: attitude limits; ``rendezvous``: False matches the target's orbit only.
    ``step`` [s]: the guidance step; ``t_end``: end of the guidance timeline (no step runs past it).
    Tolerances ``pos_tol`` [m], ``vel_tol`` [m/s], ``v_tol`` (Lyapunov value, orbit matching only).
    Matching and phasing: ``weights``, ``eta_cut``, ``k_phase`` [1/rad], ``max_phase_offset``,
    ``v_phase_gate``, ``phasing_a_weight`` (see :mod:`bliss.fsw.matching`). Rendezvous: ``rdv_check``,
    ``tgo_min``, ``tgo_max``, ``tgo_step``, ``tgo_floor`` [s], ``n_rdv_seg``, ``slew_limited``. Guards:
    ``min_sun_distance`` [m], ``perihelion_floor``. ``min_fraction_s`` [s]: shortest time-shared fraction
    flown (default ``MIN_FRACTION_S``; a craft whose slews take longer needs a longer one).
    ``off_attitude``: (cone, clock) [rad, RTN] at which the attitude software really holds an edge-on (OFF)
    command, None when it is truly edge-on (no thrust). A sail held feathered short of 90 deg (the
    attitude controller's ``feather_cone``, 60 deg: cos^2 60 = 25 % of the Sun-facing thrust) still
    thrusts; the rendezvous law counts that thrust in its plan (``bliss.fsw.rendezvous.plan``'s ``F_off``).
    ``fix_arrival_within`` [s]: the terminal phase of the rendezvous law (``RendezvousLaw``'s
    ``fix_within``): within this time of the arrival epoch it is no longer moved, the least-miss plan is
    flown when none closes, and the flight ends (TERMINAL, "arrival epoch reached") at it (within
    ``min_fraction_s``, the shortest command flown). 0: off; less than ``tgo_min``, so that entering
    RENDEZVOUS (first epoch at least ``tgo_min`` ahead) is never already terminal.
    ``terminal_box``: the terminal phase's plans minimise the final miss in units of ``pos_tol`` and
    ``vel_tol`` (the acceptance box) rather than the rendezvous law's element weights, and the flight ends
    before the epoch only within ``TERMINAL_AIM`` of the box (False: as before).
    """

    sail_params: np.ndarray
    max_cone: float
    max_slew_deg_per_day: float = 10.0
    rendezvous: bool = True
    step: float = DAY
    t_end: float = math.inf
    pos_tol: float = 1.0e6
    vel_tol: float = 1.0
    v_tol: float = 1.0e-6
    weights: np.ndarray | None = None
    eta_cut: float = 0.35
    k_phase: float = 0.3
    max_phase_offset: float = 0.05
    v_phase_gate: float = 1.0e-3
    phasing_a_weight: float | None = None
    rdv_check: float = 10.0 * DAY
    tgo_min: float = 30.0 * DAY
    tgo_max: float = 600.0 * DAY
    tgo_step: float = 10.0 * DAY
    tgo_floor: float = 2.0 * DAY
    n_rdv_seg: int = DEFAULT_N_SEG
    slew_limited: bool = False
    min_sun_distance: float = MIN_SAFE_SUN_DISTANCE
    perihelion_floor: float = PERIHELION_FLOOR
    min_fraction_s: float = MIN_FRACTION_S
    off_attitude: tuple[float, float] | None = None
    fix_arrival_within: float = 0.0
    terminal_box: bool = True

    def __post_init__(self):
        if not (math.isfinite(self.step) and self.step > 0):
            raise ValueError(f"the guidance step must be a positive number of seconds, got {self.step!r}")
        if not (0.0 < self.max_cone <= 0.5 * math.pi + 1e-12):
            raise ValueError(f"max_cone must lie in (0, pi/2] rad, got {self.max_cone!r}")
        if not (0 < self.tgo_floor <= self.tgo_min <= self.tgo_max and self.tgo_step > 0 and self.n_rdv_seg >= 1):
            raise ValueError(f"rendezvous settings need 0 < tgo_floor <= tgo_min <= tgo_max [s], tgo_step > 0 [s] "
                             f"and n_rdv_seg >= 1; got tgo_floor={self.tgo_floor!r}, tgo_min={self.tgo_min!r}, "
                             f"tgo_max={self.tgo_max!r}, tgo_step={self.tgo_step!r}, n_rdv_seg={self.n_rdv_seg!r}")
        if not (0.0 <= self.fix_arrival_within < self.tgo_min):
            # at or past tgo_min a flight would enter RENDEZVOUS already in its terminal phase
            raise ValueError(f"fix_arrival_within must lie in [0, tgo_min) [s] (tgo_min={self.tgo_min!r}), "
                             f"got {self.fix_arrival_within!r}")


class Executive:
    """The phase machine (see the module docstring). ``telemetry()`` reports its counters."""

    def __init__(self, config: ExecutiveConfig | None = None):
        self.config = None
        if config is not None:
            self.reset(config)

    def reset(self, config: ExecutiveConfig) -> None:
        """Start over in MATCH with ``config`` (all state and counters cleared)."""
        c = self.config = config
        self.phase = Phase.MATCH
        self.law = (RendezvousLaw(c.max_cone, c.sail_params, c.n_rdv_seg, c.tgo_step, c.tgo_max, c.tgo_floor,
                                  off_attitude=c.off_attitude, fix_within=c.fix_arrival_within,
                                  terminal_box=(c.pos_tol, c.vel_tol) if c.terminal_box else None)
                    if c.rendezvous else None)
        self.matching = OrbitMatching(c.sail_params, c.max_cone, c.weights, c.eta_cut, c.rendezvous, c.k_phase,
                                      c.max_phase_offset, c.v_phase_gate, c.phasing_a_weight)
        self.limiter = SlewLimiter(c.max_slew_deg_per_day) if c.slew_limited else None
        self.q_floor = None  # perihelion floor [m], set from the first estimate
        self.t_next_check = -math.inf
        self.n_rendezvous_entries = 0
        self.n_perihelion_handbacks = 0
        self.t_f_first_plan = math.nan  # arrival epoch of the first rendezvous plan [TDB s]
        self.reason = ""

    def telemetry(self) -> dict:
        """Counters since reset: rendezvous entries, plans solved, arrival extensions, perihelion
        handbacks, phasing steps, the first planned arrival epoch [TDB s] and the phase error when
        phasing started [rad]."""
        law = self.law
        return {"phase": self.phase, "n_rendezvous_entries": self.n_rendezvous_entries,
                "n_rendezvous_plans": law.n_plans if law is not None else 0,
                "n_arrival_extensions": law.n_extensions if law is not None else 0,
                "n_unclosed_terminal_plans": law.n_unclosed if law is not None else 0,
                "n_perihelion_handbacks": self.n_perihelion_handbacks,
                "n_phasing_steps": self.matching.n_phasing, "t_f_first_plan": self.t_f_first_plan,
                "phase_error_at_gate": self.matching.dlam_gate}

    def _hold(self, t, phase, reason, events) -> GuidanceOutput:
        self.phase, self.reason = phase, reason
        events.append(f"{phase.name}: {reason}")
        return GuidanceOutput(t, phase, (AttitudeCommand(t, AttitudeMode.OFF, phase=phase),), events, reason)

    def step(self, t: float, inputs: GuidanceInputs) -> GuidanceOutput:
        """One guidance step at TDB seconds ``t``: the attitudes to fly until the next step."""
        c = self.config
        if c is None:
            raise RuntimeError("Executive.step before reset(config)")
        events: list[str] = []
        if self.phase in (Phase.TERMINAL, Phase.SAFE):  # latched until the next reset
            return GuidanceOutput(t, self.phase, (AttitudeCommand(t, AttitudeMode.OFF, phase=self.phase),),
                                  (), self.reason)
        nav, target = inputs.nav, inputs.target
        # writable copies: the message's arrays are read-only, and numba would compile every kernel they
        # reach a second time for read-only arrays
        r, v = np.array(nav.r), np.array(nav.v)
        y = nav.y
        if self.q_floor is None:
            self.t_next_check = t
            self.q_floor = (c.perihelion_floor * min(perihelion(GM_SUN, r, v),
                                                     perihelion(target.mu, *predicted_state(target, t)))
                            if c.rendezvous else 0.0)
        if float(np.linalg.norm(r)) < c.min_sun_distance:
            return self._hold(t, Phase.SAFE, f"too close to the Sun (< {c.min_sun_distance / AU:g} AU, "
                                             "sim.constants.MIN_SAFE_SUN_DISTANCE)", events)
        rt = vt = None
        if c.rendezvous:
            rt, vt = predicted_state(target, t)
            # in the terminal phase (fixed arrival epoch) the flight flies on to the epoch unless well inside
            # the box (``TERMINAL_AIM``): it crosses the box's edge still braking, and stopping there kept
            # whatever margin the crossing left (seed 1 of the whole SIL: 0.80 m/s of the 1 m/s)
            aim = TERMINAL_AIM if (self.law is not None and self.law.fixed and c.terminal_box) else 1.0
            if (float(np.linalg.norm(r - rt)) < aim * c.pos_tol
                    and float(np.linalg.norm(v - vt)) < aim * c.vel_tol):
                return self._hold(t, Phase.TERMINAL, "rendezvous", events)
            if self.phase == Phase.MATCH and t >= self.t_next_check:
                self.t_next_check = t + c.rdv_check
                if self.law.first_arrival(t, y, c.tgo_min, target) is not None:
                    self.phase = Phase.RENDEZVOUS
                    self.n_rendezvous_entries += 1
                    if self.n_rendezvous_entries == 1:
                        self.t_f_first_plan = self.law.t_f
                    events.append(f"RENDEZVOUS: plan closes, arrival at {self.law.t_f:.1f} s")
        commands: list[AttitudeCommand] = []
        if self.phase == Phase.RENDEZVOUS and perihelion(GM_SUN, r, v) < self.q_floor:
            # the linear plan is diving sunward (it can, chasing an arrival epoch it keeps moving): hand
            # back to the blended law, which raises the orbit toward the target's, and re-plan later
            self.phase = Phase.MATCH
            self.n_perihelion_handbacks += 1
            self.t_next_check = t + c.rdv_check
            events.append("MATCH: perihelion below the floor, handed back to orbit matching")
        if self.phase == Phase.RENDEZVOUS and self.law.fixed and t >= self.law.t_f - c.min_fraction_s:
            return self._hold(t, Phase.TERMINAL, "arrival epoch reached", events)
        if self.phase == Phase.RENDEZVOUS:
            cmd = self.law.command(t, y, target)
            if cmd is None:
                self.phase = Phase.MATCH
                events.append("MATCH: no arrival within tgo_max closes")
            else:
                commands = self._rendezvous_commands(t, *cmd)
        lyap = math.nan
        if self.phase == Phase.MATCH:
            cone, clock, coast, lyap = self.matching.command(r, v, predicted_elements(target, t), rt, vt)
            if not c.rendezvous and lyap < c.v_tol:
                out = self._hold(t, Phase.TERMINAL, "orbit matched", events)
                return GuidanceOutput(t, out.phase, out.commands, out.events, out.reason, lyap)
            dt = min(c.step, c.t_end - t)
            commands = [self._command(t, dt, None if coast else (cone, clock))]
        return GuidanceOutput(t, self.phase, commands, events, "", lyap)

    def _command(self, t, dt, att) -> AttitudeCommand:
        """One command held for ``dt``: ``att`` = (cone, clock) or None (edge-on), through the slew limiter
        when there is one."""
        if self.limiter is not None:
            mode, cone, clock = self.limiter.step(att, dt)
        elif att is None:
            mode, cone, clock = AttitudeMode.OFF, 0.0, 0.0
        else:
            mode, (cone, clock) = AttitudeMode.RTN, att
        return AttitudeCommand(t, mode, cone, clock, phase=self.phase, duration=dt)

    def _rendezvous_commands(self, t, w0, h) -> list[AttitudeCommand]:
        c, law = self.config, self.law
        dt = min(c.step, h, c.t_end - t)
        if self.limiter is not None:
            return [self._command(t, dt, law.single_attitude(w0))]
        out, tc = [], t
        for k in np.nonzero(w0 * dt > c.min_fraction_s)[0]:
            d = w0[k] * dt
            out.append(AttitudeCommand(tc, AttitudeMode.RTN, law.atts[k, 0], law.atts[k, 1], phase=self.phase,
                                       duration=d))
            tc += d
        rest = dt - (tc - t)
        if rest > c.min_fraction_s:
            out.append(AttitudeCommand(tc, AttitudeMode.OFF, phase=self.phase, duration=rest))
        return out
