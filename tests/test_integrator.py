"""The compiled DOP853 integrator against analytic solutions and an independent scipy reference."""
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from sim.batch import propagate_final_batch
from sim.constants import AU, CONE_MAX_ALONG_TRACK, DAY, GM_SUN, JULIAN_YEAR
from sim.integrator import EventSpec, Schedule, propagate, propagate_final
from sim.kepler import coe2rv, elements_state, kepler_propagate, rv2coe
from sim.sail import IDEAL, MCINNES_1999, Sail

SAIL = Sail(0.010, 1.0, IDEAL)
FORMS = pytest.mark.parametrize("form", ["mee", "cartesian"])
Y_CIRC = np.array([AU, 0.0, 0.0, 0.0, math.sqrt(GM_SUN / AU), 0.0])


def _state(a_au, e, i, raan, argp, nu, mu=GM_SUN):
    r, v = coe2rv(mu, a_au * AU, e, i, raan, argp, nu)
    return np.concatenate([r, v])


@FORMS
def test_vallado_example_2_4_by_dynamical_similarity(form):
    """Vallado Ex. 2-4 (Earth orbit, 40 min) flown by our heliocentric integrator with the sail off.

    Two-body motion is invariant under t -> t * sqrt(mu_E / mu_S) with positions unchanged and velocities
    divided by sqrt(mu_E / mu_S), so the Earth problem maps exactly onto a Sun-centred one.
    """
    mu_e = 398600.4418e9
    k = math.sqrt(mu_e / GM_SUN)
    r0 = np.array([1131.340, -2282.343, 6672.423]) * 1e3
    v0 = np.array([-5.64305, 4.30333, 2.42879]) * 1e3
    tr = propagate(np.r_[r0, v0 / k], Schedule.off(0.0, 2400.0 * k), SAIL, formulation=form, rtol=1e-13)
    r = tr.y_final[:3] / 1e3
    v = tr.y_final[3:] * k / 1e3
    assert np.max(np.abs(r - [-4219.7527, 4363.0292, -3958.7666])) < 0.5e-4  # km (last printed digit)
    assert np.max(np.abs(v - [3.689866, -1.916735, -6.112511])) < 0.5e-6  # km/s


@pytest.mark.parametrize("e", [0.0167, 0.2, 0.6])
@FORMS
def test_sail_off_conserves_energy_and_momentum_over_100_orbits(e, form):
    y0 = _state(1.0, e, 0.1, 0.3, 0.5, 0.0)
    period = 2 * math.pi * math.sqrt(AU**3 / GM_SUN)
    times = np.linspace(0.0, 100 * period, 201)
    tr = propagate(y0, Schedule.off(0.0, 100 * period), SAIL, formulation=form, t_out=times, rtol=1e-12)
    r = np.linalg.norm(tr.y[:, :3], axis=1)
    energy = 0.5 * np.sum(tr.y[:, 3:] ** 2, axis=1) - GM_SUN / r
    h = np.cross(tr.y[:, :3], tr.y[:, 3:])
    # DOP853 at rtol 1e-12: relative drift below 1e-9 over 100 orbits (measured ~1e-11 to 1e-10)
    assert np.max(np.abs(energy / energy[0] - 1.0)) < 1e-9
    assert np.max(np.linalg.norm(h - h[0], axis=1)) / np.linalg.norm(h[0]) < 1e-9
    # and the final state matches the closed-form Kepler solution to 1e-9 of the distance travelled
    # (measured at rtol 1e-12: 4 km for e = 0.2 and 48 km for e = 0.6, mostly along-track phase)
    rk, vk = kepler_propagate(GM_SUN, y0[:3], y0[3:], 100 * period)
    path = 100 * 2 * math.pi * AU
    assert np.linalg.norm(tr.y_final[:3] - rk) < 1e-9 * path


