"""The C actuator-board firmware, run as the pty-emulated board, against docs/protocol.md.

Frames are built with the independent client in tests/_firmware_link.py (third-party cobs/crc).
Timing assertions have a strict physical lower bound (a move of N steps at f Hz cannot finish in
less than N/f) and a loose upper bound for a loaded 2-core machine.
"""
from __future__ import annotations

import os
import signal
import struct
import subprocess
import time

import pytest

from cobs import cobs

from firmware_host import build
from firmware_host.testlink import (ACK, CLEAR_FAULTS, CONFIG, CRC, EVENT, EVT_BOOT, EVT_FAULT, EVT_MOVE_DONE,
                            EVT_WATCHDOG, HEARTBEAT, HELLO, HELLO_INFO, HOLD, INJECT, MOVE, NACK,
                            PING, PONG, RESET, STATUS, STOP, Link, encode)

BAD_VERSION, UNKNOWN_TYPE, BAD_LENGTH, BAD_AXIS, SOFT_LIMIT, BAD_RATE, AXIS_FAULT, BUSY, BAD_ARG = range(1, 10)
MOVING, HOLDING, ENABLED = 1, 2, 4
F_STALL, F_STUCK, F_WATCHDOG, F_LIMIT, F_MISSED = 1, 2, 4, 8, 16


def move(axis, target, rate=0):
    return struct.pack("<BiH", axis, target, rate)


def config(axis, hz, lo, hi):
    return struct.pack("<BHii", axis, hz, lo, hi)


def inject(kind, axis, param=0):
    return struct.pack("<BBH", kind, axis, param)


class Board:
    def __init__(self, *args):
        self.proc, self.port = build.start_emulator(
            args, stderr=subprocess.PIPE if "--stats" in args else None)
        self.link = Link(self.port)

    def close(self):
        self.link.close()
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=5)

    def stats(self) -> str:
        """Terminate (with --stats given) and return the emulator's stderr statistics."""
        self.link.close()
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=5)
        return err.decode()


@pytest.fixture
def board():
    b = Board()
    yield b
    b.close()


def test_boot_event_and_hello_info(board):
    link = board.link
    boot = link.wait_event(EVT_BOOT, timeout=1.0)
    t, p = link.command(HELLO)
    assert t == HELLO_INFO and len(p) == 7 + 3 * 10
    fw_major, fw_minor, fw_patch, proto, n_axes, boot_id = struct.unpack("<BBBBBH", p[:7])
    assert (proto, n_axes) == (1, 3)
    assert boot_id == boot[2] and boot[1] == 0xFF
    for i in range(3):
        assert struct.unpack("<iiH", p[7 + 10 * i: 17 + 10 * i]) == (-2800, 2800, 1000)
    st = link.status()
    assert st["flags"] & 2, "the emulated board sets board_flags bit1 EMULATED"
    assert st["boot_id"] == boot_id and st["rx_bad"] == 0


def test_ping_echoes_any_payload_up_to_32_bytes(board):
    link = board.link
    for n in (0, 1, 7, 31, 32):
        payload = bytes((i * 37 + n) & 0xFF for i in range(n))  # includes 0x00 bytes
        assert link.command(PING, payload) == (PONG, payload)
    assert link.command(PING, bytes(33)) == (NACK, bytes([PING, BAD_LENGTH]))


