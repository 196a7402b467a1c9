"""Tests of the onboard steering laws (bliss.fsw.steering).

References: McInnes, "Solar Sailing" (1999) sec. 4.3 for the closed-form optimal cone; Gauss's
variational equations checked by finite differences of the osculating elements; the sail force model of
sim.sail used as the independent brute-force reference.
"""
import math

import numpy as np
import pytest

from bliss.fsw import steering as st
from sim.constants import AU, DAY, GM_SUN
from sim.kepler import coe2rv, rv2coe
from sim.rtn import cone_clock_to_normal
from sim.sail import IDEAL, MCINNES_1999, NEA_SCOUT_2015, Sail, srp_acceleration

#: 101955 Bennu, JPL SBDB osculating elements (shared/reference.md): a, e, i, raan, argp.
BENNU = np.array([1.126391 * AU, 0.203745, math.radians(6.0349), math.radians(2.0609), math.radians(66.2231)])
MAX_CONE = math.radians(70.0)


def _earth_like():
    """Circular 1 AU orbit with a tiny inclination (ecliptic Earth-like departure orbit)."""
    return coe2rv(GM_SUN, AU, 0.0167, math.radians(0.01), 0.3, 1.8, 0.7)


def _force_along(sail, r, n, lam):
    return float(srp_acceleration(sail, n, r) @ lam)


def test_along_track_optimal_cone_is_closed_form_35_26_deg():
    cone = st.optimal_cone_for_force_component(math.pi / 2)
    assert abs(cone - math.atan(1.0 / math.sqrt(2.0))) < 1e-9
    assert abs(math.degrees(cone) - 35.26) < 0.005


@pytest.mark.parametrize("alpha_tilde_deg", [0.0, 10.0, 45.0, 90.0, 120.0, 150.0])
def test_ideal_optimal_cone_matches_formula_and_brute_force(alpha_tilde_deg):
    at = math.radians(alpha_tilde_deg)
    cone = st.optimal_cone_for_force_component(at)
    if 0 < at < math.pi:  # McInnes' closed form, written in its original (unstabilised) shape
        expect = math.atan((-3 * math.cos(at) + math.sqrt(9 * math.cos(at) ** 2 + 8 * math.sin(at) ** 2))
                           / (4 * math.sin(at)))
        assert abs(cone - expect) < 1e-9
    # brute force: the force component 2 cos^2(c) cos(c - at) on a fine grid
    grid = np.linspace(0.0, math.pi / 2, 200001)
    brute = grid[np.argmax(np.cos(grid) ** 2 * np.cos(grid - at))]
    assert abs(cone - brute) < 2e-5


@pytest.mark.parametrize("optics", [MCINNES_1999, NEA_SCOUT_2015])
@pytest.mark.parametrize("alpha_tilde_deg", [30.0, 90.0, 130.0])
def test_non_ideal_optimal_cone_maximises_the_force_model(optics, alpha_tilde_deg):
    sail = Sail(0.010, 1.0, optics)
    at = math.radians(alpha_tilde_deg)
    cone = st.optimal_cone_for_force_component(at, sail, max_cone=MAX_CONE)
    r = np.array([AU, 0.0, 0.0])
    lam = np.array([math.cos(at), math.sin(at), 0.0])
    # independent brute force over cone AND clock with the public force model
    best = -1.0
    for c in np.linspace(0, MAX_CONE, 1401):
        for d in (-0.2, 0.0, 0.2):
            n = np.array([math.cos(c), math.sin(c) * math.cos(d), math.sin(c) * math.sin(d)])
            best = max(best, _force_along(sail, r, n, lam))
    got = _force_along(sail, r, np.array([math.cos(cone), math.sin(cone), 0.0]), lam)
    assert got >= best - 1e-12 * abs(best) - 1e-15
    assert 0.0 <= cone <= MAX_CONE


def test_non_ideal_cone_differs_from_ideal_and_cone_limit_is_respected():
    ideal = st.optimal_cone_for_force_component(math.radians(150.0))
    limited = st.optimal_cone_for_force_component(math.radians(150.0), max_cone=MAX_CONE)
    assert ideal > MAX_CONE and limited == pytest.approx(MAX_CONE, abs=1e-12)
    mc = st.optimal_cone_for_force_component(math.pi / 2, Sail(0.010, 1.0, MCINNES_1999))
    assert abs(mc - st.optimal_cone_for_force_component(math.pi / 2)) > 1e-4


def _element_rate_fd(r, v, f, idx, h=1.0):
    """Central finite difference of element idx for a velocity kick f*h (the Gauss-equation rate)."""
    ep = rv2coe(GM_SUN, r, v + f * h)[idx]
    em = rv2coe(GM_SUN, r, v - f * h)[idx]
    d = ep - em
    if idx >= 2:
        d = (d + math.pi) % (2 * math.pi) - math.pi
    return d / (2 * h)


