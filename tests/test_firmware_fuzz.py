"""Fuzzing of the firmware's receive path and dispatcher (firmware_host/fuzz/).

The standalone driver runs deterministic random, structured and mutated inputs under gcc's
AddressSanitizer/UBSan: no crash or hang, board output always well-formed, every corrupted frame
rejected and counted exactly as an independent reference decoder says, and the next good frame
after garbage answered. Bounded to about 8 s of fuzzing here.
"""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from firmware_host import build

SANITIZE = ("-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all")


def _sources(frame_c: str = "src/frame.c") -> list[str]:
    srcs = [str(p) for p in sorted(build.HERE.glob("src/*.c")) if p.name != "frame.c"]
    return [*srcs, frame_c, "tests/fake_hal.c", "fuzz/fuzz_parser.c"]


def test_standalone_fuzz_driver_finds_no_fault():
    exe = build.build_binary("fuzz_standalone_asan", [*_sources(), "fuzz/standalone.c"],
                             extra_flags=SANITIZE)
    res = subprocess.run([str(exe), "--iterations", "300000", "--seed", "20240607",
                          "--max-seconds", "8"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr[-3000:]
    m = re.search(r"FUZZ OK iterations (\d+) corrupted_frames (\d+) rejected_and_counted (\d+)",
                  res.stdout)
    assert m, res.stdout
    iterations, corrupted, rejected = map(int, m.groups())
    assert iterations >= 20000, f"only {iterations} inputs in the time budget"
    assert corrupted > iterations // 3 and rejected > 0.99 * corrupted


def test_fuzz_driver_catches_a_receiver_that_skips_the_crc(tmp_path):
    """The harness can fail: a frame receiver without its CRC check must be caught."""
    broken = tmp_path / "frame_nocrc.c"
    src = (build.HERE / "src" / "frame.c").read_text()
    src = src.replace('#include "', f'#include "{build.HERE}/src/')
    assert "!= want)" in src
    broken.write_text(src.replace("!= want)", "!= want && 0)"))
    exe = build.build_binary("fuzz_standalone_nocrc", [*_sources(str(broken)), "fuzz/standalone.c"])
    res = subprocess.run([str(exe), "--iterations", "20000", "--max-seconds", "5"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode != 0 and "rx_bad" in res.stderr, res.stdout + res.stderr[-2000:]


@pytest.mark.skipif(shutil.which("clang") is None, reason="clang (libFuzzer) not installed")
def test_libfuzzer_target_builds_and_runs(tmp_path):
    try:
        exe = build.build_binary("fuzz_parser_libfuzzer", _sources(), cc="clang",
                                 extra_flags=("-g", "-fsanitize=fuzzer,address,undefined"))
    except build.FirmwareBuildError as e:
        if "libclang_rt" in str(e) or "cannot find" in str(e):
            pytest.skip("clang is installed without its libFuzzer runtime (libclang-rt-dev)")
        raise
    res = subprocess.run([str(exe), "-max_total_time=3", "-max_len=512", "-seed=1", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Done" in res.stderr
