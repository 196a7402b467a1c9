"""Per-run dispersions of a Monte Carlo campaign, drawn from the scenario's one-sigma errors.

Run ``i`` of a campaign with seed ``S`` draws everything from ``numpy.random.SeedSequence(S,
spawn_key=(i,))`` (the i-th child of ``SeedSequence(S).spawn``), so a run is reproducible alone, in any
order, on any worker, and independent of how many runs the campaign has.

What each error perturbs (one sigma, Gaussian unless said; ``bliss.scenarios.model.ErrorsSpec``):

- ``optics_degradation``: fractional loss of the film's reflectivity rho, drawn half-normal
  (|N(0, sigma)|, degradation only lowers it); the lost light is absorbed, so the force shrinks and tilts
  toward the Sun line (sim.sail's optical model).
- ``mass_fraction``, ``area_fraction``: mass and area scaled by 1 + N(0, sigma).
- ``departure_position_km``, ``departure_velocity_m_s``: departure state error, per axis.
- ``pointing_deg``: attitude pointing error added to each flown segment's cone and clock angles.
- ``nav_position_km``, ``nav_velocity_m_s``: onboard navigation error, a fresh draw per axis at every
  guidance step (closed loop only: the open loop uses no navigation).

The flight software is NOT told the dispersed sail: it plans with the nominal one (as in flight).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from sim.sail import Sail

#: Columns of the dispersed parameters in the results table (scalars per run).
PARAMETERS = ("reflectivity_loss", "mass_factor", "area_factor", "departure_position_error_km",
              "departure_velocity_error_m_s", "pointing_rms_deg")


def run_seed(seed: int, index: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(int(seed), spawn_key=(int(index),))


@dataclass
class Dispersion:
    reflectivity_loss: float
    mass_factor: float
    area_factor: float
    dr0: np.ndarray            # (3,) m
    dv0: np.ndarray            # (3,) m/s
    rng: np.random.Generator   # the run's stream for per-segment pointing and per-step navigation
    pointing_sigma: float      # rad
    nav_sigma_r: float         # m
    nav_sigma_v: float         # m/s
    pointing_drawn: list = dataclasses.field(default_factory=list)

    def sail(self, nominal: Sail) -> Sail:
        o = nominal.optics
        optics = dataclasses.replace(o, name=f"{o.name} degraded",
                                     reflectivity=o.reflectivity * (1.0 - self.reflectivity_loss))
        return Sail(mass=nominal.mass * self.mass_factor, area=nominal.area * self.area_factor, optics=optics)

    def pointing(self, n: int) -> np.ndarray:
        """(n, 2) cone/clock errors [rad] for the next n flown segments."""
        e = self.rng.normal(0.0, self.pointing_sigma, size=(n, 2)) if self.pointing_sigma > 0 else np.zeros((n, 2))
        self.pointing_drawn.append(e)
        return e

    def nav_error(self) -> np.ndarray:
        """(6,) navigation error [m, m/s] of one guidance step."""
        if self.nav_sigma_r == 0 and self.nav_sigma_v == 0:
            return np.zeros(6)
        return np.concatenate([self.rng.normal(0.0, self.nav_sigma_r, 3), self.rng.normal(0.0, self.nav_sigma_v, 3)])

    def row(self) -> dict:
        pe = np.concatenate(self.pointing_drawn) if self.pointing_drawn else np.zeros((0, 2))
        return {"reflectivity_loss": self.reflectivity_loss, "mass_factor": self.mass_factor,
                "area_factor": self.area_factor,
                "departure_position_error_km": float(np.linalg.norm(self.dr0)) / 1e3,
                "departure_velocity_error_m_s": float(np.linalg.norm(self.dv0)),
                "pointing_rms_deg": math.degrees(float(np.sqrt(np.mean(pe ** 2)))) if pe.size else 0.0}


def draw(errors, seed: int, index: int) -> Dispersion:
    """The dispersions of run ``index`` of the campaign seeded ``seed`` (``errors``: an ErrorsSpec)."""
    rng = np.random.default_rng(run_seed(seed, index))
    e = errors
    loss = min(abs(rng.normal(0.0, e.optics_degradation)), 0.999) if e.optics_degradation > 0 else 0.0
    mass = 1.0 + rng.normal(0.0, e.mass_fraction) if e.mass_fraction > 0 else 1.0
    area = 1.0 + rng.normal(0.0, e.area_fraction) if e.area_fraction > 0 else 1.0
    dr0 = rng.normal(0.0, e.departure_position_km * 1e3, 3)
    dv0 = rng.normal(0.0, e.departure_velocity_m_s, 3)
    return Dispersion(loss, max(mass, 0.05), max(area, 0.05), dr0, dv0, rng, math.radians(e.pointing_deg),
                      e.nav_position_km * 1e3, e.nav_velocity_m_s)
