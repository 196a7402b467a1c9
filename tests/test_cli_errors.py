"""Issue 9's list of tracebacks and wrongly accepted inputs: each is one line ``bliss: error: ...`` on
stderr, exit code 2, no traceback, and no file left behind (every case runs in an empty current folder
with --out inside it, and the folder must still be empty afterwards). Input errors are found before any
planning starts: those cases run the real CLI with the planner replaced by one that fails the test."""
from __future__ import annotations

import os

import numpy as np
import pytest

from bliss.cli import main
import bliss.guidance.pipeline as pipeline

from fakeboard import FakeBoard


def _no_planning(*a, **kw):
    raise AssertionError("planning started before the input was refused")


@pytest.fixture
def empty_cwd(tmp_path, monkeypatch):
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(pipeline, "fly_feedback", _no_planning)
    monkeypatch.setattr(pipeline, "minimise_time", _no_planning)
    monkeypatch.setattr(pipeline, "departure_window", _no_planning)
    return work


def _assert_one_line(capsys, rc, code, *words):
    err = capsys.readouterr().err
    assert rc == code, err
    assert "Traceback" not in err
    # the first-run note (numba compiling) may precede the error when planning ran
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith("bliss plan: compiling")]
    assert len(lines) == 1 and lines[0].startswith("bliss: error: "), err
    for w in words:
        assert w.lower() in lines[0].lower(), lines[0]
    return lines[0]


@pytest.mark.parametrize("argv, words", [
    # tried to allocate 298 GiB
    (["--segments", "100000"], ["--segments", "500"]),
    # silently the defaults before
    (["--target", ""], ["--target is empty", "bennu", "--elements"]),
    (["--date", ""], ["--date is empty"]),
    # wrote 8 files into the current folder
    (["--out", ""], ["--out is empty"]),
    # faster than light: ran 54 s and wrote a full product set
    (["--v-inf-km-s", "1e6"], ["escape speed"]),
    (["--v-inf-km-s", "0", "0", "50"], ["escape speed"]),
    # failed after 34 s with an internal message
    (["--mass-g", "1e-6"], ["lightness number", "--mass-g"]),
    (["--third-bodies", "venus,,mars"], ["--third-bodies", "empty name"]),
    (["--third-bodies", "venus,"], ["empty name"]),
    # said "cannot parse the MPCORB line"
    (["--mpcorb", "missing.txt"], ["no such file", "missing.txt"]),
])
def test_plan_input_refused_at_once_in_one_line(empty_cwd, capsys, argv, words):
    out = "out" if "--out" not in argv else None
    rc = main(["plan", "--no-progress", *(["--out", out] if out else []), *argv])
    _assert_one_line(capsys, rc, 2, *words)
    assert os.listdir(empty_cwd) == []


def test_plan_mpcorb_folder_is_refused(empty_cwd, capsys):
    (empty_cwd / "d").mkdir()
    rc = main(["plan", "--no-progress", "--out", "out", "--mpcorb", "d"])
    _assert_one_line(capsys, rc, 2, "not a regular file")
    assert os.listdir(empty_cwd) == ["d"]


def test_a_heavy_enough_sail_is_accepted_by_the_lightness_check(empty_cwd, capsys):
    """The lightness bound refuses only beta >= 1: 1.6 g on 1 m^2 (beta 0.96) passes the input checks and
    reaches the planner (here the stand-in that stops the test)."""
    with pytest.raises(AssertionError, match="planning started"):
        main(["plan", "--no-progress", "--out", "out", "--mass-g", "1.6"])


def test_arrival_beyond_the_ephemeris_range_is_refused_without_files(empty_cwd, capsys, monkeypatch):
    """--date 2099-12-01 arrived in 2101, past the builtin ephemeris' end (2100-01-01), without a word.
    The time of flight is known only once planned: a stand-in planner flies one year (fast), and the
    CLI refuses the result, writing nothing."""
    from test_cli_plan import _fake_planner

    monkeypatch.setattr(pipeline, "fly_feedback", lambda problem, progress=None: _fake_planner(problem))
    monkeypatch.setattr(pipeline, "minimise_time", lambda problem, warm, **kw: _fake_planner(problem))
    rc = main(["plan", "--no-progress", "--out", "out", "--date", "2099-12-01"])
    _assert_one_line(capsys, rc, 2, "arrives 2100-12-01", "2100-01-01", "earlier --date")
    assert os.listdir(empty_cwd) == []


def test_a_solver_failure_is_one_line_exit_1_without_files(empty_cwd, capsys, monkeypatch):
    """Any solver error the pipeline does not handle (here a singular matrix from the optimiser, after
    the feedback start failed with HiGHS's status) is one line, exit 1, no files."""
    def highs(problem, progress=None):
        raise RuntimeError("rendezvous plan: linear programme failed (HiGHS Status 15)\nsecond line")

    def singular(*a, **kw):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(pipeline, "fly_feedback", highs)
    monkeypatch.setattr(pipeline, "minimise_time", singular)
    monkeypatch.setattr(pipeline, "replay", _no_planning)
    rc = main(["plan", "--no-progress", "--out", "out", "--date", "2028-04-30"])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err and "second line" not in err
    assert "feedback warm start failed (rendezvous plan: linear programme failed (HiGHS Status 15))" in err
    assert "Singular matrix" in err.strip().splitlines()[-1]
    assert os.listdir(empty_cwd) == []


