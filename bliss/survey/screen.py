"""The survey's screen: an averaged-dynamics estimate of the minimum rendezvous time, per object and
departure date, in microseconds.

Method (docs/survey.md gives the derivation and the calibration against the optimiser):

1. Orbit change as a velocity increment. Semi-major axis and inclination together: Edelbaum's
   circle-to-circle low-thrust result ΔV_ai = sqrt(v0² + v1² - 2 v0 v1 cos(π/2 Δi)) (Edelbaum 1961;
   Wertz, *Orbit and Constellation Design*, 2009), v0 = sqrt(μ/1 AU), v1 = sqrt(μ/a). Eccentricity:
   with thrust held perpendicular to the apse line the orbit-averaged Gauss equation gives
   de/dt = 3f/(2v), so ΔV_e = (2/3) v |Δe|, times k_ecc (a sail cannot thrust sunward) (Δe the
   change of the eccentricity *vector* from Earth's, e = 0.0167, perihelion longitude 102.9°, in the
   ecliptic). The two add in quadrature (they use
   orthogonal thrust components on average).
2. Sail acceleration. f = k_eff · a_c · (1 AU / r_t)², r_t = sqrt(1 AU · max(q, 1 AU)) (the
   inverse-square law near the evolving orbit's perihelion, which moves from 1 AU to the target's q
   when q > 1 AU, and stays near 1 AU when the aphelion is what changes), k_eff the fraction of a_c a
   sail steered within its cone limit delivers along the wanted direction on average (calibrated; the along-track optimum alone is
   cos²35.26° sin 35.26° = 0.385, McInnes 1999 §4.3). T_orb = ΔV / f.
3. Phasing. Rendezvous also needs the target there on arrival. Over a transfer of length T the sail's
   mean motion goes from Earth's n_E to the target's n: its mean longitude gains (n_E + n) T / 2 while
   the target's gains n T; the remaining phase error φ(T) (wrapped to ±π) must be absorbed by raising
   or lowering the orbit during the spare time τ = T - T_orb, which with a triangular Δa profile
   (da/dt = 2f/n) buys at most k_ph · 3 f τ² / (4 r̄) radians, r̄ = sqrt(1 AU · a). The screen's time
   is the shortest T on a grid (``T_STEP_DAYS``) from T_orb with |φ(T)| <= that capacity, up to ``T_MAX_DAYS``
   (beyond: inf, not reachable).

The kernel runs on plain float arrays; one object and date cost a few microseconds (the T grid has
at most T_MAX/T_STEP points), so 20,060 objects over 50 dates take seconds.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.constants import AU, GM_SUN
from sim.ephemeris import body_states

#: The screen's model constants, chosen by benchmarks/survey_correlation.py on the first half of the
#: random sample (largest Spearman rho with the optimiser over a grid) and validated on the held-out
#: second half (docs/survey.md, "Calibration"):
#: K_EFF, the fraction of a_c delivered as useful Δv on average (the along-track optimum alone is
#: cos²35.26° sin 35.26° = 0.385 of a_c, McInnes 1999 §4.3; the fit's 0.5 absorbs the model's other
#: simplifications); K_PHASE, the phasing-capacity factor (1 is the triangular-Δa model as derived);
#: K_ECC, the weight of the eccentricity Δv (1 is the perpendicular-to-apse optimum (2/3) v Δe; a sail
#: cannot thrust sunward, so 1.5, i.e. v Δe, is closer to what it achieves); PERI_THRUST: the thrust
#: acts at r_t = sqrt(1 AU · max(q, 1 AU)) (near the evolving orbit's perihelion, where a sail raises its
#: aphelion most cheaply) instead of the mean distance sqrt(1 AU · a). The first screen (a priori:
#: K_EFF = 0.3, K_PHASE = 1, K_ECC = 1, mean-distance thrust) ranked with rho 0.58 on the held-out half.
K_EFF = 0.5
K_PHASE = 3.0
K_ECC = 1.5
PERI_THRUST = True
#: Time grid of the phasing search [days] and the longest transfer considered [days] (10 years).
T_STEP_DAYS = 2.0
T_MAX_DAYS = 3652.5
#: Earth's orbit (J2000 mean elements, Standish 1992 / JPL "Keplerian elements for approximate
#: positions of the major planets"): a = 1.00000261 AU, e = 0.01671123, perihelion longitude 102.93768°.
EARTH_A_AU = 1.00000261
EARTH_E = 0.01671123
EARTH_VARPI_DEG = 102.93768
_DAY = 86400.0


@njit(cache=True)
def _wrap(x):
    return (x + math.pi) % (2.0 * math.pi) - math.pi


@njit(cache=True)
def screen_kernel(el, t_dep, lon_earth, a_c, k_eff, k_ph, k_ecc, peri_thrust, t_step, t_max, tof, best_j, dv):
    """el (n, 7) [a m, e, i, raan, argp, M0, epoch s]; t_dep (m,) TDB s; lon_earth (m,) Earth's
    heliocentric ecliptic longitude [rad] at each date; a_c [m/s²]; k_ecc multiplies the eccentricity
    Δv; peri_thrust: thrust at r_t = sqrt(1 AU · max(q, 1 AU)) instead of sqrt(1 AU · a). Writes tof (n,)
    [s] (inf: not within t_max), best_j (n,) index of the best date, dv (n,) orbit-change Δv [m/s]."""
    mu = GM_SUN  # numba freezes module globals as compile-time constants
    au = AU
    a_e = EARTH_A_AU * au
    v0 = math.sqrt(mu / a_e)
    n_e = math.sqrt(mu / a_e**3)
    varpi_e = math.radians(EARTH_VARPI_DEG)
    ex_e = EARTH_E * math.cos(varpi_e)
    ey_e = EARTH_E * math.sin(varpi_e)
    for k in range(el.shape[0]):
        a, e, inc, raan, argp, m0, ep = el[k, 0], el[k, 1], el[k, 2], el[k, 3], el[k, 4], el[k, 5], el[k, 6]
        v1 = math.sqrt(mu / a)
        dv_ai = math.sqrt(max(v0 * v0 + v1 * v1 - 2.0 * v0 * v1 * math.cos(0.5 * math.pi * inc), 0.0))
        varpi = raan + argp
        de = math.hypot(e * math.cos(varpi) - ex_e, e * math.sin(varpi) - ey_e)
        dv_e = k_ecc * (2.0 / 3.0) * math.sqrt(v0 * v1) * de
        dvk = math.sqrt(dv_ai * dv_ai + dv_e * dv_e)
        dv[k] = dvk
        rbar = math.sqrt(a_e * a)
        r_t = math.sqrt(a_e * max(a * (1.0 - e), a_e)) if peri_thrust else rbar
        f = k_eff * a_c * (au / r_t) ** 2
        t_orb = dvk / f
        n_t = math.sqrt(mu / a**3)
        cap_c = k_ph * 3.0 * f / (4.0 * rbar)
        best = math.inf
        bj = -1
        for j in range(t_dep.shape[0]):
            lam_t0 = raan + argp + m0 + n_t * (t_dep[j] - ep)
            phi0 = lon_earth[j] - lam_t0
            T = t_orb
            while T <= t_max and T < best:
                tau = T - t_orb
                phi = _wrap(phi0 + (0.5 * (n_e + n_t) - n_t) * T)
                if abs(phi) <= cap_c * tau * tau:
                    best = T
                    bj = j
                    break
                T += t_step
        tof[k] = best
        best_j[k] = bj


def earth_longitudes(t_dep) -> np.ndarray:
    """Earth's heliocentric ecliptic J2000 longitude [rad] at TDB seconds ``t_dep`` (built-in ephemeris)."""
    r, _ = body_states("earth", np.asarray(t_dep, float))
    r = np.asarray(r, float).reshape(-1, 3)
    return np.arctan2(r[:, 1], r[:, 0])