@FORMS
def test_sun_facing_ideal_sail_is_kepler_with_reduced_gravity(form):
    """Normal along the Sun line: a = -GM (1 - beta) r/r^3 exactly, a closed-form Kepler problem."""
    y0 = _state(1.0, 0.2, 0.05, 0.0, 1.0, 0.3)
    t1 = JULIAN_YEAR
    beta = SAIL.lightness_number
    rk, vk = kepler_propagate(GM_SUN * (1 - beta), y0[:3], y0[3:], t1)
    tr = propagate(y0, Schedule.constant_rtn(0.0, t1, 0.0, 0.0), SAIL, formulation=form, rtol=1e-12)
    assert np.linalg.norm(tr.y_final[:3] - rk) < 100.0  # m after a year
    assert np.linalg.norm(tr.y_final[3:] - vk) < 1e-5  # m/s
    # without the sail, the orbit is measurably different (the test can fail)
    r2, _ = kepler_propagate(GM_SUN, y0[:3], y0[3:], t1)
    assert np.linalg.norm(r2 - rk) > 1e9


def _scipy_reference(y0, t1, cone, clock, ac, rtol):
    """Independent Python right-hand side: ideal sail, cone/clock held in the RTN frame."""

    def f(t, y):
        r, v = y[:3], y[3:]
        rn = np.linalg.norm(r)
        R = r / rn
        N = np.cross(r, v)
        N /= np.linalg.norm(N)
        T = np.cross(N, R)
        n = math.cos(cone) * R + math.sin(cone) * (math.cos(clock) * T + math.sin(clock) * N)
        a = -GM_SUN * r / rn**3 + ac * (AU / rn) ** 2 * (n @ R) ** 2 * n
        return np.concatenate([v, a])

    return solve_ivp(f, (0.0, t1), y0, method="DOP853", rtol=rtol, atol=1e-6 * rtol * AU).y[:, -1]


@pytest.mark.parametrize("clock", [0.0, 1.0])
@FORMS
def test_sail_trajectory_matches_independent_scipy_reference(clock, form):
    t1 = JULIAN_YEAR
    ref = _scipy_reference(Y_CIRC, t1, CONE_MAX_ALONG_TRACK, clock, SAIL.characteristic_acceleration, 1e-12)
    tr = propagate(Y_CIRC, Schedule.constant_rtn(0.0, t1, CONE_MAX_ALONG_TRACK, clock), SAIL, formulation=form, rtol=1e-12)
    assert np.linalg.norm(tr.y_final[:3] - ref[:3]) < 2e3  # m, after a year and ~1 AU of raising
    assert np.linalg.norm(tr.y_final[3:] - ref[3:]) < 1e-3  # m/s
    # the sail did something: the orbit was raised by a large fraction of an AU
    assert np.linalg.norm(tr.y_final[:3]) > 1.5 * AU


@FORMS
def test_segments_switch_exactly_and_zero_order_hold(form):
    """Sail on for 100 days, then off: the end state is Kepler from the state at the switch."""
    t_sw, t1 = 100 * DAY, 300 * DAY
    sched = Schedule(np.array([0.0, t_sw, t1]), np.array([1, 0]), np.array([[0.6, 0.2, 0.0], [0, 0, 0]]))
    tr = propagate(Y_CIRC, sched, SAIL, formulation=form, t_out=np.array([t_sw, t1]), rtol=1e-12)
    first = propagate(Y_CIRC, Schedule.constant_rtn(0.0, t_sw, 0.6, 0.2), SAIL, formulation=form, rtol=1e-12)
    assert np.allclose(tr.y[0], first.y_final, rtol=0, atol=1.0)
    rk, vk = kepler_propagate(GM_SUN, first.y_final[:3], first.y_final[3:], t1 - t_sw)
    assert np.linalg.norm(tr.y_final[:3] - rk) < 10.0


