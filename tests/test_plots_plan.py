"""The plan plots' derived quantities (issue 9): the normal's turn at a switch (what the attitude plot shows
instead of clock jumps near cone 0) and the window's suspected local minima."""
import math

import numpy as np
import pytest

from bliss.plots.plan import (plot_attitude, plot_elements, plot_window, suspected_local_minima,
                              switch_turns_deg)
from sim.constants import AU, DAY, GM_SUN
from sim.kepler import coe2rv


def test_switch_turn_is_the_angle_between_the_normals():
    """Analytic cases: at cone 0 any clock is the same normal (0 deg); opposite clocks at cone c turn 2c;
    cone 90 deg clock 0 -> 90 deg is a quarter turn; a 280 deg clock change at cone 6.5 deg (the issue's
    kind of jump) turns the normal by 2 asin(sin 6.5 deg sin 140 deg) = 8.3 deg only."""
    c = np.radians([0.0, 0.0, 10.0, 10.0, 90.0, 90.0, 6.5, 6.5])
    k = np.radians([0.0, 180.0, 0.0, 180.0, 0.0, 90.0, 100.0, -180.0])
    turns = switch_turns_deg(c, k)
    assert turns[0] == pytest.approx(0.0, abs=1e-6)
    assert turns[2] == pytest.approx(20.0, abs=1e-9)
    assert turns[4] == pytest.approx(90.0, abs=1e-9)
    half = math.degrees(math.asin(math.sin(math.radians(6.5)) * math.sin(math.radians(140.0))))
    assert turns[6] == pytest.approx(2.0 * half, abs=1e-9) and turns[6] < 15.0


def test_window_flags_jumps_larger_than_the_date_step():
    """216 -> 323 days within 30 days (issue 9) is flagged on the higher date; a drop larger than the step
    (the earlier date's minimum cannot be global: wait on Earth's orbit, then fly the later transfer) is
    flagged on the earlier date; smooth changes and unconverged dates are not."""
    t = np.arange(6) * 30.0 * DAY
    tof = np.array([220.0, 216.0, 323.0, 330.0, 250.0, 240.0]) * DAY
    ok = np.array([True, True, True, True, True, False])
    flags = suspected_local_minima(t, tof, ok)
    assert flags.tolist() == [False, False, True, True, False, False]
    # an unconverged date between two converged ones: the gap is the two steps
    flags = suspected_local_minima(t[:3], np.array([300.0, np.nan, 250.0]) * DAY, [True, False, True])
    assert not flags.any()  # 50 days in 60 is within the bound


def test_plots_write_with_masked_clock_and_raan(tmp_path):
    """Attitude with a cone-0 segment and elements of a departure in the ecliptic (i = 0): both plots
    are written (the masked values must not break them)."""
    t = np.arange(5) * 10.0 * DAY
    plot_attitude(tmp_path / "a.png", t[:-1], t[1:], np.radians([20.0, 0.5, 0.0, 30.0]),
                  np.radians([90.0, 170.0, -170.0, -90.0]), 70.0)
    ys = []
    for k, s in enumerate(np.linspace(0.0, 1.0, 20)):
        r, v = coe2rv(GM_SUN, AU * (1 + 0.1 * s), 0.02 + 0.1 * s, math.radians(3.0 * s), 0.3, 1.0, 0.1 * k)
        ys.append(np.concatenate([r, v]))
    plot_elements(tmp_path / "e.png", np.arange(20) * DAY, np.array(ys),
                  [1.1 * AU, 0.12, math.radians(3.0), 0.3, 1.0], "target")
    plot_window(tmp_path / "w.png", t, np.array([220.0, 216.0, 323.0, np.nan, 250.0]) * DAY,
                [True, True, True, False, True], float(t[1]))
    for name in ("a.png", "e.png", "w.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
