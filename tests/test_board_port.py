"""hil.board_port.BoardPort against the C emulated board (faults injected with INJECT, the port path
removed for a link drop, garbage on the line) and the Python fake board (a board that stops answering,
for the port's own retry). Each test is bounded to a few seconds."""
import threading
import time

import pytest

from bliss.fsw.messages import ActuatorCommand
from bliss.protocol import messages as m
from hil.board_port import ActuatorLinkDown, BoardPort
from hil.driver import Board
from hil.faults import drop_link, garbage_bytes, restore_link

from fakeboard import FakeBoard


# the emulator fixture and the reason to skip are test_hil_emulator's (one place builds the firmware)
from test_hil_emulator import _PROBLEM, emu  # noqa: E402,F401 - emu is a fixture used below

needs_emulator = pytest.mark.skipif(_PROBLEM is not None, reason=_PROBLEM or "")


@pytest.fixture
def board(emu):
    b = Board(emu.port, reconnect_timeout=0.3)
    b.connect()
    yield b
    b.close()


def _cmd(targets, rate=2000.0):
    return ActuatorCommand(0.0, tuple(targets), rate)


def _settle(port, timeout=3.0):
    """state() until no axis moves; returns the last state."""
    deadline = time.monotonic() + timeout
    while True:
        st = port.state()
        if not any(st.moving) or time.monotonic() > deadline:
            return st
        time.sleep(0.02)


def _kinds(port):
    return [e.kind for e in port.events]


@needs_emulator
def test_send_and_state(board):
    port = BoardPort(board)
    port.send(_cmd((100, -60, None)))
    st = port.state()
    assert st.moving[0] and st.moving[1] and not st.moving[2]
    st = _settle(port)
    assert st.position_steps == (100, -60, 0) and st.faults == (0, 0, 0) and not any(st.moving)
    port.send(_cmd((None, -20, 30), rate=5000))
    assert _settle(port).position_steps == (100, -20, 30)
    assert port.events == []  # nothing happened that a flight engineer would want to see


@needs_emulator
def test_out_of_range_target_and_rate_are_clamped_and_recorded(board):
    port = BoardPort(board)
    port.send(_cmd((5000, None, None), rate=50.0))  # soft limit 2800 steps, RATE_MIN 100 Hz
    kinds = _kinds(port)
    assert "target_limited" in kinds and "rate_limited" in kinds
    assert board.status().axes[0].target == m.DEFAULT_SOFT_LIMIT


@needs_emulator
def test_stuck_axis_is_failed_and_the_others_continue(board):
    port = BoardPort(board)
    board.inject(m.InjectKind.STUCK, 1)
    port.send(_cmd((50, 50, 50)))
    st = _settle(port)
    assert port.failed.keys() == {1} and "STUCK" in port.failed[1]
    assert st.position_steps[0] == 50 and st.position_steps[2] == 50 and st.position_steps[1] == 0
    assert st.faults[1] & m.AxisFault.STUCK
    ev = [e for e in port.events if e.kind == "axis_failed"]
    assert len(ev) == 1 and ev[0].axis == 1
    port.send(_cmd((80, 90, 80)))  # the failed axis is no longer commanded: no refusal, no new event
    st = _settle(port)
    assert st.position_steps == (80, 0, 80) and _kinds(port).count("refused") == 0
    board.inject(m.InjectKind.CLEAR, 1)
    port.restore_axis(1)
    port.send(_cmd((80, 90, 80)))
    assert _settle(port).position_steps == (80, 90, 80) and "axis_restored" in _kinds(port)


@needs_emulator
def test_board_reset_mid_move_rehomes_and_resumes(board):
    port = BoardPort(board)
    port.send(_cmd((400, None, None), rate=500))  # 0.8 s
    time.sleep(0.2)
    before = port.state().position_steps[0]
    assert 0 < before < 400
    board.inject(m.InjectKind.RESET, 0)
    st = port.state()  # the driver raises BoardReset once; the port re-homes and sends the move again
    kinds = _kinds(port)
    assert kinds[:3] == ["board_reset", "rehome", "resume"], kinds
    # the emulated board has an absolute position sensor: the position survived the reset, and the
    # port takes what the board reports
    rehomed = int(port.events[1].detail.split("axis 0 ")[1].split(",")[0])
    assert before <= rehomed < 400
    assert st.moving[0]
    assert _settle(port).position_steps[0] == 400


@needs_emulator
def test_link_drop_within_budget_is_ridden_out(emu, board):
    port = BoardPort(board, link_budget_s=3.0)
    port.send(_cmd((300, None, None), rate=200))  # 1.5 s, longer than the outage
    drop_link(board, emu)
    t = threading.Timer(0.5, restore_link, args=(emu,))
    t.start()
    st = port.state()  # keeps trying, then the port is back
    t.join()
    kinds = _kinds(port)
    assert kinds[0] == "link_lost" and "link_restored" in kinds and "link_down" not in kinds
    assert st.moving[0] or st.position_steps[0] == 300
    assert _settle(port).position_steps[0] == 300


