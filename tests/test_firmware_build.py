"""firmware_host/build.py: cached, content-hashed, concurrency-safe builds with clear errors."""
from __future__ import annotations

import subprocess
import threading

import pytest

from firmware_host import build


def _hello(tmp_path, text="built"):
    src = tmp_path / "hello.c"
    src.write_text('#include <stdio.h>\nint main(void) { puts("%s"); return 0; }\n' % text)
    return src


def test_build_is_cached_and_rebuilt_when_the_source_changes(tmp_path):
    src = _hello(tmp_path, "one")
    a = build.build_binary("t_hello", [src])
    mtime = a.stat().st_mtime_ns
    assert build.build_binary("t_hello", [src]) == a and a.stat().st_mtime_ns == mtime
    assert subprocess.run([str(a)], capture_output=True, text=True).stdout == "one\n"
    _hello(tmp_path, "two")
    b = build.build_binary("t_hello", [src])
    assert b != a and subprocess.run([str(b)], capture_output=True, text=True).stdout == "two\n"


def test_concurrent_builds_all_get_a_working_binary(tmp_path):
    src = _hello(tmp_path, "concurrent %d" % id(tmp_path))
    results, errors = [], []

    def worker():
        try:
            results.append(build.build_binary("t_conc", [src]))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(results)) == 1
    assert subprocess.run([str(results[0])], capture_output=True).returncode == 0
    assert not list(results[0].parent.glob(".t_conc-*")), "temporary files left behind"


def test_missing_compiler_and_compile_errors_are_clear(tmp_path):
    with pytest.raises(build.FirmwareBuildError, match="not found on PATH: install it"):
        build.build_binary("t_nocc", [_hello(tmp_path)], cc="no-such-compiler-bliss")
    bad = tmp_path / "bad.c"
    bad.write_text("int main(void) { int unused; return 0; }\n")  # -Werror turns the warning fatal
    with pytest.raises(build.FirmwareBuildError, match="unused"):
        build.build_binary("t_bad", [bad])
    with pytest.raises(build.FirmwareBuildError, match="source not found"):
        build.build_binary("t_missing", [tmp_path / "nope.c"])


def test_ensure_built_returns_the_emulator_and_start_emulator_reports_its_pty():
    exe = build.ensure_built()
    assert exe.is_file() and exe == build.ensure_built()
    proc, port = build.start_emulator(["--seed", "3"])
    try:
        assert port.startswith("/dev/")
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0
