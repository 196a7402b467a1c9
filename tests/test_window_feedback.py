"""The window scan reports the feedback laws' time of flight beside the optimiser's at every date.

The optimiser scan and the feedback flight are replaced by stand-ins (each is tested on its own in
test_optimise.py / test_feedback.py); this checks the orchestration: one feedback flight per date, its
TOF only where it closed, and the summary and plot carrying both columns.
"""
import json
import math

import numpy as np

from bliss.guidance import pipeline
from sim.constants import DAY


class _Res:
    def __init__(self, tof, converged):
        self.tof, self.converged = tof, converged


def test_window_rows_carry_the_feedback_time_only_where_it_closed(monkeypatch):
    from bliss.guidance import window

    dates = [0.0, 10 * DAY, 20 * DAY]
    monkeypatch.setattr(window, "departure_window",
                        lambda factory, dates, progress=None, **kw: [(t, 300 * DAY + t, True) for t in dates])
    flown = []

    def fake_feedback(problem, progress=None):
        flown.append(problem)
        return _Res(400 * DAY + problem, problem < 15 * DAY)  # the last date does not close

    monkeypatch.setattr(pipeline, "fly_feedback", fake_feedback)
    rows = pipeline.departure_window(lambda t: t, dates, progress=False)
    assert flown == dates
    assert [r[:3] for r in rows] == [(t, 300 * DAY + t, True) for t in dates]
    assert [r[3] for r in rows[:2]] == [400 * DAY, 410 * DAY] and math.isnan(rows[2][3])
    assert [r[4] for r in rows] == [True, True, False]
    # the departure chosen is still the optimiser's shortest converged TOF
    assert pipeline._choose_departure(rows) == 0.0


def test_window_plot_with_feedback_column(tmp_path):
    from bliss.plots.plan import plot_window

    t = np.array([0.0, 30.0, 60.0]) * DAY + 9.7e8
    plot_window(tmp_path / "w.png", t, np.array([300.0, 280.0, np.nan]) * DAY, [True, True, False], t[1],
                feedback_tof_s=np.array([400.0, np.nan, 390.0]) * DAY)
    assert (tmp_path / "w.png").stat().st_size > 1000
