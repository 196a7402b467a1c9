"""C unit tests of the actuator-board firmware (firmware_host/tests/test_units.c), built with gcc
under AddressSanitizer/UBSan and run here. They check CRC-16/CCITT-FALSE and COBS against the
reference vectors (CRC("123456789") = 0x29B1; 00 -> 01 01; 00 00 -> 01 01 01;
11 22 00 33 -> 03 11 22 02 33), COBS round trips, the frame receiver, and the dispatcher,
sequencer and watchdog on a scripted HAL."""
from __future__ import annotations

import subprocess

from firmware_host import build

SANITIZE = ("-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all")


def _sources():
    return sorted(str(p) for p in build.HERE.glob("src/*.c")) + [
        "tests/test_units.c", "tests/fake_hal.c"]


def test_c_unit_tests_pass_under_sanitizers():
    exe = build.build_binary("test_units_asan", _sources(), extra_flags=SANITIZE)
    res = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    n_checks, n_failed = (int(w) for w in res.stdout.split()[-4::2])
    assert n_failed == 0 and n_checks > 5000, res.stdout


def test_c_unit_tests_detect_a_broken_crc(tmp_path):
    """The C tests can fail: a CRC with the wrong initial value must be caught."""
    broken = tmp_path / "crc16_broken.c"
    src = (build.HERE / "src" / "crc16.c").read_text()
    broken.write_text(src.replace('#include "crc16.h"', f'#include "{build.HERE}/src/crc16.h"')
                      .replace("return crc16_update(CRC16_INIT, data, len);",
                               "return crc16_update(0x0000, data, len);"))
    sources = [s for s in _sources() if not s.endswith("crc16.c")] + [str(broken)]
    exe = build.build_binary("test_units_broken_crc", sources)
    res = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "FAIL" in res.stdout and "0x29B1" in res.stdout
