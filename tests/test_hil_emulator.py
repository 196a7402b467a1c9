"""Acceptance tests of the host driver against the C emulated board (firmware_host, protocol v1).

Python encodes every command and the C firmware decodes it (its behaviour shows it understood); the C
firmware encodes every reply/event and Python decodes it. Each test is bounded to a few seconds.
Skipped (with the reason) only if the emulator cannot be built on this machine.
"""
import os
import struct
import threading
import time

import pytest
from cobs import cobs
from hypothesis import HealthCheck, given, settings, strategies as st

from bliss.protocol import messages as m
from bliss.protocol.framing import FrameDecoder, crc16
from firmware_host.build import ensure_built
from hil.driver import Board, BoardError, BoardNack, BoardReset
from hil.emulated import EmulatedBoard

from fakeboard import CorruptingProxy


def _build_problem():
    try:
        ensure_built()
    except Exception as exc:  # noqa: BLE001 - any build problem means: cannot run these
        return f"C emulator unavailable: {exc}".splitlines()[0]
    return None


_PROBLEM = _build_problem()
pytestmark = pytest.mark.skipif(_PROBLEM is not None, reason=_PROBLEM or "")


@pytest.fixture
def emu():
    e = EmulatedBoard()
    e.start()
    yield e
    e.close()


@pytest.fixture
def board(emu, tmp_path):
    b = Board(emu.port, log_path=tmp_path / "frames.log")
    b.connect()
    yield b
    b.close()


def _raw(board, type_, payload=b"", version=m.PROTO_VERSION):
    """Send a hand-made frame and return the reply frame (which carries the same seq)."""
    reply = board.raw(type_, payload, version=version, timeout=1.0)
    assert reply is not None, f"no reply to raw frame type 0x{type_:02X}"
    return reply


# ---- Python <-> C round trips ----------------------------------------------------------------------
def test_hello_info_from_c(board):
    info = board.info
    assert info.proto == m.PROTO_VERSION and info.n_axes == m.N_AXES
    assert all(a == m.AxisConfig(-m.DEFAULT_SOFT_LIMIT, m.DEFAULT_SOFT_LIMIT, m.DEFAULT_DRIVE_HZ)
               for a in info.axes)
    st = board.status()
    assert st.boot_id == info.boot_id and st.emulated and st.n_axes == 3


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x00" * 32, bytes(range(32)), b"\xff\x00\x01"])
def test_ping_echo(board, data):
    assert board.ping(data) < 1.0  # ping() itself checks the echo byte for byte


def test_move_stop_hold_status(board):
    t0 = time.monotonic()
    board.move(1, -40, 2000)
    ax = board.wait_move(1, 2.0)
    assert (ax.position, ax.target) == (-40, -40) and not ax.moving
    ev = board.wait_event(m.EventKind.MOVE_DONE, 1.0, since=t0, axis=1)
    assert ev is not None and ev.event.data == (-40) & 0xFFFF
    board.move(0, 2000, 100)  # 20 s at 100 Hz: still moving when stopped
    time.sleep(0.1)
    board.stop(0)
    a0 = board.status().axes[0]
    assert not a0.moving and 0 < a0.position < 2000 and a0.enabled
    board.move(2, 500, 100)
    board.hold(m.ALL_AXES)
    a2 = board.status().axes[2]
    assert a2.holding and not a2.moving


def test_config_roundtrip_and_rate_zero_uses_drive_hz(board):
    board.configure(2, 200, -300, 400)
    info = board.hello()
    assert info.axes[2] == m.AxisConfig(-300, 400, 200)
    board.move(2, 10, 0)  # rate 0 -> drive_hz = 200 Hz -> 10 steps take 50 ms
    assert board.wait_move(2, 2.0).position == 10