def test_move_runs_in_real_time_and_reports_done(board):
    link = board.link
    assert link.command(MOVE, move(0, 200, 1000)) == (ACK, bytes([MOVE]))
    t0 = time.monotonic()
    mid = link.status()["axes"][0]
    assert mid["target"] == 200 and (mid["state"] & MOVING or mid["position"] == 200)
    ev = link.wait_event(EVT_MOVE_DONE, timeout=3.0)
    dt = time.monotonic() - t0
    assert ev == (EVT_MOVE_DONE, 0, 200)
    assert 0.19 <= dt < 1.5, f"200 steps at 1000 Hz took {dt:.3f} s (expected about 0.2 s)"
    a = link.status()["axes"][0]
    assert (a["position"], a["state"] & MOVING, a["faults"]) == (200, 0, 0)
    # negative direction, fast rate, MOVE_DONE data is the low 16 bits of the position
    assert link.command(MOVE, move(1, -1234, 20000))[0] == ACK
    assert link.wait_event(EVT_MOVE_DONE, timeout=3.0) == (EVT_MOVE_DONE, 1, (-1234) & 0xFFFF)
    assert link.status()["axes"][1]["position"] == -1234


def test_new_move_replaces_current_one_and_stop_all(board):
    link = board.link
    assert link.command(MOVE, move(2, 2000, 1000))[0] == ACK
    time.sleep(0.05)
    assert link.command(MOVE, move(2, -20, 5000))[0] == ACK  # reverse mid-move
    assert link.wait_event(EVT_MOVE_DONE, timeout=3.0) == (EVT_MOVE_DONE, 2, (-20) & 0xFFFF)
    assert link.command(MOVE, move(0, 2000, 500))[0] == ACK
    assert link.command(MOVE, move(1, -2000, 500))[0] == ACK
    time.sleep(0.05)
    assert link.command(STOP, bytes([0xFF])) == (ACK, bytes([STOP]))
    st = link.status()
    for i in (0, 1):
        a = st["axes"][i]
        assert a["state"] == ENABLED and 0 < abs(a["position"]) < 2000
    pos = [a["position"] for a in st["axes"]]
    time.sleep(0.05)
    assert [a["position"] for a in link.status()["axes"]] == pos, "a stopped axis must not move"
    assert link.command(HOLD, bytes([1]))[0] == ACK
    assert link.status()["axes"][1]["state"] == HOLDING


def test_invalid_commands_are_refused_with_the_right_error(board):
    link = board.link
    cases = [
        (MOVE, move(0, 2801), SOFT_LIMIT),
        (MOVE, move(0, -2801), SOFT_LIMIT),
        (MOVE, move(0, 10, 99), BAD_RATE),
        (MOVE, move(0, 10, 20001), BAD_RATE),
        (MOVE, move(3, 10), BAD_AXIS),
        (MOVE, move(0xFF, 10), BAD_AXIS),
        (MOVE, move(0, 10)[:-1], BAD_LENGTH),
        (STOP, bytes([7]), BAD_AXIS),
        (STOP, b"", BAD_LENGTH),
        (HELLO, b"x", BAD_LENGTH),
        (CONFIG, config(0, 1000, 10, 10), BAD_ARG),
        (CONFIG, config(0, 1000, -2858, 0), SOFT_LIMIT),
        (CONFIG, config(0, 1000, 0, 2858), SOFT_LIMIT),
        (CONFIG, config(0, 20001, -5, 5), BAD_RATE),
        (CONFIG, config(0xFF, 1000, -5, 5), BAD_AXIS),
        (INJECT, inject(9, 0), BAD_ARG),
        (INJECT, inject(1, 5), BAD_AXIS),
        (INJECT, inject(2, 0, 101), BAD_ARG),
        (0x55, b"", UNKNOWN_TYPE),
        (0x80, b"\x01", UNKNOWN_TYPE),  # a board-to-host type sent to the board
    ]
    for type_, payload, err in cases:
        assert link.command(type_, payload) == (NACK, bytes([type_, err])), (type_, payload.hex())
    # nothing above moved anything
    assert all(a["position"] == 0 and not a["state"] & MOVING for a in link.status()["axes"])


