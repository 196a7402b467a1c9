"""Onboard solar-sail steering laws (stub; being filled in)."""
from __future__ import annotations

import numpy as np

EL_A, EL_E, EL_I, EL_RAAN, EL_ARGP = range(5)
ELEMENT_NAMES = ("a", "e", "i", "raan", "argp")


def optimal_cone_for_force_component(alpha_tilde, sail_params=None, max_cone=np.pi / 2):
    """Cone [rad] maximising the force component along a direction at alpha_tilde [rad] from the Sun line."""
    raise NotImplementedError


def locally_optimal(r, v, element, increase=True, sail_params=None, max_cone=np.pi / 2, mu=None):
    """(cone, clock) [rad] maximising the instantaneous rate of one element (a/e/i/raan/argp)."""
    raise NotImplementedError


def blended(r, v, target_elems, weights=None, max_cone=np.deg2rad(70.0), sail_params=None, mu=None):
    """(cone, clock, coast) [rad, rad, bool]: blended law driving a, e, i, raan, argp to the target."""
    raise NotImplementedError