@pytest.mark.parametrize("call, code", [
    (lambda b: b.move(0, m.DEFAULT_SOFT_LIMIT + 1, 1000), m.ErrorCode.SOFT_LIMIT),
    (lambda b: b.move(0, -m.DEFAULT_SOFT_LIMIT - 1, 1000), m.ErrorCode.SOFT_LIMIT),
    (lambda b: b.move(0, 10, m.RATE_MAX + 1), m.ErrorCode.BAD_RATE),
    (lambda b: b.move(0, 10, m.RATE_MIN - 1), m.ErrorCode.BAD_RATE),
    (lambda b: b.move(3, 10, 1000), m.ErrorCode.BAD_AXIS),
    (lambda b: b.move(0xFF, 10, 1000), m.ErrorCode.BAD_AXIS),
    (lambda b: b.configure(0, 1000, 10, -10), m.ErrorCode.BAD_ARG),
    (lambda b: b.configure(0, 1000, -m.HARD_LIMIT - 1, 0), m.ErrorCode.SOFT_LIMIT),
    (lambda b: b.configure(0, 50, -10, 10), m.ErrorCode.BAD_RATE),
    (lambda b: b.inject(99, 0, 0), m.ErrorCode.BAD_ARG),
])
def test_nacks(board, call, code):
    with pytest.raises(BoardNack) as ei:
        call(board)
    assert ei.value.error == code
    assert code.name in str(ei.value) and "\n" not in str(ei.value)


def test_soft_limit_after_reconfigure(board):
    board.configure(0, 1000, -100, 100)
    with pytest.raises(BoardNack) as ei:
        board.move(0, 150, 1000)
    assert ei.value.error == m.ErrorCode.SOFT_LIMIT
    assert board.status().axes[0].position == 0  # never executed
    board.move(0, 100, 5000)
    assert board.wait_move(0, 2.0).position == 100


def test_busy_while_moving(board):
    board.move(0, 2000, 100)
    with pytest.raises(BoardNack) as ei:
        board.configure(0, 1000, -10, 10)
    assert ei.value.error == m.ErrorCode.BUSY


def test_raw_nacks_bad_version_unknown_type_bad_length(board):
    r = _raw(board, m.MsgType.PING, b"", version=2)
    assert m.decode_frame(r) == m.Nack(m.MsgType.PING, m.ErrorCode.BAD_VERSION)
    r = _raw(board, 0x55)
    assert m.decode_frame(r) == m.Nack(0x55, m.ErrorCode.UNKNOWN_TYPE)
    r = _raw(board, m.MsgType.MOVE, b"\x00\x01")
    assert m.decode_frame(r) == m.Nack(m.MsgType.MOVE, m.ErrorCode.BAD_LENGTH)
    r = _raw(board, m.MsgType.STATUS, b"\x00")
    assert m.decode_frame(r) == m.Nack(m.MsgType.STATUS, m.ErrorCode.BAD_LENGTH)


def test_retry_with_same_seq_gets_the_old_reply(board):
    """A resent frame (same seq, same bytes) is answered with the stored reply, not executed again."""
    first = board.raw(m.MsgType.STATUS, timeout=1.0)
    time.sleep(0.05)  # a re-executed STATUS would show a later uptime_ms
    second = board.raw(m.MsgType.STATUS, seq=first.seq, timeout=1.0)
    assert first is not None and second is not None
    assert m.decode_frame(second).uptime_ms == m.decode_frame(first).uptime_ms
    assert board.status().uptime_ms >= m.decode_frame(first).uptime_ms + 50


def test_same_seq_other_content_is_a_new_command(board):
    """protocol.md sec. 4/6: a duplicate is the whole frame repeated; the same seq with other content
    is a new command (a restarted host reusing the last seq must not get a stale reply)."""
    first = board.raw(m.MsgType.MOVE, m.Move(0, 30, 5000).to_payload(), timeout=1.0)
    assert board.wait_move(0, 2.0).position == 30
    second = board.raw(m.MsgType.MOVE, m.Move(0, -30, 5000).to_payload(), seq=first.seq, timeout=1.0)
    assert first is not None and second is not None
    assert board.wait_move(0, 2.0).position == -30


def test_garbage_is_counted_and_link_recovers(board):
    before = board.status().rx_bad
    board.link.send_raw(b"\x05\x01\x02\x00" + b"\x02\x07\x07\x07\x00", "test garbage")  # 2 bad frames
    assert board.ping(b"after garbage") < 1.0
    assert board.status().rx_bad == before + 2


