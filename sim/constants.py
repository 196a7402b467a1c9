"""Physical constants, SI units, each with its source.

See ``/work/shared/reference.md`` (the project's reference facts) for the mission-level values.
"""
from __future__ import annotations

import math

#: Astronomical unit [m]. IAU 2012 Resolution B2 (exact).
AU = 149_597_870_700.0

#: Gravitational parameter of the Sun [m^3/s^2]. JPL DE421/DE430 (GM_sun = 1.32712440018e20).
GM_SUN = 1.32712440018e20

#: Total solar irradiance at 1 AU [W/m^2]. Kopp & Lean 2011, GRL 38, L01706 (SORCE/TIM).
TSI_1AU = 1361.0

#: Speed of light in vacuum [m/s]. SI definition (exact).
C_LIGHT = 299_792_458.0

#: Solar radiation pressure at 1 AU on a perfect absorber [N/m^2] = TSI / c = 4.540e-6.
#: Derived from the two values above (Orekit uses 4.56e-6 and NASA 42 uses 4.5e-6; we name ours).
P_SRP_1AU = TSI_1AU / C_LIGHT

#: Second, day and Julian year [s]. IAU conventions.
DAY = 86_400.0
JULIAN_YEAR = 365.25 * DAY

#: Sun's gravitational acceleration at 1 AU [m/s^2] (about 5.93e-3), used for the lightness number.
G_SUN_1AU = GM_SUN / AU**2

#: Planetary GM [m^3/s^2] from JPL DE430 (Folkner et al. 2014, IPN PR 42-196, Table 8), converted from
#: km^3/s^2. Planet systems (planet + moons) except Earth and Moon, which are given separately.
GM_PLANETS = {
    "mercury": 2.2031780000e13,
    "venus": 3.24858592000e14,
    "earth": 3.98600435436e14,
    "moon": 4.902800066e12,
    "mars": 4.282837362069909e13,
    "jupiter": 1.267127648e17,
    "saturn": 3.79405852e16,
    "uranus": 5.794548600e15,
    "neptune": 6.836527100580e15,
}

#: Earth-Moon barycentre GM [m^3/s^2] (DE430), for perturbations by the Earth-Moon system as one body.
GM_EMB = GM_PLANETS["earth"] + GM_PLANETS["moon"]

#: Locally optimal cone angle for the along-track force of an ideal flat sail [rad]: tan a* = 1/sqrt(2)
#: (McInnes, "Solar Sailing", 1999, sec. 4.3), 35.26 deg.
CONE_MAX_ALONG_TRACK = math.atan(1.0 / math.sqrt(2.0))

#: Closest safe distance of a sail to the Sun [m], 0.2 AU. Reasoning: the Sun-facing (cone 0) equilibrium
#: temperature of a flat film, T = [(1 - rho) S / (sigma (eps_f + eps_b))]^(1/4), with S = TSI_1AU (AU/r)^2
#: and the two non-ideal optical models of sim.sail, is 263 K (McInnes 1999) and 293 K (NEA Scout 2015) at
#: 1 AU, scaling as (r/AU)^-1/2: at 0.2 AU 589 K and 654 K, both still below 673 K (400 C, the highest
#: temperature DuPont's Kapton HN polyimide data sheet quotes for film use); at 0.15 AU the NEA Scout film
#: would reach 755 K. 0.2 AU is the closest round distance both models survive (the ideal optics absorb
#: nothing; the limit is kept the same for them). Used by ``bliss propagate`` (default
#: --min-sun-distance-au) and the feedback planner (a flight that comes closer is stopped). The formula's one
#: definition is sim.thermal.film_temperature (tests/test_scaling.py checks these numbers with it).
MIN_SAFE_SUN_DISTANCE = 0.2 * AU