@FORMS
def test_inertial_mode_matches_rtn_mode_for_a_single_instant_attitude(form):
    """Mode 2 with the normal the RTN law gives at t0 equals mode 1 over a very short segment."""
    from sim.rtn import cone_clock_to_normal

    n0 = cone_clock_to_normal(Y_CIRC[:3], Y_CIRC[3:], 0.5, 0.3)
    a = propagate(Y_CIRC, Schedule.from_normals([0.0, 600.0], [n0]), SAIL, formulation=form, rtol=1e-13).y_final
    b = propagate(Y_CIRC, Schedule.constant_rtn(0.0, 600.0, 0.5, 0.3), SAIL, formulation=form, rtol=1e-13).y_final
    # over 10 min the SRP displaces the sail by ~180 m and the RTN frame turns by 1.2e-4 rad: the two
    # differ by ~180 m x 1.2e-4 / 3 ~ 1 cm
    assert np.linalg.norm(a[:3] - b[:3]) < 0.05
    # over 100 days they differ: the RTN frame rotates ~100 degrees
    a = propagate(Y_CIRC, Schedule.from_normals([0.0, 100 * DAY], [n0]), SAIL, formulation=form).y_final
    b = propagate(Y_CIRC, Schedule.constant_rtn(0.0, 100 * DAY, 0.5, 0.3), SAIL, formulation=form).y_final
    assert np.linalg.norm(a[:3] - b[:3]) > 1e8


@FORMS
def test_dense_output_matches_direct_propagation(form):
    times = np.linspace(0.0, 200 * DAY, 37)
    sched = Schedule.from_rtn(np.linspace(0.0, 200 * DAY, 9), np.linspace(0.2, 0.8, 8), 0.1)
    tr = propagate(Y_CIRC, sched, SAIL, formulation=form, t_out=times, rtol=1e-11)
    for j in (5, 13, 22, 36):
        direct = propagate(Y_CIRC, sched.truncated(times[j]), SAIL, formulation=form, rtol=1e-11).y_final
        assert np.linalg.norm(tr.y[j, :3] - direct[:3]) < 50.0  # m: 7th-order interpolant, rtol 1e-11


def test_non_ideal_sail_flies_differently_and_slower():
    sched = Schedule.constant_rtn(0.0, JULIAN_YEAR, CONE_MAX_ALONG_TRACK, 0.0)
    ideal = propagate(Y_CIRC, sched, SAIL).y_final
    real = propagate(Y_CIRC, sched, Sail(0.010, 1.0, MCINNES_1999)).y_final
    a_ideal = rv2coe(GM_SUN, ideal[:3], ideal[3:])[0]
    a_real = rv2coe(GM_SUN, real[:3], real[3:])[0]
    assert AU < a_real < a_ideal


@FORMS
def test_sun_distance_event_matches_kepler_time(form):
    """Crossing r = 1.1 AU outward on a Kepler ellipse, against the analytic time from Kepler's equation."""
    a, e = 1.2 * AU, 0.2
    y0 = _state(1.2, e, 0.0, 0.0, 0.0, 0.0)  # at perihelion (0.96 AU)
    R = 1.1 * AU
    nu = math.acos((a * (1 - e * e) / R - 1) / e)
    E = 2 * math.atan(math.sqrt((1 - e) / (1 + e)) * math.tan(nu / 2))
    t_cross = (E - e * math.sin(E)) / math.sqrt(GM_SUN / a**3)
    ev = EventSpec.sun_distance(R, direction=+1, terminal=True)
    tr = propagate(y0, Schedule.off(0.0, 400 * DAY), SAIL, formulation=form, events=[ev], rtol=1e-12)
    assert tr.status == 1 and len(tr.events) == 1
    assert tr.events[0].t == pytest.approx(t_cross, abs=1e-2)  # s
    assert tr.t_final == pytest.approx(t_cross, abs=1e-2)
    assert np.linalg.norm(tr.y_final[:3]) == pytest.approx(R, abs=1.0)


@FORMS
def test_closest_approach_event_is_a_minimum_of_distance(form):
    target = np.array([GM_SUN, 1.0 * AU, 0.05, 0.02, 0.0, 0.0, 0.3, 0.0])  # mu a e i raan argp M0 t0
    ev = EventSpec.closest_approach(target)
    tr = propagate(Y_CIRC, Schedule.constant_rtn(0.0, 2 * JULIAN_YEAR, 0.3, 0.0), SAIL, formulation=form, events=[ev],
                   rtol=1e-12)
    assert len(tr.events) >= 1
    for e in tr.events:
        # brute force around the event: the distance is smallest there
        times = e.t + np.linspace(-2 * DAY, 2 * DAY, 41)
        times = times[(times >= 0) & (times <= 2 * JULIAN_YEAR)]
        dense = propagate(Y_CIRC, Schedule.constant_rtn(0.0, 2 * JULIAN_YEAR, 0.3, 0.0), SAIL, formulation=form,
                          t_out=times, rtol=1e-12)
        d = [np.linalg.norm(y[:3] - elements_state(*target, t)[0]) for t, y in zip(times, dense.y)]
        assert e.distance <= min(d) + 1.0


