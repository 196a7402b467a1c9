"""fly_feedback is a loop around the onboard executive: what it flies and reports is what the executive
decided (its events, its phases, its commands), judged against the simulator's truth."""
import math

import numpy as np

from bliss.guidance.feedback import fly_feedback
from bliss.guidance.problem import Limits, Target, TransferProblem
from sim.constants import AU, DAY, GM_SUN
from sim.kepler import elements_state
from sim.sail import Sail

#: A target on Bennu's orbit (JPL SBDB elements, shared/reference.md) with its epoch at t = 0.
EL = np.array([1.126391 * AU, 0.203745, math.radians(6.0349), math.radians(2.0609), math.radians(66.2231),
               math.radians(101.7039), 0.0])


def test_flight_reports_the_executives_events_and_phases():
    rt, vt = elements_state(GM_SUN, *EL, 0.0)
    rhat, that = rt / np.linalg.norm(rt), vt / np.linalg.norm(vt)
    y0 = np.concatenate([rt - 5e7 * rhat + 5e7 * that, vt + 10.0 * rhat])  # 70,700 km off, 10 m/s
    prob = TransferProblem(Sail(), 0.0, y0, Target("virtual", elements=EL), Limits())
    res = fly_feedback(prob, max_years=1.0)
    assert res.converged and res.history["reason"] == "rendezvous"
    ev = res.history["events"]
    assert ev[0][0] == 0.0 and ev[0][1].startswith("RENDEZVOUS")  # the plan closes at once
    assert ev[-1] == (res.schedule.t[-1], "TERMINAL: rendezvous")  # and the flight ends where TERMINAL began
    assert set(res.history["phase"]) == {"rendezvous"}
    # the executive's TERMINAL test is on its prediction; the simulator's truth agrees (same ephemeris)
    assert res.miss_pos < 1e6 and res.miss_vel < 1.0
    assert 30 * DAY < res.tof < 365.25 * DAY
