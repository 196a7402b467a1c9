"""One definition of a schedule's slew rate (bliss.fsw.slew: the angle at a switch over the duration of
the segment the switch starts), and every caller agrees with it: the feedback planner's report, the
schedule product's check and the optimiser's slew constraint. The reference here is computed
independently from the replayed states."""
import math
from types import SimpleNamespace

import numpy as np

from bliss.guidance.feedback import _slew_stats
from bliss.guidance.optimise import TU, Transcription
from bliss.guidance.problem import Limits, Target, TransferProblem
from bliss.guidance.schedule import AttitudeSchedule
from sim.constants import AU, DAY, GM_SUN
from sim.integrator import Schedule, propagate
from sim.kepler import coe2rv
from sim.rtn import cone_clock_to_normal
from sim.sail import Sail

R0, V0 = coe2rv(GM_SUN, 1.0 * AU, 0.05, 0.02, 0.1, 0.2, 0.3)
TARGET = Target("elsewhere", elements=[1.1 * AU, 0.1, 0.05, 0.0, 0.0, 0.0, 0.0])


def _problem(rate):
    return TransferProblem(Sail(), 0.0, np.concatenate([R0, V0]), TARGET, Limits(max_slew_deg_per_day=rate))


def _reference_rates(schedule):
    """Angle between the normals at each switch (sail off: to the nearest edge-on normal) over the
    length of the segment the switch starts [deg/day]."""
    y = propagate(np.concatenate([R0, V0]), schedule, Sail(), t_out=schedule.t, rtol=1e-12).y
    rates = []
    for k in range(schedule.n_segments - 1):
        r, v = y[k + 1, :3], y[k + 1, 3:]
        ns = []
        for j in (k, k + 1):
            m = schedule.mode[j]
            ns.append(None if m == 0 else cone_clock_to_normal(r, v, *schedule.att[j, :2]) if m == 1
                      else schedule.att[j])
        if ns[0] is None or ns[1] is None:
            n = ns[1] if ns[0] is None else ns[0]
            ang = abs(90.0 - math.degrees(math.acos(n @ r / np.linalg.norm(r))))
        else:
            ang = math.degrees(math.acos(min(1.0, ns[0] @ ns[1])))
        rates.append(ang / ((schedule.t[k + 2] - schedule.t[k + 1]) / DAY))
    return np.array(rates)


def test_feedback_report_and_schedule_product_agree_on_unequal_segments():
    n_in = np.array([0.3, 0.9, 0.3]) / np.linalg.norm([0.3, 0.9, 0.3])
    sched = Schedule(np.array([0.0, 1.0, 1.5, 3.5, 4.5, 7.5]) * DAY, np.array([1, 1, 0, 1, 2]),
                     np.array([[0.5, 0.0, 0.0], [0.7, 0.3, 0.0], [0.0, 0.0, 0.0], [0.35, 1.0, 0.0], n_in]))
    ref = _reference_rates(sched)
    assert np.all(ref > 1.0)  # every switch turns the sail
    prob = _problem(rate=float(np.median(ref)))
    worst, over = _slew_stats(prob, sched)
    assert math.isclose(worst, ref.max(), rel_tol=1e-6) and over == int(np.sum(ref > prob.limits.max_slew_deg_per_day))
    product = AttitudeSchedule.from_result(SimpleNamespace(schedule=sched, problem=prob, method="test"))
    np.testing.assert_allclose(product.slew_rates_deg_per_day(), ref, rtol=1e-6)


def test_optimiser_constraint_agrees_at_the_limit():
    """The optimiser's segments are equally long (TOF / N): its constraint is satisfied exactly when the
    reference rate is within the limit; a switch just above the limit violates it, one just below not."""
    rate, n, tof = 5.0, 4, 8.0 * DAY
    h_days = tof / n / DAY
    tr = Transcription(_problem(rate), n, 1, tof_max=tof)
    step = math.radians(rate * h_days)  # the largest allowed turn per switch
    cones = np.array([0.2, 0.2 + 0.999 * step, 0.2 + 0.999 * step + 1.001 * step, 0.2])
    x = np.concatenate([[tof / TU], np.column_stack([cones, np.zeros(n)]).reshape(-1)])
    sched = Schedule(np.linspace(0.0, tof, n + 1), np.ones(n, dtype=np.int64),
                     np.column_stack([cones, np.zeros(n), np.zeros(n)]))
    ref = _reference_rates(sched)
    np.testing.assert_allclose(ref[:2], [0.999 * rate, 1.001 * rate], rtol=1e-9)
    ok = tr.slew(x) >= 0.0
    assert list(ok) == list(ref <= rate)
