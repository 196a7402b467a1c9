"""The onboard executive (bliss.fsw.executive) driven by hand-made messages: no simulator, no ephemeris.

Each test builds the navigation estimate and the target prediction itself (two-body states from
``sim.kepler``) and checks one transition of the phase machine or one promise of its output.
"""
import math

import numpy as np
import pytest

from bliss.fsw.executive import MIN_FRACTION_S, PERIHELION_FLOOR, TERMINAL_AIM, Executive, ExecutiveConfig
from bliss.fsw.messages import AttitudeMode, GuidanceInputs, NavStateEstimate, Phase, TargetPrediction
from bliss.fsw.target import predicted_state
from sim.constants import AU, DAY, GM_SUN, MIN_SAFE_SUN_DISTANCE
from sim.kepler import coe2rv, rv2coe
from sim.sail import Sail

#: 101955 Bennu, JPL SBDB osculating elements at 2011-01-01.0 TDB (shared/reference.md), epoch t = 0 here.
BENNU = TargetPrediction("Bennu", [1.126391 * AU, 0.203745, math.radians(6.0349), math.radians(2.0609),
                                   math.radians(66.2231), math.radians(101.7039), 0.0], GM_SUN)
P = Sail().kernel_params()  # 10 g, 1 m^2 ideal sail


def _config(**kw):
    return ExecutiveConfig(sail_params=P, max_cone=math.radians(70.0), **kw)


def _inputs(t, r, v, target=BENNU):
    return GuidanceInputs(NavStateEstimate(t, r, v), target)


def _near_bennu(t, dr=5e7, dv=10.0):
    """A state 70,700 km inside-ahead of Bennu's predicted position, drifting outward at ``dv`` m/s."""
    rt, vt = predicted_state(BENNU, t)
    rhat, that = rt / np.linalg.norm(rt), vt / np.linalg.norm(vt)
    return rt - dr * rhat + dr * that, vt + dv * rhat


def _earth(t=0.0):
    r, v = coe2rv(GM_SUN, 1.0 * AU, 0.0167, 0.0, 0.0, 1.8, 0.3)
    return r, v


def test_step_before_reset_is_refused():
    with pytest.raises(RuntimeError, match="reset"):
        Executive().step(0.0, _inputs(0.0, *_earth()))


def test_far_from_the_target_it_matches_the_orbit():
    """From an Earth-like orbit with arrivals allowed only 30 days ahead no plan closes: MATCH, one
    command filling the guidance step, a thrusting cone within the limit or edge-on."""
    exe = Executive(_config(tgo_min=30 * DAY, tgo_max=30 * DAY))
    out = exe.step(0.0, _inputs(0.0, *_earth()))
    assert out.phase is Phase.MATCH and out.reason == ""
    (cmd,) = out.commands
    assert cmd.t == 0.0 and cmd.duration == DAY and cmd.phase is Phase.MATCH
    assert cmd.mode is AttitudeMode.OFF or 0.0 <= cmd.cone <= math.radians(70.0) + 1e-12
    assert math.isfinite(out.lyapunov) and out.lyapunov > 1e-3  # far from Bennu's orbit
    assert exe.telemetry()["n_rendezvous_plans"] == 1  # it looked (one arrival on the grid) and found none


def test_a_plan_that_closes_enters_rendezvous_and_time_shares_the_step():
    exe = Executive(_config())
    t = 1.0e7
    out = exe.step(t, _inputs(t, *_near_bennu(t)))
    assert out.phase is Phase.RENDEZVOUS
    assert any("RENDEZVOUS" in e for e in out.events)
    tm = exe.telemetry()
    assert tm["n_rendezvous_entries"] == 1 and t + 30 * DAY <= tm["t_f_first_plan"] <= t + 600 * DAY
    # the commands are contiguous from t, each at least MIN_FRACTION_S long, within one guidance step
    tc = t
    for c in out.commands:
        assert c.t == tc and c.duration > MIN_FRACTION_S and c.phase is Phase.RENDEZVOUS
        assert c.mode is AttitudeMode.OFF or c.cone <= math.radians(70.0) + 1e-12
        tc += c.duration
    assert tc - t <= DAY * (1 + 1e-12) and any(c.mode is AttitudeMode.RTN for c in out.commands)


