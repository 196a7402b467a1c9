"""Scaling limits of small sails: what area a payload needs, how fast that gets to Bennu, how close to
the Sun the film may go.

- :func:`characteristic_acceleration`: a_c = 2 P A / (m_payload + sigma_film A) of an ideal flat sail
  (P = 4.540e-6 N/m^2 at 1 AU, shared/reference.md), against area A for a payload mass and a film areal
  density sigma_film. As A grows a_c tends to 2 P / sigma_film: the film alone sets the ceiling.
- :func:`min_tof_to_bennu`: the minimum-time optimiser's rendezvous time with Bennu for a sail of a given
  a_c (1 m^2, the mass set to 2 P A / a_c), one departure date, through the survey's adapter to the
  planner (``bliss.survey.refine.optimise_rendezvous``).
- The perihelion limit: ``sim.thermal`` (film equilibrium temperature, one definition).

``bliss scaling`` (``bliss.cli.scaling``) writes the plots and a CSV; docs/scaling.md has the numbers.
"""
from __future__ import annotations

import math

import numpy as np

from bliss.survey.refine import optimise_rendezvous
from sim.constants import DAY, P_SRP_1AU
from sim.sail import Sail

#: Film areal densities [kg/m^2] with their sources (docs/scaling.md):
#: 4.5 um Mylar at 1390 kg/m^3 = 6.3 g/m^2 (the PisterLab model, shared/reference.md); 2 um CP1 polyimide
#: at 1434 kg/m^3 (unconfirmed: no document found, docs/scaling.md) = 2.87 g/m^2; 1 g/m^2 a thin-film
#: goal (sub-micron aluminised film, no substrate margin), a bound rather than a product.
FILM_AREAL_DENSITIES = {"1 g/m2 (thin-film goal)": 1.0e-3, "CP1 2 um (2.9 g/m2)": 2.868e-3,
                        "Mylar 4.5 um (6.3 g/m2)": 6.255e-3}
#: Payload masses [kg] (everything but the film): 1, 5, 10, 50 g.
PAYLOAD_MASSES = (1.0e-3, 5.0e-3, 10.0e-3, 50.0e-3)
#: Characteristic accelerations [m/s^2] of the minimum-time points, 0.2-3 mm/s^2 (issue 14).
A_C_POINTS = tuple(x * 1e-3 for x in (0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0))


def characteristic_acceleration(area_m2, payload_kg: float, film_kg_m2: float = 0.0):
    """Ideal flat sail's a_c [m/s^2] = 2 P A / (m_payload + sigma_film A); arrays broadcast."""
    area = np.asarray(area_m2, float)
    if payload_kg < 0 or film_kg_m2 < 0 or np.any(area <= 0) or payload_kg + film_kg_m2 <= 0:
        raise ValueError("area must be positive and payload mass and film areal density non-negative, "
                         "not both zero")
    return 2.0 * P_SRP_1AU * area / (payload_kg + film_kg_m2 * area)


def sail_for(a_c: float, area_m2: float = 1.0) -> Sail:
    """The ideal sail of ``area_m2`` whose total mass gives characteristic acceleration ``a_c`` [m/s^2]."""
    if not (math.isfinite(a_c) and a_c > 0):
        raise ValueError(f"characteristic acceleration must be a positive number of m/s^2, got {a_c!r}")
    return Sail(mass=2.0 * P_SRP_1AU * area_m2 / a_c, area=area_m2)


def tof_guess_days(a_c: float) -> float:
    """Crude start for the optimiser [days]: BLISS reaches Bennu in ~200 days at 0.908 mm/s^2
    (docs/survey.md); a low-thrust transfer's time scales roughly as a_c^-1/2 when phasing is free."""
    return 200.0 * math.sqrt(0.908e-3 / a_c)


def min_tof_to_bennu(a_c: float, t_depart: float, elements) -> dict:
    """Minimum rendezvous time with the two-body orbit ``elements`` (Bennu's in the CLI) departing Earth at
    ``t_depart`` [TDB s] with zero excess speed, for the 1 m^2 ideal sail of ``a_c``: the optimiser from
    three crude starts (the guess above, 1.6 and 2.5 times it: at low a_c the transfer is thrust-limited
    and takes longer than the a_c^-1/2 guess; the optimiser bounds each start's TOF at 1.6 times the
    start), and, if none closes, from the feedback laws' transfer (``bliss plan``'s warm start). Returns the
    adapter's dict plus ``a_c``."""
    g = tof_guess_days(a_c) * DAY
    r = optimise_rendezvous(sail_for(a_c), elements, t_depart, [g, 1.6 * g, 2.5 * g], feedback_fallback=True)
    r["a_c"] = float(a_c)
    return r
