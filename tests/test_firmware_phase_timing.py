"""Timer-driven phase path of the Cortex-M3 port, timed under QEMU (mps2-an385).

The trace build (``-DBLISS_PHASE_TRACE``) time-stamps every phase write in RAM with the dual
timer's free-running 25 MHz counter (40 ns resolution, independent of the three phase timers); the
test reads the buffer out through QEMU's QMP ``pmemsave`` after each move and checks that the
substeps of a MOVE are evenly spaced at 1/(4 rate), in the right order, and that the step count is
exact. QEMU runs with ``-icount shift=6,sleep=off``: virtual time advances 64 ns per guest
instruction (about 1.6 cycles of the 25 MHz Cortex-M3 per instruction, a conservative CPI), so the
timings come from instruction counts, not from how busy the host is. (The trace build's main loop
does not sleep in WFI; see cortexm/hal_mps2.c main().) Skips without arm-none-eabi-gcc,
arm-none-eabi-nm or qemu-system-arm.
"""
from __future__ import annotations

import json
import shutil
import socket
import struct
import subprocess
import time

import pytest

from firmware_host import build
from firmware_host.testlink import ACK, EVT_MOVE_DONE, HELLO_INFO, MOVE, Link

pytestmark = [
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                       reason="arm-none-eabi-gcc not installed (apt-get install gcc-arm-none-eabi)"),
    pytest.mark.skipif(shutil.which("arm-none-eabi-nm") is None,
                       reason="arm-none-eabi-nm not installed (apt-get install binutils-arm-none-eabi)"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None,
                       reason="qemu-system-arm not installed (apt-get install qemu-system-arm)"),
]

TICK_S = 1 / 25e6        # trace clock: dual timer 2 at PCLK = 25 MHz (AN385 system clock)
ICOUNT_SHIFT = 6         # QEMU -icount: 2**6 ns = 64 ns of virtual time per guest instruction
CYCLE = (0x03, 0x07, 0x0C, 0x0D)  # src/axis.c AXIS_CYCLE: A push, hand-over, B push, hand-over
IDLE = 0x05                        # AXIS_PH_IDLE
DIR_REV = 0x10
MAX_RATE_HZ = 20000      # proto.h RATE_MAX: the highest drive rate, 80 kHz substeps
# Tolerance on every substep interval: 2 us or 10 % of the nominal 1/(4 rate), whichever is larger
# (at 20 kHz the period is 12.5 us, so +-2 us; at 1 kHz 250 us +-25 us). Measured worst case 1.28 us
# (firmware_host/README.md); the polled path this replaces was off by up to a whole 1 ms poll.
# Three axes at once: a tick can wait for the other two axes' handlers (at most 9.92 us each as
# measured, trace recording included) plus a main-loop critical section (about 1.3 us): 21 us, within
# the 25 us tolerance at 1 kHz, which is therefore the rate all three axes are guaranteed together.
TOL_ABS_S = 2e-6
TOL_REL = 0.10


