"""Fly benchmark: the closed-loop rate a board sustains through the bench's actuator port (the C emulated
board, the Cortex-M3 build under QEMU if installed, the Python fake board, side by side), then the whole
closed loop's control cycles per second with each actuator backend (sim, emulated, qemu), in one run.

    PYTHONPATH=. python benchmarks/fly.py [--n 2000]
    PYTHONPATH=. python benchmarks/fly.py --closed-loop   # only the whole closed loop per actuator backend
    PYTHONPATH=. python benchmarks/fly.py --steps         # only the step rate each board sustains

One control cycle = ``BoardPort.send(ActuatorCommand)`` + ``BoardPort.state()`` (hil.board_port over
hil.driver.Board on a pty). Three cases per board:
- ``slew``: every cycle a new target on all 3 axes (3 MOVE + 1 STATUS round trips), the worst case;
- ``hold``: the same targets every cycle (the port sends no MOVE the board already has: 1 STATUS);
- ``slew+tel``: as ``slew``, plus one telemetry row per cycle (bliss.io.telemetry, WAL, batches of 100).
Reported: cycles per second over N back-to-back cycles, the cycle time's p50/p99/max, and the share of
cycles longer than 10 ms (the period of a 100 Hz loop; target: the emulated board sustains 100 Hz).
Step rate (``--steps``, also part of the full run): the steps a board makes per wall second when it is sent
MOVEs of 2,500 steps at 1 kHz and at the 20 kHz maximum on one axis and on all three axes at once (the
issue: the bench sends the drive rate x time scale, capped at 20 kHz, and a board that does not make it
changes the flight). Timed from the first MOVE to the first STATUS that shows every axis stopped, polled
every 1 ms (so a 0.125 s move reads up to ~2 ms long).
The boards run on this machine: the numbers measure host + pty + board software, not a USB or UART
link (at 115 200 baud 8N1 the 4 request frames and 4 replies of a slew cycle take ~12 ms on the wire).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from fakeboard import FakeBoard  # noqa: E402  (tests/, put on the path above)
from bliss.fsw.messages import ActuatorCommand  # noqa: E402
from bliss.io.telemetry import TelemetryWriter, actuator_columns  # noqa: E402
from hil.board_port import BoardPort  # noqa: E402
from hil.driver import Board  # noqa: E402
from hil.emulated import EmulatedBoard  # noqa: E402
from firmware_host.build import start_cortexm_qemu  # noqa: E402

#: Period of a 100 Hz control loop, s (the issue's target rate).
PERIOD_100HZ_S = 0.010
CASES = ("slew", "hold", "slew+tel")


class QemuBoard:
    """The Cortex-M3 firmware under qemu-system-arm, with the start()/close() of EmulatedBoard."""

    def start(self) -> str:
        self.proc, pty = start_cortexm_qemu()
        return pty

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


BOARDS = {"C emulator": EmulatedBoard, "Python fake": FakeBoard}
if shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc"):
    BOARDS = {"C emulator": EmulatedBoard, "QEMU Cortex-M3": QemuBoard, "Python fake": FakeBoard}


def _loadavg() -> str:
    with open("/proc/loadavg") as f:
        return f.read().strip()


def measure(port_path: str, n: int, case: str, tmp: str) -> dict:
    board = Board(port_path)
    board.connect()
    port = BoardPort(board)
    tel = None
    if case.endswith("+tel"):
        pos, tgt = actuator_columns()
        tel = TelemetryWriter(os.path.join(tmp, f"{case}-{time.monotonic_ns()}.sqlite"), (*pos, *tgt),
                              {"benchmark": "fly"}, batch_rows=100)
    times = []
    try:
        for i in range(n + 20):  # 20 warm-up cycles, not counted
            s = 1 if (i // 2) % 2 else -1
            targets = (0, 0, 0) if case == "hold" else (s * (10 + i % 7), -s * 12, s * 8)
            t0 = time.perf_counter()
            port.send(ActuatorCommand(float(i), targets, 2000.0))
            st = port.state()
            if tel is not None:
                tel.cycle(float(i), {**dict(zip(pos, st.position_steps)), **dict(zip(tgt, targets))})
            if i >= 20:
                times.append(time.perf_counter() - t0)
        if tel is not None:
            tel.close()
        events = len(port.events)
    finally:
        board.close()
    times.sort()
    total = sum(times)
    return {"cycles/s": n / total, "p50 [ms]": 1e3 * times[len(times) // 2],
            "p99 [ms]": 1e3 * times[int(0.99 * (len(times) - 1))], "max [ms]": 1e3 * times[-1],
            "> 10 ms [%]": 100.0 * sum(t > PERIOD_100HZ_S for t in times) / n, "port events": events}


#: Step-rate cases: (axes moved together, drive rate [Hz]); 2,500 steps each (inside the 2,800-step soft limits).
STEP_CASES = (((0,), 1000), ((0,), 20000), ((0, 1, 2), 1000), ((0, 1, 2), 20000))
STEP_MOVE = 2500


def step_rates(port_path: str) -> dict:
    """Steps per wall second per axis a board makes for each STEP_CASES entry (min over the axes), with the
    steps done checked against the steps commanded."""
    board = Board(port_path)
    board.connect()
    out = {}
    try:
        for axes, rate in STEP_CASES:
            p0 = [a.position for a in board.status().axes]
            sign = 1 if p0[axes[0]] <= 0 else -1
            t0 = time.perf_counter()
            for a in axes:
                board.move(a, p0[a] + sign * STEP_MOVE, rate=rate)
            while True:
                st = board.status()
                if not any(st.axes[a].moving for a in axes) or time.perf_counter() - t0 > 60:
                    break
                time.sleep(0.001)
            dt = time.perf_counter() - t0
            done = [abs(st.axes[a].position - p0[a]) for a in axes]
            key = f"{len(axes)} ax{'es' if len(axes) > 1 else 'is'} at {rate / 1000:g} kHz"
            out[key] = (min(done) / dt, min(done))
    finally:
        board.close()
    return out


def _print_step_rates() -> None:
    boards = {k: v for k, v in BOARDS.items() if k != "Python fake"}  # the fake board does not step
    print(f"\nstep rate a board sustains (MOVE {STEP_MOVE} steps, timed to the STATUS showing it stopped):")
    for name, cls in boards.items():
        b = cls()
        try:
            rates = step_rates(b.start())
        finally:
            b.close()
        for key, (r, done) in rates.items():
            print(f"  {name:<15} {key:<20} {r:8.0f} steps/s per axis ({done} of {STEP_MOVE} steps done)")


def closed_loop_rates(days: float = 0.02, period_s: float = 5.0) -> dict:
    """Control cycles per wall second of the whole closed loop (executive, attitude loop, orbit) over
    ``days`` from the default departure with each actuator backend: sim (compiled kinematic axes), the C
    emulated board and the Cortex-M build under QEMU (if qemu-system-arm is installed), boards unpaced
    (time_scale None: each period waits only for the board's replies)."""
    from bliss.cli.fly_run import default_problem
    from bliss.sil.attitude_loop import AttitudeLoop, controller_config
    from bliss.sil.closed_loop import fly_closed_loop
    from bliss.sil.navigation import GroundOD
    from bliss.sil.port_loop import PortActuators
    from sim.constants import DAY

    problem = default_problem()
    t0 = problem.t_depart
    out = {}

    def fly(port_url=None, span=days):
        loop = AttitudeLoop(t0, [0, 0, 0, 1], config=controller_config(AttitudeLoop(t0, [0, 0, 0, 1]).g,
                                                                          period=period_s))
        act = board = None
        if port_url is not None:
            board = Board(port_url)
            board.connect()
            act = PortActuators(loop, BoardPort(board), time_scale=None, t0=t0)
        try:
            w = time.perf_counter()
            res = fly_closed_loop(problem, problem.y_depart, t0, t0 + span * DAY, loop, GroundOD(), actuators=act,
                                  rec_every=0)
            return res.n_cycles / (time.perf_counter() - w)
        finally:
            if board is not None:
                board.close()

    fly()  # compile / warm up
    out["sim"] = fly(span=2.0)  # longer: the first guidance step's planning would dominate 0.02 days
    out["sim, 0.02 d"] = fly()
    emu = EmulatedBoard()
    try:
        out["emulated"] = fly(emu.start())
    finally:
        emu.close()
    if shutil.which("qemu-system-arm"):
        proc, pty = start_cortexm_qemu()
        try:
            time.sleep(2.0)  # QEMU boots the firmware
            out["qemu"] = fly(pty)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    else:
        out["qemu"] = "skipped: qemu-system-arm not installed"
    return out


def _print_closed_loop() -> None:
    rates = closed_loop_rates()
    print("\nclosed loop (executive + attitude loop + orbit) at a 5 s control period, 0.02 days (sim also 2 days),"
          " boards unpaced:")
    for k, v in rates.items():
        print(f"  {k:<12} " + (f"{v:10.0f} control cycles per wall second" if isinstance(v, float) else v))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="cycles per measurement (default 2000)")
    ap.add_argument("--closed-loop", action="store_true",
                    help="only the whole closed loop's control cycles per second per actuator backend")
    ap.add_argument("--steps", action="store_true", help="only the step rate each board sustains")
    args = ap.parse_args(argv)
    if args.steps:
        print(f"# /proc/loadavg before: {_loadavg()}")
        _print_step_rates()
        print(f"# /proc/loadavg after: {_loadavg()}")
        return 0
    if args.closed_loop:
        print(f"# /proc/loadavg before: {_loadavg()}")
        _print_closed_loop()
        print(f"# /proc/loadavg after: {_loadavg()}")
        return 0
    if args.n < 100:
        ap.error("--n must be at least 100")
    print(f"# /proc/loadavg before: {_loadavg()}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for board in BOARDS:
            for case in CASES:
                b = BOARDS[board]()
                path, stop = b.start(), (b.stop if isinstance(b, FakeBoard) else b.close)
                print(f"{board}, {case} ...", file=sys.stderr)
                try:
                    results[(board, case)] = measure(path, args.n, case, tmp)
                finally:
                    stop()
    cols = [(b, c) for b in BOARDS for c in CASES]
    print(f"\nfly benchmark (board port cycle = send ActuatorCommand + state), N = {args.n} cycles per column,"
          f" {os.cpu_count()} CPUs (shared)")
    short = {"C emulator": "C emu", "QEMU Cortex-M3": "QEMU", "Python fake": "Py fake"}
    print(f"{'metric':<14}" + "".join(f"{(short[b] + ' ' + c):>17}" for b, c in cols) + f"{'C/Py slew':>11}")
    for key in results[cols[0]]:
        fmt = "{:>17.0f}" if key in ("cycles/s", "port events") else "{:>17.2f}"
        cells = "".join(fmt.format(results[c][key]) for c in cols)
        a, b = results[("C emulator", "slew")][key], results[("Python fake", "slew")][key]
        print(f"{key:<14}{cells}" + (f"{a / b:>11.2f}" if b else f"{'-':>11}"))
    slew = results[("C emulator", "slew")]["cycles/s"]
    print(f"\nC emulator, worst case (slew): {slew:.0f} cycles/s, {'meets' if slew >= 100 else 'MISSES'} the "
          f"100 Hz target ({slew / 100:.1f}x)")
    if "QEMU Cortex-M3" not in BOARDS:
        print("QEMU Cortex-M3: skipped (qemu-system-arm or arm-none-eabi-gcc not installed)")
    print(f"# /proc/loadavg between: {_loadavg()}")
    _print_step_rates()
    print(f"# /proc/loadavg between: {_loadavg()}")
    _print_closed_loop()
    print(f"# /proc/loadavg after: {_loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