def test_config_changes_limits_and_default_rate_and_is_refused_while_moving(board):
    link = board.link
    assert link.command(CONFIG, config(1, 250, -100, 50)) == (ACK, bytes([CONFIG]))
    _, p = link.command(HELLO)
    assert struct.unpack("<iiH", p[17:27]) == (-100, 50, 250)
    assert link.command(MOVE, move(1, 51)) == (NACK, bytes([MOVE, SOFT_LIMIT]))
    assert link.command(MOVE, move(1, 50))[0] == ACK  # rate 0 = drive_hz = 250 Hz: 0.2 s
    t0 = time.monotonic()
    assert link.command(CONFIG, config(1, 1000, -5, 5)) == (NACK, bytes([CONFIG, BUSY]))
    assert link.wait_event(EVT_MOVE_DONE, timeout=3.0) == (EVT_MOVE_DONE, 1, 50)
    assert time.monotonic() - t0 >= 0.19, "rate 0 must use the configured drive_hz (250 Hz)"
    # the move ended on the soft limit: LIMIT is set (advisory: MOVE still accepted)
    assert link.wait_event(EVT_FAULT, timeout=1.0) == (EVT_FAULT, 1, F_LIMIT)
    assert link.status()["axes"][1]["faults"] == F_LIMIT
    assert link.command(MOVE, move(1, 40, 5000))[0] == ACK


def test_bad_version_is_nacked_and_not_executed(board):
    link = board.link
    link.write(encode(MOVE, 77, move(0, 100), version=2))
    t, seq, p = link.read_reply()
    assert (t, seq, p) == (NACK, 77, bytes([MOVE, BAD_VERSION]))
    st = link.status()
    assert st["axes"][0]["target"] == 0 and st["rx_bad"] == 0


def test_corrupted_frames_are_dropped_counted_and_link_resynchronises(board):
    link = board.link
    good = encode(PING, 500, b"hello")
    flipped = bytearray(good)
    flipped[3] ^= 0x10  # CRC mismatch
    short = encode(PING, 1, b"")[:3] + b"\x00"  # decodes to fewer than 7 bytes
    bad_len = bytearray(encode(PING, 2, b"abc"))
    body = bytearray(cobs.decode(bytes(bad_len[:-1])))
    body[4] = 2  # len disagrees with the size; fix the CRC so only the length is wrong
    body[-2:] = CRC.checksum(bytes(body[:-2])).to_bytes(2, "big")
    bad_len = cobs.encode(bytes(body)) + b"\x00"
    bad_cobs = b"\x09\x01\x02\x00"  # code byte runs past the end of the frame
    oversize = bytes(range(1, 101)) + b"\x00"  # 100 bytes before the delimiter: > 72
    for junk in (bytes(flipped), short, bad_len, bad_cobs, oversize):
        link.write(junk)
    link.write(b"\x00\x00")  # empty frames are resynchronisation bytes, not errors
    link.write(b"\x13\x37\xff garbage without a delimiter")
    link.write(b"\x00" + good)  # resynchronise on 0x00, then a good frame is accepted
    t, seq, p = link.read_reply()
    assert (t, seq, p) == (PONG, 500, b"hello")
    assert link.status()["rx_bad"] == 6


def test_duplicate_seq_resends_the_reply_without_executing_again(board):
    link = board.link
    frame = encode(MOVE, 900, move(0, 0))  # already at 0: ACK then an immediate MOVE_DONE
    link.write(frame)
    assert link.read_reply()[:2] == (ACK, 900)
    link.wait_event(EVT_MOVE_DONE, timeout=1.0)
    link.write(frame)  # host retry: same frame, same seq
    assert link.read_reply() == (ACK, 900, bytes([MOVE]))
    link.write(encode(PING, 901, b"z"))  # anything after it is answered in order
    assert link.read_reply() == (PONG, 901, b"z")
    assert not any(e[0] == EVT_MOVE_DONE for e in link.events), "the retried MOVE was executed again"
    # a different frame that reuses the seq (a restarted host) is executed, not answered stale
    link.write(encode(PING, 901, b"new"))
    assert link.read_reply() == (PONG, 901, b"new")


