"""``bliss telemetry info/export/plot``: output, and bad input as one line, exit 2, no files."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bliss.cli import main
from bliss.io.telemetry import POINTING_ERROR, BenchEvent, TelemetryWriter, actuator_columns

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def run(tmp_path):
    """A synthetic run: a slew every 20 s, a stuck axis 1 from t = 50 s, a link drop at 70-72 s."""
    pos, tgt = actuator_columns()
    path = tmp_path / "run.sqlite"
    with TelemetryWriter(path, (POINTING_ERROR, *pos, *tgt), {"backend": "synthetic"}, batch_rows=50) as w:
        p = np.zeros(3)
        for i in range(1000):
            t = 0.1 * i
            target = np.array([400.0, -300.0, 150.0]) * (1 if (t // 20) % 2 else -1)
            step = np.clip(target - p, -20, 20)
            if t >= 50:
                step[1] = 0.0
            p = p + step
            err = 1e-3 + 0.02 * np.exp(-((t % 20) / 3.0))
            w.cycle(t, {POINTING_ERROR: err, **dict(zip(pos, p)), **dict(zip(tgt, target))})
            if i in (500, 700, 720):
                kind = {500: "axis_failed", 700: "link_lost", 720: "link_restored"}[i]
                w.event(BenchEvent(t, kind, 1 if i == 500 else None, "synthetic"))
        w.checkpoint(99.9, {"cycle": 999})
    return path


def _one_line_error(capsys, *words):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bliss: error: "), err
    assert "Traceback" not in err
    for w in words:
        assert w in err, err


def test_info(run, capsys):
    assert main(["telemetry", "info", str(run)]) == 0
    out = capsys.readouterr().out
    assert "cycles:      1000, t = 0 .. 99.9 s" in out
    assert "events:      3 (axis_failed 1, link_lost 1, link_restored 1)" in out
    assert "last at t = 99.9 s" in out and "'backend': 'synthetic'" in out


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export(run, tmp_path, capsys, fmt):
    out = tmp_path / "exp"
    assert main(["telemetry", "export", str(run), "--format", fmt, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([f"cycles.{fmt}", f"events.{fmt}", "run.json"])


def test_plot(run, tmp_path, capsys):
    out = tmp_path / "plots"
    assert main(["telemetry", "plot", str(run), "--out", str(out)]) == 0
    png = out / "telemetry.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    assert [p.name for p in out.iterdir()] == ["telemetry.png"]


@pytest.mark.parametrize("action", [["info"], ["export", "--format", "csv"], ["plot"]])
def test_missing_file(tmp_path, capsys, action):
    out = tmp_path / "out"
    args = ["telemetry", action[0], str(tmp_path / "nope.sqlite"), *action[1:]]
    if action[0] != "info":
        args += ["--out", str(out)]
    assert main(args) == 2
    _one_line_error(capsys, "not found")
    assert not out.exists()


@pytest.mark.parametrize("action", ["info", "export", "plot"])
def test_not_a_telemetry_database(tmp_path, capsys, action):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"SQLite format 3\x00" + b"\x17" * 5000)  # the magic, then garbage
    out = tmp_path / "out"
    args = ["telemetry", action, str(junk)] + ([] if action == "info" else ["--out", str(out)])
    assert main(args) == 2
    _one_line_error(capsys, "not a BLISS telemetry database")
    assert not out.exists()


@pytest.mark.parametrize("action", ["export", "plot"])
def test_unwritable_out(run, tmp_path, capsys, action):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be\n")
    assert main(["telemetry", action, str(run), "--out", str(blocker / "sub")]) == 2
    _one_line_error(capsys, "cannot be created")
    if os.geteuid() != 0:  # root writes anywhere: a read-only folder only stops other users
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o555)
        assert main(["telemetry", action, str(run), "--out", str(ro)]) == 2
        _one_line_error(capsys, "not writable")
        assert list(ro.iterdir()) == []


def test_bad_format_is_one_line(run, tmp_path):
    r = subprocess.run([sys.executable, "-m", "bliss", "telemetry", "export", str(run), "--format", "xlsx",
                        "--out", str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "invalid choice: 'xlsx'" in r.stderr
    assert not (tmp_path / "o").exists()