def screen(elements, t_dep, a_c: float, k_eff: float = K_EFF, k_phase: float = K_PHASE, k_ecc: float = K_ECC,
           peri_thrust: bool = PERI_THRUST, chunk: int | None = None, progress=None):
    """Screen estimates for every row of ``elements`` (n, 7) over departure dates ``t_dep`` (TDB s):
    ``(tof_s (n,), t_best (n,) TDB s or nan, dv_m_s (n,))``. ``a_c``: the sail's characteristic
    acceleration [m/s²]. ``progress``: a tqdm-like object updated with rows done."""
    el = np.ascontiguousarray(elements, dtype=float).reshape(-1, 7)
    t = np.ascontiguousarray(np.atleast_1d(np.asarray(t_dep, float)))
    if not (math.isfinite(a_c) and a_c > 0):
        raise ValueError(f"characteristic acceleration must be a positive number of m/s^2, got {a_c!r}")
    if t.size == 0:
        raise ValueError("the departure window holds no dates")
    lon = earth_longitudes(t)
    n = el.shape[0]
    tof, dv = np.empty(n), np.empty(n)
    bj = np.empty(n, np.int64)
    step = chunk or max(1, n // 50)
    for s in range(0, n, step):
        e = slice(s, min(n, s + step))
        screen_kernel(el[e], t, lon, float(a_c), float(k_eff), float(k_phase), float(k_ecc), bool(peri_thrust),
                      T_STEP_DAYS * _DAY, T_MAX_DAYS * _DAY, tof[e], bj[e], dv[e])
        if progress is not None:
            progress.update(e.stop - e.start)
    t_best = np.where(bj >= 0, t[np.clip(bj, 0, None)], np.nan)
    return tof, t_best, dv


def screen_per_date(elements, t_dep, a_c: float, k_eff: float = K_EFF, k_phase: float = K_PHASE,
                    k_ecc: float = K_ECC, peri_thrust: bool = PERI_THRUST) -> np.ndarray:
    """Screen time [s] of every row of ``elements`` at every date of ``t_dep`` separately: (n, m)."""
    el = np.ascontiguousarray(elements, dtype=float).reshape(-1, 7)
    t = np.ascontiguousarray(np.atleast_1d(np.asarray(t_dep, float)))
    lon = earth_longitudes(t)
    out = np.empty((el.shape[0], t.size))
    bj = np.empty(el.shape[0], np.int64)
    dv = np.empty(el.shape[0])
    for j in range(t.size):
        tof = np.empty(el.shape[0])
        screen_kernel(el, t[j:j + 1], lon[j:j + 1], float(a_c), float(k_eff), float(k_phase), float(k_ecc),
                      bool(peri_thrust), T_STEP_DAYS * _DAY, T_MAX_DAYS * _DAY, tof, bj, dv)
        out[:, j] = tof
    return out
