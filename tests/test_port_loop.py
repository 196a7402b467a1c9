"""bliss.sil.port_loop.PortActuators: the plant flies what the board did. A board axis that does not move
(stuck, failed, held) stays where the board reports it in the plant, and the model's axes move at the
board's pace in flight time (its drive rate, clamped at the boards' 20 kHz, over the time scale)."""
import math

import numpy as np
import pytest

from bliss.fsw.messages import ActuatorState
from bliss.sil.attitude_loop import AttitudeLoop, controller_config
from bliss.sil.port_loop import PortActuators
from sim.constants import AU, GM_SUN
from sim.inchworm import DEFAULT_DRIVE_HZ


class _Board:
    """A board whose axes in ``stuck`` never move (and say so: not moving); the others reach each target
    at once."""

    def __init__(self, stuck=()):
        self.stuck = set(stuck)
        self.pos = [0, 0, 0]

    def send(self, command):
        for i, target in enumerate(command.target_steps):
            if target is not None and i not in self.stuck:
                self.pos[i] = int(target)

    def state(self):
        return ActuatorState(0.0, tuple(self.pos), (False,) * 3)


def _slew(port, n=60, time_scale=None):
    """Fly n control periods of a 30-deg slew from Sun-pointing; returns the record (RECORD_COLUMNS)."""
    t0 = 0.0
    loop = AttitudeLoop(t0, [0.0, 0.0, 0.0, 1.0], config=controller_config(AttitudeLoop(t0, [0, 0, 0, 1]).g,
                                                                           period=5.0), seed=3)
    act = PortActuators(loop, port, time_scale=time_scale, sleep=lambda s: None)
    y = np.array([AU, 0.0, 0.0, 0.0, math.sqrt(GM_SUN / AU), 0.0])
    seg_t = np.array([t0, t0 + 1e6])
    rec, _ = act.fly_attitude(n * loop.dt, y, seg_t, np.array([1], np.int64),
                              np.array([[math.radians(30.0), 0.0, 0.0]]), rec_every=1)
    return loop, act, rec


def test_a_stuck_board_axis_stays_stuck_in_the_plant():
    loop, act, rec = _slew(_Board(stuck={0}))
    assert loop.steps_cmd[0] != 0  # the controller wanted axis 0 to move ...
    # ... the board did not move it, and neither did the plant, after the first exchange (the first period
    # is the model's prediction, as every period is until the board reports)
    assert np.all(rec[1:, 5] == 0.0), rec[:5, 5]
    assert np.any(rec[:, 6] != 0.0)  # axis 1 moved, board and plant together
    _, _, free = _slew(_Board())
    assert np.any(free[1:, 5] != 0.0)  # the same slew with a working axis 0 moves it
    assert np.max(np.abs(rec[:, 1] - free[:, 1])) > 0.0  # and the stuck axis changed the flight


@pytest.mark.parametrize("time_scale, drive_hz", [(None, DEFAULT_DRIVE_HZ), (10.0, DEFAULT_DRIVE_HZ),
                                                  (100.0, 20_000 / 100.0), (2000.0, 20_000 / 2000.0)])
def test_the_model_moves_at_the_boards_pace(time_scale, drive_hz):
    loop, act, _ = _slew(_Board(), n=1, time_scale=time_scale)
    assert loop.drive_hz == pytest.approx(drive_hz)
    assert act.rate == pytest.approx(DEFAULT_DRIVE_HZ * (time_scale or 1.0))
