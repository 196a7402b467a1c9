"""``bliss montecarlo SCENARIO -n N [--mode open|closed|both|attitude] [--scheduler ADDRESS] [--seed S] [--out DIR]``.

Flies N dispersed copies of a scenario (``bliss.montecarlo``) as Dask tasks: on a loopback-only local
cluster of one worker process per core (``--workers``), or on the cluster at ``--scheduler`` (with
``--tls-ca-file/--tls-cert/--tls-key`` for a TLS cluster). Open loop: the nominal planned schedule flown
with the dispersions; closed loop: the onboard feedback laws re-flying from the dispersed state;
attitude: the scenario's attitude span flown in the closed software-in-the-loop with dispersed actuator
faults, centre-of-pressure offset and sensor noise (``bliss.montecarlo.attitude``). Results
stream to ``OUT/MODE/runs/*.parquet``; running the same command again resumes (only missing runs are
flown). Writes ``OUT/montecarlo_summary.json``, ``OUT/distributions.png``, ``OUT/sensitivity.png``.

Exit codes: 0 done (failed runs are listed in OUT/MODE/failures.csv and counted); 2 bad input.
"""
from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

from bliss.cli import UsageError
from bliss.distributed import open_client, tls_security
from bliss.scenarios.model import ScenarioError, fault_plan, find

DEFAULT_OUT = "bliss_out/montecarlo"


