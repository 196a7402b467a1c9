"""sim.batch_lanes (``propagate_final_batch(..., method="lanes")``): the vectorised lockstep batch against the
scalar right-hand side and the per-row batch."""
import dataclasses
import math

import numpy as np
import pytest

from sim import batch_lanes as bl
from sim.batch import propagate_final_batch
from sim.constants import AU, DAY, GM_SUN
from sim.dynamics import MODE_INERTIAL, MODE_OFF, MODE_RTN, empty_third_bodies, rhs, segment_attitude
from sim.kepler import coe2rv, kepler_propagate
from sim.sail import IDEAL, MCINNES_1999, NEA_SCOUT_2015, Sail

#: Sails of different optics; the McInnes film made two-sided (back face reflecting like the front) so that
#: the back-face coefficients differ from the black default.
SAILS = (Sail(0.010, 1.0, IDEAL), Sail(0.010, 1.0, MCINNES_1999), Sail(0.02, 1.5, NEA_SCOUT_2015),
         Sail(0.010, 1.0, dataclasses.replace(MCINNES_1999, name="two-sided", back_reflective=True)))
Y_CIRC = np.array([AU, 0.0, 0.0, 0.0, math.sqrt(GM_SUN / AU), 0.0])


def _random_states(rng, n):
    """Heliocentric states 0.3-5 AU in random directions, speeds 5-50 km/s in random directions."""
    r = rng.standard_normal((n, 3))
    r *= (rng.uniform(0.3, 5.0, n) * AU / np.linalg.norm(r, axis=1))[:, None]
    v = rng.standard_normal((n, 3))
    v *= (rng.uniform(5e3, 50e3, n) / np.linalg.norm(v, axis=1))[:, None]
    return np.hstack([r, v])


def _random_attitude(rng, mode):
    """RTN: cone 0-180 deg (the Sun on either face), clock -180-180 deg; inertial: a unit normal."""
    if mode == MODE_RTN:
        return np.array([rng.uniform(0.0, math.pi), rng.uniform(-math.pi, math.pi), 0.0])
    if mode == MODE_INERTIAL:
        n = rng.standard_normal(3)
        return n / np.linalg.norm(n)
    return np.zeros(3)


@pytest.mark.parametrize("nl", [bl.W, 5, 1])
@pytest.mark.parametrize("mode", [MODE_OFF, MODE_RTN, MODE_INERTIAL, "mixed"])
def test_lane_rhs_equals_scalar_rhs(mode, nl):
    """Every lane's derivative equals sim.dynamics.rhs to 1e-15 relative (it is the same arithmetic), for
    each attitude mode and for lanes in different modes, with different sails, both faces lit."""
    rng = np.random.default_rng(10 + nl)
    worst = 0.0
    for trial in range(40):
        ys = _random_states(rng, nl)
        modes = [mode if mode != "mixed" else int(rng.integers(0, 3)) for _ in range(nl)]
        atts = [_random_attitude(rng, m) for m in modes]
        sails = [SAILS[int(rng.integers(0, len(SAILS)))] for _ in range(nl)]
        y = np.zeros(6 * bl.W)
        la = np.zeros((1, bl.N_LA * bl.W))
        ls = np.zeros(bl.N_LS * bl.W)
        for k in range(nl):
            y[k::bl.W] = ys[k]
            bl.lane_attitude(modes[k], *atts[k], 0, k, la, np.empty(3), np.empty(4))
            bl.lane_sail(sails[k].kernel_array, k, ls)
        out = np.full((2, 6 * bl.W), np.nan)
        bl.lane_rhs(nl, y, la, 0, ls, out, 1)
        for k in range(nl):
            att4 = np.empty(4)
            segment_attitude(modes[k], atts[k], att4)
            expected = np.empty(6)
            rhs(0.0, ys[k], modes[k], att4, sails[k].kernel_array, *empty_third_bodies(), expected)
            got = out[1, k::bl.W]
            scale = np.array([np.max(np.abs(expected[:3]))] * 3 + [np.max(np.abs(expected[3:]))] * 3)
            worst = max(worst, float(np.max(np.abs(got - expected) / scale)))
        assert np.all(np.isnan(out[0]))  # only the requested row is written
    assert worst <= 1e-15