def test_watchdog_stops_moving_axes_and_needs_clear_faults(board):
    link = board.link
    assert link.command(MOVE, move(0, 2800, 1000))[0] == ACK
    assert link.command(MOVE, move(2, -2800, 1000))[0] == ACK
    t0 = time.monotonic()
    ev = link.wait_event(EVT_WATCHDOG, timeout=3.0)  # silence from the host from now on
    dt = time.monotonic() - t0
    assert ev == (EVT_WATCHDOG, 0xFF, 0b101)
    assert 0.95 <= dt < 2.5, f"watchdog fired after {dt:.3f} s, protocol says 1.000 s"
    st = link.status()
    assert st["flags"] & 1, "WATCHDOG_TRIPPED must be reported to the first command after the trip"
    for i in (0, 2):
        a = st["axes"][i]
        assert a["state"] == HOLDING and a["faults"] & F_WATCHDOG and 0 < abs(a["position"]) < 2800
    assert st["axes"][1]["faults"] == 0
    assert not link.status()["flags"] & 1, "the flag is cleared by the next valid command"
    assert link.command(MOVE, move(0, 0)) == (NACK, bytes([MOVE, AXIS_FAULT]))
    assert link.command(CLEAR_FAULTS, bytes([0xFF]))[0] == ACK
    assert link.command(MOVE, move(0, 0, 20000))[0] == ACK


def test_heartbeats_keep_a_long_move_alive(board):
    link = board.link
    assert link.command(MOVE, move(1, 1300, 1000))[0] == ACK  # 1.3 s, longer than the watchdog
    deadline = time.monotonic() + 3.0
    while not any(e[0] == EVT_MOVE_DONE for e in link.events):
        assert time.monotonic() < deadline
        assert link.command(HEARTBEAT) == (ACK, bytes([HEARTBEAT]))
        time.sleep(0.2)  # the protocol's heartbeat period
    assert not any(e[0] == EVT_WATCHDOG for e in link.events)
    assert link.status()["axes"][1]["position"] == 1300


def test_stuck_axis_is_detected_after_stall_cycles():
    b = Board("--stats")
    try:
        link = b.link
        assert link.command(INJECT, inject(1, 0)) == (ACK, bytes([INJECT]))
        assert link.command(MOVE, move(0, 500, 1000))[0] == ACK
        ev = link.wait_event(EVT_FAULT, timeout=2.0)
        assert ev == (EVT_FAULT, 0, F_MISSED)  # first cycle without travel
        ev = link.wait_event(EVT_FAULT, timeout=2.0)
        assert ev == (EVT_FAULT, 0, F_STALL | F_STUCK | F_MISSED)
        # STALL_CYCLES = 50: counted by the firmware's own cycle counter below ("cycles 55" = 50 stalled + 5),
        # not by a host clock (a wall-time lower bound failed under load: the ACK's delivery is delayed)
        a = link.status()["axes"][0]
        assert (a["position"], a["state"]) == (0, HOLDING)
        assert link.command(MOVE, move(0, 5)) == (NACK, bytes([MOVE, AXIS_FAULT]))
        assert link.command(INJECT, inject(0, 0))[0] == ACK
        assert link.command(CLEAR_FAULTS, bytes([0]))[0] == ACK
        assert link.command(MOVE, move(0, 5, 5000))[0] == ACK
        assert link.wait_event(EVT_MOVE_DONE) == (EVT_MOVE_DONE, 0, 5)
        stats = b.stats()
        assert "axis 0 steps 5 cycles 55 travelled 5 seq_errors 0" in stats, stats
    finally:
        b.close()


