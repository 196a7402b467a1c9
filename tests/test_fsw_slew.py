"""The slew limiter and the one definition of a schedule's slew rate (bliss.fsw.slew)."""
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bliss.fsw.messages import AttitudeMode
from bliss.fsw.slew import SlewLimiter, switch_angle, switch_rates
from sim.constants import DAY
from sim.rtn import cone_clock_to_rtn

R = np.array([1.0, 0.0, 0.0])  # radial axis in RTN components

command = st.one_of(st.none(), st.tuples(st.floats(0.0, math.radians(70.0)), st.floats(-math.pi, math.pi)))


def _normal(mode, cone, clock):
    return None if mode is AttitudeMode.OFF else cone_clock_to_rtn(cone, clock)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(command, st.floats(60.0, 3.0 * DAY)), min_size=2, max_size=25),
       st.floats(0.5, 30.0))
def test_limiter_never_turns_faster_than_its_rate(steps, rate_deg_day):
    lim = SlewLimiter(rate_deg_day)
    prev = None
    for k, (cmd, dt) in enumerate(steps):
        n = _normal(*lim.step(cmd, dt))
        if k > 0:
            # the flown normal moved by at most rate x dt (its own state, including edge-on clocks); 2e-8 rad
            # is the resolution of an angle measured through acos near 1 (sqrt(2 x 2.2e-16))
            assert switch_angle(prev, n, R) <= math.radians(rate_deg_day) * dt / DAY + 2e-8
        prev = n


def test_limiter_reaches_a_reachable_command_and_goes_edge_on_at_its_clock():
    lim = SlewLimiter(10.0)
    mode, cone, clock = lim.step((0.5, 1.0), DAY)  # first command: nothing to turn from
    assert mode is AttitudeMode.RTN and math.isclose(cone, 0.5) and math.isclose(clock, 1.0)
    mode, cone, clock = lim.step((0.6, 1.0), DAY)  # 5.7 deg away: reached within a day at 10 deg/day
    assert mode is AttitudeMode.RTN and math.isclose(cone, 0.6) and math.isclose(clock, 1.0)
    mode, cone, clock = lim.step(None, DAY)  # edge-on is 55.6 deg away: 10 deg of it today
    assert mode is AttitudeMode.RTN and math.isclose(cone, 0.6 + math.radians(10.0)) and math.isclose(clock, 1.0)
    for _ in range(5):
        mode, _, _ = lim.step(None, DAY)
    assert mode is AttitudeMode.OFF
    assert np.isclose(lim.n[0], 0.0) and np.isclose(math.atan2(lim.n[2], lim.n[1]), 1.0)  # kept its clock


def test_switch_angle_to_and_from_edge_on_is_to_the_nearest_edge_on_normal():
    n = cone_clock_to_rtn(math.radians(30.0), 2.0)
    assert math.isclose(switch_angle(n, None, R), math.radians(60.0))
    assert math.isclose(switch_angle(None, n, R), math.radians(60.0))
    assert switch_angle(None, None, R) == 0.0
    m = cone_clock_to_rtn(math.radians(30.0), 2.0 + math.pi)
    assert math.isclose(switch_angle(n, m, R), math.radians(60.0))


def test_switch_rates_divide_by_the_segment_the_switch_starts():
    seg_t = np.array([0.0, 1.0, 3.0, 7.0]) * DAY  # segments of 1, 2 and 4 days
    rates = switch_rates(np.radians([4.0, 4.0]), seg_t)
    np.testing.assert_allclose(np.degrees(rates) * DAY, [2.0, 1.0])
