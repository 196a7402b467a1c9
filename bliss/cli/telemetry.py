"""``bliss telemetry``: look at a bench run's telemetry file (docs/bench.md).

    bliss telemetry info   RUN.sqlite                               # what is in it
    bliss telemetry export RUN.sqlite --format csv|parquet --out DIR  # cycles, events, run.json
    bliss telemetry plot   RUN.sqlite --out DIR                     # telemetry.png

A missing file, a file that is not a telemetry store or an unwritable ``--out`` gives one line
``bliss: error: ...`` and exit code 2; files appear all together or not at all.
"""
from __future__ import annotations

from collections import Counter

from bliss.io.atomic import OutputSet, check_writable
from bliss.io.telemetry import TelemetryReader, export_run

DEFAULT_OUT = "bliss_out/telemetry"


def register(sub) -> None:
    p = sub.add_parser("telemetry", help="info, export (CSV/Parquet) and plot of a bench run's telemetry",
                       description=__doc__.split("\n\n")[0])
    tsub = p.add_subparsers(dest="telemetry_command", metavar="ACTION", required=True)

    info = tsub.add_parser("info", help="what a telemetry file holds")
    info.add_argument("run", metavar="RUN.sqlite")
    info.set_defaults(func=_info)

    exp = tsub.add_parser("export", help="write cycles and events as CSV or Parquet")
    exp.add_argument("run", metavar="RUN.sqlite")
    exp.add_argument("--format", choices=("csv", "parquet"), default="csv", help="default: csv")
    exp.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"default: {DEFAULT_OUT}")
    exp.set_defaults(func=_export)

    plot = tsub.add_parser("plot", help="pointing error and actuator positions with the events marked")
    plot.add_argument("run", metavar="RUN.sqlite")
    plot.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"default: {DEFAULT_OUT}")
    plot.set_defaults(func=_plot)


def _info(args) -> int:
    with TelemetryReader(args.run) as rd:
        span = rd.span()
        kinds = Counter(e.kind for e in rd.events())
        cp = rd.last_checkpoint()
        print(f"run:         {args.run} (created {rd.created_utc})")
        print(f"metadata:    {rd.metadata}")
        print(f"columns:     {', '.join(rd.columns) or '(none)'}")
        print(f"cycles:      {rd.count('cycles')}"
              + (f", t = {span[0]:.6g} .. {span[1]:.6g} s" if span else ""))
        print(f"events:      {sum(kinds.values())}"
              + (" (" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")" if kinds else ""))
        print(f"checkpoints: {rd.count('checkpoints')}" + (f", last at t = {cp.t:.6g} s" if cp else ""))
    return 0


def _export(args) -> int:
    check_writable(args.out)
    for path in export_run(args.run, args.out, args.format):
        print(path)
    return 0


def _plot(args) -> int:
    from bliss.plots.telemetry import plot_run  # lazy: matplotlib, not paid by `bliss --help`

    check_writable(args.out)
    with TelemetryReader(args.run) as rd:
        cycles = rd.cycle_arrays()
        events = list(rd.events())
        title = f"{args.run}: {len(cycles['t'])} cycles, {len(events)} events"
    with OutputSet(args.out) as out:
        plot_run(cycles, events, out.path("telemetry.png"), title=title)
    print(out.final_path("telemetry.png"))
    return 0