def test_frame_log_written(board, tmp_path):
    board.ping(b"log me")
    lines = (tmp_path / "frames.log").read_text().splitlines()
    assert any(" TX " in ln and "PING" in ln for ln in lines)
    assert any(" RX " in ln and "PONG" in ln and b"log me".hex() in ln for ln in lines)


# ---- safety behaviour --------------------------------------------------------------------------------
def test_watchdog_stops_motion_without_heartbeat(board):
    board.move(0, 2000, 200)  # 10 s of travel
    board.pause_heartbeat()
    t0 = time.monotonic()
    ev = board.wait_event(m.EventKind.WATCHDOG, 2.0, since=t0)
    assert ev is not None, "no EVENT WATCHDOG within 2 s of the last host frame"
    assert 0.9 <= ev.time - t0 <= 1.5  # 1 s watchdog (docs/protocol.md section 4), 0.5 s slack for load
    a0 = board.status().axes[0]
    assert not a0.moving and a0.faults & m.AxisFault.WATCHDOG
    assert 100 <= a0.position < 400  # ~1 s at 200 Hz, then stopped
    time.sleep(0.3)
    assert board.status().axes[0].position == a0.position
    with pytest.raises(BoardNack) as ei:  # WATCHDOG blocks motion until cleared
        board.move(0, 0, 1000)
    assert ei.value.error == m.ErrorCode.AXIS_FAULT
    board.clear_faults(0)
    board.resume_heartbeat()
    board.move(0, 0, 5000)
    assert board.wait_move(0, 2.0).position == 0


def test_repeat_after_the_watchdog_reports_the_flag_and_the_truth(board):
    """An exact repeat of the last command (a late host retry) after the watchdog held the axis: the
    reply shows WATCHDOG_TRIPPED and the held axis, not the stored pre-trip STATUS_INFO (fw.c
    handle_frame; protocol.md sections 2 and 4); the flag stays until a STATUS_INFO has shown it."""
    board.move(0, 2000, 200)  # 10 s of travel
    board.pause_heartbeat()
    first = board.raw(m.MsgType.STATUS, timeout=1.0)
    assert first is not None and m.decode_frame(first).axes[0].moving
    t0 = time.monotonic()
    assert board.wait_event(m.EventKind.WATCHDOG, 2.0, since=t0) is not None
    again = m.decode_frame(board.raw(m.MsgType.STATUS, seq=first.seq, timeout=1.0))
    assert again.board_flags & m.BoardFlag.WATCHDOG_TRIPPED
    a0 = again.axes[0]
    assert not a0.moving and a0.holding and a0.faults & m.AxisFault.WATCHDOG
    assert again.uptime_ms >= m.decode_frame(first).uptime_ms + 900
    assert not board.status().board_flags & m.BoardFlag.WATCHDOG_TRIPPED  # shown once, then cleared


def test_watchdog_flag_waits_for_a_status(board):
    """A HEARTBEAT's ACK cannot carry board_flags: the flag is kept for the next STATUS_INFO."""
    board.move(0, 2000, 200)
    board.pause_heartbeat()
    t0 = time.monotonic()
    assert board.wait_event(m.EventKind.WATCHDOG, 2.0, since=t0) is not None
    board.heartbeat()
    board.ping(b"x")
    assert board.status().board_flags & m.BoardFlag.WATCHDOG_TRIPPED
    assert not board.status().board_flags & m.BoardFlag.WATCHDOG_TRIPPED


def test_heartbeat_keeps_motion_alive(board):
    board.move(0, 2000, 200)
    time.sleep(1.6)  # longer than the watchdog; only heartbeats reach the board meanwhile
    a0 = board.status().axes[0]
    assert a0.moving and not a0.faults
    assert board.heartbeats_sent >= 5