def _schedule(rng, n, nseg, modes=(MODE_RTN,)):
    """Random per-row modes (from ``modes``) and attitudes, shared segment times over 200 days."""
    seg_t = 1e8 + np.linspace(0.0, 200 * DAY, nseg + 1)
    mode = rng.choice(np.array(modes, dtype=np.int64), size=(n, nseg))
    att = np.array([[_random_attitude(rng, m) for m in row] for row in mode])
    att[mode == MODE_RTN, 0] *= 0.45  # cones 0-81 deg: the sail mostly thrusts
    return seg_t, mode, att


def _cartesian_rows(Y0, seg_t, mode, att, P, rtol):
    return propagate_final_batch(Y0, seg_t, mode, att, P, rtol, formulation="cartesian")


@pytest.mark.parametrize("sail", SAILS[:2], ids=lambda s: s.optics.name)
def test_identical_rows_take_the_scalar_steps(sail):
    """A block of copies of one trajectory takes the steps of the scalar Cartesian integrator: the same
    answer (to the last bits)."""
    rng = np.random.default_rng(3)
    seg_t, mode, att = _schedule(rng, 1, 12, (MODE_RTN, MODE_INERTIAL, MODE_OFF))
    n = bl.W + 3
    Y0 = np.tile(Y_CIRC, (n, 1))
    got = propagate_final_batch(Y0, seg_t, mode[0], att[0], sail.kernel_params(), 1e-10, method="lanes")
    single = _cartesian_rows(Y0[:1], seg_t, mode, att, sail.kernel_params(), 1e-10)[0]
    assert np.allclose(got, single[None, :], rtol=1e-13, atol=0)


@pytest.mark.parametrize("lanes", [bl.W, 3])
def test_final_states_agree_with_the_per_row_paths(lanes):
    """13 different trajectories (odd n: the last block padded), different sails, RTN, inertial and
    sail-off segments: lanes agree with the per-row Cartesian and MEE paths and with a tight reference
    (MEE at rtol 1e-13) to what rtol 1e-10 allows: the 200-day positions within 100 m (the per-row
    Cartesian path's own error here is up to ~30 m) and at rtol 1e-12 within 2 m."""
    rng = np.random.default_rng(7)
    n, nseg = 13, 12
    seg_t, mode, att = _schedule(rng, n, nseg, (MODE_RTN, MODE_RTN, MODE_INERTIAL, MODE_OFF))
    Y0 = np.tile(Y_CIRC, (n, 1))
    Y0[:, 4] *= rng.uniform(0.95, 1.05, n)
    P = np.array([SAILS[k % len(SAILS)].kernel_params() for k in range(n)])
    ref = propagate_final_batch(Y0, seg_t, mode, att, P, 1e-13)
    lanes10 = propagate_final_batch(Y0, seg_t, mode, att, P, 1e-10, method="lanes", lanes=lanes)
    lanes12 = propagate_final_batch(Y0, seg_t, mode, att, P, 1e-12, method="lanes", lanes=lanes)
    cart = _cartesian_rows(Y0, seg_t, mode, att, P, 1e-10)
    mee = propagate_final_batch(Y0, seg_t, mode, att, P, 1e-10)

    def dist(a, b):
        return np.linalg.norm(a[:, :3] - b[:, :3], axis=1)

    assert dist(lanes10, ref).max() < 100.0
    assert dist(lanes10, cart).max() < 100.0
    assert dist(lanes10, mee).max() < 100.0
    assert dist(lanes12, ref).max() < 2.0
    assert np.linalg.norm(lanes12[:, 3:] - ref[:, 3:], axis=1).max() < 1e-5  # m/s


