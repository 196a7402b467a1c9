"""Mass properties of the BLISS spacecraft as a function of the inchworm axis positions.

Body frame (``bliss.fsw.messages``): origin at the sail's centre, +z the sail normal (the direction the
Sun pushes the sail), +x/+y the payload translation axes (inchworm axes 0/1). The sail is a flat disc of
0.98 m^2 (radius 0.559 m) in the plane z = 0 with the two roll vanes (0.02 m^2) at its rim, so that the
reflecting area is the paper's 1 m^2 and the orbit's force model (``sim.sail``, 1 m^2) is the sum of them
when the vanes lie in the sail plane; the payload hangs on tethers 2 m from the sail on the
**Sun side** (z = -2 m): the shuttlecock arrangement, in which the non-ideal sail's in-plane force, acting
at the sail behind the centre of mass, turns the normal back toward the Sun line (the ideal sail's force
lies along the normal, through the sail's axis, and gives no such torque).

Masses (the paper's total of about 10 g, Alvara et al. 2024; the lab models' geometry, PisterLab
bliss-low-level 2020, shared/reference.md). Our design baseline, chosen to add up to 10.0 g:

=====================  ======  ===========================================================================
part                   mass    why
=====================  ======  ===========================================================================
sail film (disc)       1.6 g   the lab models' "film of order 1.6 g": 1.15 um of polyimide/Mylar at
                               1390 kg/m^3 over 1 m^2 (the lab's 4.5 um film, 6.3 g, leaves too little for
                               the rest of a 10 g craft)
rim / frame (ring)     1.2 g   carbon-fibre rim of 3.5 m circumference at about 0.34 g/m
tethers (4 lines)      0.2 g   four 2.07 m carbon-fibre lines, rim to payload
roll vanes (2)         0.2 g   two 0.01 m^2 film vanes with hinges, at +-0.56 m (total 0.02 m^2, the lab
                               models' vane area and radius)
payload (moving)       6.8 g   chip-scale spacecraft: solar cells, processor, radio, sensors and the
                               inchworm stage; the whole payload moves on the stage
=====================  ======  ===========================================================================

The vanes are a pair on opposite sides of the rim turned in opposite senses by one inchworm axis (a
linkage; our design choice): their normal forces then cancel in pitch/yaw and add in roll, where a single
vane at 0.56 m would leave a pitch torque (about 1e-7 N m at 1 AU) larger than the payload's authority.

Approximations (stated): tethers are straight uniform rods from the rim to the payload's centre position
(their end moving by 10 mm in 2 m changes the inertia by < 1e-5 relative and is neglected); vanes and
payload are point masses; the payload's own solar-pressure force (a few cm^2) is neglected.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from sim.inchworm import STEP_M
from sim.sail import IDEAL, OpticalProperties

#: Fixed-part parameter layout (float64 array) for the kernels: mass, CM (3), second moment J about the
#: body origin (3x3, row-major).
F_MASS, F_CM = 0, slice(1, 4)
N_FIXED = 13


@dataclass(frozen=True)
class SpacecraftGeometry:
    """Geometry and masses of the BLISS spacecraft (SI units; defaults: our 10 g baseline, see module)."""

    sail_area: float = 0.98           # m^2: with the vanes' 0.02 m^2 the paper's 1 m^2 (Alvara et al. 2024)
    film_mass: float = 1.6e-3         # kg
    rim_mass: float = 1.2e-3          # kg
    tether_mass: float = 0.2e-3       # kg, all four lines
    vane_mass: float = 0.2e-3         # kg, both vanes
    payload_mass: float = 6.8e-3      # kg, the part the inchworms move
    tether_length: float = 2.0        # m, sail plane to payload (lab model: 2 m)
    vane_area: float = 0.02           # m^2, both vanes together (lab model)
    vane_radius: float = 0.56         # m, hinge distance from the sail centre (lab model)
    vane_lever: float = 5.0e-3        # m, inchworm shuttle to vane-angle lever arm (our design)
    payload_step: float = STEP_M      # m of payload travel per inchworm step (firmware header)
    optics: OpticalProperties = field(default=IDEAL)
    cp_offset: tuple = (0.0, 0.0)     # m, sail centre-of-pressure offset in the sail plane (x, y)
    twist: float = 0.0                # rad, film twist about the radial lines (windmill roll torque)

    def __post_init__(self):
        for name in ("sail_area", "film_mass", "rim_mass", "payload_mass", "tether_length", "vane_radius",
                     "vane_lever", "payload_step"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"SpacecraftGeometry.{name} must be a positive finite number, got {v!r}")
        for name in ("tether_mass", "vane_mass", "vane_area"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"SpacecraftGeometry.{name} must be >= 0, got {v!r}")

    @property
    def total_mass(self) -> float:
        return self.film_mass + self.rim_mass + self.tether_mass + self.vane_mass + self.payload_mass

    @property
    def sail_radius(self) -> float:
        return math.sqrt(self.sail_area / math.pi)

    @property
    def vane_step_rad(self) -> float:
        """Vane angle per inchworm step [rad] (shuttle step over the lever arm)."""
        return self.payload_step / self.vane_lever

    def fixed_part(self) -> np.ndarray:
        """Mass, CM and second-moment tensor about the origin of everything but the payload (kernel array)."""
        return _fixed_part(self.sail_radius, self.film_mass, self.rim_mass, self.tether_mass, self.vane_mass,
                           self.vane_radius, self.tether_length)

    def mass_properties(self, x_payload: float = 0.0, y_payload: float = 0.0):
        """(total mass kg, CM (3,) m, inertia about the CM (3, 3) kg m^2) for payload offsets [m]."""
        cm = np.zeros(3)
        inertia = np.zeros((3, 3))
        mass_properties(self.fixed_part(), self.payload_mass,
                        np.array([x_payload, y_payload, -self.tether_length]), cm, inertia)
        return self.total_mass, cm, inertia


def _point_j(m, p):
    return m * (np.dot(p, p) * np.eye(3) - np.outer(p, p))


def _rod_j(m, a, b):
    d = b - a
    s = np.outer(a, a) + 0.5 * (np.outer(a, d) + np.outer(d, a)) + np.outer(d, d) / 3.0
    return m * (np.trace(s) * np.eye(3) - s)


def _fixed_part(radius, m_film, m_rim, m_teth, m_vane, r_vane, length):
    j = np.zeros((3, 3))
    # uniform disc in z = 0: J = m R^2/4 about in-plane axes, m R^2/2 about the normal
    j += m_film * radius**2 * np.diag([0.25, 0.25, 0.5])
    # thin ring: m R^2/2 in-plane, m R^2 about the normal
    j += m_rim * radius**2 * np.diag([0.5, 0.5, 1.0])
    cm_sum = np.zeros(3)
    payload = np.array([0.0, 0.0, -length])
    for k in range(4):
        ang = math.pi / 4 + k * math.pi / 2
        a = np.array([radius * math.cos(ang), radius * math.sin(ang), 0.0])
        j += _rod_j(m_teth / 4, a, payload)
        cm_sum += m_teth / 4 * 0.5 * (a + payload)
    for sgn in (1.0, -1.0):
        p = np.array([sgn * r_vane, 0.0, 0.0])
        j += _point_j(m_vane / 2, p)
        cm_sum += m_vane / 2 * p
    m = m_film + m_rim + m_teth + m_vane
    out = np.zeros(N_FIXED)
    out[F_MASS] = m
    out[F_CM] = cm_sum / m
    out[4:] = j.reshape(-1)
    return out


@njit(cache=True)
def mass_properties(fixed, m_p, p, cm_out, inertia_out):
    """Total mass; CM (into ``cm_out``) and inertia about the CM (into ``inertia_out``) of the fixed part
    plus a payload point mass ``m_p`` at ``p`` (body frame, m). Parallel-axis theorem on the origin's
    second moments."""
    m_f = fixed[0]
    m = m_f + m_p
    for i in range(3):
        cm_out[i] = (m_f * fixed[1 + i] + m_p * p[i]) / m
    pp = p[0] * p[0] + p[1] * p[1] + p[2] * p[2]
    cc = cm_out[0] ** 2 + cm_out[1] ** 2 + cm_out[2] ** 2
    for i in range(3):
        for k in range(3):
            delta = 1.0 if i == k else 0.0
            inertia_out[i, k] = (fixed[4 + 3 * i + k] + m_p * (pp * delta - p[i] * p[k])
                                 - m * (cc * delta - cm_out[i] * cm_out[k]))
    return m
