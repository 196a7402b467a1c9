"""``bliss fly`` with the C firmware in the loop (the emulated board on a pty, hil.emulated), against the
software-in-the-loop run of the same span with the same seed.

Bounds: with the board's drive rate scaled by --time-scale (here 100 x 1 kHz, clamped by the board to
20 kHz) the board makes the steps the flight axes make unless a move is longer than the wall period
allows; the plant then follows the board. Pointing error rms within 20 % (relative) + 0.2 deg of the SIL
run, trajectory deviation from the commanded flight within 50 % + 2 km: loose enough for a loaded machine
(overruns), tight enough that a board which did not move (stuck axis) fails them.
"""
import json
import math
import shutil

import pytest

from bliss.cli import main
from bliss.io.telemetry import TelemetryReader

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                                 reason="no C compiler for the emulated board")]

SPAN = ["--start-day", "0", "--days", "0.04", "--period-s", "5", "--seed", "2", "--no-progress",
        "--telemetry-every", "1"]


def _run(tmp_path, name, extra, capsys):
    out = tmp_path / name
    rc = main(["fly", *SPAN, *extra, "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    return out, json.loads((out / "report.json").read_text())


def test_emulated_board_flies_like_sil_and_survives_a_fault_plan(tmp_path, capsys):
    _, sil = _run(tmp_path, "sil", [], capsys)
    out, emu = _run(tmp_path, "emu", ["--actuators", "emulated", "--time-scale", "100"], capsys)
    assert emu["control_cycles"] == sil["control_cycles"] == round(0.04 * 86400 / 5)
    assert emu["board"]["exchanges"] == emu["control_cycles"]
    assert emu["pointing_error_rms_deg"] == pytest.approx(sil["pointing_error_rms_deg"], rel=0.2, abs=0.2)
    assert emu["trajectory_deviation_final_km"] == pytest.approx(sil["trajectory_deviation_final_km"],
                                                                 rel=0.5, abs=2.0)
    # a fault plan: reset mid-flight, a stuck payload axis for 10 min, the link dropped for 200 s (2 s wall)
    plan = tmp_path / "faults.toml"
    plan.write_text('description = "reset, stall, link drop"\n'
                    '[[fault]]\nat_s = 600.0\nkind = "board_reset"\n'
                    '[[fault]]\nat_s = 1200.0\nkind = "axis_stall"\naxis = 0\nduration_s = 600.0\n'
                    '[[fault]]\nat_s = 2400.0\nkind = "link_drop"\nduration_s = 200.0\n')
    out, flt = _run(tmp_path, "faults", ["--actuators", "emulated", "--time-scale", "100", "--faults", str(plan)],
                    capsys)
    ev = flt["events"]
    assert ev.get("fault_start", 0) == 3 and ev.get("board_reset", 0) >= 1 and ev.get("axis_failed", 0) >= 1
    with TelemetryReader(out / "run.sqlite") as rd:
        n_att = sum(1 for c in rd.cycles() if c.get("pointing_err_rad") is not None)
    assert n_att == flt["control_cycles"]  # every control cycle in telemetry, none lost to the faults
    assert math.isfinite(flt["pointing_error_rms_deg"])
