"""Scenario regression: every scenarios/*.toml flown and compared with its golden (scenarios/golden/).

Fast tier (default test run): each scenario's ``fast_stages`` (feedback-law flights, ~5-20 s each here).
Slow tier (``-m slow``): every stage of every scenario (plan stages run the optimiser, minutes on this
machine; time measured in docs/scenarios.md). A changed result fails with one line per quantity that
moved: stage, quantity, old -> new, change and tolerance.
"""
from __future__ import annotations

import pytest

import sim.sail
from bliss.scenarios import golden
from bliss.scenarios.model import load, scenario_files
from bliss.scenarios.report import expectation_failures
from bliss.scenarios.stages import run_stages

SCENARIOS = {f.stem: f for f in scenario_files()}
FAST = [n for n, f in SCENARIOS.items() if load(f).fast_stages]


def _check(name, stages):
    sc = load(SCENARIOS[name])
    results, _ = run_stages(sc, stages)
    gold = golden.read(name)
    assert gold is not None, f"no golden for {name}: run 'bliss scenario run {name} --update-golden' and commit it"
    gold = {"stages": {s: v for s, v in gold["stages"].items() if s in stages}}
    assert set(gold["stages"]) == set(stages), f"golden of {name} lacks stages {set(stages) - set(gold['stages'])}"
    diffs = golden.compare(gold, results)
    failed = expectation_failures(sc, results)
    assert not diffs and not failed, (f"scenario {name} changed:\n  " + "\n  ".join(diffs + failed))


def test_every_scenario_file_validates():
    assert len(SCENARIOS) >= 7
    for f in SCENARIOS.values():
        sc = load(f)
        assert sc.name == f.stem and sc.stages


@pytest.mark.parametrize("name", FAST)
def test_fast_tier(name):
    _check(name, load(SCENARIOS[name]).fast_stages)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_slow_tier(name):
    _check(name, load(SCENARIOS[name]).stages)


def test_perturbed_sail_constant_fails_with_a_readable_diff(monkeypatch):
    """Planted regression: solar radiation pressure 1 % stronger (sim.sail's P_SRP_1AU, which sets every
    sail's force) must move the feedback flight of bennu-default beyond its golden tolerances, and
    the failure must name the quantity and say by how much."""
    monkeypatch.setattr(sim.sail, "P_SRP_1AU", sim.sail.P_SRP_1AU * 1.01)
    with pytest.raises(AssertionError, match=r"scenario bennu-default changed:\n  ") as info:
        _check("bennu-default", ["feedback"])
    lines = str(info.value).splitlines()
    line = next((ln.strip() for ln in lines if ln.strip().startswith("feedback.tof_days: ")), None)
    assert line is not None and "tolerance" in line, lines
    old, new = (float(v) for v in line.split(": ", 1)[1].split(" (")[0].split(" -> "))
    assert abs(new - old) > golden.TOLERANCES["tof_days"][0], line