def _random_states(n, seed=3):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        el = (AU * rng.uniform(0.9, 1.3), rng.uniform(0.05, 0.3), math.radians(rng.uniform(2, 20)),
              rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi))
        yield coe2rv(GM_SUN, *el, rng.uniform(0, 2 * math.pi))


@pytest.mark.parametrize("element", st.ELEMENT_NAMES)
def test_locally_optimal_beats_along_track_and_random_attitudes(element):
    idx = st.ELEMENT_NAMES.index(element)
    sail = Sail()
    rng = np.random.default_rng(11)
    for r, v in _random_states(6):
        for sign in (1.0, -1.0):
            cone, clock = st.locally_optimal(r, v, element, increase=sign > 0, max_cone=MAX_CONE)
            assert 0.0 <= cone <= MAX_CONE + 1e-12
            f = srp_acceleration(sail, cone_clock_to_normal(r, v, cone, clock), r)
            rate = sign * _element_rate_fd(r, v, f, idx)
            ref = [(st.CONE_ALONG_TRACK, 0.0), (st.CONE_ALONG_TRACK, math.pi)]
            ref += [(rng.uniform(0, MAX_CONE), rng.uniform(-math.pi, math.pi)) for _ in range(40)]
            for c, d in ref:
                fr = srp_acceleration(sail, cone_clock_to_normal(r, v, c, d), r)
                assert rate >= sign * _element_rate_fd(r, v, fr, idx) - 1e-9 * abs(rate) - 1e-22


def test_lyapunov_gradient_matches_finite_difference_and_blended_is_best_feasible():
    sail = Sail()
    a_t, ev, hv, w = st.blended_kernel_inputs(BENNU)
    for r, v in _random_states(5, seed=7):
        V, g = st._lyapunov(GM_SUN, r, v, a_t, ev, hv, w)
        cone, clock, coast = st.blended(r, v, BENNU, max_cone=MAX_CONE, eta_cut=0.0)
        assert not coast and 0.0 <= cone <= MAX_CONE + 1e-12
        f = srp_acceleration(sail, cone_clock_to_normal(r, v, cone, clock), r)
        h = 100.0
        fd = (st.lyapunov_value(r, v + f * h, BENNU) - st.lyapunov_value(r, v - f * h, BENNU)) / (2 * h)
        assert abs(fd - g @ f) < 1e-6 * abs(g @ f)
        assert g @ f < 0.0
        best = min(g @ srp_acceleration(sail, cone_clock_to_normal(r, v, c, d), r)
                   for c in np.radians(np.linspace(0, 70, 71)) for d in np.radians(np.arange(-180, 180, 2.0)))
        assert g @ f <= best + 1e-4 * abs(best)


def test_lyapunov_is_zero_on_the_target_orbit():
    r, v = coe2rv(GM_SUN, *BENNU, 1.0)
    assert st.lyapunov_value(r, v, BENNU) < 1e-20
    cone, clock, coast = st.blended(r, v, BENNU)
    assert coast


def test_flying_the_blended_law_moves_a_e_i_toward_bennu():
    from sim.integrator import propagate_final

    sail = Sail()
    p = sail.kernel_params()
    r, v = _earth_like()
    y = np.concatenate([r, v])
    el0 = np.array(rv2coe(GM_SUN, r, v)[:3])
    V0 = st.lyapunov_value(r, v, BENNU)
    t, cones = 0.0, []
    for _ in range(200):  # 200 one-day constant-attitude segments
        cone, clock, coast = st.blended(y[:3], y[3:], BENNU, max_cone=MAX_CONE, eta_cut=0.2)
        mode = 0 if coast else 1
        cones.append(cone if not coast else 0.0)
        y = propagate_final(y, np.array([t, t + DAY]), np.array([mode]), np.array([[cone, clock, 0.0]]), p, 1e-9)
        t += DAY
    el1 = np.array(rv2coe(GM_SUN, y[:3], y[3:])[:3])
    err0 = np.abs(el0 - BENNU[:3]) / np.array([AU, 1.0, 1.0])
    err1 = np.abs(el1 - BENNU[:3]) / np.array([AU, 1.0, 1.0])
    # each of a, e, i at least 10 % closer after 200 days, and the blend's V down by more than 40 %
    assert np.all(err1 < 0.9 * err0), (err0, err1)
    assert st.lyapunov_value(y[:3], y[3:], BENNU) < 0.6 * V0
    assert max(cones) <= MAX_CONE + 1e-12


@pytest.mark.parametrize("bad", [
    lambda: st.locally_optimal([AU, 0, 0], [0, 3e4, 0], "q"),
    lambda: st.locally_optimal([0, 0, 0], [0, 3e4, 0], "a"),
    lambda: st.optimal_cone_for_force_component(4.0),
    lambda: st.optimal_cone_for_force_component(1.0, max_cone=70.0),
    lambda: st.blended([AU, 0, 0], [0, 3e4, 0], [AU, 1.5, 0, 0, 0]),
])
def test_bad_input_raises_clear_value_error(bad):
    with pytest.raises(ValueError):
        bad()