def test_batch_equals_serial():
    rng = np.random.default_rng(1)
    n, nseg = 16, 12
    times = np.linspace(0.0, 200 * DAY, nseg + 1)
    cones = rng.uniform(0, 1.2, (n, nseg))
    clocks = rng.uniform(-3, 3, (n, nseg))
    att = np.stack([cones, clocks, np.zeros_like(cones)], axis=-1)
    modes = np.ones((n, nseg), dtype=np.int64)
    Y0 = np.tile(Y_CIRC, (n, 1))
    out = propagate_final_batch(Y0, times, modes, att, SAIL.kernel_params(), 1e-10)
    for j in range(0, n, 5):
        single = propagate_final(Y0[j], times, modes[j], att[j], SAIL.kernel_params(), 1e-10)
        # the parallel build may order floating-point operations differently: last-bit differences only
        assert np.allclose(out[j], single, rtol=1e-13, atol=0)
        via_api = propagate(Y0[j], Schedule(times, modes[j], att[j]), SAIL, rtol=1e-10).y_final
        assert np.allclose(out[j], via_api, rtol=1e-13, atol=0)


@pytest.mark.parametrize("bad", [np.array([np.nan, 0, 0, 0, 0, 0]), np.zeros(5), np.zeros(6)])
def test_bad_initial_state_is_refused(bad):
    with pytest.raises(ValueError):
        propagate(bad, Schedule.off(0.0, DAY), SAIL)


def test_bad_schedule_is_refused():
    with pytest.raises(ValueError, match="increasing"):
        Schedule(np.array([0.0, 0.0]), np.array([0]), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="unit"):
        Schedule.from_normals([0.0, 1.0], [[2.0, 0, 0]])