def test_window_scan_skips_a_failing_date_and_says_so(tmp_path, capsys, monkeypatch):
    """A window date whose optimiser starts all fail and one whose feedback law fails are kept in the
    scan (the others are planned) and the summary's window table and stderr say what failed."""
    import json

    from bliss.guidance import window
    from sim.timeconv import epoch_to_tdb_seconds
    from test_cli_plan import _fake_planner

    bad_opt = epoch_to_tdb_seconds("2028-01-31 TDB")
    bad_fb = epoch_to_tdb_seconds("2028-03-01 TDB")

    def optimiser(problem, warm, **kw):
        if abs(problem.t_depart - bad_opt) < 1.0:
            raise RuntimeError("HiGHS Status 15")
        r = _fake_planner(problem)
        r.converged = True
        return r

    def feedback(problem, progress=None):
        if abs(problem.t_depart - bad_fb) < 1.0:
            raise RuntimeError("linear programme failed")
        return _fake_planner(problem)

    monkeypatch.setattr(window, "minimise_time", optimiser)
    monkeypatch.setattr(pipeline, "fly_feedback", feedback)
    monkeypatch.setattr(pipeline, "minimise_time", lambda problem, warm, **kw: _fake_planner(problem))
    out = tmp_path / "w"
    rc = main(["plan", "--no-progress", "--out", str(out), "--window", "2028-01-01", "2028-03-01", "30",
               "--tof-guess-days", "365"])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err  # the stand-in does not close the rendezvous
    assert "window: departure 2028-01-31: skipped, optimiser failed from 1 of 1 starts (HiGHS Status 15)" in err
    assert "window: departure 2028-03-01: kept, feedback law failed: linear programme failed" in err
    rows = json.loads((out / "summary.json").read_text())["window"]
    assert [r["converged"] for r in rows] == [True, False, True]
    assert rows[0]["note"] == "" and "HiGHS Status 15" in rows[1]["note"] and "feedback" in rows[2]["note"]


# ------------------------------------------------------------------------------------------ board
@pytest.mark.parametrize("argv, words", [
    (["emulate", "--link", "/nonexistent_dir/link"], ["--link", "does not exist"]),
    (["ping", "--port", "/dev/null", "--log", "/proc/x/log"], ["--log", "does not exist"]),
    (["status", "--port", "/dev/null", "--log", "{tmp}"], ["--log", "is a folder"]),
    (["info", "--port", "/dev/null", "--log", ""], ["--log is empty"]),
])
def test_board_paths_refused_before_anything_starts(empty_cwd, tmp_path, capsys, monkeypatch, argv, words):
    import hil.emulated

    def no_emulator(*a, **kw):
        raise AssertionError("the emulator started before --link was checked")

    monkeypatch.setattr(hil.emulated.EmulatedBoard, "start", no_emulator)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    rc = main(["board", *argv])
    _assert_one_line(capsys, rc, 2, *words)
    assert os.listdir(empty_cwd) == [] and sorted(os.listdir(tmp_path)) == ["cwd"]


def test_board_stop_checks_the_axis_locally(empty_cwd, capsys):
    """`stop --axis 9` is refused by the CLI from the board's HELLO (3 axes), like `move`, and no STOP
    is sent (the fake board records what it executes)."""
    fb = FakeBoard()
    port = fb.start()
    sent = []
    execute = fb._execute
    fb._execute = lambda msg: (sent.append(type(msg).__name__), execute(msg))[1]
    try:
        rc = main(["board", "stop", "--port", port, "--axis", "9"])
    finally:
        fb.stop()
    _assert_one_line(capsys, rc, 2, "--axis 9 does not exist", "axes 0-2")
    assert "Stop" not in sent and "Hello" in sent
    assert os.listdir(empty_cwd) == []


def test_board_help_says_which_actions_need_a_port(capsys):
    with pytest.raises(SystemExit):
        main(["board", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Every action but emulate needs --port PORT" in text


def test_plan_help_offers_the_named_targets_and_how_to_pass_any_body(capsys):
    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "named target: bennu, apophis" in text and "--elements or --mpcorb" in text


def test_propagate_empty_out_is_refused(empty_cwd, capsys):
    rc = main(["propagate", "--duration-days", "5", "--out", ""])
    _assert_one_line(capsys, rc, 2, "--out is empty")
    assert os.listdir(empty_cwd) == []


def test_optics_choices_are_the_sail_models():
    """Every command's --optics names (written out in the CLI so --help stays light) are exactly the
    optical models sim.sail knows."""
    from bliss.cli.propagate import OPTICS_CHOICES
    from sim.sail import OPTICS

    assert tuple(OPTICS_CHOICES) == tuple(OPTICS)