@pytest.mark.parametrize("how", ["inject-stall", "inject-miss", "cli-miss-prob"])
def test_lossy_axis_still_reaches_target_and_flags_missed_steps(how):
    args = ("--stats", "--seed", "7", "--miss-prob", "0.25") if how == "cli-miss-prob" else ("--stats",)
    b = Board(*args)
    try:
        link = b.link
        if how == "inject-stall":
            assert link.command(INJECT, inject(2, 1, 50))[0] == ACK  # half the commanded rate
        elif how == "inject-miss":
            assert link.command(INJECT, inject(4, 1, 16384))[0] == ACK  # p = 0.25
        assert link.command(MOVE, move(1, -150, 1000))[0] == ACK
        t0 = time.monotonic()
        assert link.wait_event(EVT_MOVE_DONE, timeout=3.0) == (EVT_MOVE_DONE, 1, (-150) & 0xFFFF)
        dt = time.monotonic() - t0
        min_dt = 0.29 if how == "inject-stall" else 0.15  # 300 cycles for 150 steps at 50 %
        assert dt >= min_dt
        a = link.status()["axes"][1]
        assert a["position"] == -150 and a["faults"] == F_MISSED
        stats = b.stats()
        line = next(s for s in stats.splitlines() if s.startswith("STATS axis 1"))
        f = line.split()
        cycles, travelled, seq_errors = int(f[6]), int(f[8]), int(f[10])
        assert travelled == 150 and seq_errors == 0
        if how == "inject-stall":
            assert cycles == 300
        else:  # binomial: 150 successes at p_travel = 0.75 -> about 200 cycles
            assert 165 <= cycles <= 260, cycles
    finally:
        b.close()


def test_reset_command_and_injected_brownout_reboot_with_a_new_boot_id(board):
    link = board.link
    boot0 = link.wait_event(EVT_BOOT)[2]
    assert link.command(MOVE, move(2, 30, 10000))[0] == ACK
    link.wait_event(EVT_MOVE_DONE)
    assert link.command(RESET) == (ACK, bytes([RESET]))
    boot1 = link.wait_event(EVT_BOOT, timeout=1.0)[2]
    assert boot1 != boot0
    link.seq = 0
    link.write(encode(INJECT, 50, inject(3, 0)))  # brown-out: no ACK guaranteed
    boot2 = link.wait_event(EVT_BOOT, timeout=1.0)[2]
    assert boot2 not in (boot0, boot1)
    st = link.status()
    assert st["boot_id"] == boot2 and st["uptime_ms"] < 1000
    # the emulated board has an absolute position sensor: the shuttle did not move in the reset
    assert st["axes"][2]["position"] == 30 and st["axes"][2]["state"] == HOLDING


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_emulator_exits_cleanly_on_signal(sig):
    b = Board()
    b.link.close()
    b.proc.send_signal(sig)
    assert b.proc.wait(timeout=2) == 0


@pytest.mark.parametrize("args", [["--seed"], ["--seed", "x"], ["--miss-prob", "1.5"], ["--bogus"],
                                  ["--boot-id", "70000"]])
def test_emulator_rejects_bad_options_with_exit_2(args):
    exe = build.ensure_built()
    res = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=5)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and "error" in res.stderr


def test_host_can_close_and_reopen_the_port(board):
    board.link.close()
    board.link = Link(board.port)  # a host reconnecting to the same board
    assert board.link.command(PING, b"again") == (PONG, b"again")
    board.link.close()
    board.link = Link(board.port)
    assert board.link.command(PING, b"third") == (PONG, b"third")


def test_emulator_exits_when_its_parent_dies():
    exe = build.ensure_built()
    # the shell starts the emulator in the background, prints its pid and exits at once
    res = subprocess.run(["sh", "-c", f"'{exe}' --parent-pid $$ >/dev/null 2>&1 & echo $!"], capture_output=True,
                         text=True, timeout=5)
    pid = int(res.stdout.strip())
    deadline = time.monotonic() + 3.0
    alive = True
    while alive and time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            time.sleep(0.05)
        except ProcessLookupError:
            alive = False
    if alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive, "the emulator kept running after its parent exited"