def test_dop853_tableau_is_hairer_norsett_wanner_as_in_scipy():
    """Our written-out DOP853 coefficients equal scipy's table of the same published tableau, number
    for number (bit for bit: both are the double-precision values of the same decimals)."""
    from scipy.integrate._ivp import dop853_coefficients as ref

    from sim import dop853

    for name in ("A", "B", "C", "E3", "E5", "D"):
        ours, theirs = getattr(dop853, name), getattr(ref, name)
        assert ours.shape == theirs.shape, name
        np.testing.assert_array_equal(ours, theirs, err_msg=name)
    assert dop853.N_STAGES == ref.N_STAGES
    # consistency of the 8th-order weights: they sum to one and C[s] = sum_j A[s, j] for every stage
    assert abs(dop853.B.sum() - 1.0) < 1e-14
    np.testing.assert_allclose(dop853.A.sum(axis=1)[1:], dop853.C[1:], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("times, modes, att, message", [
    ([0.0, 1.0, 1.0], [1, 1], [[0.5, 0, 0]] * 2, "strictly increasing"),
    ([0.0, math.nan], [1], [[0.5, 0, 0]], "strictly increasing"),
    ([0.0, 1.0], [3], [[0.5, 0, 0]], "modes must be 0"),
    ([0.0, 1.0], [-1], [[0.5, 0, 0]], "modes must be 0"),
    ([0.0, 1.0], [1], [[math.inf, 0, 0]], "attitudes must be finite"),
    ([0.0, 1.0, 2.0], [1, 2], [[0.5, 0, 0], [1.0, 1e-4, 0]], "unit vectors"),
])
def test_bad_schedules_are_refused_with_what_is_wrong(times, modes, att, message):
    with pytest.raises(ValueError, match=message):
        Schedule(np.array(times), np.array(modes), np.array(att, dtype=float))


def test_good_schedule_with_every_mode_is_accepted_and_read_only_inputs_are_copied():
    """Off, RTN and inertial segments pass the compiled check; read-only input arrays are copied to the
    writable arrays the kernels are compiled for."""
    t = np.array([0.0, 1.0, 2.0, 3.0])
    t.setflags(write=False)
    s = Schedule(t, np.array([0, 1, 2]), np.array([[0.0, 0.0, 0.0], [0.5, 0.1, 0.0], [0.0, 0.6, 0.8]]))
    assert s.t.flags.writeable and s.mode.dtype == np.int64 and s.n_segments == 3


def test_the_integrator_without_third_bodies_refuses_a_third_body_table():
    """sim.dop853 compiles the third bodies' pull only into its *_third kernels (sim.dop853.integrator);
    the Sun-and-sail kernel handed a non-empty table must refuse it, not fly without the planets."""
    from sim import dop853

    y0 = np.array([AU, 0.0, 0.0, 0.0, 29784.7, 0.0])
    seg_t = np.array([0.0, 86400.0])
    args = (y0, seg_t, np.ones(1, np.int64), np.zeros((1, 3)), SAIL.kernel_params(),
            np.array([3.986e14]), 0.0, 86400.0, np.zeros((1, 3, 3)), np.zeros((1, 3, 3)),
            1e-10, dop853.default_atol(1e-10), np.zeros(0), np.zeros((0, 6)), np.zeros(0, np.int64),
            np.zeros((0, dop853.EV_NPAR)), np.zeros(0), np.zeros((0, 6)), np.zeros(0, np.int64), 1000)
    with pytest.raises(ValueError, match="no third bodies"):
        dop853.integrate_cartesian(*args)
    assert dop853.integrator(dop853.FORM_CARTESIAN, True) is dop853.THIRD_BODY_INTEGRATORS[dop853.FORM_CARTESIAN]


@pytest.mark.parametrize("optics", ["ideal", "mcinnes-back-reflective"])
def test_the_rtn_fast_right_hand_side_is_the_general_one_to_the_bit(optics):
    """sim.mee.mee_rtn_derivative (the integrator's stages on RTN and sail-off segments, with the force
    sim.mee.segment_rtn_force precomputed per segment) gives the numbers sim.mee.mee_sun_sail_derivative
    gives, bit for bit, over random orbits and attitudes, front and back lit, edge-on and sail off."""
    from dataclasses import replace

    from sim.dynamics import MODE_OFF, MODE_RTN, segment_attitude
    from sim.mee import cart_to_mee, mee_rtn_derivative, mee_sun_sail_derivative, segment_rtn_force
    from sim.sail import K_SCALE, sail_numbers

    o = IDEAL if optics == "ideal" else replace(MCINNES_1999, back_reflective=True)
    sp = Sail(0.010, 1.0, o).kernel_params()
    spn = sail_numbers.py_func(sp)
    rng = np.random.default_rng(11)
    att4 = np.empty(4)
    m = np.empty(6)
    cones = list(rng.uniform(-math.pi, math.pi, 40)) + [math.pi / 2, 0.0, math.pi]
    for j, cone in enumerate(cones):
        mode = MODE_OFF if j % 7 == 0 else MODE_RTN
        segment_attitude(mode, np.array([cone, rng.uniform(-math.pi, math.pi), 0.0]), att4)
        force = segment_rtn_force(mode, att4[0], att4[1], att4[2], att4[3], spn)
        cart_to_mee(_state(rng.uniform(0.5, 3.0), rng.uniform(0.0, 0.6), rng.uniform(0.0, 0.5),
                           *rng.uniform(0.0, 2 * math.pi, 3)), m)
        m[5] += 2 * math.pi * rng.integers(0, 30)  # L unwrapped, as the integrator carries it
        fast = mee_rtn_derivative(*m, sp[K_SCALE], *force)
        general = mee_sun_sail_derivative(*m, mode, *att4, spn, 0.0, 0.0, 0.0, False)
        assert fast == general, (mode, cone)


@FORMS
def test_the_plain_entry_flies_the_same_steps_as_the_full_kernel(form):
    """propagate without events or third bodies goes through sim.dop853.PLAIN_INTEGRATORS (ten arguments);
    with an event that never fires it goes through the full kernel: the same states to the bit, on a
    schedule with every mode and outputs between and on the switches."""
    sched = Schedule(np.array([0.0, 20 * DAY, 45 * DAY, 80 * DAY]), np.array([1, 0, 2]),
                     np.array([[0.6, 0.3, 0.0], [0.0, 0.0, 0.0], [0.0, 0.6, 0.8]]))
    t_out = np.array([0.0, 7 * DAY, 20 * DAY, 33.3 * DAY, 80 * DAY])
    plain = propagate(Y_CIRC, sched, SAIL, t_out=t_out, formulation=form, rtol=1e-10)
    never = EventSpec.sun_distance(50 * AU)
    full = propagate(Y_CIRC, sched, SAIL, t_out=t_out, formulation=form, rtol=1e-10, events=[never])
    assert not full.events
    np.testing.assert_array_equal(plain.y, full.y)
    np.testing.assert_array_equal(plain.y_final, full.y_final)
    assert (plain.n_steps, plain.n_rejected) == (full.n_steps, full.n_rejected)


def test_a_step_that_ends_its_segment_skips_the_derivative_no_one_uses():
    """DOP853 with FSAL evaluates 12 derivatives per step; a step landing on a segment switch skips the
    derivative at its new point (the next segment starts with its own), unless dense output needs it.
    Sail off, one step per 1-day segment: 1 + 11 evaluations per segment; with an output inside every
    segment, 1 + 12 + 3 (the new point and the three dense-output stages)."""
    n = 5
    t = np.arange(n + 1) * DAY
    sched = Schedule(t, np.zeros(n, np.int64), np.zeros((n, 3)))
    tr = propagate(Y_CIRC, sched, SAIL, rtol=1e-6)
    assert tr.n_steps == n and tr.n_rejected == 0
    assert tr.nfev == 1 + n * 12  # the first segment's initial-step estimate costs one more
    dense = propagate(Y_CIRC, sched, SAIL, t_out=t[:-1] + 0.5 * DAY, rtol=1e-6)
    assert dense.n_steps == n and dense.nfev == 1 + n * (1 + 12 + 3)
    rk, _ = kepler_propagate(GM_SUN, Y_CIRC[:3], Y_CIRC[3:], 0.5 * DAY)
    assert np.linalg.norm(dense.y[0, :3] - rk) < 1.0


@FORMS
def test_two_events_in_one_step_are_both_found_where_kepler_puts_them(form):
    """Two distance crossings inside one step (1.10 and 1.11 AU outward, a few days apart, the steps weeks
    long): each is found at its analytic time. Locating the first overwrote the Cartesian state the
    second was checked against (the state at the first crossing, inside 1.11 AU), so the second was
    missed in that step and then sought in the next step, where it is not."""
    a, e = 1.2 * AU, 0.2
    y0 = _state(1.2, e, 0.0, 0.0, 0.0, 0.0)  # at perihelion (0.96 AU)

    def t_cross(R):
        nu = math.acos((a * (1 - e * e) / R - 1) / e)
        E = 2 * math.atan(math.sqrt((1 - e) / (1 + e)) * math.tan(nu / 2))
        return (E - e * math.sin(E)) / math.sqrt(GM_SUN / a**3)

    radii = (1.10 * AU, 1.11 * AU)
    events = [EventSpec.sun_distance(R, direction=+1, name=f"r{k}") for k, R in enumerate(radii)]
    tr = propagate(y0, Schedule.off(0.0, 150 * DAY), SAIL, formulation=form, events=events, rtol=1e-9)
    assert tr.n_steps < 15  # steps of weeks: both crossings (3.5 days apart) fall in one step
    found = {ev.name: ev for ev in tr.events}
    assert sorted(found) == ["r0", "r1"], [(ev.name, ev.t / DAY) for ev in tr.events]
    for k, R in enumerate(radii):
        assert found[f"r{k}"].t == pytest.approx(t_cross(R), abs=1.0)  # s
        assert found[f"r{k}"].distance == pytest.approx(R, abs=1e3)  # m
