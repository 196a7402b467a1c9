"""bliss.io.faultplan (TOML fault plans, validated) and hil.faults (applied to the C emulated board), with
a short closed loop (BoardPort + BoardFaultInjector + telemetry) that survives a plan of a board
reset, a stalled axis, a link drop and garbage, with every fault and response in the telemetry file."""
import time

import pytest

from bliss.fsw.messages import ActuatorCommand
from bliss.io.faultplan import FaultEntry, FaultPlanError, load_fault_plan, parse_fault_plan
from bliss.io.telemetry import TelemetryReader, TelemetryWriter, actuator_columns
from bliss.protocol import messages as m
from hil.board_port import ActuatorLinkDown, BoardPort
from hil.driver import Board
from hil.faults import BoardFaultInjector, garbage_bytes
from bliss.protocol.framing import FrameDecoder

from test_hil_emulator import _PROBLEM, emu  # noqa: F401 - emu is a fixture used below

PLAN = """
description = "reset, stall, link drop, garbage"
[[fault]]
at_s = 0.5
kind = "board_reset"
[[fault]]
at_s = 1.5
kind = "axis_stall"
axis = 1
duration_s = 1.0
[[fault]]
at_s = 3.0
kind = "link_drop"
duration_s = 1.5
[[fault]]
at_s = 5.0
kind = "garbage"
bytes = 200
[[fault]]
at_s = 2.0
kind = "sensor_dropout"
duration_s = 0.5
"""


def test_load_valid_plan(tmp_path):
    p = tmp_path / "plan.toml"
    p.write_text(PLAN)
    plan = load_fault_plan(p)
    assert plan.description.startswith("reset")
    assert [e.kind for e in plan.entries] == ["board_reset", "axis_stall", "sensor_dropout", "link_drop",
                                              "garbage"]  # sorted by time
    assert plan.entries[1] == FaultEntry(1.5, "axis_stall", axis=1, duration_s=1.0)
    assert plan.entries[4].bytes == 200 and plan.entries[3].end_s == 4.5
    assert [e.kind for e in plan.active("sensor_dropout", 2.2)] == ["sensor_dropout"]
    assert plan.active("sensor_dropout", 2.5) == [] and plan.active("sensor_dropout", 1.9) == []


