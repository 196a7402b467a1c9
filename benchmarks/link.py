"""Link benchmark: round-trip latency and sustained command rate, C emulated board vs the Python fake.

    PYTHONPATH=. python benchmarks/link.py [--n 3000] [--log]

For each board: PING (8-byte payload) and STATUS round trips through the full host stack (hil.driver.Board:
encode, pyserial write on a pty, board reply, reader thread, FrameDecoder, dispatcher, seq matching),
reported as p50/p99/max in ms; then N MOVE commands back to back (stop-and-wait: each waits for its ACK)
as commands per second. Both boards run on this machine, so the numbers measure host + pty + board
software, not a USB or UART link (at 115 200 baud 8N1 a 73-byte frame alone takes 6.3 ms on the wire).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from tqdm import tqdm  # noqa: E402

from hil.driver import Board  # noqa: E402


def _percentile(sorted_vals, q):
    k = min(len(sorted_vals) - 1, max(0, round(q * (len(sorted_vals) - 1))))
    return sorted_vals[k]


def _latencies(fn, n, desc):
    out = []
    for _ in tqdm(range(n), desc=desc, unit="cmd", leave=False, file=sys.stderr):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    out.sort()
    return out


def measure(port: str, n: int, log_path: str | None) -> dict:
    res = {}
    with Board(port, log_path=log_path) as b:
        for _ in range(20):  # warm-up: threads running, caches hot
            b.ping()
        ping = _latencies(lambda: b.ping(b"12345678"), n, "PING")
        status = _latencies(b.status, n, "STATUS")
        t0 = time.perf_counter()
        for k in tqdm(range(n), desc="MOVE", unit="cmd", leave=False, file=sys.stderr):
            b.move(0, (k % 2) * 10, 20_000)
        rate = n / (time.perf_counter() - t0)
        b.stop()
        for name, vals in (("PING", ping), ("STATUS", status)):
            res[f"{name} p50 [ms]"] = 1e3 * statistics.median(vals)
            res[f"{name} p99 [ms]"] = 1e3 * _percentile(vals, 0.99)
            res[f"{name} max [ms]"] = 1e3 * vals[-1]
        res["MOVE rate [cmd/s]"] = rate
        res["retries"] = b.retries_used
        res["host rx rejected"] = b.rx_rejected
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=3000, help="commands per measurement (default 3000)")
    ap.add_argument("--log", action="store_true", help="also write the frame log (fsync per line)")
    args = ap.parse_args(argv)
    if args.n < 10:
        ap.error("--n must be at least 10")

    from fakeboard import FakeBoard

    from hil.emulated import EmulatedBoard

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        emu = EmulatedBoard()
        emu.start()
        try:
            print(f"C emulated board on {emu.pty}", file=sys.stderr)
            results["C emulator"] = measure(emu.port, args.n, os.path.join(tmp, "c.log") if args.log else None)
        finally:
            emu.close()
        fake = FakeBoard()
        port = fake.start()
        try:
            print(f"Python fake board on {port}", file=sys.stderr)
            results["Python fake"] = measure(port, args.n, os.path.join(tmp, "py.log") if args.log else None)
        finally:
            fake.stop()

    c, py = results["C emulator"], results["Python fake"]
    print(f"\nlink benchmark, N = {args.n} per row, frame log {'on' if args.log else 'off'}, "
          f"{os.cpu_count()} CPUs (shared)")
    print(f"{'metric':<20}{'C emulator':>14}{'Python fake':>14}{'fake / C':>10}")
    for key in c:
        fmt = "{:>14.0f}" if "rate" in key or key in ("retries", "host rx rejected") else "{:>14.3f}"
        ratio = f"{py[key] / c[key]:>10.2f}" if c[key] else f"{'-':>10}"
        print(f"{key:<20}" + fmt.format(c[key]) + fmt.format(py[key]) + ratio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
