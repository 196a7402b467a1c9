"""``bliss propagate``: products exist, parse, hold the propagated states; bad input -> exit 2, no files."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from oem import OrbitEphemerisMessage

from bliss.cli import main
from sim.constants import AU, CONE_MAX_ALONG_TRACK
from sim.ephemeris import body_state
from sim.frames import ecliptic_to_icrs
from sim.integrator import Schedule, propagate
from sim.sail import IDEAL, MCINNES_1999, Sail
from sim.timeconv import epoch_to_tdb_seconds

T0 = epoch_to_tdb_seconds("2028-01-01T00:00:00 TDB")  # the command's default departure
DAY = 86400.0
FILES = {"trajectory.oem", "trajectory.csv", "trajectory.png", "summary.json"}


def _all_files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _reference(duration_days, cone, clock, sail, t0=T0):
    """The same flight done directly with the integrator: final state (6,)."""
    r0, v0 = body_state("earth", t0)
    y0 = np.concatenate([r0, v0])
    sched = Schedule.constant_rtn(t0, t0 + duration_days * DAY, cone, clock)
    return propagate(y0, sched, sail, t_out=np.array([t0, t0 + duration_days * DAY]), rtol=1e-10).y[-1]


def test_default_products_hold_the_propagated_trajectory(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["propagate", "--duration-days", "20", "--step-days", "5", "--out", str(out)])
    assert rc == 0
    assert set(_all_files(out)) == FILES
    y_ref = _reference(20, CONE_MAX_ALONG_TRACK, 0.0, Sail(0.010, 1.0, IDEAL))

    # CSV: header names units, 5 rows (0, 5, 10, 15, 20 days), full precision
    data = np.genfromtxt(out / "trajectory.csv", delimiter=",", names=True, dtype=None, encoding="utf-8")
    assert data.dtype.names[:8] == ("epoch_tdb", "t_tdb_s", "x_m", "y_m", "z_m", "vx_m_s", "vy_m_s", "vz_m_s")
    assert data.shape == (5,)
    np.testing.assert_allclose(data["t_tdb_s"], T0 + DAY * np.arange(0, 21, 5), rtol=0, atol=1e-6)
    y_csv = np.array([data[k][-1] for k in ("x_m", "y_m", "z_m", "vx_m_s", "vy_m_s", "vz_m_s")])
    np.testing.assert_allclose(y_csv[:3], y_ref[:3], rtol=0, atol=1e-3)      # 1 mm
    np.testing.assert_allclose(y_csv[3:], y_ref[3:], rtol=0, atol=1e-9)      # 1 nm/s
    np.testing.assert_allclose(data["r_AU"][-1], np.linalg.norm(y_ref[:3]) / AU, rtol=1e-12)
    np.testing.assert_allclose(data["cone_deg"], math.degrees(math.atan(1 / math.sqrt(2))), atol=1e-9)
    np.testing.assert_allclose(data["clock_deg"], 0.0, atol=1e-12)
    assert data["epoch_tdb"][0] == "2028-01-01T00:00:00.000" and data["epoch_tdb"][-1] == "2028-01-21T00:00:00.000"

    # OEM read back with the oem library: ICRF axes, km; 14-digit mantissa -> ~1e-14 relative
    oem = OrbitEphemerisMessage.open(out / "trajectory.oem")
    states = list(oem.states)
    assert len(states) == 5
    meta = next(iter(oem)).metadata
    assert (meta["CENTER_NAME"], meta["REF_FRAME"], meta["TIME_SYSTEM"]) == ("SUN", "ICRF", "TDB")
    last = states[-1]
    assert abs(epoch_to_tdb_seconds(last.epoch) - (T0 + 20 * DAY)) < 1e-5
    np.testing.assert_allclose(last.position * 1e3, ecliptic_to_icrs(y_ref[:3]), rtol=0, atol=5e-3)
    np.testing.assert_allclose(last.velocity * 1e3, ecliptic_to_icrs(y_ref[3:]), rtol=0, atol=1e-9)

    png = (out / "trajectory.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000

    summary = json.loads((out / "summary.json").read_text())
    np.testing.assert_allclose(summary["final"]["state"], y_ref, rtol=1e-12, atol=0)
    assert summary["sail"]["characteristic_acceleration_m_s2"] == pytest.approx(9.080e-4, rel=1e-3)

    printed = capsys.readouterr().out
    assert "a_c = 0.9080 mm/s^2" in printed and "beta = 0.1531" in printed
    assert f"r = {np.linalg.norm(y_ref[:3]) / AU:.6f} AU" in printed


def test_negative_cone_means_clock_180_and_options_reach_the_physics(tmp_path):
    out = tmp_path / "neg"
    rc = main(["propagate", "--duration-days", "10", "--step-days", "10", "--cone-deg", "-30",
               "--mass-g", "20", "--area-m2", "2.5", "--optics", "mcinnes", "--out", str(out)])
    assert rc == 0
    data = np.genfromtxt(out / "trajectory.csv", delimiter=",", names=True, dtype=None, encoding="utf-8")
    np.testing.assert_allclose(data["cone_deg"], 30.0, atol=1e-9)
    np.testing.assert_allclose(data["clock_deg"], 180.0, atol=1e-9)
    y_ref = _reference(10, math.radians(30.0), math.pi, Sail(0.020, 2.5, MCINNES_1999))
    y_csv = np.array([data[k][-1] for k in ("x_m", "y_m", "z_m")])
    np.testing.assert_allclose(y_csv, y_ref[:3], rtol=0, atol=1e-3)
    # lowering the orbit: the sail ends closer to the Sun than a ballistic Earth-like start would allow
    y_pos = _reference(10, math.radians(30.0), 0.0, Sail(0.020, 2.5, MCINNES_1999))
    assert np.linalg.norm(y_csv) < np.linalg.norm(y_pos[:3])


@pytest.mark.parametrize("extra, names", [
    (["--mass-g", "0"], "--mass-g"),
    (["--mass-g", "-5"], "--mass-g"),
    (["--mass-g", "nan"], "--mass-g"),
    (["--area-m2", "0"], "--area-m2"),
    (["--area-m2", "abc"], "--area-m2"),
    (["--cone-deg", "95"], "--cone-deg"),
    (["--cone-deg", "-90.5"], "--cone-deg"),
    (["--clock-deg", "inf"], "--clock-deg"),
    (["--optics", "gold-foil"], "--optics"),
    (["--date", "not-a-date"], "--date"),
    (["--date", "2150-01-01"], "--date"),
    (["--third-bodies", "venus,pluto"], "pluto"),
    (["--third-bodies", "earth"], "earth"),
    (["--duration-days", "0"], "--duration-days"),
    (["--step-days", "30"], "--step-days"),
    (["--rtol", "0.5"], "--rtol"),
])
def test_bad_input_exits_2_with_one_line_and_no_files(tmp_path, capsys, extra, names):
    out = tmp_path / "out"
    before = _all_files(tmp_path)
    rc = main(["propagate", "--duration-days", "5", "--out", str(out), *extra])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("bliss: error: ") and names in err[0]
    assert _all_files(tmp_path) == before


def test_unwritable_output_folder_is_refused_before_computing(tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    rc = main(["propagate", "--duration-days", "5", "--out", str(blocker / "sub")])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "output folder" in err[0] and "--out" in err[0]
    assert _all_files(tmp_path) == ["afile"]


def test_third_bodies_are_flown_and_matter_a_little(tmp_path):
    """--third-bodies jupiter: the final state equals a direct run with the same planet table, and
    differs from the Sun-only run by Jupiter's tidal pull: ~1.5e-7 m/s^2 at 1 AU (2 GM_J r / d^3 with
    d ~ 4.2 AU), at most ~0.5 a t^2 ~ 56 km after 10 days (17 km measured); checked in [1, 500] km."""
    from sim.ephemeris import planet_table
    from sim.integrator import ThirdBodies

    from bliss.cli.propagate import THIRD_BODY_STEP_S

    out = tmp_path / "tb"
    rc = main(["propagate", "--duration-days", "10", "--step-days", "10", "--third-bodies", "Jupiter",
               "--out", str(out)])
    assert rc == 0
    data = np.genfromtxt(out / "trajectory.csv", delimiter=",", names=True, dtype=None, encoding="utf-8")
    y_cli = np.array([data[k][-1] for k in ("x_m", "y_m", "z_m")])
    t1 = T0 + 10 * DAY
    tb = ThirdBodies(*planet_table(("jupiter",), T0, t1, THIRD_BODY_STEP_S))
    r0, v0 = body_state("earth", T0)
    sched = Schedule.constant_rtn(T0, t1, CONE_MAX_ALONG_TRACK, 0.0)
    y_direct = propagate(np.concatenate([r0, v0]), sched, Sail(0.010, 1.0, IDEAL), t_out=np.array([T0, t1]),
                         rtol=1e-10, third_bodies=tb).y[-1]
    np.testing.assert_allclose(y_cli, y_direct[:3], rtol=0, atol=1e-3)
    y_sun_only = _reference(10, CONE_MAX_ALONG_TRACK, 0.0, Sail(0.010, 1.0, IDEAL))
    assert 1e3 < np.linalg.norm(y_cli - y_sun_only[:3]) < 5e5