@needs_emulator
def test_link_down_past_budget_reports_then_recovers(emu, board):
    port = BoardPort(board, link_budget_s=0.5)
    port.send(_cmd((2000, None, None), rate=500))
    drop_link(board, emu)
    t0 = time.monotonic()
    with pytest.raises(ActuatorLinkDown):
        port.state()
    assert time.monotonic() - t0 < 3.0
    with pytest.raises(ActuatorLinkDown):  # still down: one attempt, the same answer
        port.state()
    assert _kinds(port).count("link_down") == 1 and not port.link_up
    time.sleep(1.2)  # the board's watchdog (1 s without the host) stops the axis
    restore_link(emu)
    st = port.state()
    kinds = _kinds(port)
    assert "link_restored" in kinds and "watchdog_recovered" in kinds and port.link_up
    assert st.faults[0] & m.AxisFault.WATCHDOG == 0 and st.moving[0]  # cleared and sent again
    assert not port.failed


@needs_emulator
def test_garbage_on_the_line_is_absorbed(board):
    port = BoardPort(board)
    port.send(_cmd((40, None, None)))
    port.state()
    before = board.status().rx_bad
    board.link.send_raw(garbage_bytes(400, seed=3), "test garbage")  # 5 runs of 80 bytes
    st = _settle(port)
    assert st.position_steps[0] == 40
    noise = [e for e in port.events if e.kind == "line_noise"]
    assert len(noise) == 1 and "board rejected 5 frame(s)" in noise[0].detail
    assert board.status().rx_bad == before + 5
    assert [k for k in _kinds(port) if k != "line_noise"] == []


def test_a_board_that_stops_answering_is_retried():
    """The fake board goes mute for longer than the driver's own resends: the port tries again."""
    fake = FakeBoard()
    port_path = fake.start()
    b = Board(port_path, timeout=0.05, retries=1, heartbeat=False)
    b.connect()
    try:
        port = BoardPort(b, command_retries=5)
        fake.mute = True
        threading.Timer(0.25, lambda: setattr(fake, "mute", False)).start()
        st = port.state()
        assert st.position_steps == (0, 0, 0)
        kinds = _kinds(port)
        assert kinds and set(kinds) == {"retry"}, kinds
        assert b.timeouts >= 2
    finally:
        b.close()
        fake.stop()


@needs_emulator
def test_a_blip_between_calls_is_recorded_and_the_watchdog_stop_undone(emu, board):
    """The port goes away and comes back between two cycles (1.2 s: the board's watchdog, 1 s, stops
    the moving axis): the driver reopens it on the next command, the port records that, clears the
    WATCHDOG fault and sends the move again."""
    port = BoardPort(board)
    port.send(_cmd((1000, None, None), rate=300))
    board.pause_heartbeat()  # the heartbeat thread would find the port gone first
    drop_link(board, emu)
    time.sleep(1.2)
    restore_link(emu)
    st = port.state()
    assert _kinds(port) == ["reconnected", "watchdog_recovered"], port.events
    assert st.moving[0] and st.faults[0] == 0


@needs_emulator
def test_a_slowed_axis_is_advisory_not_failed(board):
    """INJECT STALL at 30 %: the axis travels on 3 of 10 drive cycles, so it arrives late with MISSED
    (advisory) and is not failed: only STALL/STUCK (50 cycles without travel) fail an axis."""
    port = BoardPort(board)
    board.inject(m.InjectKind.STALL, 0, 30)
    t0 = time.monotonic()
    port.send(_cmd((60, None, None), rate=1000))
    st = _settle(port)
    took = time.monotonic() - t0
    assert st.position_steps[0] == 60 and st.faults[0] & m.AxisFault.MISSED
    assert took > 0.15  # 60 steps need 200 drive cycles at 30 %: 0.2 s at 1000 Hz (0.06 s unslowed)
    assert not port.failed and _kinds(port) == ["advisory"] and port.events[0].detail == "MISSED"
    port.send(_cmd((0, None, None), rate=1000))  # MISSED does not refuse a MOVE (protocol.md section 2)
    assert _settle(port).position_steps[0] == 0


def test_garbage_toward_the_host_is_absorbed():
    """Noise from the board's side (the fake board writes it on its end of the pty): the host's decoder
    drops it, the next STATUS goes through and one line_noise event counts it."""
    fake = FakeBoard()
    b = Board(fake.start(), heartbeat=False)
    b.connect()
    try:
        port = BoardPort(b)
        port.state()
        fake._write(garbage_bytes(200, seed=9))  # 3 runs of 80 bytes
        time.sleep(0.1)
        st = port.state()
        assert st.position_steps == (0, 0, 0)
        assert _kinds(port) == ["line_noise"] and "host rejected 3" in port.events[0].detail
    finally:
        b.close()
        fake.stop()
