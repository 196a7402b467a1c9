"""The MATCH phase's law: drive the orbit to the target's, then phase along it.

The blended Lyapunov law (:func:`bliss.fsw.steering._blended`) drives (a, e-vector, h^) to the target's
osculating orbit, coasting where it is ineffective (``eta_cut``). For a rendezvous, once the blended
Lyapunov value V falls below ``v_phase_gate`` it also phases: it steers toward a semi-major axis
a_T (1 - k_phase dlambda), the offset clipped to +/- ``max_phase_offset`` (dlambda = the target's mean
longitude minus ours, wrapped): a slightly smaller, faster orbit when behind, a larger one when ahead.
Phasing stays on (latched) unless V rises above 10 ``v_phase_gate``: the a offset itself raises V with
respect to the target's orbit.
"""
from __future__ import annotations

import math

import numpy as np

from bliss.fsw.orbit import mean_longitude, wrap_angle
from bliss.fsw.steering import DEFAULT_N_ANOM, _blended, _lyapunov, blended_kernel_inputs
from sim.constants import GM_SUN

#: Latch of the phasing: it stays on while V < this factor times ``v_phase_gate``.
PHASING_LATCH_FACTOR = 10.0


class OrbitMatching:
    """State of the MATCH phase between guidance steps (the phasing latch and its counters).

    ``sail_params`` (``sim.sail.Sail.kernel_params()``), ``max_cone`` [rad], ``weights`` (W_a, W_e, W_h)
    or None for the blended law's defaults, ``eta_cut``; phasing (``phase`` True, i.e. a rendezvous):
    ``k_phase`` [1/rad], ``max_phase_offset`` (fraction of a), ``v_phase_gate``, ``phasing_a_weight``
    (W_a once phasing has started; None keeps ``weights``).
    """

    def __init__(self, sail_params, max_cone: float, weights, eta_cut: float, phase: bool, k_phase: float,
                 max_phase_offset: float, v_phase_gate: float, phasing_a_weight: float | None):
        self.p, self.max_cone, self.weights, self.eta_cut = sail_params, max_cone, weights, eta_cut
        self.phase, self.k_phase, self.max_phase_offset = phase, k_phase, max_phase_offset
        self.v_phase_gate, self.phasing_a_weight = v_phase_gate, phasing_a_weight
        self.n_phasing = 0  # guidance steps flown while phasing
        self.dlam_gate = math.nan  # phase error [rad] when phasing started

    def command(self, r, v, el_target, rt=None, vt=None) -> tuple[float, float, bool, float]:
        """(cone, clock [rad], coast, V) for the state (r [m], v [m/s]) toward the target orbit
        ``el_target`` = [a m, e, i, raan, argp rad]; (rt, vt): the target's predicted state now (needed
        when phasing)."""
        el_cmd = np.array(el_target[:5], dtype=float)
        v_last = _lyapunov(GM_SUN, r, v, *blended_kernel_inputs(el_cmd, GM_SUN, self.weights))[0]
        gate = self.v_phase_gate
        phasing = self.phase and (v_last < gate or (self.n_phasing > 0 and v_last < PHASING_LATCH_FACTOR * gate))
        if phasing:
            dlam = wrap_angle(mean_longitude(GM_SUN, rt, vt) - mean_longitude(GM_SUN, r, v))
            off = max(-self.max_phase_offset, min(self.max_phase_offset, self.k_phase * dlam))
            el_cmd[0] *= 1.0 - off
            if self.n_phasing == 0:
                self.dlam_gate = dlam
            self.n_phasing += 1
        a_t, ev, hv, w = blended_kernel_inputs(el_cmd, GM_SUN, self.weights)
        if self.n_phasing > 0 and self.phasing_a_weight is not None:
            w = w.copy()
            w[0] = self.phasing_a_weight
        cone, clock, coast, V, _, _ = _blended(GM_SUN, r, v, a_t, ev, hv, w, self.p, self.max_cone, self.eta_cut,
                                               DEFAULT_N_ANOM)
        return cone, clock, coast, V
