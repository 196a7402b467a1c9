"""Equilibrium temperature of a flat sail film, and the closest approach to the Sun it allows.

A flat film in radiative equilibrium absorbs ``(1 - rho) S cos(alpha)`` per unit area of its lit face and
emits ``sigma (eps_f + eps_b) T^4`` from its two faces, so

    T = [(1 - rho) S(r) cos(alpha) / (sigma (eps_f + eps_b))]^(1/4),   S(r) = TSI_1AU (AU / r)^2

(McInnes, "Solar Sailing", 1999, sec. 2.6; conduction through the film neglected, both faces at one
temperature). ``rho`` is the reflectivity r-tilde, ``eps_f``/``eps_b`` the front/back emissivities of
``sim.sail.OpticalProperties``; alpha the cone angle. T grows as r^(-1/2). This is the one definition the
project's Sun-distance limit (``sim.constants.MIN_SAFE_SUN_DISTANCE``) and ``bliss scaling`` use.

The ideal optics (rho = 1, no emissivity) absorb nothing: no temperature is defined (nan), no limit.
"""
from __future__ import annotations

import math

from sim.constants import AU, TSI_1AU

#: Stefan-Boltzmann constant [W m^-2 K^-4] (CODATA 2018, exact in the 2019 SI).
SIGMA_SB = 5.670374419e-8

#: Highest film temperatures [K] the project uses as limits. Kapton HN: 673 K (400 C), the top of the
#: range DuPont's Kapton HN polyimide data sheet quotes for film use (also sim.constants). Mylar
#: (biaxially oriented PET): 423 K (150 C), the top of the range in which DuPont Teijin Films' bulletin
#: H-37232-3 (Mylar Physical-Thermal Properties) says the film retains good physical properties.
T_LIMIT_KAPTON_HN = 673.0
T_LIMIT_MYLAR = 423.0


def film_temperature(optics, r_m, cone_rad: float = 0.0) -> float:
    """Equilibrium temperature [K] of a film with ``optics`` (``sim.sail.OpticalProperties``) at ``r_m``
    [m] from the Sun, its normal ``cone_rad`` from the Sun line; nan for a film that absorbs or emits
    nothing (the ideal optics)."""
    absorbed = (1.0 - optics.reflectivity) * TSI_1AU * (AU / r_m) ** 2 * max(math.cos(cone_rad), 0.0)
    emissivity = optics.eps_front + optics.eps_back
    if absorbed <= 0.0 or emissivity <= 0.0:
        return math.nan
    return (absorbed / (SIGMA_SB * emissivity)) ** 0.25


def closest_safe_distance(optics, t_max_k: float, cone_rad: float = 0.0) -> float:
    """Smallest Sun distance [m] at which the film stays at or below ``t_max_k`` [K]: T ∝ r^(-1/2), so
    r_min = 1 AU (T(1 AU) / T_max)^2; 0 for a film that absorbs nothing."""
    t1 = film_temperature(optics, AU, cone_rad)
    if not math.isfinite(t1):
        return 0.0
    return AU * (t1 / t_max_k) ** 2
