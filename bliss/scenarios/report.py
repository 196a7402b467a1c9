"""Run a scenario and judge it: expectations of the scenario file and the committed golden.

:func:`evaluate` gives a report dict (JSON-ready): the results of every stage, the expectations that
failed (with their reasons), the golden differences, and a verdict. :func:`text` renders it short.
"""
from __future__ import annotations

import time

from bliss.scenarios import golden as _golden
from bliss.scenarios.stages import run_stages


def expectation_failures(sc, results) -> list[str]:
    out = []
    for stage, table in sc.expected.items():
        if stage not in results:
            continue
        for q, exp in table.items():
            why = exp.failure(results[stage].get(q))
            if why:
                out.append(f"{stage}.{q}: {why}")
    return out


def evaluate(sc, stages=None, sail=None, golden_dir=None) -> tuple[dict, dict]:
    """Run ``stages`` of ``sc`` and judge them: ``(report, ctx)``."""
    t0 = time.perf_counter()
    results, ctx = run_stages(sc, stages, sail=sail)
    wall = time.perf_counter() - t0
    gold = _golden.read(sc.name, **({} if golden_dir is None else {"folder": golden_dir}))
    if gold is None:
        diffs, gold_state = [], "none committed"
    else:
        gold = {"stages": {s: v for s, v in gold.get("stages", {}).items() if s in results}}
        diffs = _golden.compare(gold, results)
        gold_state = "matches" if not diffs else "differs"
    failed = expectation_failures(sc, results)
    report = {"scenario": sc.name, "description": sc.description, "stages": list(results),
              "results": results, "expectations_failed": failed, "golden": gold_state,
              "golden_differences": diffs, "passed": not failed and not diffs, "wall_s": wall}
    return report, ctx


def text(report: dict) -> str:
    lines = [f"scenario {report['scenario']}: {report['description']}"]
    for stage, r in report["results"].items():
        if stage == "attitude":
            lines.append(f"  attitude: {r['reason']} after {r['days_flown']:.2f} d from day {r['start_day']:g}; pointing "
                         f"error rms {r['pointing_error_rms_deg']:.3f} deg, max {r['pointing_error_max_deg']:.2f} deg; "
                         f"{r['slews']} slews, {r['safe_mode_entries']} safe-mode entries; trajectory deviation "
                         f"{r['trajectory_deviation_km']:.2f} km")
            continue
        lines.append(f"  {stage}: {'closed' if r.get('converged') else 'NOT closed'}, TOF {r['tof_days']:.2f} d, "
                     f"miss {r['miss_km']:.4g} km / {r['miss_m_s']:.3g} m/s, max cone {r['max_cone_deg']:.1f} deg, "
                     f"max slew {r['max_slew_deg_per_day']:.3g} deg/day, {r['n_segments']} segments")
    for f in report["expectations_failed"]:
        lines.append(f"  EXPECTATION FAILED {f}")
    lines.append(f"  golden: {report['golden']}")
    for d in report["golden_differences"]:
        lines.append(f"  GOLDEN CHANGED {d}")
    lines.append(f"  verdict: {'PASS' if report['passed'] else 'FAIL'} ({report['wall_s']:.1f} s)")
    return "\n".join(lines)
