"""The onboard target prediction equals the ground's target state: one two-body ephemeris."""
import math

import numpy as np

from bliss.fsw.target import predicted_elements, predicted_state
from bliss.guidance.problem import Target
from sim.constants import AU, DAY, GM_SUN
from sim.ephemeris import BENNU
from sim.kepler import coe2rv, kepler_propagate

TIMES = np.linspace(9.0e8, 1.05e9, 97)  # 2028-07 to 2033-04, TDB s


def test_bennu_prediction_is_the_ephemeris_to_the_last_bit():
    """The default mission's target: the prediction the ground uploads reproduces sim.ephemeris.BENNU
    exactly, so the executive decides on the same numbers the simulator judges the miss with."""
    target = Target("Bennu", body=BENNU)
    assert target.two_body
    pred = target.prediction(TIMES[0])
    for t in TIMES:
        r, v = predicted_state(pred, t)
        rb, vb = BENNU.state(float(t))
        assert np.array_equal(r, rb) and np.array_equal(v, vb)


def test_elements_target_prediction_is_its_state():
    el = [1.2 * AU, 0.1, 0.05, 0.3, 1.0, 2.0, 1.0e9]
    target = Target("elements", elements=el)
    pred = target.prediction(0.0)
    for t in TIMES[::10]:
        r, v = predicted_state(pred, t)
        rt, vt = target.state(t)
        assert np.array_equal(r, rt) and np.array_equal(v, vt)
    np.testing.assert_allclose(predicted_elements(pred, TIMES[5])[:2], el[:2], rtol=1e-12)


def test_state_function_target_gets_its_osculating_orbit_at_the_upload():
    """A target known only as a state function: the prediction is exact at the upload time and follows
    two-body motion after it (here the state function is two-body too, so it stays on it)."""
    r0, v0 = coe2rv(GM_SUN, 1.1 * AU, 0.15, 0.1, 0.2, 0.3, 0.4)
    target = Target("synthetic", state_fn=lambda t: kepler_propagate(GM_SUN, r0, v0, t))
    assert not target.two_body
    t_up = 50 * DAY
    pred = target.prediction(t_up)
    r, v = predicted_state(pred, t_up)
    rt, vt = target.state(t_up)
    assert np.linalg.norm(r - rt) < 1e-3 and np.linalg.norm(v - vt) < 1e-9  # m, m/s
    r, v = predicted_state(pred, t_up + 300 * DAY)
    rt, vt = target.state(t_up + 300 * DAY)
    assert np.linalg.norm(r - rt) < 1.0 and math.isfinite(pred.elements[5])