def test_within_tolerance_it_is_terminal_and_stays_there():
    exe = Executive(_config())
    t = 2.0e7
    r, v = _near_bennu(t, dr=3e5, dv=0.5)  # 424 km and 0.5 m/s from the prediction: inside 1000 km, 1 m/s
    out = exe.step(t, _inputs(t, r, v))
    assert out.phase is Phase.TERMINAL and out.reason == "rendezvous"
    (cmd,) = out.commands
    assert cmd.mode is AttitudeMode.OFF and cmd.duration is None  # edge-on until told otherwise
    # latched: a later estimate far away does not leave TERMINAL until a reset
    assert exe.step(t + DAY, _inputs(t + DAY, *_earth())).phase is Phase.TERMINAL
    exe.reset(_config())
    assert exe.step(t, _inputs(t, *_earth())).phase is not Phase.TERMINAL


def test_just_outside_the_velocity_tolerance_it_is_not_terminal():
    exe = Executive(_config())
    t = 2.0e7
    out = exe.step(t, _inputs(t, *_near_bennu(t, dr=3e5, dv=1.01)))
    assert out.phase is not Phase.TERMINAL


def test_orbit_matching_only_is_terminal_on_the_target_orbit():
    exe = Executive(_config(rendezvous=False, v_tol=1e-6))
    t = 5.0e6
    rt, vt = predicted_state(BENNU, t + 40 * DAY)  # on Bennu's orbit, 40 days ahead of Bennu itself
    out = exe.step(t, _inputs(t, rt, vt))
    assert out.phase is Phase.TERMINAL and out.reason == "orbit matched" and out.lyapunov < 1e-20


def test_too_close_to_the_sun_it_goes_safe_until_reset():
    exe = Executive(_config())
    r, v = coe2rv(GM_SUN, 0.19 * AU, 0.0, 0.0, 0.0, 0.0, 0.0)
    out = exe.step(0.0, _inputs(0.0, r, v))
    assert np.linalg.norm(r) < MIN_SAFE_SUN_DISTANCE
    assert out.phase is Phase.SAFE and "too close to the Sun" in out.reason
    assert out.commands[0].mode is AttitudeMode.OFF
    assert exe.step(DAY, _inputs(DAY, *_earth())).phase is Phase.SAFE  # latched
    exe.reset(_config())  # commanded out of SAFE
    assert exe.step(DAY, _inputs(DAY, *_earth())).phase is not Phase.SAFE


def test_a_rendezvous_diving_toward_the_sun_is_handed_back_to_matching():
    """Enter RENDEZVOUS near Bennu; then an estimate at the same place whose osculating perihelion is
    below PERIHELION_FLOOR x Bennu's (the first estimate's orbit is Bennu's) hands back to MATCH."""
    exe = Executive(_config())
    t = 1.0e7
    r, v = _near_bennu(t)
    assert exe.step(t, _inputs(t, r, v)).phase is Phase.RENDEZVOUS
    q_bennu = BENNU.elements[0] * (1 - BENNU.elements[1])
    v_dive = 0.8 * v  # the same place, 20 % slower: a much lower perihelion
    a, e = rv2coe(GM_SUN, r, v_dive)[:2]
    assert a * (1 - e) < PERIHELION_FLOOR * q_bennu
    out = exe.step(t + DAY, _inputs(t + DAY, r, v_dive))
    assert out.phase is Phase.MATCH
    assert any("perihelion" in e for e in out.events)
    assert exe.telemetry()["n_perihelion_handbacks"] == 1
    assert out.commands[0].phase is Phase.MATCH and out.commands[0].duration == DAY


def test_the_step_never_runs_past_the_end_of_the_timeline():
    exe = Executive(_config(t_end=0.25 * DAY, tgo_min=30 * DAY, tgo_max=30 * DAY))
    out = exe.step(0.0, _inputs(0.0, *_earth()))
    assert sum(c.duration for c in out.commands) == pytest.approx(0.25 * DAY, rel=1e-12)


def test_slew_limited_commands_turn_no_faster_than_the_limit():
    """Estimates that jump between two orbits (0.7 AU and Earth's) make the law ask for very different
    attitudes; a slew-limited executive turns the normal between successive commands by at most the rate
    times the later command's duration, and reaches that limit."""
    from bliss.fsw.slew import switch_angle
    from sim.rtn import cone_clock_to_rtn

    rate = 2.0  # deg/day
    exe = Executive(_config(slew_limited=True, max_slew_deg_per_day=rate, tgo_min=30 * DAY, tgo_max=30 * DAY))
    inner = coe2rv(GM_SUN, 0.7 * AU, 0.0, 0.0, 0.0, 0.0, 2.0)
    prev = None
    limited = 0
    for k in range(30):
        t = k * 0.3 * DAY
        (c,) = exe.step(t, _inputs(t, *(inner if k % 6 < 3 else _earth()))).commands
        n = None if c.mode is AttitudeMode.OFF else cone_clock_to_rtn(c.cone, c.clock)
        if k > 0:
            ang = switch_angle(prev, n, np.array([1.0, 0.0, 0.0]))
            lim = math.radians(rate) * c.duration / DAY
            assert ang <= lim * (1 + 1e-9), (k, math.degrees(ang))
            limited += ang > lim * (1 - 1e-9)
        prev = n
    assert limited >= 3  # the limiter was the binding constraint at several switches


