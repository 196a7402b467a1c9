"""Link benchmark: round-trip latency and sustained command rate, with and without the frame log, on
the C emulated board and on the Python fake board, side by side in one run.

    PYTHONPATH=. python benchmarks/link.py [--n 3000]

For each board and log setting: PING (8-byte payload) and STATUS round trips through the full host stack
(hil.driver.Board: encode, pyserial write on a pty, board reply, reader thread, FrameDecoder, frame log,
dispatcher, seq matching), reported as p50/p99/max in ms; then N MOVE commands back to back
(stop-and-wait: each waits for its ACK) as commands per second. With the log on, also how long a logged
line waited to be durable (write to fdatasync done, the group commit of hil.link.FrameLog). Both boards
run on this machine, so the numbers measure host + pty + board software, not a USB or UART link (at
115 200 baud 8N1 a 73-byte frame alone takes 6.3 ms on the wire).
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

from fakeboard import FakeBoard  # noqa: E402  (tests/, put on the path above)
from hil.driver import Board  # noqa: E402
from hil.emulated import EmulatedBoard  # noqa: E402

_INT_KEYS = ("MOVE rate [cmd/s]", "retries", "host rx rejected", "log lines")


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
        log = b.link.log
        if log is not None:
            log.sync()
            lags = sorted(log.sync_lags)
            res["durable p50 [ms]"] = 1e3 * statistics.median(lags)
            res["durable p99 [ms]"] = 1e3 * _percentile(lags, 0.99)
            res["durable max [ms]"] = 1e3 * lags[-1]
    if log_path is not None:
        with open(log_path) as fh:
            res["log lines"] = sum(1 for _ in fh)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=3000, help="commands per measurement (default 3000)")
    args = ap.parse_args(argv)
    if args.n < 10:
        ap.error("--n must be at least 10")

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for board in ("C emulator", "Python fake"):
            for logged in (False, True):
                log = os.path.join(tmp, f"{board[0]}-{len(results)}.log") if logged else None
                if board == "C emulator":
                    emu = EmulatedBoard()
                    port, stop = emu.start(), emu.close
                else:
                    fake = FakeBoard()
                    port, stop = fake.start(), fake.stop
                print(f"{board} on {port}, log {'on' if logged else 'off'}", file=sys.stderr)
                try:
                    results[(board, logged)] = measure(port, args.n, log)
                finally:
                    stop()

    cols = [(b, lg) for b in ("C emulator", "Python fake") for lg in (False, True)]
    keys = list(results[cols[1]])
    print(f"\nlink benchmark, N = {args.n} per row, {os.cpu_count()} CPUs (shared); log = frame log "
          f"(hil.link.FrameLog: line written before hand-on, group-commit fdatasync off the round trip)")
    head = "".join(f"{b[:6] + (' log' if lg else ' nolog'):>13}" for b, lg in cols)
    print(f"{'metric':<20}{head}{'C log/nolog':>13}")
    for key in keys:
        fmt = "{:>13.0f}" if key in _INT_KEYS else "{:>13.3f}"
        cells = "".join(fmt.format(results[c][key]) if key in results[c] else f"{'-':>13}" for c in cols)
        a, b = results[cols[0]].get(key), results[cols[1]].get(key)
        ratio = f"{b / a:>13.2f}" if a and b is not None else f"{'-':>13}"
        print(f"{key:<20}{cells}{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
