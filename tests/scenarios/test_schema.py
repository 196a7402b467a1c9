"""Scenario files are validated on load: one-line errors naming the file and the key; the CLI's exit codes."""
from __future__ import annotations

import pytest

from bliss.cli import main
from bliss.scenarios.golden import compare
from bliss.scenarios.model import ScenarioError, load
from bliss.scenarios.stages import catalogue_mpcorb_elements

GOOD = """
name = "{name}"
stages = ["feedback"]
[departure]
date = "2030-11-21"
[target]
name = "bennu"
"""


def _write(tmp_path, text, name="s1"):
    p = tmp_path / f"{name}.toml"
    p.write_text(text.replace("{name}", name), encoding="utf-8")
    return p


def test_minimal_scenario_loads_with_defaults(tmp_path):
    sc = load(_write(tmp_path, GOOD))
    assert sc.sail.mass_g == 10.0 and sc.limits.max_cone_deg == 70.0 and sc.target.mode == "rendezvous"


@pytest.mark.parametrize("edit, message", [
    (("[target]", "[target]\nnmae = 1"), r"s1\.toml\.target\.nmae: unknown key"),
    (("stages", "colour = 1\nstages"), r"s1\.toml\.colour: unknown key"),
    (("[departure]", "[sail]\nmass_g = \"ten\"\n[departure]"), r"s1\.toml\.sail\.mass_g: must be a number"),
    (("[departure]", "[sail]\nmass_g = -1\n[departure]"), r"s1\.toml\.sail\.mass_g: must be > 0"),
    (("[departure]", "[sail]\noptics = \"gold\"\n[departure]"), r"sail\.optics: 'gold' is not one of ideal"),
    (("[departure]", "[limits]\nmax_cone_deg = 95\n[departure]"), r"limits\.max_cone_deg: must be <= 90"),
    (('name = "bennu"', 'name = "bennu"\ncatalogue = "(99942) Apophis"'), r"target: give exactly one of"),
    (('date = "2030-11-21"', 'date = "2030-11-21"\nwindow = ["2030-01-01", "2031-01-01", 30]'),
     r"departure: give exactly one of 'date' or 'window'"),
    (('stages = ["feedback"]', 'stages = ["sil"]'), r"stage 'sil' is not available in this build: .*named 'attitude'"),
    (("[target]", "[attitude]\ndays = 0\n[target]"), r"s1\.toml\.attitude\.days: must be > 0"),
    (("[target]", "[errors]\nactuator_fault_probability = 2\n[target]"),
     r"errors\.actuator_fault_probability: must be <= 1"),
    (('stages = ["feedback"]', 'stages = ["warp"]'), r"unknown stage 'warp'"),
    (("[target]", "[expected.feedback]\ntof_dayz = { max = 1 }\n[target]"),
     r"expected\.feedback\.tof_dayz: unknown quantity"),
    (("[target]", "[expected.plan]\nconverged = true\n[target]"), r"does not run stage 'plan'"),
    (("[target]", "[expected.feedback]\ntof_days = { value = 1 }\n[target]"), r"'value' and 'tol' go together"),
])
def test_bad_scenarios_fail_with_one_line_naming_the_key(tmp_path, edit, message):
    text = GOOD.replace(*edit, 1)
    assert text != GOOD
    with pytest.raises(ScenarioError, match=message) as info:
        load(_write(tmp_path, text))
    assert "\n" not in str(info.value)


def test_name_must_match_the_file(tmp_path):
    p = tmp_path / "other.toml"
    p.write_text(GOOD.replace("{name}", "s1"), encoding="utf-8")
    with pytest.raises(ScenarioError, match="must equal the file name 'other'"):
        load(p)


def test_catalogue_rows_are_the_shared_tables_rows():
    el = catalogue_mpcorb_elements("(99942) Apophis").split()
    assert el == ["0.9225169", "0.1914724", "3.33690", "204.05444", "126.67983", "236.64021", "2458666.5"]
    with pytest.raises(ValueError, match="not in neas_subset.csv"):
        catalogue_mpcorb_elements("(433) Eros")


