"""``bliss fly``: fly the mission with the flight software in the loop (docs/fly.md).

The onboard executive re-plans every guidance step from its navigation estimate (ground orbit
determination uploads dead-reckoned onboard), the attitude loop (MEKF, controller, inchworm axes) turns its
commands into a sail attitude, and the orbit follows the attitude the plant achieved. Writes into --out:
run.sqlite (telemetry: control cycles, events), report.json, report.txt and fly.png.

    bliss fly                                  # the default Bennu transfer, days 45-48
    bliss fly --plan bliss_out/plan --days 5   # a plan folder: the span with the most switches
    bliss fly --all --period-s 5               # the whole transfer, to arrival

Bad input: one line on stderr, exit code 2, no files. Files appear all together or not at all.
"""
from __future__ import annotations

import argparse

from bliss.cli.propagate import OPTICS_CHOICES

DEFAULT_OUT = "bliss_out/fly"
#: Actuator backends by name; anything else is a board's port (a device path or a pyserial URL such as
#: socket://host:port).
BACKENDS = ("sim", "emulated", "qemu")
#: Default pacing with a board: mission seconds per wall second. 20 keeps the board's inchworms exact: the
#: flight drive rate (1 kHz, sim.inchworm.DEFAULT_DRIVE_HZ) x 20 is the boards' 20 kHz maximum.
DEFAULT_TIME_SCALE = 20.0
#: Default span start without a plan [days after the default departure]: from day 41 on the feedback
#: laws' flight switches attitude 3-4 times a day (measured on the default problem's fly_feedback).
DEFAULT_START_DAY = 45.0


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("fly", help="fly the mission with the flight software in the loop (SIL)",
                              description=__doc__.split("\n\n")[0].replace("``", ""),
                              epilog=__doc__.split("\n\n")[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--plan", metavar="DIR", help="a 'bliss plan' output folder (schedule.csv, summary.json); "
                                                 "default: the default Bennu problem, no optimised plan")
    p.add_argument("--start-day", default=None, metavar="DAYS",
                   help="start of the span [days after departure]; default: with --plan the window of --days "
                        f"with the most attitude switches, else {DEFAULT_START_DAY:g} (the feedback laws' "
                        "rendezvous phase time-shares 3-4 attitudes a day there)")
    p.add_argument("--days", default="3", metavar="DAYS", help="length of the span [days]; default 3")
    p.add_argument("--all", action="store_true", help="fly from departure until arrival (up to 2 years)")
    p.add_argument("--actuators", default="sim", metavar="BACKEND",
                   help="actuator backend: sim (kinematic inchworms, compiled), emulated (the C firmware on a "
                        "pty), qemu (the Cortex-M build under qemu-system-arm) or a board's PORT "
                        "(/dev/ttyACM0, socket://host:port); default sim")
    p.add_argument("--time-scale", default=None, metavar="X",
                   help="with a board: mission seconds per wall second (the board's drive rate is scaled "
                        f"with it); default {DEFAULT_TIME_SCALE:g}; 0 = as fast as the board answers; auto = "
                        "lockstep: each period lasts as long as the board needs to make its steps at 20 kHz")
    p.add_argument("--period-s", default="2", metavar="S", help="attitude control period [s], 0.5..10; default 2")
    p.add_argument("--cp-offset-mm", nargs=2, default=["1", "0.5"], metavar=("X", "Y"),
                   help="centre-of-pressure offset in the sail plane [mm], |.| <= 5; default 1 0.5")
    p.add_argument("--optics", default="ideal", metavar="NAME", help=f"sail optics: {', '.join(OPTICS_CHOICES)}")
    p.add_argument("--od-period-days", default="7", metavar="DAYS", help="ground OD upload period; default 7")
    p.add_argument("--od-approach-period-days", default="1", metavar="DAYS",
                   help="ground OD upload period on approach (within --od-approach-range-km of the target); "
                        "default 1 (docs/fly.md, approach navigation)")
    p.add_argument("--od-approach-range-km", default="2000000", metavar="KM",
                   help="range from the target within which the approach period applies; default 2000000 "
                        "(2 million km); 0 = the cruise period to the end")
    p.add_argument("--od-sigma-km", default="10", metavar="KM", help="OD position error 1-sigma per axis; default 10")
    p.add_argument("--od-sigma-cm-s", default="1", metavar="CM_S", help="OD velocity error 1-sigma per axis; "
                                                                        "default 1")
    p.add_argument("--faults", metavar="FILE", help="TOML fault plan (docs/bench.md); in SIL only "
                                                    "sensor_dropout acts")
    p.add_argument("--inject", action="append", default=[], metavar="KIND@AT_S[,key=value...]",
                   help="a fault at AT_S seconds after the start, e.g. sensor_dropout@3600,duration_s=1800")
    p.add_argument("--telemetry-every", default="30", metavar="N",
                   help="write every N-th control cycle to run.sqlite (1 = all); default 30")
    p.add_argument("--seed", default="1", metavar="N", help="noise seed (integer); default 1")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="FOLDER", help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    # lazy: the flight's modules import numba, astropy and matplotlib, which `bliss --help` must not load
    from bliss.cli.fly_run import run_fly

    return run_fly(args)
