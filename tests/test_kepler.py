"""Two-body relations: Vallado Example 2-4 and element round trips."""
import math

import numpy as np
import pytest

from sim.constants import AU, GM_SUN
from sim.kepler import coe2rv, kepler_propagate, mean_to_true, rv2coe, true_to_mean

MU_EARTH_KM = 398600.4418  # km^3/s^2, Vallado Example 2-4 (shared/reference.md)
R0 = np.array([1131.340, -2282.343, 6672.423])  # km
V0 = np.array([-5.64305, 4.30333, 2.42879])  # km/s
R40 = np.array([-4219.7527, 4363.0292, -3958.7666])  # km, after 40 min
V40 = np.array([3.689866, -1.916735, -6.112511])  # km/s


def test_vallado_example_2_4_universal_variables():
    r, v = kepler_propagate(MU_EARTH_KM * 1e9, R0 * 1e3, V0 * 1e3, 40 * 60.0)
    # Vallado prints 4 decimals in km and 6 in km/s: agree to within half a unit of the last digit
    # (poliastro's own test allows rtol 1e-5, i.e. ~70 m here; we hold 0.05 m).
    assert np.max(np.abs(r / 1e3 - R40)) < 0.5e-4
    assert np.max(np.abs(v / 1e3 - V40)) < 0.5e-6


@pytest.mark.parametrize("seed", range(5))
def test_elements_round_trip(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        a = rng.uniform(0.3, 5.0) * AU
        e = rng.uniform(0.001, 0.95)
        i = rng.uniform(0.01, math.pi - 0.01)
        raan, argp, nu = rng.uniform(0, 2 * math.pi, 3)
        r, v = coe2rv(GM_SUN, a, e, i, raan, argp, nu)
        el = rv2coe(GM_SUN, r, v)
        assert el[0] == pytest.approx(a, rel=1e-10)
        assert el[1] == pytest.approx(e, rel=1e-9, abs=1e-12)
        assert el[2] == pytest.approx(i, abs=1e-10)
        for got, want in zip(el[3:], (raan, argp, nu)):
            assert math.remainder(got - want, 2 * math.pi) == pytest.approx(0.0, abs=1e-8)
        r2, v2 = coe2rv(GM_SUN, *el)
        assert np.allclose(r2, r, rtol=0, atol=1e-4 * AU * 1e-6)
        assert np.allclose(v2, v, rtol=0, atol=1e-9)


def test_hyperbolic_round_trip_and_anomalies():
    r, v = coe2rv(GM_SUN, -2 * AU, 1.5, 0.3, 1.0, 2.0, 0.7)
    el = rv2coe(GM_SUN, r, v)
    assert el[0] == pytest.approx(-2 * AU, rel=1e-10)
    assert el[1] == pytest.approx(1.5, rel=1e-10)
    for e in (0.0, 0.3, 0.9, 1.7):
        for nu in np.linspace(-2.0, 2.0, 9):
            assert mean_to_true(true_to_mean(nu, e), e) == pytest.approx(nu, abs=1e-11)


def test_kepler_propagation_full_period_returns_home():
    r0, v0 = coe2rv(GM_SUN, 1.126391 * AU, 0.203745, 0.105, 0.036, 1.156, 1.2)
    period = 2 * math.pi * math.sqrt((1.126391 * AU) ** 3 / GM_SUN)
    r, v = kepler_propagate(GM_SUN, r0, v0, period)
    assert np.linalg.norm(r - r0) < 1.0  # m, over 1.2 years