def register(subparsers):
    p = subparsers.add_parser("montecarlo", help="Monte Carlo of a scenario with dispersions, on Dask",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("scenario", metavar="SCENARIO", help="scenario name (bliss scenario list) or a .toml path")
    p.add_argument("-n", type=int, required=True, metavar="N", help="number of runs (>= 1)")
    p.add_argument("--mode", default="both", choices=("open", "closed", "both", "attitude"),
                   help="open loop (planned schedule, no re-planning), closed loop (feedback laws), both, or "
                        "attitude (the [attitude] span in the closed SIL with dispersed actuator faults)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="campaign seed (run i uses SeedSequence(S, spawn_key=(i,)))")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786 "
                   "(default: a local cluster on 127.0.0.1)")
    p.add_argument("--workers", type=int, default=None, metavar="K", help="local cluster workers (default: one per core)")
    p.add_argument("--tls-ca-file", default=None, metavar="PEM")
    p.add_argument("--tls-cert", default=None, metavar="PEM")
    p.add_argument("--tls-key", default=None, metavar="PEM")
    p.add_argument("--out", default=None, metavar="DIR", help=f"output folder (default {DEFAULT_OUT}/SCENARIO)")
    p.set_defaults(func=run)
    return p


def nominal_for_open_loop(sc):
    """The planned schedule (``bliss.scenarios.stages.run_plan``) and its problem."""
    from bliss.scenarios.stages import run_plan  # lazy: scipy and numba, not paid by `bliss --help`

    res, _ = run_plan(sc)
    s = res.best.schedule
    return res.problem, {"t": s.t, "mode": s.mode, "att": s.att}


def nominal_for_attitude(sc, problem) -> dict:
    """The attitude mode's span (``bliss.scenarios.sil_span``) and its start, computed once per campaign."""
    from bliss.scenarios import sil_span  # lazy: numba (the attitude loop), not paid by `bliss --help`

    inputs = sil_span.span_inputs(sc, fault_plan(sc))
    t0, y0 = sil_span.span_start(problem, inputs.start_day)
    return {"inputs": inputs, "t0": t0, "y0": y0}


def _terminate_as_interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM (e.g. a job scheduler's stop): flush the finished runs, then exit 130


def run(args) -> int:
    # lazy: numba, scipy, astropy and matplotlib, not paid by `bliss --help`
    from bliss.montecarlo.campaign import CampaignMismatch, nominal_schedule, read_results, run_campaign, statistics
    from bliss.plots.montecarlo import plot_distributions, plot_sensitivity
    from bliss.scenarios.stages import make_problem

    try:
        sc = find(args.scenario)
    except ScenarioError as exc:
        raise UsageError(str(exc)) from None
    if args.n < 1:
        raise UsageError(f"-n must be at least 1 run, got {args.n}")
    if args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    tls = [args.tls_ca_file, args.tls_cert, args.tls_key]
    security = None
    if any(tls):
        if not args.scheduler or not all(tls[:2]):
            raise UsageError("TLS needs --scheduler tls://HOST:PORT with --tls-ca-file and --tls-cert (and --tls-key "
                             "unless the certificate file holds the key)")
        security = tls_security(*tls)
    out = Path(args.out or f"{DEFAULT_OUT}/{sc.name}")
    modes = ("open", "closed") if args.mode == "both" else (args.mode,)
    if args.mode == "attitude" and "attitude" not in sc.stages:
        raise UsageError(f"--mode attitude: scenario {sc.name} has no attitude stage (add \"attitude\" to its "
                         "stages and an [attitude] table)")
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    summary = {"scenario": sc.name, "seed": args.seed, "n": args.n, "modes": {}}
    tables = {}
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    with open_client(args.scheduler, args.workers, security) as client:
        log(f"montecarlo: Dask scheduler {client.scheduler.address}, {len(client.scheduler_info()['workers'])} workers")
        for mode in modes:
            d = out / mode
            d.mkdir(parents=True, exist_ok=True)
            nominal = None
            if mode == "open":
                holder = {}

                def make():
                    holder["problem"], sched = nominal_for_open_loop(sc)
                    return sched

                nominal = nominal_schedule(d, make)
                problem = holder.get("problem") or make_problem(sc)
            else:
                problem = make_problem(sc)
                if mode == "attitude":
                    nominal = nominal_for_attitude(sc, problem)
            try:
                counts = run_campaign(client, problem, sc.errors, sc.name, args.n, args.seed, mode, d, nominal, log=log)
            except CampaignMismatch as exc:
                raise UsageError(str(exc)) from None
            table = read_results(d)
            tables[mode] = table.to_pylist()
            summary["modes"][mode] = {**counts, **statistics(table)}
    title = f"{sc.name}: {args.n} runs, seed {args.seed}"
    orbit_tables = {m: t for m, t in tables.items() if m != "attitude"}  # the plots are of arrival miss and TOF
    if orbit_tables:
        plot_distributions(out / "distributions.png", orbit_tables, title)
        plot_sensitivity(out / "sensitivity.png", orbit_tables, title)
    tmp = out / "montecarlo_summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out / "montecarlo_summary.json")
    for mode, s in summary["modes"].items():
        if mode == "attitude" and s.get("n_ok"):
            print(f"bliss montecarlo: {sc.name} attitude span: {s['n_ok']} runs ok, {s['n_failed']} failed, "
                  f"{s['runs_with_fault']} with an actuator fault; pointing error rms median "
                  f"{s['pointing_error_rms_deg_median']:.3g} deg, p90 {s['pointing_error_rms_deg_p90']:.3g} deg; "
                  f"trajectory deviation median {s['trajectory_deviation_km_median']:.3g} km; "
                  f"{s['runs_with_safe_mode']} runs entered safe mode", flush=True)
        elif s.get("n_ok"):
            print(f"bliss montecarlo: {sc.name} {mode} loop: {s['n_ok']} runs ok, {s['n_failed']} failed; miss median "
                  f"{s['miss_km_median']:.4g} km, p90 {s['miss_km_p90']:.4g} km; TOF median {s['tof_days_median']:.1f} d; "
                  f"closed {100 * s['closed_fraction']:.0f} %", flush=True)
        else:
            print(f"bliss montecarlo: {sc.name} {mode} loop: no successful runs ({s['n_failed'] if 'n_failed' in s else s['n_total']} failed, "
                  f"see {out / mode / 'failures.csv'})", flush=True)
    print(f"bliss montecarlo: files in {out}", flush=True)
    return 0
