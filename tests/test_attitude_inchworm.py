"""The kinematic inchworm model: its parameters come from the firmware's C headers, and it moves, misses,
stalls and refuses as the emulated board does."""
import re
from importlib import resources

import numpy as np
import pytest

import bliss.protocol.messages as proto
from sim import inchworm
from sim.inchworm import ERR_BAD_RATE, ERR_SOFT_LIMIT, OK, InchwormAxes, parse_c_defines


def test_parameters_are_the_firmware_headers_values():
    root = resources.files("firmware_host")
    text = root.joinpath("src/proto.h").read_text() + root.joinpath("host/inchworm_sim.h").read_text()
    # an independent reading of the same lines
    for name, value in (("DEFAULT_DRIVE_HZ", inchworm.DEFAULT_DRIVE_HZ), ("HARD_LIMIT", inchworm.HARD_LIMIT),
                        ("DEFAULT_SOFT_LIMIT", inchworm.DEFAULT_SOFT_LIMIT), ("RATE_MIN", inchworm.RATE_MIN_HZ),
                        ("RATE_MAX", inchworm.RATE_MAX_HZ), ("STALL_CYCLES", inchworm.STALL_CYCLES)):
        m = re.search(rf"#define {name}\s+(\d+)u?", text)
        assert m and float(m.group(1)) == value, name
    m = re.search(r"#define SIM_UM_PER_STEP\s+([\d.]+)", text)
    assert float(m.group(1)) * 1e-6 == inchworm.STEP_M
    # and the protocol's Python constants (docs/protocol.md) agree with both
    assert (proto.DEFAULT_DRIVE_HZ, proto.HARD_LIMIT, proto.DEFAULT_SOFT_LIMIT, proto.RATE_MIN, proto.RATE_MAX) == (
        inchworm.DEFAULT_DRIVE_HZ, inchworm.HARD_LIMIT, inchworm.DEFAULT_SOFT_LIMIT, inchworm.RATE_MIN_HZ,
        inchworm.RATE_MAX_HZ)
    # the hard limit is the +-10 mm stroke in whole steps
    assert inchworm.HARD_LIMIT == int(10e-3 / inchworm.STEP_M)


def test_parse_c_defines():
    got = parse_c_defines("#define A 12u /* x */\n#define B 3.5\n  #define C_D 7\n#define E (1u)\n")
    assert got == {"A": 12.0, "B": 3.5, "C_D": 7.0}


def test_moves_whole_steps_at_the_drive_rate_and_refuses_like_the_board():
    ax = InchwormAxes()
    assert ax.command(0, 500, 1000.0) == OK
    ax.advance(0.2505)                     # 250.5 cycles due at 1 kHz
    assert ax.true_steps[0] == 250 and ax.moving[0]
    ax.advance(1.0)
    assert ax.true_steps[0] == 500 and not ax.moving[0]
    assert ax.command(1, inchworm.DEFAULT_SOFT_LIMIT + 1) == ERR_SOFT_LIMIT
    assert ax.command(1, 10, 50.0) == ERR_BAD_RATE
    assert ax.command(1, -10, 20_000.0) == OK
    ax.advance(1e-3)
    assert ax.true_steps[1] == -10


def test_missed_cycles_stall_and_stuck():
    ax = InchwormAxes(seed=4)
    ax.inject(0, miss_prob=0.25)
    ax.inject(1, stall_pct=40)
    ax.inject(2, stuck=True)
    for i in range(3):
        ax.command(i, 2000)
    ax.advance(3.0)
    assert np.all(ax.reported_steps == 2000)        # open loop: the board counts every commanded cycle
    assert ax.true_steps[0] == pytest.approx(1500, abs=80)   # 25 % missed (binomial sd 19)
    assert ax.true_steps[1] == 800                  # the stall accumulator passes exactly 40 %
    assert ax.true_steps[2] == 0