class Trace:
    """The firmware's phase-write ring buffer (struct phase_trace in cortexm/hal_mps2.c)."""

    def __init__(self, elf, qmp_path):
        out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True,
                             check=True).stdout
        self.addr = next(int(line.split()[0], 16) for line in out.splitlines()
                         if line.endswith(" bliss_phase_trace"))
        self.qmp_path = qmp_path
        self.sock = None

    def _qmp(self, cmd, **args):
        if self.sock is None:
            deadline = time.monotonic() + 10
            while True:
                try:
                    self.sock = socket.socket(socket.AF_UNIX)
                    self.sock.connect(str(self.qmp_path))
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            self.f = self.sock.makefile("rw")
            json.loads(self.f.readline())  # greeting
            self._qmp("qmp_capabilities")
        self.f.write(json.dumps({"execute": cmd, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            msg = json.loads(self.f.readline())
            if "return" in msg:
                return msg["return"]
            assert "error" not in msg, msg

    def read(self, tmp_path):
        head = 24
        dump = tmp_path / "trace.bin"
        self._qmp("pmemsave", val=self.addr, size=head, filename=str(dump))
        magic, cap, n, isr_max, isr_sum, isr_n = struct.unpack("<6I", dump.read_bytes())
        assert magic == 0x50484153, "trace buffer not found (is this the trace build?)"
        size = head + 5 * cap
        self._qmp("pmemsave", val=self.addr, size=size, filename=str(dump))
        data = dump.read_bytes()
        magic, cap, n, isr_max, isr_sum, isr_n = struct.unpack("<6I", data[:head])
        t = struct.unpack(f"<{cap}I", data[head:head + 4 * cap])
        ph = data[head + 4 * cap:head + 5 * cap]
        return {"n": n, "cap": cap, "t": t, "ph": ph, "isr_max": isr_max,
                "isr_mean": isr_sum / max(isr_n, 1)}

    def close(self):
        if self.sock is not None:
            self.sock.close()


def writes_between(before, after, axis):
    """(time_s, phases) of the writes to `axis` between two reads of the trace, times unwrapped."""
    assert after["n"] - before["n"] <= after["cap"], "trace ring overran: shorten the moves"
    out, last, acc = [], None, 0
    for i in range(before["n"], after["n"]):
        j = i % after["cap"]
        t = after["t"][j]
        if last is not None:
            acc += (t - last) & 0xFFFFFFFF
        last = t
        if after["ph"][j] >> 5 == axis:
            out.append((acc * TICK_S, after["ph"][j] & 0x1F))
    return out


def check_move(writes, steps, rate, reverse=False):
    """The writes of one MOVE: exactly 4*steps substeps in cycle order, then IDLE; returns the
    substep intervals (s) after asserting each is within tolerance of 1/(4 rate)."""
    rev = DIR_REV if reverse else 0
    phases = [p for _, p in writes]
    assert len(phases) == 4 * steps + 1, f"{len(phases)} phase writes for {steps} steps"
    assert phases[:-1] == [CYCLE[i % 4] | rev for i in range(4 * steps)]
    assert phases[-1] == IDLE
    times = [t for t, _ in writes[:-1]]
    intervals = [b - a for a, b in zip(times, times[1:])]
    nominal = 1 / (4 * rate)
    tol = max(TOL_ABS_S, TOL_REL * nominal)
    worst = max(abs(d - nominal) for d in intervals)
    assert worst <= tol, (f"substep interval off by {worst * 1e6:.2f} us at {rate} Hz "
                          f"(nominal {nominal * 1e6:.2f} us, tolerance {tol * 1e6:.2f} us)")
    return intervals


@pytest.fixture
def traced_board(tmp_path):
    elf = build.ensure_cortexm_built(trace=True)
    qmp_path = tmp_path / "qmp.sock"
    proc, port = build.start_cortexm_qemu(
        ["-icount", f"shift={ICOUNT_SHIFT},sleep=off", "-qmp", f"unix:{qmp_path},server=on,wait=off"], elf=elf)
    link = Link(port)
    trace = Trace(elf, qmp_path)
    try:
        reply = link.hello_until_answered()
        assert reply is not None and reply[0] == HELLO_INFO
        yield link, trace
    finally:
        trace.close()
        link.close()
        proc.terminate()
        proc.wait(timeout=10)


def _move(link, axis, target, rate):
    assert link.command(MOVE, struct.pack("<BiH", axis, target, rate))[0] == ACK


def _stats(intervals, rate):
    nominal = 1 / (4 * rate)
    return (f"rate {rate} Hz: {len(intervals)} intervals, nominal {nominal * 1e6:.3f} us, "
            f"min {min(intervals) * 1e6:.3f} max {max(intervals) * 1e6:.3f} us, worst error "
            f"{max(abs(d - nominal) for d in intervals) * 1e6:.3f} us")


@pytest.mark.parametrize("rate,steps", [(1000, 300), (MAX_RATE_HZ, 1000)])
def test_single_axis_substeps_evenly_spaced(traced_board, tmp_path, rate, steps):
    link, trace = traced_board
    before = trace.read(tmp_path)
    _move(link, 0, steps, rate)
    assert link.wait_event(EVT_MOVE_DONE, timeout=10.0) == (EVT_MOVE_DONE, 0, steps)
    after = trace.read(tmp_path)
    intervals = check_move(writes_between(before, after, 0), steps, rate)
    assert link.status()["axes"][0]["position"] == steps
    # and back, in reverse (DIR_REV on every pattern)
    _move(link, 0, 0, rate)
    assert link.wait_event(EVT_MOVE_DONE, timeout=10.0) == (EVT_MOVE_DONE, 0, 0)
    back = trace.read(tmp_path)
    intervals += check_move(writes_between(after, back, 0), steps, rate, reverse=True)
    print(_stats(intervals, rate), f"isr max {back['isr_max'] * TICK_S * 1e6:.2f} us "
          f"mean {back['isr_mean'] * TICK_S * 1e6:.2f} us")


THREE_AXIS_RATE_HZ = 1000


def test_three_axes_at_once_evenly_spaced(traced_board, tmp_path):
    """All three phase timers at once: ticks of different axes can collide and wait for each
    other's handler."""
    link, trace = traced_board
    rate, steps = THREE_AXIS_RATE_HZ, 300
    before = trace.read(tmp_path)
    for axis in range(3):
        _move(link, axis, steps, rate)
    done = {link.wait_event(EVT_MOVE_DONE, timeout=10.0) for _ in range(3)}
    assert done == {(EVT_MOVE_DONE, axis, steps) for axis in range(3)}
    after = trace.read(tmp_path)
    all_intervals = []
    for axis in range(3):
        all_intervals += check_move(writes_between(before, after, axis), steps, rate)
    assert [a["position"] for a in link.status()["axes"]] == [steps] * 3
    print(_stats(all_intervals, rate), f"isr max {after['isr_max'] * TICK_S * 1e6:.2f} us")
