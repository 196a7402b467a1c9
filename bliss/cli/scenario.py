"""``bliss scenario list | show NAME | run NAME [--update-golden] [--out DIR]``: named missions as data.

``run`` flies the scenario's stages (``bliss.scenarios.stages``), writes the same products as
``bliss plan`` when the plan stage ran (OEM, AEM, schedule CSV, summary, plots) plus
``scenario_report.json`` and ``scenario_report.txt``, and judges the results against the scenario's
expectations and its golden (``scenarios/golden/NAME.json``). ``--update-golden`` rewrites the golden
deliberately (expectations must still hold).

Exit codes: 0 passed; 1 an expectation failed or the golden differs (the reasons on stderr, the
report written); 2 bad input (unknown scenario, invalid scenario file: one line, no files).
"""
from __future__ import annotations

import json
import sys

from bliss.cli import UsageError
from bliss.io.atomic import OutputSet, check_writable
from bliss.scenarios import golden as _golden
from bliss.scenarios.model import ScenarioError, find, load, scenario_files

DEFAULT_OUT = "bliss_out/scenario"


def register(subparsers):
    p = subparsers.add_parser("scenario", help="list, show and run the mission scenarios in scenarios/",
                              description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="scenario_command", metavar="ACTION")
    sub.add_parser("list", help="list the scenarios").set_defaults(func=run_list)
    s = sub.add_parser("show", help="print a scenario file (validated)")
    s.add_argument("name", metavar="NAME")
    s.set_defaults(func=run_show)
    r = sub.add_parser("run", help="run a scenario and compare it with its golden")
    r.add_argument("name", metavar="NAME", help="scenario name (bliss scenario list) or a .toml path")
    r.add_argument("--update-golden", action="store_true", help="rewrite scenarios/golden/NAME.json")
    r.add_argument("--stages", default=None, metavar="LIST", help="comma-separated subset of the scenario's stages")
    r.add_argument("--out", default=None, metavar="DIR", help=f"output folder (default {DEFAULT_OUT}/NAME)")
    r.set_defaults(func=run_run)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    return p


def _find(name):
    try:
        return find(name)
    except ScenarioError as exc:
        raise UsageError(str(exc)) from None


def run_list(args) -> int:
    bad = 0
    for f in scenario_files():
        try:
            sc = load(f)
            print(f"{sc.name:24s} {','.join(sc.stages):16s} {sc.description}")
        except ScenarioError as exc:
            bad += 1
            print(f"{f.stem:24s} INVALID: {exc}")
    return 2 if bad else 0


def run_show(args) -> int:
    sc = _find(args.name)
    print(f"# {sc.path}")
    print(sc.path.read_text(encoding="utf-8"), end="")
    g = _golden.read(sc.name)
    print(f"# golden: {'none' if g is None else _golden.golden_path(sc.name)}")
    return 0


def run_run(args) -> int:
    # lazy: numba, scipy, astropy, matplotlib and ccsds_ndm, not paid by `bliss --help`
    from bliss.io.plan_products import write_products
    from bliss.scenarios.report import evaluate, text

    sc = _find(args.name)
    stages = sc.stages
    if args.stages:
        stages = [s.strip() for s in args.stages.split(",") if s.strip()]
        bad = [s for s in stages if s not in sc.stages]
        if bad:
            raise UsageError(f"--stages: {bad[0]!r} is not a stage of {sc.name} ({', '.join(sc.stages)})")
    out = args.out or f"{DEFAULT_OUT}/{sc.name}"
    check_writable(out)
    report, ctx = evaluate(sc, stages)
    if args.update_golden:
        if report["expectations_failed"]:
            print(text(report), flush=True)
            print(f"bliss scenario: golden NOT updated: expectations failed: "
                  f"{'; '.join(report['expectations_failed'])}", file=sys.stderr, flush=True)
            return 1
        old = _golden.read(sc.name) or {"stages": {}}
        merged = {**old.get("stages", {}), **report["results"]}
        path = _golden.write(sc.name, merged)
        report.update(golden=f"updated ({path})", golden_differences=[], passed=True)
    if "plan" in ctx:
        res, inputs = ctx["plan"]
        write_products(out, res, inputs)
    with OutputSet(out) as o:
        with open(o.path("scenario_report.json"), "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=1)
        with open(o.path("scenario_report.txt"), "w", encoding="utf-8") as fh:
            fh.write(text(report) + "\n")
    print(text(report), flush=True)
    print(f"bliss scenario: files in {out}", flush=True)
    if not report["passed"]:
        why = report["expectations_failed"] + [f"golden: {d}" for d in report["golden_differences"]]
        print(f"bliss scenario: {sc.name} FAILED: {'; '.join(why)}", file=sys.stderr, flush=True)
        return 1
    return 0