def test_golden_diff_names_quantity_and_change():
    gold = {"stages": {"plan": {"tof_days": 214.34, "converged": True, "n_segments": 40,
                                "schedule": {"cone_deg": [10.0, 20.0]}}}}
    new = {"plan": {"tof_days": 215.0, "converged": False, "n_segments": 41, "schedule": {"cone_deg": [10.0, 20.5]}}}
    d = compare(gold, new)
    assert "plan.tof_days: 214.34 -> 215 (+0.66, +0.308 %; tolerance 0.01)" in d
    assert "plan.converged: True -> False" in d and "plan.n_segments: 40 -> 41 (+1)" in d
    assert any(x.startswith("plan.schedule.cone_deg: 1 of 2 entries beyond tolerance 0.1; largest at [1]") for x in d)
    assert compare(gold, {"plan": {"tof_days": 214.345, "converged": True, "n_segments": 40,
                                   "schedule": {"cone_deg": [10.05, 20.0]}}}) == []


def test_golden_clock_is_compared_by_the_turn_of_the_sail_normal():
    """A clock angle is judged by how far it turns the sail normal: 0.13 deg of clock at a 2.7 deg cone
    (0.006 deg of normal, what another processor's last bits did to bennu-default) passes, 0.3 deg of
    clock at a 60 deg cone (0.26 deg of normal) fails, and so does a changed cone."""
    def sched(cone, clock):
        return {"plan": {"schedule": {"cone_deg": cone, "clock_deg": clock}}}

    gold = {"stages": sched([19.5, 2.71, 60.0], [106.0, -170.292, 45.0])}
    assert compare(gold, sched([19.5, 2.71, 60.0], [106.0, -170.159, 45.0])) == []
    d = compare(gold, sched([19.5, 2.71, 60.0], [106.0, -170.292, 45.3]))
    assert len(d) == 1 and d[0].startswith("plan.schedule.clock_deg: 1 of 3 entries turn the sail normal")
    assert "at cone 60 deg" in d[0]
    assert compare(gold, sched([19.5, 2.91, 60.0], [106.0, -170.292, 45.0]))[0].startswith("plan.schedule.cone_deg")
    assert "length 3 -> 2" in compare(gold, sched([19.5, 2.71], [106.0, -170.292]))[0]


def test_cli_unknown_scenario_exits_2(capsys):
    assert main(["scenario", "run", "no-such-mission"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown scenario 'no-such-mission'" in err and "bennu-default" in err


def test_cli_list_and_show(capsys):
    assert main(["scenario", "list"]) == 0
    out = capsys.readouterr().out
    assert "bennu-default" in out and "apophis" in out and "INVALID" not in out
    assert main(["scenario", "show", "apophis"]) == 0
    assert 'catalogue = "(99942) Apophis"' in capsys.readouterr().out


def test_montecarlo_cli_bad_input_exits_2(capsys, tmp_path):
    assert main(["montecarlo", "bennu-default", "-n", "0", "--out", str(tmp_path / "mc")]) == 2
    assert "-n must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "mc").exists()
    assert main(["montecarlo", "apophis", "-n", "2", "--mode", "attitude", "--out", str(tmp_path / "mc")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "scenario apophis has no attitude stage" in err
    assert not (tmp_path / "mc").exists()


def test_cli_run_failed_expectation_exits_1_and_writes_the_report(tmp_path, monkeypatch, capsys):
    """The CLI's verdict and files (the stages' physics is the slow tier's job: canned results here)."""
    import json

    import bliss.scenarios.report as report

    canned = {"feedback": {"converged": True, "tof_days": 331.9, "miss_km": 139.4, "miss_m_s": 0.93,
                           "max_cone_deg": 70.0, "max_slew_deg_per_day": 1.0, "n_segments": 771}}
    monkeypatch.setattr(report, "run_stages", lambda sc, stages, sail=None: (canned, {}))
    p = _write(tmp_path, GOOD + "[expected.feedback]\ntof_days = { max = 300.0 }\n", name="tmp-cli-check")
    out = tmp_path / "out"
    assert main(["scenario", "run", str(p), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "tmp-cli-check FAILED: feedback.tof_days: expected <= 300, got 331.9" in err
    rep = json.loads((out / "scenario_report.json").read_text())
    assert rep["passed"] is False and rep["golden"] == "none committed"
    assert "verdict: FAIL" in (out / "scenario_report.txt").read_text()
    p.write_text(p.read_text().replace("max = 300.0", "max = 400.0"))
    assert main(["scenario", "run", str(p), "--out", str(out)]) == 0
