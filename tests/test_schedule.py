"""AttitudeSchedule: quaternion/normal/cone-clock consistency with sim.rtn, exact replay via to_sim."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bliss.guidance.schedule import (
    MODE_INERTIAL,
    MODE_OFF,
    MODE_RTN,
    AttitudeSchedule,
    body_axes,
    matrix_to_quaternion,
    quaternion_to_matrix,
    rotate,
)
from sim.constants import AU, DAY, GM_SUN
from sim.rtn import cone_clock_to_normal, normal_to_cone_clock

# A heliocentric state near 1 AU, inclined and eccentric enough that R, T, N differ from the axes.
R0 = np.array([0.9 * AU, 0.45 * AU, 0.02 * AU])
V0 = np.array([-12e3, 26e3, 1.1e3])

angles = st.tuples(st.floats(0.0, math.pi / 2), st.floats(-math.pi, math.pi))


@settings(max_examples=60, deadline=None)
@given(angles)
def test_quaternion_rotates_body_z_onto_the_rtn_normal(cc):
    cone, clock = cc
    q = matrix_to_quaternion(body_axes(R0, V0, cone, clock))
    assert abs(np.linalg.norm(q) - 1.0) < 1e-14
    assert q[3] >= 0.0  # scalar last, non-negative
    n = cone_clock_to_normal(R0, V0, cone, clock)
    np.testing.assert_allclose(rotate(q, [0.0, 0.0, 1.0]), n, atol=1e-13)
    # body +X is the Sun direction projected onto the sail plane (points sunward when cone > 0)
    x = rotate(q, [1.0, 0.0, 0.0])
    sun = -R0 / np.linalg.norm(R0)
    proj = sun - (sun @ n) * n
    if np.linalg.norm(proj) > 1e-6:
        np.testing.assert_allclose(x, proj / np.linalg.norm(proj), atol=1e-9)
    m = quaternion_to_matrix(q)
    np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-13)
    assert np.linalg.det(m) == pytest.approx(1.0, abs=1e-13)


def test_quaternion_known_rotation():
    # 90 deg about +x maps +z to -y: q = [sin45, 0, 0, cos45] (scalar last)
    m = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    q = matrix_to_quaternion(m)
    np.testing.assert_allclose(q, [math.sqrt(0.5), 0.0, 0.0, math.sqrt(0.5)], atol=1e-15)
    np.testing.assert_allclose(rotate(q, [0, 0, 1]), [0, -1, 0], atol=1e-15)


def _states(n):
    """Kepler states along a circular 1 AU orbit at the segment boundaries (no propagation needed)."""
    from sim.kepler import kepler_propagate

    y0 = np.array([AU, 0.0, 0.0, 0.0, math.sqrt(GM_SUN / AU) * math.cos(0.1),
                   math.sqrt(GM_SUN / AU) * math.sin(0.1)])
    t = np.linspace(0.0, 50 * DAY * n, n + 1)
    ys = []
    for tk in t:
        r, v = kepler_propagate(GM_SUN, y0[:3], y0[3:], tk)
        ys.append(np.concatenate([r, v]))
    return t, np.array(ys)


def test_from_states_cone_clock_normal_and_modes():
    t, ys = _states(4)
    mode = np.array([MODE_RTN, MODE_INERTIAL, MODE_OFF, MODE_RTN])
    n_in = np.array([0.3, -0.8, 0.2])
    n_in /= np.linalg.norm(n_in)
    att = np.array([[0.6, 1.1, 0.0], n_in, [0.0, 0.0, 0.0], [0.2, -2.5, 0.0]])
    s = AttitudeSchedule.from_states(t, mode, att, ys[:-1], ys[1:])
    assert len(s) == 4
    # RTN segments keep the given angles; the normal is sim.rtn's at the segment start
    for k in (0, 3):
        assert s.cone[k] == att[k, 0] and s.clock[k] == att[k, 1]
        np.testing.assert_allclose(s.normal[k], cone_clock_to_normal(ys[k, :3], ys[k, 3:], *att[k, :2]),
                                   atol=1e-14)
        # the end quaternion is the same cone/clock in the RTN frame at the segment end
        np.testing.assert_allclose(rotate(s.quaternion_end[k], [0, 0, 1]),
                                   cone_clock_to_normal(ys[k + 1, :3], ys[k + 1, 3:], *att[k, :2]), atol=1e-13)
    # the inertial segment keeps its exact normal and reports its cone/clock via sim.rtn
    np.testing.assert_array_equal(s.normal[1], n_in)
    cone, clock = normal_to_cone_clock(ys[1, :3], ys[1, 3:], n_in)
    assert s.cone[1] == pytest.approx(cone) and s.clock[1] == pytest.approx(clock)
    np.testing.assert_array_equal(s.quaternion_end[1], s.quaternion[1])  # inertially fixed
    # sail off is reported edge-on to the Sun
    assert s.cone[2] == pytest.approx(math.pi / 2)
    assert abs(s.normal[2] @ ys[2, :3]) / np.linalg.norm(ys[2, :3]) < 1e-12
    # to_sim reproduces the integrator arrays exactly
    sim = s.to_sim()
    np.testing.assert_array_equal(sim.t, t)
    np.testing.assert_array_equal(sim.mode, mode)
    np.testing.assert_array_equal(sim.att[[0, 3]], att[[0, 3]])
    np.testing.assert_array_equal(sim.att[1], n_in)


def test_from_states_rejects_mismatched_lengths():
    t, ys = _states(2)
    with pytest.raises(ValueError, match="disagree"):
        AttitudeSchedule.from_states(t, [1, 1, 1], np.zeros((3, 3)), ys[:-1], ys[1:])


def test_from_result_propagates_the_schedule():
    """from_result's segment-start states come from the integrator: check them against Kepler for a
    sail-off schedule (pure two-body motion, sim.kepler universal variables)."""
    from types import SimpleNamespace

    from sim.integrator import Schedule
    from sim.sail import Sail

    t, ys = _states(3)
    sched = Schedule(t, np.array([MODE_OFF] * 3), np.zeros((3, 3)))
    prob = SimpleNamespace(y_depart=ys[0], sail=Sail())
    s = AttitudeSchedule.from_result(SimpleNamespace(schedule=sched, problem=prob, method="test"))
    for k in range(3):  # edge-on normal is perpendicular to the Kepler radius at each segment start
        r = ys[k, :3] / np.linalg.norm(ys[k, :3])
        assert abs(s.normal[k] @ r) < 1e-7
    assert s.meta["method"] == "test"


def test_switch_angles_and_slew_rates():
    """Two inertial segments whose normals differ by a known angle: the switch angle is that angle
    and the slew rate divides it by the second segment's length in days."""
    t, ys = _states(2)
    n1 = np.array([1.0, 0.0, 0.0])
    ang = math.radians(12.5)
    n2 = np.array([math.cos(ang), math.sin(ang), 0.0])
    s = AttitudeSchedule.from_states(t, [MODE_INERTIAL, MODE_INERTIAL], np.array([n1, n2]), ys[:-1], ys[1:])
    np.testing.assert_allclose(s.switch_angles(), [ang], rtol=1e-12)
    seg_days = (t[2] - t[1]) / DAY
    np.testing.assert_allclose(s.slew_rates_deg_per_day(), [12.5 / seg_days], rtol=1e-12)