@pytest.mark.parametrize("doc, words", [
    ({"fault": [{"at_s": 1.0, "kind": "board_reset", "axs": 1}]}, ["fault #1 (board_reset)", "'axs'"]),
    ({"fault": [{"at_s": 1.0, "kind": "link_drop", "duration_s": 1, "axis": 0}]}, ["unknown key 'axis'"]),
    ({"faults": []}, ["unknown top-level key 'faults'"]),
    ({"fault": [{"at_s": 1.0, "kind": "meteor"}]}, ["kind must be one of"]),
    ({"fault": [{"kind": "board_reset"}]}, ["missing key 'at_s'"]),
    ({"fault": [{"at_s": 1.0, "kind": "axis_stall"}]}, ["missing key 'axis'"]),
    ({"fault": [{"at_s": 1.0, "kind": "link_drop"}]}, ["missing key 'duration_s'"]),
    ({"fault": [{"at_s": -1.0, "kind": "board_reset"}]}, ["at_s = -1.0 is outside"]),
    ({"fault": [{"at_s": 1.0, "kind": "axis_stall", "axis": 3}]}, ["axis = 3 is outside [0, 2]"]),
    ({"fault": [{"at_s": 1.0, "kind": "axis_stall", "axis": 1.0}]}, ["axis must be an integer"]),
    ({"fault": [{"at_s": 1.0, "kind": "link_drop", "duration_s": 0}]}, ["duration_s = 0 is outside (0"]),
    ({"fault": [{"at_s": "soon", "kind": "board_reset"}]}, ["at_s must be a finite number"]),
    ({"fault": [{"at_s": True, "kind": "board_reset"}]}, ["at_s must be a finite number"]),
])
def test_invalid_plans_name_the_problem(doc, words):
    with pytest.raises(FaultPlanError) as ei:
        parse_fault_plan(doc)
    msg = str(ei.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, msg


def test_bad_files(tmp_path):
    with pytest.raises(FaultPlanError, match="not found"):
        load_fault_plan(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[fault]\nat_s = 1\n")
    with pytest.raises(FaultPlanError, match="not valid TOML"):
        load_fault_plan(bad)


def test_garbage_can_never_be_a_frame():
    dec = FrameDecoder()
    junk = garbage_bytes(1000, seed=5)
    assert list(dec.feed(junk)) == [] and dec.rejected == 13  # ceil(1000 / 80) runs, each dropped


def test_link_drop_needs_the_emulated_board(tmp_path):
    plan = parse_fault_plan({"fault": [{"at_s": 1.0, "kind": "link_drop", "duration_s": 1.0}]})
    with pytest.raises(ValueError, match="emulated board"):
        BoardFaultInjector(board=None, plan=plan)


@pytest.mark.skipif(_PROBLEM is not None, reason=_PROBLEM or "")
def test_closed_loop_survives_the_plan(emu, tmp_path):  # noqa: F811 - emu is the fixture
    plan = parse_fault_plan(__import__("tomllib").loads(PLAN))
    pos, tgt = actuator_columns()
    b = Board(emu.port, reconnect_timeout=0.3)
    b.connect()
    t_start = time.monotonic()
    clock = lambda: time.monotonic() - t_start  # noqa: E731 - the run's clock
    tel = TelemetryWriter(tmp_path / "run.sqlite", (*pos, *tgt), {"test": "fault plan"}, batch_rows=20)
    port = BoardPort(b, link_budget_s=0.4, clock=clock, on_event=tel.event)
    inj = BoardFaultInjector(b, plan, emulated=emu)
    cycles = down = 0
    try:
        while clock() < 6.5:
            t = clock()
            for ev in inj.poll(t):
                tel.event(ev)
            k = int(t / 0.8)
            targets = tuple((-1) ** (k + a) * (600 + 200 * a) for a in range(3))  # a slew every 0.8 s
            try:
                port.send(ActuatorCommand(t, targets, 200.0))  # always moving
                st = port.state()
            except ActuatorLinkDown:
                down += 1
                continue
            tel.cycle(t, {**dict(zip(pos, st.position_steps)), **dict(zip(tgt, targets))})
            cycles += 1
            time.sleep(0.01)
        last = port.state()
        tel.close()
    finally:
        b.close()
    with TelemetryReader(tmp_path / "run.sqlite") as rd:
        events = list(rd.events())
        assert rd.count("cycles") == cycles  # nothing recorded is missing
    kinds = [e.kind for e in events]
    # every fault started (and the ones with a duration ended) ...
    starts = [e.detail.split(":")[0] for e in events if e.kind == "fault_start"]
    assert starts == ["board_reset", "axis_stall", "link_drop", "garbage"], kinds
    assert [e.detail.split(":")[0] for e in events if e.kind == "fault_end"] == ["axis_stall", "link_drop"]
    # ... and each got its response
    assert "board_reset" in kinds and "rehome" in kinds
    failed = [e for e in events if e.kind == "axis_failed"]
    assert len(failed) == 1 and failed[0].axis == 1 and 1.5 <= failed[0].t < 3.0
    lost = kinds.index("link_lost")
    assert kinds.index("link_restored") > lost and "link_down" in kinds and down >= 1
    assert "watchdog_recovered" in kinds  # 1.5 s away: the board's watchdog (1 s) stopped the axes
    assert "line_noise" in kinds
    # axes 0 and 2 kept following the slews to the end; axis 1 stayed failed
    assert port.failed.keys() == {1}
    assert last.faults[0] == 0 and last.faults[2] == 0 and last.faults[1] & m.AxisFault.STUCK


def test_inject_options():
    from bliss.io.faultplan import parse_inject
    base = parse_fault_plan({"fault": [{"at_s": 50.0, "kind": "board_reset"}]})
    plan = parse_inject(["axis_stall@120,axis=1,duration_s=5", "garbage@10.5"], base)
    assert plan.entries == (FaultEntry(10.5, "garbage"), FaultEntry(50.0, "board_reset"),
                            FaultEntry(120.0, "axis_stall", axis=1, duration_s=5.0))
    for bad, words in [("axis_stall", "KIND@AT_S"), ("axis_stall@1,axis", "not key=value"),
                       ("axis_stall@1,axis=one", "axis = 'one' is not a number"),
                       ("board_reset@1,axis=1", "unknown key 'axis'"), ("quake@1", "kind must be one of")]:
        with pytest.raises(FaultPlanError) as ei:
            parse_inject([bad])
        assert words in str(ei.value), str(ei.value)
