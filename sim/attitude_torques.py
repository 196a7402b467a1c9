"""Torques on the BLISS spacecraft: solar pressure on the sail and the roll vanes, disturbances, gravity
gradient. Body frame and geometry: ``sim.attitude_geometry``.

- Sail: the force of ``sim.sail`` (ideal or non-ideal optics, McInnes 1999) on a flat sail with normal
  +z, acting at the centre of pressure: the sail's centre plus a configurable in-plane offset
  (manufacturing, billowing). Torque (r_cp - r_cm) x F. For a Sun-facing sail the force is along +z and a
  lateral CM offset s gives tau = -s x F: the payload shift is the control. The ideal force lies along
  the normal through the sail's axis: no torque for any tilt when the CM is on the axis. The non-ideal
  force has an in-plane part F_t (1 - rho s) P A cos(a) sin(a) along the light's in-plane direction,
  acting 1.4 m behind the CM: a restoring (shuttlecock) torque toward the Sun line.
- Twist: a film twisted by ``twist`` rad about its radial lines tilts each area element's normal
  azimuthally, which gives a windmill roll torque tau_z = twist F_n (2/3) R for a disc of radius R
  (the normal force per area times the area-weighted mean radius 2R/3).
- Vanes: two flat vanes of ``vane_area/2`` each at (+-r_v, 0, 0), turned by +-gamma about the x axis
  (normals (0, -+sin g, cos g)), each with the sail's optics: roll torque about -4 P A_v r_v gamma cos^2 a
  for small gamma and cone a.
- Gravity gradient of the Sun: tau = 3 GM/r^3 u x (I u). At 1 AU, 3 GM/r^3 = 1.19e-13 s^-2 and
  I_xx - I_zz is about 8e-3 kg m^2: about 1e-15 N m, 1e-8 of the payload's authority (6e-8 N m), so it is
  included for completeness but negligible (``gravity_gradient_ratio`` states it).

Kernels take plain arrays: ``torque_params(geometry)`` builds the parameter array.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.attitude_geometry import SpacecraftGeometry
from sim.constants import AU, GM_SUN, P_SRP_1AU
from sim.inchworm import DEFAULT_SOFT_LIMIT
from sim.sail import N_PARAMS, Sail, srp_accel_unit

# torque-parameter layout: sail force params (per 1 kg: force), one vane's force params, then scalars
TP_SAIL = 0
TP_VANE = N_PARAMS
TP_CPX, TP_CPY, TP_RV, TP_TWIST, TP_RTWIST, TP_GM = range(2 * N_PARAMS, 2 * N_PARAMS + 6)
N_TP = 2 * N_PARAMS + 6


def torque_params(g: SpacecraftGeometry) -> np.ndarray:
    """Plain parameter array for :func:`body_torque` (sim.sail force parameters with a 1 kg mass, so the
    kernel's 'acceleration' is the force in newtons)."""
    p = np.zeros(N_TP)
    p[TP_SAIL:TP_SAIL + N_PARAMS] = Sail(mass=1.0, area=g.sail_area, optics=g.optics).kernel_params()
    if g.vane_area > 0:
        p[TP_VANE:TP_VANE + N_PARAMS] = Sail(mass=1.0, area=g.vane_area / 2, optics=g.optics).kernel_params()
    p[TP_CPX], p[TP_CPY] = g.cp_offset
    p[TP_RV] = g.vane_radius
    p[TP_TWIST] = g.twist
    p[TP_RTWIST] = 2.0 / 3.0 * g.sail_radius
    p[TP_GM] = GM_SUN
    return p


@njit(cache=True, inline="always")
def _cross_add(out, rx, ry, rz, fx, fy, fz):
    out[0] += ry * fz - rz * fy
    out[1] += rz * fx - rx * fz
    out[2] += rx * fy - ry * fx


@njit(cache=True)
def body_torque(u, inv_r2, vane_angle, cm, inertia, tp, tau, force):
    """Torque about the CM [N m] into ``tau`` and total SRP force [N] into ``force`` (body frame).

    ``u``: unit vector from the Sun to the spacecraft in body axes (the light's direction); ``inv_r2``:
    1/r^2 [1/m^2] (0 switches every force off); ``vane_angle`` [rad]; ``cm`` (3,) and ``inertia`` (3,3)
    from ``sim.attitude_geometry.mass_properties``; ``tp`` from :func:`torque_params`.
    """
    tau[:] = 0.0
    force[:] = 0.0
    if inv_r2 == 0.0:
        return
    ps = tp[TP_SAIL:TP_SAIL + N_PARAMS]
    fx, fy, fz = srp_accel_unit(u[0], u[1], u[2], inv_r2, 0.0, 0.0, 1.0, ps)
    force[0] += fx
    force[1] += fy
    force[2] += fz
    _cross_add(tau, tp[TP_CPX] - cm[0], tp[TP_CPY] - cm[1], -cm[2], fx, fy, fz)
    tau[2] += tp[TP_TWIST] * fz * tp[TP_RTWIST]
    pv = tp[TP_VANE:TP_VANE + N_PARAMS]
    if pv[0] > 0.0:
        sg, cg = math.sin(vane_angle), math.cos(vane_angle)
        for sgn in (1.0, -1.0):
            gx, gy, gz = srp_accel_unit(u[0], u[1], u[2], inv_r2, 0.0, -sgn * sg, cg, pv)
            force[0] += gx
            force[1] += gy
            force[2] += gz
            _cross_add(tau, sgn * tp[TP_RV] - cm[0], -cm[1], -cm[2], gx, gy, gz)
    # gravity gradient of the Sun: 3 GM / r^3 u x (I u)
    k = 3.0 * tp[TP_GM] * inv_r2 * math.sqrt(inv_r2)
    iu0 = inertia[0, 0] * u[0] + inertia[0, 1] * u[1] + inertia[0, 2] * u[2]
    iu1 = inertia[1, 0] * u[0] + inertia[1, 1] * u[1] + inertia[1, 2] * u[2]
    iu2 = inertia[2, 0] * u[0] + inertia[2, 1] * u[1] + inertia[2, 2] * u[2]
    _cross_add(tau, k * u[0], k * u[1], k * u[2], iu0, iu1, iu2)


def gravity_gradient_ratio(g: SpacecraftGeometry, r_m: float = AU, tilt_rad: float = math.radians(45.0)):
    """(largest solar gravity-gradient torque [N m] at ``tilt_rad`` from the sail normal, payload
    authority F_srp * max CM offset [N m], their ratio) at distance ``r_m``."""
    _, _, inertia = g.mass_properties()
    u = np.array([math.sin(tilt_rad), 0.0, math.cos(tilt_rad)])
    tau_gg = 3.0 * GM_SUN / r_m**3 * np.linalg.norm(np.cross(u, inertia @ u))
    f = Sail(mass=1.0, area=g.sail_area, optics=g.optics).normal_coefficient * P_SRP_1AU * g.sail_area / (r_m / AU) ** 2
    authority = f * g.payload_mass / g.total_mass * DEFAULT_SOFT_LIMIT * g.payload_step
    return tau_gg, authority, tau_gg / authority