def _unreachable_near_bennu(t):
    """50,000 km from Bennu's predicted position and 50 m/s off its velocity: no 0.9 mm/s^2 sail closes that
    in 1.5 days (moving 5e7 m in 1.3e5 s from rest needs ~6e-3 m/s^2)."""
    return _near_bennu(t, dr=3.5e7, dv=50.0)


@pytest.mark.parametrize("fix_days", [0.0, 5.0])
def test_terminal_phase_keeps_the_arrival_epoch_and_ends_at_it(fix_days):
    """1.5 days before the planned arrival the plan no longer closes. Without the terminal phase the law
    moves the arrival epoch on by at least one 10-day grid step (in the whole SIL flight this became
    160-190 days and the craft drifted off, docs/fly.md); with it (``fix_arrival_within`` 5 days) the epoch
    stays, the least-miss plan is flown, and the flight ends at the epoch: TERMINAL, "arrival epoch reached"."""
    exe = Executive(_config(fix_arrival_within=fix_days * DAY))
    t = 1.0e7
    assert exe.step(t, _inputs(t, *_near_bennu(t))).phase is Phase.RENDEZVOUS
    t_f = exe.law.t_f
    t = t_f - 1.5 * DAY
    out = exe.step(t, _inputs(t, *_unreachable_near_bennu(t)))
    assert out.phase is Phase.RENDEZVOUS and out.commands
    if fix_days == 0.0:
        assert exe.law.t_f >= t_f + 10 * DAY and exe.telemetry()["n_arrival_extensions"] >= 1
        return
    assert exe.law.t_f == t_f and exe.telemetry()["n_arrival_extensions"] == 0
    assert exe.telemetry()["n_unclosed_terminal_plans"] == 1
    # the steps run on to t_f, never past it, and the flight ends there
    for _ in range(200):
        assert t + sum(c.duration for c in out.commands) <= t_f + 1e-6
        t += sum(c.duration for c in out.commands)
        out = exe.step(t, _inputs(t, *_unreachable_near_bennu(t)))
        if out.phase is not Phase.RENDEZVOUS:
            break
    assert out.phase is Phase.TERMINAL and out.reason == "arrival epoch reached"
    assert t_f - MIN_FRACTION_S <= t <= t_f and exe.law.t_f == t_f


def test_a_terminal_window_reaching_tgo_min_is_refused():
    """A window of tgo_min or more would put a flight entering RENDEZVOUS straight into the terminal phase."""
    with pytest.raises(ValueError, match="fix_arrival_within"):
        _config(tgo_min=30 * DAY, fix_arrival_within=30 * DAY)
    assert _config(tgo_min=30 * DAY, fix_arrival_within=25 * DAY).fix_arrival_within == 25 * DAY


@pytest.mark.parametrize("box", [True, False])
def test_terminal_phase_flies_on_inside_the_box_until_well_inside_it(box):
    """In the terminal phase an estimate inside the 1,000 km / 1 m/s box but not within ``TERMINAL_AIM`` of it
    (here 0.8 m/s off, 100 km away) flies on to the epoch (``terminal_box``); within the aim (0.3 m/s) the
    flight ends, "rendezvous". Without ``terminal_box`` entering the box ends it, as before."""
    exe = Executive(_config(fix_arrival_within=5 * DAY, terminal_box=box))
    t = 1.0e7
    assert exe.step(t, _inputs(t, *_near_bennu(t))).phase is Phase.RENDEZVOUS
    t = exe.law.t_f - 2.0 * DAY
    assert exe.step(t, _inputs(t, *_unreachable_near_bennu(t))).phase is Phase.RENDEZVOUS and exe.law.fixed
    t += 3600.0
    rt, vt = predicted_state(BENNU, t)
    out = exe.step(t, _inputs(t, rt + [1.0e5, 0.0, 0.0], vt + [0.0, 0.8, 0.0]))
    assert 0.8 > TERMINAL_AIM * 1.0
    if not box:
        assert out.phase is Phase.TERMINAL and out.reason == "rendezvous"
        return
    assert out.phase is Phase.RENDEZVOUS and out.commands
    t += 3600.0
    rt, vt = predicted_state(BENNU, t)
    out = exe.step(t, _inputs(t, rt + [1.0e5, 0.0, 0.0], vt + [0.0, 0.3, 0.0]))
    assert out.phase is Phase.TERMINAL and out.reason == "rendezvous"
