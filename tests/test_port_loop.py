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


@pytest.mark.parametrize("time_scale", [None, "auto"])
def test_a_stuck_board_axis_stays_stuck_in_the_plant(time_scale):
    loop, act, rec = _slew(_Board(stuck={0}), time_scale=time_scale)
    assert loop.steps_cmd[0] != 0  # the controller wanted axis 0 to move ...
    # ... the board did not move it, and neither did the plant, after the first exchange (the first period
    # is the model's prediction, as every period is until the board reports)
    assert np.all(rec[1:, 5] == 0.0), rec[:5, 5]
    assert np.any(rec[:, 6] != 0.0)  # axis 1 moved, board and plant together
    _, _, free = _slew(_Board(), time_scale=time_scale)
    assert np.any(free[1:, 5] != 0.0)  # the same slew with a working axis 0 moves it
    assert np.max(np.abs(rec[:, 1] - free[:, 1])) > 0.0  # and the stuck axis changed the flight


@pytest.mark.parametrize("time_scale, drive_hz", [(None, DEFAULT_DRIVE_HZ), (10.0, DEFAULT_DRIVE_HZ),
                                                  (100.0, 20_000 / 100.0), (2000.0, 20_000 / 2000.0)])
def test_the_model_moves_at_the_boards_pace(time_scale, drive_hz):
    loop, act, _ = _slew(_Board(), n=1, time_scale=time_scale)
    assert loop.drive_hz == pytest.approx(drive_hz)
    assert act.rate == pytest.approx(DEFAULT_DRIVE_HZ * (time_scale or 1.0))


class _RecordingBoard(_Board):
    """_Board that records each command with the positions it had, and reports its axes moving for the
    first ``busy_reads`` STATUS reads after each command (``busy_reads=None``: never stops)."""

    def __init__(self, busy_reads=0):
        super().__init__()
        self.sent, self.busy_reads, self.reads = [], busy_reads, 0

    def send(self, command):
        self.sent.append((tuple(self.pos), command.target_steps, command.rate_hz))
        self.reads = 0
        super().send(command)

    def state(self):
        self.reads += 1
        busy = self.busy_reads is None or self.reads <= self.busy_reads
        return ActuatorState(0.0, tuple(self.pos), (busy,) * 3)


def test_lockstep_sends_each_periods_leg_at_the_top_rate():
    """--time-scale auto: the model keeps the flight's 1 kHz, and each command is the period's leg: from the
    board's position toward the target by at most 1 kHz x 5 s = 5,000 steps, at 20 kHz; the loop sleeps
    what the longest leg needs at 20 kHz and then reads STATUS until the board stops."""
    board = _RecordingBoard(busy_reads=2)
    sleeps = []
    t0 = 0.0
    loop = AttitudeLoop(t0, [0.0, 0.0, 0.0, 1.0], config=controller_config(AttitudeLoop(t0, [0, 0, 0, 1]).g,
                                                                           period=5.0), seed=3)
    act = PortActuators(loop, board, time_scale="auto", sleep=sleeps.append)
    assert loop.drive_hz == DEFAULT_DRIVE_HZ and act.rate == 20_000
    y = np.array([AU, 0.0, 0.0, 0.0, math.sqrt(GM_SUN / AU), 0.0])
    act.fly_attitude(30 * loop.dt, y, np.array([t0, t0 + 1e6]), np.array([1], np.int64),
                     np.array([[math.radians(30.0), 0.0, 0.0]]), rec_every=1)
    assert board.sent and all(rate == 20_000 for _, _, rate in board.sent)
    legs = [max(abs(t - p) for p, t in zip(pos, tgt)) for pos, tgt, _ in board.sent]
    assert max(legs) <= 5000 and sum(legs) > 0
    waits = [s for s in sleeps if s > 0.0005 + 1e-12]  # the legs' sleeps (the rest: STATUS polls)
    assert sum(waits) == pytest.approx(sum(n / 20_000 for n in legs if n / 20_000 > 0.0005))
    assert act.late_legs == 0 and act.cycles == 30


def test_lockstep_reads_a_board_that_does_not_stop_after_the_slack():
    """A board still moving LOCKSTEP_SLACK_S past the leg's time is read as it is (counted late)."""
    now = [0.0]
    board = _RecordingBoard(busy_reads=None)
    t0 = 0.0
    loop = AttitudeLoop(t0, [0.0, 0.0, 0.0, 1.0], config=controller_config(AttitudeLoop(t0, [0, 0, 0, 1]).g,
                                                                           period=5.0), seed=3)

    def sleep(s):
        now[0] += s

    act = PortActuators(loop, board, time_scale="auto", clock=lambda: now[0], sleep=sleep)
    y = np.array([AU, 0.0, 0.0, 0.0, math.sqrt(GM_SUN / AU), 0.0])
    act.fly_attitude(3 * loop.dt, y, np.array([t0, t0 + 1e6]), np.array([1], np.int64),
                     np.array([[math.radians(30.0), 0.0, 0.0]]), rec_every=1)
    assert act.late_legs == 3 and act.cycles == 3
    assert 3 * 0.25 <= now[0] <= 3 * (0.25 + 5000 / 20_000 + 0.001)
