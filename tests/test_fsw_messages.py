"""The flight software's messages (bliss.fsw.messages): values that validate themselves and never change."""
import dataclasses
import math

import numpy as np
import pytest

from bliss.fsw.messages import (AttitudeCommand, AttitudeMode, GuidanceInputs, GuidanceOutput,
                                NavStateEstimate, Phase, TargetPrediction)
from sim.constants import AU, GM_SUN
from sim.dynamics import MODE_INERTIAL, MODE_OFF, MODE_RTN

BENNU_EL = [1.126391 * AU, 0.203745, math.radians(6.0349), math.radians(2.0609), math.radians(66.2231),
            math.radians(101.7039), 3.471120e8]


def test_nav_estimate_copies_and_freezes_its_arrays():
    r = np.array([AU, 0.0, 0.0])
    nav = NavStateEstimate(0.0, r, [0.0, 29.8e3, 0.0])
    r[0] = 0.0  # the sender reuses its buffer: the message keeps what was sent
    assert nav.r[0] == AU and np.array_equal(nav.y, [AU, 0.0, 0.0, 0.0, 29.8e3, 0.0])
    with pytest.raises(ValueError, match="read-only"):
        nav.r[0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        nav.t = 1.0


@pytest.mark.parametrize("kw, match", [
    (dict(r=[1.0, 2.0]), r"NavStateEstimate.r: expected shape \(3,\)"),
    (dict(v=[0.0, math.nan, 0.0]), "NavStateEstimate.v: values must be finite"),
    (dict(cov=np.eye(3)), r"NavStateEstimate.cov: expected shape \(6, 6\)"),
])
def test_nav_estimate_rejects_bad_arrays(kw, match):
    args = dict(t=0.0, r=[AU, 0.0, 0.0], v=[0.0, 3e4, 0.0]) | kw
    with pytest.raises(ValueError, match=match):
        NavStateEstimate(**args)


def test_target_prediction_needs_an_ellipse():
    TargetPrediction("Bennu", BENNU_EL, GM_SUN)
    with pytest.raises(ValueError, match="0 <= e < 1"):
        TargetPrediction("hyperbola", [AU, 1.2, 0, 0, 0, 0, 0], GM_SUN)
    with pytest.raises(ValueError, match=r"expected shape \(7,\)"):
        TargetPrediction("short", BENNU_EL[:6], GM_SUN)


def test_attitude_command_validates():
    c = AttitudeCommand(10.0, MODE_RTN, 0.6, 0.1, duration=3600.0)
    assert c.mode is AttitudeMode.RTN and c.phase is Phase.MATCH
    with pytest.raises(ValueError, match="needs a normal"):
        AttitudeCommand(0.0, AttitudeMode.INERTIAL)
    with pytest.raises(ValueError, match="unit vector"):
        AttitudeCommand(0.0, AttitudeMode.INERTIAL, normal=[1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="duration"):
        AttitudeCommand(0.0, AttitudeMode.OFF, duration=0.0)
    with pytest.raises(ValueError, match="cone must be finite"):
        AttitudeCommand(0.0, AttitudeMode.RTN, math.inf, 0.0)
    with pytest.raises(ValueError):
        AttitudeCommand(0.0, 7)  # no such mode


def test_attitude_modes_are_the_schedule_codes():
    """One definition of the mode codes: the integrator's (sim.dynamics)."""
    assert (AttitudeMode.OFF, AttitudeMode.RTN, AttitudeMode.INERTIAL) == (MODE_OFF, MODE_RTN, MODE_INERTIAL)


def test_guidance_messages_check_their_parts():
    nav = NavStateEstimate(0.0, [AU, 0.0, 0.0], [0.0, 3e4, 0.0])
    tgt = TargetPrediction("Bennu", BENNU_EL, GM_SUN)
    GuidanceInputs(nav, tgt)
    with pytest.raises(TypeError, match="NavStateEstimate and a TargetPrediction"):
        GuidanceInputs(tgt, nav)
    out = GuidanceOutput(0.0, 2, [AttitudeCommand(0.0, AttitudeMode.OFF)], ["done"], "rendezvous")
    assert out.phase is Phase.TERMINAL and isinstance(out.commands, tuple)
    with pytest.raises(TypeError, match="AttitudeCommand"):
        GuidanceOutput(0.0, Phase.MATCH, [(0.0, 1)])