def test_stuck_axis_reported_as_fault(board):
    board.inject(m.InjectKind.STUCK, 1)
    t0 = time.monotonic()
    board.move(1, 500, 1000)
    # STALL_CYCLES = 50 cycles at 1000 Hz = 50 ms; the board may report other bits (MISSED) first
    ev = board.wait_event(m.EventKind.FAULT, 1.0, since=t0, axis=1,
                          where=lambda e: e.data & m.AxisFault.STUCK)
    assert ev is not None, f"no EVENT FAULT with STUCK; events: {board.events(since=t0)}"
    a1 = board.status().axes[1]
    assert a1.faults & m.AxisFault.STUCK and not a1.moving and a1.position == 0
    with pytest.raises(BoardNack) as ei:
        board.move(1, 10, 1000)
    assert ei.value.error == m.ErrorCode.AXIS_FAULT
    board.inject(m.InjectKind.CLEAR, 1)
    board.clear_faults(1)
    board.move(1, 10, 1000)
    assert board.wait_move(1, 2.0).position == 10


def test_reset_in_the_middle_of_a_move_is_noticed(board):
    old = board.boot_id
    board.move(0, 2000, 200)
    time.sleep(0.05)
    t0 = time.monotonic()
    board.inject(m.InjectKind.RESET, 0)  # brown-out; the driver re-HELLOs
    with pytest.raises(BoardReset) as ei:
        board.wait_move(0, 2.0)
    assert ei.value.record.old_boot_id == old and ei.value.record.new_boot_id == board.boot_id != old
    assert ei.value.record.moving_axes == (0,)
    boot = board.wait_event(m.EventKind.BOOT, 1.0, since=t0)
    assert boot is not None and boot.event.data == board.boot_id
    assert boot.time - t0 < 0.1 + 0.2  # EVENT BOOT within 100 ms of start (section 4), 0.2 s slack for load
    st = board.status()  # reported once; the board is usable again, motion gone
    assert not st.axes[0].moving and st.boot_id == board.boot_id
    assert len(board.resets) == 1


def test_reset_command_gives_new_boot_id(board):
    old = board.boot_id
    board.move(0, 2000, 200)
    info = board.reset()  # asked for by the host: recorded, never raised as BoardReset
    assert info.boot_id != old and board.boot_id == info.boot_id
    assert board.resets[-1].moving_axes == ()
    st = board.status()
    assert st.uptime_ms < 1000 and not st.axes[0].moving


def test_reconnect_after_port_goes_away(emu, tmp_path):
    b = Board(emu.port, reconnect_timeout=4.0)
    b.connect()
    try:
        first = b.boot_id
        emu.stop()
        restarter = threading.Timer(0.6, emu.start)
        restarter.start()
        t0 = time.monotonic()
        st = b.status()  # blocks while the port is away, then reconnects and re-HELLOs
        restarter.join()
        assert 0.5 < time.monotonic() - t0 < 4.0
        assert b.reconnects == 1 and st.boot_id == b.boot_id != first
        assert b.resets and b.resets[-1].source == "HELLO_INFO"
        assert b.ping(b"back") < 1.0
    finally:
        b.close()


def test_gives_up_when_port_stays_away(emu):
    b = Board(emu.port, reconnect_timeout=0.5, heartbeat=False)
    b.connect()
    try:
        emu.stop()
        t0 = time.monotonic()
        with pytest.raises(BoardError, match="did not come back"):
            b.status()
        assert time.monotonic() - t0 < 3.0
    finally:
        b.close()
    assert not os.path.lexists(emu.port)


def test_command_budget_is_end_to_end_while_the_heartbeat_reconnects(emu):
    """A command issued while the heartbeat thread is reconnecting to a port that stays away gives up
    reconnect_timeout after it was issued; it used to wait for the heartbeat's attempt and then try
    for a full budget of its own (5.3 s for a 3 s budget)."""
    budget = 2.0
    b = Board(emu.port, reconnect_timeout=budget)
    b.connect()
    try:
        emu.stop()
        time.sleep(0.6)  # the heartbeat (every 0.2 s) has found the port gone and is reconnecting
        assert b.heartbeat_enabled and not b.link.alive
        t0 = time.monotonic()
        with pytest.raises(BoardError, match="did not come back"):
            b.status()
        dt = time.monotonic() - t0
        assert budget - 0.7 <= dt <= budget + 0.5, f"gave up after {dt:.2f} s for a {budget} s budget"
    finally:
        b.close()


