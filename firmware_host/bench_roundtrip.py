"""Round-trip time of PING/PONG to the emulated board (pty) and, if available, the Cortex-M build
under QEMU, side by side. Run: PYTHONPATH=. python -m firmware_host.bench_roundtrip [N]"""
from __future__ import annotations

import shutil
import statistics
import sys
import time

from tqdm import tqdm

from firmware_host import build
from firmware_host.testlink import PING, PONG, Link


def measure(start, n: int, label: str) -> list[float]:
    proc, port = start()
    link = Link(port)
    try:
        link.command(PING, b"warm-up", timeout=3.0)
        out = []
        for i in tqdm(range(n), desc=label, file=sys.stderr):
            payload = bytes([i & 0xFF]) * 16
            t0 = time.perf_counter()
            reply = link.command(PING, payload)
            out.append(time.perf_counter() - t0)
            assert reply == (PONG, payload)
        return out
    finally:
        link.close()
        proc.terminate()
        proc.wait()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    runs = {"emulated board (pty)": measure(build.start_emulator, n, "emulator")}
    if shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc"):
        runs["Cortex-M3 on QEMU (pty)"] = measure(build.start_cortexm_qemu, n, "qemu")
    base = None
    print(f"{'board':26s} {'median ms':>10s} {'p99 ms':>8s} {'max ms':>8s} {'median ratio':>13s}")
    for name, t in runs.items():
        t = sorted(t)
        med = statistics.median(t)
        base = base or med
        print(f"{name:26s} {med * 1e3:10.3f} {t[int(0.99 * len(t))] * 1e3:8.3f} {t[-1] * 1e3:8.3f} "
              f"{med / base:13.2f}")


if __name__ == "__main__":
    main()
