"""`bliss board` against the C emulated board, and its one-line errors (exit code 2)."""
import os
import signal
import subprocess
import sys
import time

import pytest

from bliss.cli import main

from fakeboard import FakeBoard

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _emulator_problem():
    try:
        from firmware_host.build import ensure_built
        ensure_built()
    except Exception as exc:  # noqa: BLE001
        return f"C emulator unavailable: {exc}".splitlines()[0]
    return None


needs_emulator = pytest.mark.skipif(_emulator_problem() is not None, reason=str(_emulator_problem()))


@pytest.fixture
def emu():
    from hil.emulated import EmulatedBoard
    e = EmulatedBoard()
    e.start()
    yield e
    e.close()


def _one_line_error(capsys, *words):
    err = capsys.readouterr().err.strip()
    assert err.startswith("bliss: error: ") and "\n" not in err, err
    for w in words:
        assert w in err, err
    return err


@needs_emulator
def test_info_ping_status_move_stop(emu, capsys, tmp_path):
    assert main(["board", "info", "--port", emu.port]) == 0
    out = capsys.readouterr().out
    assert "protocol  1" in out and "soft limits [-2800, 2800]" in out
    assert main(["board", "ping", "--port", emu.port, "--count", "3", "--size", "32"]) == 0
    assert capsys.readouterr().out.count("32 bytes from") == 3
    log = tmp_path / "frames.log"
    assert main(["board", "move", "--port", emu.port, "--axis", "2", "--target", "-120", "--rate", "4000",
                 "--log", str(log)]) == 0
    assert "position -120 (target -120)" in capsys.readouterr().out
    assert " TX " in log.read_text() and "Move(axis=2, target=-120, rate=4000)" in log.read_text()
    assert main(["board", "status", "--port", emu.port]) == 0
    out = capsys.readouterr().out
    row = [ln for ln in out.splitlines() if ln.startswith("2 roll vane")][0]
    assert row.split()[3:5] == ["-120", "-120"] and "EMULATED" in out
    assert main(["board", "stop", "--port", emu.port]) == 0
    assert "stopped all axes" in capsys.readouterr().out


@needs_emulator
@pytest.mark.parametrize("argv, words", [
    (["move", "--axis", "0", "--target", "2801"], ["soft limits", "2801"]),
    (["move", "--axis", "3", "--target", "0"], ["--axis 3"]),
])
def test_refused_moves(emu, capsys, argv, words):
    assert main(["board", argv[0], "--port", emu.port, *argv[1:]]) == 2
    _one_line_error(capsys, *words)


@pytest.mark.parametrize("argv, words", [
    (["status", "--port", "/nonexistent/ttyACM9"], ["/nonexistent/ttyACM9", "cannot open"]),
    (["move", "--port", "/nonexistent/ttyACM9", "--axis", "0", "--target", "5", "--rate", "50"],
     ["--rate", "100-20000"]),
    (["move", "--port", "/nonexistent/ttyACM9", "--axis", "x", "--target", "5"], ["--axis", "integer"]),
    (["ping", "--port", "/nonexistent/ttyACM9", "--size", "33"], ["--size"]),
])
def test_bad_input_one_line_exit_2(capsys, argv, words):
    assert main(["board", *argv]) == 2
    _one_line_error(capsys, *words)


def test_silent_board_exit_2_and_no_log_for_missing_port(capsys, tmp_path):
    fb = FakeBoard(mute=True)
    port = fb.start()
    try:
        t0 = time.monotonic()
        assert main(["board", "info", "--port", port, "--timeout-ms", "50"]) == 2
        assert time.monotonic() - t0 < 2.0
        _one_line_error(capsys, "no reply", port)
    finally:
        fb.stop()
    log = tmp_path / "never.log"
    assert main(["board", "status", "--port", str(tmp_path / "nope"), "--log", str(log)]) == 2
    assert not log.exists()


def test_foreign_protocol_exit_2(capsys):
    fb = FakeBoard(proto=7)
    port = fb.start()
    try:
        assert main(["board", "info", "--port", port]) == 2
        _one_line_error(capsys, "protocol version 7")
    finally:
        fb.stop()


@needs_emulator
def test_emulate_prints_port_and_stops_on_ctrl_c(tmp_path):
    link = tmp_path / "board"
    env = dict(os.environ, PYTHONPATH=ROOT)
    # stderr to a file, not a pipe nobody drains (a full pipe would block the board and the command)
    err = open(tmp_path / "stderr.txt", "w")
    # started with SIGINT ignored, as an inherited disposition can leave it (a full pytest-xdist run did: the
    # board never stopped): the command must still stop on Ctrl-C
    proc = subprocess.Popen([sys.executable, "-m", "bliss", "board", "emulate", "--link", str(link)],
                            stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=ROOT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        first = proc.stdout.readline()
        assert first.startswith("emulated board on /dev/pts/"), first
        assert os.path.islink(link)
        assert main(["board", "info", "--port", str(link)]) == 0
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, (tmp_path / "stderr.txt").read_text()[-2000:]  # 60 s: a hang, not a slow exit
        assert not os.path.lexists(link)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err.close()