def test_reset_while_the_port_was_away_is_noticed_and_resynced(emu):
    """A power cycle while the host is connected: the port goes away and comes back and the board's
    EVENT BOOT is lost (opening the port discards pending input), so the driver learns of the reset
    from HELLO_INFO's boot_id on reconnect; it raises the lost move once and re-applies the host's
    CONFIG, so the board refuses what the host's soft limits forbid again."""
    b = Board(emu.port, reconnect_timeout=4.0)
    b.connect()
    try:
        old = b.boot_id
        b.configure(2, 500, -1000, 1000)
        b.move(2, 900, 500)  # 1.8 s
        time.sleep(0.05)
        emu.restart()
        with pytest.raises(BoardReset) as ei:
            b.status()
        rec = ei.value.record
        assert rec.source == "HELLO_INFO" and rec.moving_axes == (2,)
        assert rec.old_boot_id == old and rec.new_boot_id == b.boot_id != old
        assert len(b.resets) == 1 and b.reconnects == 1
        assert b.hello().axes[2] == m.AxisConfig(-1000, 1000, 500)  # what the board itself says now
        st = b.status()
        assert st.boot_id == b.boot_id and not st.axes[2].moving and st.axes[2].position == 0
        with pytest.raises(BoardNack) as nk:
            b.move(2, 1500, 500)  # inside the boot defaults (+-2800), outside the host's limits
        assert nk.value.error == m.ErrorCode.SOFT_LIMIT
        b.move(2, 20, 0)  # rate 0: the host's drive_hz, 500 Hz
        assert b.wait_move(2, 2.0).position == 20
    finally:
        b.close()


def test_requested_reset_keeps_the_boot_defaults(board):
    board.configure(0, 500, -100, 100)
    info = board.reset()
    assert info.axes[0] == m.AxisConfig(-m.DEFAULT_SOFT_LIMIT, m.DEFAULT_SOFT_LIMIT, m.DEFAULT_DRIVE_HZ)
    board.move(0, 150, m.RATE_MAX)
    assert board.wait_move(0, 2.0).position == 150


def test_limit_fault_is_reported_but_does_not_block_moving_back(board):
    """protocol.md sec. 2/6: only STALL, STUCK and WATCHDOG refuse MOVE; LIMIT is informational, so an
    axis that ended at its soft limit can be driven back without CLEAR_FAULTS."""
    board.move(2, m.DEFAULT_SOFT_LIMIT, m.RATE_MAX)  # 2800 steps at 20 kHz: 0.14 s
    ax = board.wait_move(2, 3.0)
    assert ax.faults & m.AxisFault.LIMIT  # "a move ended at a soft limit"
    board.move(2, 0, m.RATE_MAX)
    assert board.wait_move(2, 3.0).position == 0


def test_every_message_type_crosses_the_link(board, tmp_path):
    """One session sends every command (Python encodes, C decodes) and receives every board message
    (C encodes, Python decodes); the frame log's wire bytes are decoded again to list what crossed."""
    board.hello()
    board.ping(b"\x00ping")
    board.heartbeat()
    board.configure(1, 2000, -500, 500)
    board.move(1, 20, 0)
    board.wait_move(1, 2.0)
    board.hold(1)
    board.stop()
    with pytest.raises(BoardNack):
        board.move(1, 501, 1000)
    board.inject(m.InjectKind.STUCK, 0)
    board.move(0, 100, 1000)
    assert board.wait_event(m.EventKind.FAULT, 1.0) is not None
    board.clear_faults(0)
    board.reset()
    assert board.heartbeat_errors == 0
    seen = {"TX": set(), "RX": set()}
    for line in (tmp_path / "frames.log").read_text().splitlines():
        _, direction, wire, *_ = line.split(" ", 3)
        if direction in seen:
            (frame,) = FrameDecoder().feed(bytes.fromhex(wire))
            msg = m.decode_frame(frame)  # every logged frame decodes
            seen[direction].add(frame.type if frame.type != m.MsgType.EVENT else ("EVENT", msg.event))
    assert seen["TX"] == set(m.COMMAND_TYPES)
    want_rx = {t for t in m.MESSAGE_CLASSES if t not in m.COMMAND_TYPES and t != m.MsgType.EVENT}
    want_rx |= {("EVENT", k) for k in (m.EventKind.BOOT, m.EventKind.FAULT, m.EventKind.MOVE_DONE)}
    assert seen["RX"] >= want_rx, want_rx - seen["RX"]