@pytest.mark.parametrize("hard_lane", [0, bl.W - 1])
def test_shared_steps_serve_the_hardest_lane(hard_lane):
    """One lane on an orbit of e = 0.9 (perihelion 0.1 AU), the others circular, 400 days sail off: each
    lane's error against Kepler is no worse than the scalar integrator's alone at the same rtol (the
    block's step is rejected when any lane fails; a step sized by one lane only misses the eccentric
    orbit by up to 1e11 m)."""
    r, v = coe2rv(GM_SUN, AU, 0.9, 0.3, 0.2, 0.1, 0.0)
    Y0 = np.tile(Y_CIRC, (bl.W, 1))
    Y0[hard_lane] = np.r_[r, v]
    seg_t = np.array([0.0, 400 * DAY])
    mode, att, P = np.zeros(1, np.int64), np.zeros((1, 3)), SAILS[0].kernel_params()
    got = propagate_final_batch(Y0, seg_t, mode, att, P, 1e-10, method="lanes")
    alone = _cartesian_rows(Y0, seg_t, mode, att, P, 1e-10)
    for k in range(bl.W):
        rk, _ = kepler_propagate(GM_SUN, Y0[k, :3], Y0[k, 3:], seg_t[1])
        assert np.linalg.norm(got[k, :3] - rk) <= 1.5 * np.linalg.norm(alone[k, :3] - rk) + 1.0


@pytest.mark.parametrize("n", [1, 2, bl.W - 1, bl.W + 1])
def test_padding_and_single_rows(n):
    """The last block is padded with copies of the last row, which leave its steps alone: a row alone in
    its block (n = 1, n = W + 1) is the scalar answer; with lanes=1 every row is."""
    rng = np.random.default_rng(11)
    seg_t, mode, att = _schedule(rng, n, 6)
    Y0 = np.tile(Y_CIRC, (n, 1))
    P = SAILS[1].kernel_params()
    cart = _cartesian_rows(Y0, seg_t, mode, att, P, 1e-10)
    got = propagate_final_batch(Y0, seg_t, mode, att, P, 1e-10, method="lanes")
    assert got.shape == (n, 6) and np.all(np.isfinite(got))
    if n % bl.W == 1:
        assert np.allclose(got[-1], cart[-1], rtol=1e-13, atol=0)
    one = propagate_final_batch(Y0, seg_t, mode, att, P, 1e-10, method="lanes", lanes=1)
    assert np.allclose(one, cart, rtol=1e-13, atol=0)
    assert np.linalg.norm(got[:, :3] - cart[:, :3], axis=1).max() < 100.0


def test_rows_with_different_segment_times_are_refused():
    rng = np.random.default_rng(5)
    seg_t, mode, att = _schedule(rng, 3, 4)
    times = np.tile(seg_t, (3, 1))
    times[1, 2] += 60.0
    Y0 = np.tile(Y_CIRC, (3, 1))
    with pytest.raises(ValueError, match="same segment times"):
        propagate_final_batch(Y0, times, mode, att, SAILS[0].kernel_params(), method="lanes")
    # equal rows of SEG_T are accepted, and give what one shared row gives
    same = propagate_final_batch(Y0, np.tile(seg_t, (3, 1)), mode, att, SAILS[0].kernel_params(), method="lanes")
    shared = propagate_final_batch(Y0, seg_t, mode, att, SAILS[0].kernel_params(), method="lanes")
    assert np.array_equal(same, shared)


def test_bad_arguments_are_refused():
    rng = np.random.default_rng(6)
    seg_t, mode, att = _schedule(rng, 2, 3)
    Y0 = np.tile(Y_CIRC, (2, 1))
    P = SAILS[0].kernel_params()
    with pytest.raises(ValueError, match="Cartesian"):
        propagate_final_batch(Y0, seg_t, mode, att, P, method="lanes", formulation="mee")
    with pytest.raises(ValueError, match="lanes must be"):
        propagate_final_batch(Y0, seg_t, mode, att, P, method="lanes", lanes=bl.W + 1)
    with pytest.raises(ValueError, match="method"):
        propagate_final_batch(Y0, seg_t, mode, att, P, method="simd")
