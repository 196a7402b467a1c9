"""``bliss attitude``: a short slew writes its three files; bad input is one line, exit 2, no files."""
import json

import pytest

from bliss.cli import main


def test_slew_writes_csv_plot_and_summary(tmp_path, capsys):
    out = tmp_path / "slew"
    rc = main(["attitude", "slew", "--from-cone-deg", "0", "--to-cone-deg", "10", "--hold-min", "10",
               "--after-min", "40", "--cp-offset-mm", "0", "0", "--out", str(out)])
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == ["slew.csv", "slew.png", "summary.json"]
    s = json.loads((out / "summary.json").read_text())
    assert s["bang_bang_minimum_s"] < s["slew_time_s"] < 6 * s["bang_bang_minimum_s"]
    header = (out / "slew.csv").read_text().splitlines()[0]
    assert header.startswith("t_s,pointing_error_deg")
    assert "done in" in capsys.readouterr().out


@pytest.mark.parametrize("argv, msg", [
    (["slew", "--to-cone-deg", "95"], "--to-cone-deg must lie in [0, 75]"),
    (["slew", "--cp-offset-mm", "1", "x"], "--cp-offset-mm must be a number"),
    (["slew", "--optics", "shiny"], "--optics: unknown optical model"),
    (["fly", "--schedule", "/nonexistent/schedule.csv"], "schedule file /nonexistent/schedule.csv not found"),
    (["fly", "--schedule", "x.csv", "--days", "-3"], "--days must lie in"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, msg):
    out = tmp_path / "bad"
    rc = main(["attitude", *argv, "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert msg in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