def test_commands_survive_a_noisy_line(emu):
    """3 % of frames in each direction get a flipped bit: every command still completes with the right
    answer (CRC rejects, 250 ms retry, the board answers repeats from its stored reply), and no MOVE is
    executed twice. A command fails only if all 4 tries are hit (about (2 * 0.03)^4 = 1.3e-5 per
    command), so the test is not flaky; the seed fixes the pattern anyway."""
    proxy = CorruptingProxy(emu.pty, p=0.03, seed=7)
    port = proxy.start()
    b = Board(port, heartbeat=False)
    try:
        b.connect()
        boot = b.boot_id
        for k in range(120):
            assert b.ping(bytes([k, 0, k])) < 2.0
            if k % 20 == 0:
                b.move(0, k, m.RATE_MAX)
                assert b.wait_move(0, 2.0).position == k
        st = b.status()
        assert st.boot_id == boot and not b.resets
        assert sum(proxy.corrupted.values()) >= 4  # the line really was noisy
        assert b.retries_used >= 1
        assert st.rx_bad >= 1 or proxy.corrupted["to_board"] == 0
        assert b.rx_rejected >= 1 or proxy.corrupted["to_host"] == 0
    finally:
        b.close()
        proxy.stop()


def _wire_body(version, type_, seq, payload, length=None):
    """Hand-built wire frame (may break the rules on purpose: length > 64, wrong len field)."""
    head = struct.pack("<BBHB", version, type_, seq, len(payload) if length is None else length)
    body = head + payload
    return cobs.encode(body + crc16(body).to_bytes(2, "big")) + b"\x00"


def test_length_rules_on_the_board(board):
    r = _raw(board, m.MsgType.PING, bytes(33))  # PING carries at most 32 bytes
    assert m.decode_frame(r) == m.Nack(m.MsgType.PING, m.ErrorCode.BAD_LENGTH)
    r = _raw(board, m.MsgType.PING, bytes(range(64)))  # the largest legal frame, still too long for PING
    assert m.decode_frame(r) == m.Nack(m.MsgType.PING, m.ErrorCode.BAD_LENGTH)
    before = board.status().rx_bad
    board.link.send_raw(_wire_body(1, m.MsgType.PING, 1, bytes(65)), "len 65 > MAX_PAYLOAD")
    board.link.send_raw(_wire_body(1, m.MsgType.PING, 2, b"abc", length=4), "len field disagrees")
    board.link.send_raw(_wire_body(1, m.MsgType.PING, 3, b"")[:-4] + b"\x00", "shorter than 7 bytes")
    assert board.ping(b"still here") < 1.0
    assert board.status().rx_bad == before + 3


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.one_of(
    st.binary(min_size=1, max_size=600),
    st.lists(st.sampled_from([b"\x00", b"\x01", b"\xff" * 80, _wire_body(1, 2, 9, b"x")[:-1],
                              _wire_body(2, 1, 1, b""), _wire_body(1, 0x70, 5, b"\x01")]),
             min_size=1, max_size=12).map(b"".join)))
def test_c_board_survives_random_bytes(board, junk):
    """Random and structured junk from the host never wedges the C board: after a 0x00 the next good
    frame is answered, the board did not reboot, and what it counted as bad only grows."""
    before = board.status()
    board.link.send_raw(junk + b"\x00", "fuzz")
    assert board.ping(b"alive?") < 2.0
    after = board.status()
    assert after.boot_id == before.boot_id and after.uptime_ms >= before.uptime_ms
    assert after.rx_bad >= before.rx_bad
