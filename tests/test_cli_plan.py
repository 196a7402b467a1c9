"""``bliss plan``: bad input exits 2 with no files; an unclosed transfer exits 1 with every file and
converged=false; the written products replay to a real rendezvous (end to end)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from bliss.cli import main
import bliss.cli.plan as plan_cli
import bliss.guidance.pipeline as pipeline

def _fake_planner(problem, **_):
    """A planner that cannot close: hold the along-track optimal cone (35.26 deg, clock 0) for one year
    in 20 segments (converged=False). Lets the tests exercise the products without the optimiser."""
    from bliss.guidance.problem import TransferResult
    from sim.constants import CONE_MAX_ALONG_TRACK, DAY
    from sim.integrator import Schedule, propagate

    t0 = problem.t_depart
    times = t0 + np.linspace(0.0, 365.25 * DAY, 21)
    sched = Schedule.from_rtn(times, np.full(20, CONE_MAX_ALONG_TRACK), np.zeros(20))
    traj = propagate(problem.y_depart, sched, problem.sail)
    r, v = problem.target.state(times[-1])
    return TransferResult(problem, sched, float(times[-1] - t0), traj.y_final,
                          float(np.linalg.norm(traj.y_final[:3] - r)), float(np.linalg.norm(traj.y_final[3:] - v)),
                          False, "fake (along-track cone)", {})


PRODUCTS = ("trajectory.oem", "attitude.aem", "schedule.csv", "summary.json", "trajectory.png",
            "attitude.png", "elements.png", "approach.png")


@pytest.mark.parametrize("argv, words", [
    (["--target", "pluto"], "unknown target"),
    (["--date", "2150-01-01"], "outside"),
    (["--date", "not-a-date"], "cannot parse date"),
    (["--max-cone-deg", "0"], "max-cone-deg"),
    (["--max-cone-deg", "95"], "max-cone-deg"),
    (["--max-cone-deg", "nan"], "max-cone-deg"),
    (["--max-slew-deg-per-day", "-1"], "max-slew"),
    (["--elements", "1.1 0.2 6.0"], "7 values"),
    (["--elements", "1.1 1.3 6 2 66 101 2011-01-01"], "eccentricity"),
    (["--elements", "x 0.2 6 2 66 101 2011-01-01"], "numbers"),
    (["--elements", "1.1 0.2 6 2 66 101 yesterday"], "epoch"),
    (["--mpcorb", "this is not an MPCORB line"], "mpcorb"),
    (["--mass-g", "-3"], "mass"),
    (["--area-m2", "0"], "area"),
    (["--optics", "shiny"], "optics"),
    (["--segments", "0"], "segments"),
    (["--v-inf-km-s", "1", "2"], "v-inf"),
    (["--window", "2030-01-01", "2029-01-01", "10"], "END"),
    (["--window", "2029-01-01", "2030-01-01", "0"], "STEP_DAYS"),
])
def test_bad_input_exits_2_with_one_line_and_no_files(tmp_path, capsys, argv, words):
    out = tmp_path / "out"
    rc = main(["plan", "--no-progress", "--out", str(out), *argv])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and err.startswith("bliss: error:")
    assert words.lower() in err.lower()
    assert not out.exists()


@pytest.mark.parametrize("argv", [["--segments", "x"], ["--mass-g", "ten"], ["--date", "2029-01-01", "--window", "a", "b", "1"]])
def test_argparse_errors_are_one_line_exit_2(tmp_path, capsys, argv):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["plan", "--out", str(out), *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("bliss: error:")
    assert not out.exists()


def test_unwritable_out_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc = main(["plan", "--no-progress", "--out", str(blocker / "sub")])
    assert rc == 2
    assert "bliss: error:" in capsys.readouterr().err
    assert blocker.read_text() == "x"


def test_unclosed_transfer_exits_1_and_writes_everything(tmp_path, capsys, monkeypatch):
    """A planner that cannot close (the along-track stand-in) -> exit 1, all files, converged=false,
    and the summary's replayed miss is the real one (recomputed here independently)."""
    from bliss.io.aem import read_aem
    from bliss.io.oem import read_oem
    from bliss.io.schedule_csv import read_schedule_csv
    from sim.ephemeris import BENNU
    from sim.integrator import Schedule, propagate
    from sim.sail import Sail

    monkeypatch.setattr(pipeline, "fly_feedback", lambda problem, progress=None: _fake_planner(problem))
    monkeypatch.setattr(pipeline, "minimise_time", lambda problem, warm, **kw: _fake_planner(problem))
    out = tmp_path / "plan"
    rc = main(["plan", "--no-progress", "--out", str(out), "--date", "2028-07-01 TDB", "--v-inf-km-s", "0.5"])
    cap = capsys.readouterr()
    assert rc == 1
    assert "NOT closed" in cap.err
    for name in PRODUCTS:
        assert (out / name).stat().st_size > 0, name
    s = json.loads((out / "summary.json").read_text())
    assert s["converged"] is False
    assert s["sail"]["mass_kg"] == pytest.approx(0.010)
    assert s["sail"]["characteristic_acceleration_m_s2"] == pytest.approx(0.908e-3, rel=2e-3)
    assert s["sail"]["lightness_number"] == pytest.approx(0.153, abs=1e-3)
    # --v-inf-km-s 0.5: 500 m/s along Earth's heliocentric velocity (sim.ephemeris, checked independently)
    from sim.ephemeris import body_state

    _, v_earth = body_state("earth", s["departure"]["t_tdb_s"])
    v_inf = np.array(s["departure"]["v_inf_m_s"])
    assert np.linalg.norm(v_inf) == pytest.approx(500.0, rel=1e-9)
    assert v_inf @ v_earth / (np.linalg.norm(v_inf) * np.linalg.norm(v_earth)) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(np.array(s["departure"]["state"][3:]), v_earth + v_inf, rtol=1e-12)
    # replay the written schedule from the written departure state: the summary's miss is reproduced
    sch = read_schedule_csv(out / "schedule.csv")
    traj = propagate(np.array(s["departure"]["state"]), Schedule(sch["seg_t"], sch["seg_mode"], sch["seg_att"]),
                     Sail())
    r, v = BENNU.state(traj.t_final)
    assert traj.t_final == pytest.approx(s["arrival"]["t_tdb_s"], abs=1e-6)
    assert np.linalg.norm(traj.y_final[:3] - r) == pytest.approx(s["arrival"]["position_error_m"], rel=1e-6)
    assert np.linalg.norm(traj.y_final[3:] - v) == pytest.approx(s["arrival"]["velocity_error_m_s"], rel=1e-6)
    assert s["arrival"]["position_error_m"] > pipeline.TOL_POS_M
    # the OEM and AEM read back and agree with the CSV and summary
    t_oem, y_oem = read_oem(out / "trajectory.oem")
    assert t_oem[0] == pytest.approx(s["departure"]["t_tdb_s"], abs=1e-3)
    np.testing.assert_allclose(y_oem[-1, :3], traj.y_final[:3], rtol=0, atol=10.0)
    aem = read_aem(out / "attitude.aem")
    np.testing.assert_allclose(aem["normal"], sch["normal"], atol=1e-12)
    np.testing.assert_allclose(aem["q_start"], sch["quaternion"], atol=1e-12)
    assert math.isclose(s["tof_days"], 365.25, rel_tol=1e-9)


def _reachable_target(t0, tof, cone_deg=35.0, clock_deg=20.0):
    """A target on the Kepler orbit through the state the default sail reaches by holding a fixed
    attitude for ``tof`` from Earth at ``t0``: a rendezvous in ``tof`` exists by construction."""
    from bliss.guidance.problem import departure_state
    from sim.constants import AU, GM_SUN
    from sim.integrator import Schedule, propagate
    from sim.kepler import rv2coe, true_to_mean
    from sim.sail import Sail

    y0 = departure_state(t0)
    sched = Schedule.constant_rtn(t0, t0 + tof, math.radians(cone_deg), math.radians(clock_deg))
    yf = propagate(y0, sched, Sail(), rtol=1e-12).y_final
    a, e, i, raan, argp, nu = rv2coe(GM_SUN, yf[:3].copy(), yf[3:].copy())
    jd = 2451545.0 + (t0 + tof) / 86400.0
    text = " ".join(repr(float(v)) for v in (a / AU, e, math.degrees(i), math.degrees(raan), math.degrees(argp),
                                             math.degrees(true_to_mean(nu, e)), jd))
    return text, yf, t0 + tof


def test_written_schedule_replays_to_a_rendezvous(tmp_path, capsys):
    """End to end: plan a real rendezvous, read schedule.csv + summary.json back, rebuild the Schedule,
    propagate from the written departure state and land within 1,000 km and 1 m/s of the target's
    state (computed here independently by Kepler propagation of the target's defining state)."""
    from bliss.io.aem import read_aem
    from bliss.io.schedule_csv import read_schedule_csv
    from sim.constants import DAY, GM_SUN
    from sim.integrator import Schedule, propagate
    from sim.kepler import kepler_propagate
    from sim.sail import Sail
    from sim.timeconv import epoch_to_tdb_seconds

    t0 = epoch_to_tdb_seconds("2028-07-01 TDB")
    elements, y_ref, t_ref = _reachable_target(t0, 100 * DAY)
    out = tmp_path / "plan"
    rc = main(["plan", "--no-progress", "--out", str(out), "--date", "2028-07-01 TDB", "--elements", elements,
               "--segments", "10", "--tof-guess-days", "100"])
    assert rc == 0, capsys.readouterr().err
    s = json.loads((out / "summary.json").read_text())
    assert s["converged"] is True
    sch = read_schedule_csv(out / "schedule.csv")
    assert len(sch["seg_mode"]) == 10
    assert np.all(sch["cone"] <= math.radians(70.0) + 1e-9)  # default cone limit respected
    y0 = np.array(s["departure"]["state"])
    traj = propagate(y0, Schedule(sch["seg_t"], sch["seg_mode"], sch["seg_att"]), Sail(), rtol=1e-11)
    assert traj.t_final == pytest.approx(s["arrival"]["t_tdb_s"], abs=1e-6)
    r_t, v_t = kepler_propagate(GM_SUN, y_ref[:3].copy(), y_ref[3:].copy(), traj.t_final - t_ref)
    assert np.linalg.norm(traj.y_final[:3] - r_t) < 1.0e6      # 1,000 km
    assert np.linalg.norm(traj.y_final[3:] - v_t) < 1.0        # 1 m/s
    # minimum time: never longer than the known 100-day transfer (half a day of discretisation slack)
    assert s["tof_days"] <= 100.5
    # the AEM carries the same attitudes
    aem = read_aem(out / "attitude.aem")
    np.testing.assert_allclose(aem["normal"], sch["normal"], atol=1e-12)
    np.testing.assert_allclose(aem["t_start"], sch["seg_t"][:-1], atol=2e-6)


# Bennu in the MPC export format (fields from shared/reference.md: JPL SBDB elements, epoch 2011-01-01.0
# TDB = packed K1111), laid out column by column as in the MPC "Export Format for Minor-Planet Orbits".
BENNU_MPCORB = ("A1955   20.21  0.15 K1111 101.70390   66.22310    2.06090    6.03490  0.2037450  0.82446138"
                "   1.1263910  0 MPO600000  2651  15 1999-2024 0.44 M-v 3Eh MPCLINUX   0804 (101955) Bennu"
                "              20240101")
BENNU_ELEMENTS = "1.126391 0.203745 6.0349 2.0609 66.2231 101.7039 2011-01-01"


@pytest.mark.parametrize("how", ["elements", "mpcorb-line", "mpcorb-file"])
def test_target_options_reproduce_bennu(tmp_path, how):
    """--elements and --mpcorb (line or file with a header) give Bennu's state from sim.ephemeris.BENNU."""
    from sim.ephemeris import BENNU

    if how == "elements":
        target = plan_cli.parse_elements(BENNU_ELEMENTS)
    elif how == "mpcorb-line":
        target = plan_cli.parse_mpcorb(BENNU_MPCORB)
    else:
        f = tmp_path / "MPCORB.DAT"
        f.write_text("MINOR PLANET CENTER ORBIT DATABASE (MPCORB)\nheader text\n" + "-" * 160 + "\n"
                     + BENNU_MPCORB + "\n")
        target = plan_cli.parse_mpcorb(str(f))
    for t in (8.9e8, 9.3e8):  # 2028 and 2029
        r, v = target.state(t)
        rb, vb = BENNU.state(t)
        # elements and MPCORB carry 4-7 decimals of the same numbers: agree to ~1e-6 relative
        assert np.linalg.norm(r - rb) < 2e-6 * np.linalg.norm(rb)
        assert np.linalg.norm(v - vb) < 2e-5 * np.linalg.norm(vb)


def test_window_picks_the_shortest_converged_date_and_plots_it(tmp_path, capsys, monkeypatch):
    """--window: the date with the shortest converged TOF is planned; window.png and the summary's
    window table are written (planners replaced by fast stand-ins: this checks the orchestration)."""
    from sim.constants import DAY
    from sim.timeconv import epoch_to_tdb_seconds

    scanned = []

    def fake_window(factory, dates, progress=None, n_segments=None):
        scanned.extend(dates)
        tofs = [400 * DAY, 350 * DAY, math.nan, 300 * DAY]
        conv = [True, True, False, False]  # the 300-day row did not converge: must not be chosen
        fb = [500 * DAY, math.nan, 450 * DAY, math.nan]  # feedback laws' TOF where they closed
        return [(float(t), tof, ok, f, math.isfinite(f)) for t, tof, ok, f in zip(dates, tofs, conv, fb)]

    monkeypatch.setattr(pipeline, "departure_window", fake_window)
    monkeypatch.setattr(pipeline, "fly_feedback", lambda problem, progress=None: _fake_planner(problem))
    monkeypatch.setattr(pipeline, "minimise_time", lambda problem, warm, **kw: _fake_planner(problem))
    out = tmp_path / "w"
    rc = main(["plan", "--no-progress", "--out", str(out), "--window", "2028-01-01", "2028-04-01", "30"])
    assert rc == 1  # the stand-in does not close
    assert len(scanned) == 4
    assert (out / "window.png").stat().st_size > 0
    s = json.loads((out / "summary.json").read_text())
    assert [row["converged"] for row in s["window"]] == [True, True, False, False]
    assert s["window"][2]["tof_days"] is None  # NaN written as null
    assert s["window"][0]["feedback_tof_days"] == pytest.approx(500.0) and s["window"][0]["feedback_converged"]
    assert s["window"][1]["feedback_tof_days"] is None and not s["window"][1]["feedback_converged"]
    assert s["departure"]["t_tdb_s"] == pytest.approx(epoch_to_tdb_seconds("2028-01-31 TDB"))


def test_bennu_plan_replays_from_the_written_files_to_bennu(tmp_path, capsys):
    """End to end, the mission itself: plan the default sail to Bennu (default departure date; a
    faster configuration than the default plan: 20 segments, optimiser started from its crude guess
    at 500 days instead of the feedback law), then read schedule.csv, attitude.aem and summary.json
    back, rebuild the Schedule, propagate from the written departure state and land within 1,000 km
    and 1 m/s of Bennu (sim.ephemeris.BENNU)."""
    from bliss.io.aem import read_aem
    from bliss.io.schedule_csv import read_schedule_csv
    from sim.ephemeris import BENNU
    from sim.integrator import Schedule, propagate
    from sim.sail import Sail

    out = tmp_path / "bennu"
    rc = main(["plan", "--no-progress", "--out", str(out), "--segments", "20", "--tof-guess-days", "500"])
    assert rc == 0, capsys.readouterr().err
    s = json.loads((out / "summary.json").read_text())
    assert s["target"]["name"] == "Bennu" and s["converged"] is True
    assert s["departure"]["t_tdb_s"] == pytest.approx(plan_cli.parse_date(plan_cli.DEFAULT_DATE))
    sch = read_schedule_csv(out / "schedule.csv")
    traj = propagate(np.array(s["departure"]["state"]), Schedule(sch["seg_t"], sch["seg_mode"], sch["seg_att"]),
                     Sail(), rtol=1e-11)
    r_b, v_b = BENNU.state(traj.t_final)
    assert np.linalg.norm(traj.y_final[:3] - r_b) < 1.0e6   # 1,000 km
    assert np.linalg.norm(traj.y_final[3:] - v_b) < 1.0     # 1 m/s
    # a 10 g, 1 m^2 sail (a_c 0.91 mm/s^2) needs months, not days or decades: Mengali & Quarta 2009 give
    # ~300 days to Apophis at a_c 0.5 mm/s^2; Bennu's 6 deg inclination and e 0.2 take longer
    assert 200 < s["tof_days"] < 1500
    # the written schedule respects the default limits (70 deg cone, 10 deg/day slew)
    assert s["attitude_check"]["max_cone_deg"] <= 70.0 + 1e-6
    assert s["attitude_check"]["max_slew_deg_per_day"] <= 10.0 + 1e-3
    aem = read_aem(out / "attitude.aem")
    np.testing.assert_allclose(aem["normal"], sch["normal"], atol=1e-12)


def test_optimiser_failure_without_warm_start_exits_1_with_no_files(tmp_path, capsys, monkeypatch):
    def boom(problem, warm, **kw):
        raise RuntimeError("synthetic failure")

    monkeypatch.setattr(pipeline, "minimise_time", boom)
    out = tmp_path / "none"
    rc = main(["plan", "--no-progress", "--out", str(out), "--tof-guess-days", "300"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "no transfer found" in err and "synthetic failure" in err
    assert not out.exists()


def test_crude_guess_is_the_fallback_when_the_feedback_start_fails(tmp_path, capsys, monkeypatch):
    """A feedback transfer that ends close (< 0.02 AU) seeds the optimiser; if that attempt fails the
    optimiser is retried from its crude guess, and the summary says which start was used."""
    calls = []

    def close_feedback(problem, progress=None):
        r = _fake_planner(problem)
        r.miss_pos = 1.0e6  # pretend it ended 1,000 km away
        return r

    def optimiser(problem, warm, **kw):
        calls.append(warm is None)
        if warm is not None:
            raise RuntimeError("diverged from the warm start")
        return _fake_planner(problem)

    monkeypatch.setattr(pipeline, "fly_feedback", close_feedback)
    monkeypatch.setattr(pipeline, "minimise_time", optimiser)
    out = tmp_path / "fb"
    rc = main(["plan", "--no-progress", "--out", str(out), "--date", "2028-07-01"])
    assert calls == [False, True]
    assert rc == 1  # the fake planner does not close
    s = json.loads((out / "summary.json").read_text())
    assert "fallback" in s["warm_start"]
    assert "diverged from the warm start" in capsys.readouterr().err


def test_ephem_de421_sets_the_departure_and_the_planet_table(tmp_path, capsys, monkeypatch):
    """--ephem de421 (planner stood in by the fast fake): the problem departs from DE421's Earth, 2.29 km
    and 1.69 mm/s from the builtin Earth at 2030-11-21 TDB (measured 2.286 km, 1.695 mm/s), the
    --third-bodies table is DE421's Jupiter (plan94's differs by ~1e5 km, docs/ephemerides.md), and
    summary.json records the ephemeris with v_inf relative to DE421's Earth."""
    pytest.importorskip("de421", reason="needs the optional de421 extra: pip install -e '.[de421]'")
    from bliss.guidance.problem import departure_state
    from sim.ephemeris import body_states

    seen = []

    def fake(problem, *a, **kw):
        seen.append(problem)
        return _fake_planner(problem)

    monkeypatch.setattr(pipeline, "fly_feedback", lambda problem, progress=None: fake(problem))
    monkeypatch.setattr(pipeline, "minimise_time", lambda problem, warm, **kw: fake(problem))
    out = tmp_path / "de421"
    rc = main(["plan", "--no-progress", "--out", str(out), "--ephem", "de421", "--third-bodies", "jupiter"])
    assert rc == 1  # the fake planner does not close
    assert "ephemeris de421" in capsys.readouterr().out
    s = json.loads((out / "summary.json").read_text())
    assert s["ephemeris"]["name"] == "de421" and "DE421" in s["ephemeris"]["source"]
    t0 = s["departure"]["t_tdb_s"]
    y_d, y_b = departure_state(t0, ephem="de421"), departure_state(t0)
    np.testing.assert_allclose(s["departure"]["state"], y_d, rtol=1e-15, atol=0)
    assert np.linalg.norm(y_d[:3] - y_b[:3]) / 1e3 == pytest.approx(2.29, abs=0.05)  # km
    assert np.linalg.norm(y_d[3:] - y_b[3:]) * 1e3 == pytest.approx(1.69, abs=0.05)  # mm/s
    np.testing.assert_allclose(s["departure"]["v_inf_m_s"], 0.0, atol=1e-9)
    tb = seen[0].third_bodies
    r_jup, _ = body_states("jupiter", tb.t0 + tb.dt * np.arange(3), "de421")
    np.testing.assert_allclose(tb.pos[0, :3], r_jup, rtol=1e-15, atol=0)
    assert all(np.allclose(p.y_depart, y_d, rtol=1e-15, atol=0) for p in seen)


def test_default_summary_records_the_builtin_ephemeris(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "fly_feedback", lambda problem, progress=None: _fake_planner(problem))
    monkeypatch.setattr(pipeline, "minimise_time", lambda problem, warm, **kw: _fake_planner(problem))
    out = tmp_path / "b"
    assert main(["plan", "--no-progress", "--out", str(out), "--tof-guess-days", "300"]) == 1
    s = json.loads((out / "summary.json").read_text())
    assert s["ephemeris"]["name"] == "builtin"
    from bliss.guidance.problem import departure_state

    np.testing.assert_allclose(s["departure"]["state"], departure_state(s["departure"]["t_tdb_s"]), rtol=1e-15)


def test_ephem_de421_missing_exits_2_with_install_hint_and_no_files(tmp_path, capsys, monkeypatch):
    import sys

    import sim.ephemeris

    monkeypatch.setattr(sim.ephemeris, "_DE421", None)
    monkeypatch.setitem(sys.modules, "de421", None)  # "import de421" raises ImportError
    out = tmp_path / "out"
    rc = main(["plan", "--no-progress", "--out", str(out), "--ephem", "de421"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and err.startswith("bliss: error: --ephem de421")
    assert "pip install -e '.[de421]'" in err
    assert not out.exists()


@pytest.mark.parametrize("name", ["apophis", "99942", "(99942) Apophis"])
def test_named_target_apophis_is_the_mpc_orbit(name):
    """--target apophis: MPC MPO469004 elements (a 0.9225169 AU, e 0.1914724, i 3.33690, RAAN 204.05444,
    argp 126.67983, M 236.64021 deg at JD 2458666.5; ../shared/data/smallbodies) give, at the epoch, the
    position of an independent Kepler solve (Newton on E - e sin E = M) to 1 m."""
    from sim.constants import GM_SUN
    from sim.kepler import coe2rv

    target = plan_cli.named_target(name)
    assert target.name == "Apophis"
    e, M = 0.1914724, math.radians(236.64021)
    E = M
    for _ in range(50):
        E -= (E - e * math.sin(E) - M) / (1 - e * math.cos(E))
    nu = 2 * math.atan2(math.sqrt(1 + e) * math.sin(E / 2), math.sqrt(1 - e) * math.cos(E / 2))
    from sim.constants import AU

    r_ref, v_ref = coe2rv(GM_SUN, 0.9225169 * AU, e, math.radians(3.33690), math.radians(204.05444),
                          math.radians(126.67983), nu)
    r, v = target.state((2458666.5 - 2451545.0) * 86400.0)  # the epoch, TDB s past J2000
    assert np.linalg.norm(r - r_ref) < 1.0 and np.linalg.norm(v - v_ref) < 1e-6


def test_first_run_says_it_compiles_and_later_runs_do_not(tmp_path, capsys, monkeypatch):
    """The note is printed when numba's cache holds no index of the planner's kernels (rendezvous law and
    optimiser), and not once it does (planners stood in by the fast fake)."""
    from numba.core import config

    monkeypatch.setattr(config, "CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(pipeline, "fly_feedback", lambda problem, progress=None: _fake_planner(problem))
    monkeypatch.setattr(pipeline, "minimise_time", lambda problem, warm, **kw: _fake_planner(problem))
    argv = ["plan", "--no-progress", "--date", "2028-07-01"]
    assert not plan_cli.kernels_cached()
    main([*argv, "--out", str(tmp_path / "a")])
    assert "compiling numerical kernels, first run only" in capsys.readouterr().err
    # numba's layout: a folder per source folder, an index file per kernel
    for folder, name in (("fsw_x", "rendezvous._gauss-115.py311.nbi"), ("optimise_x", "kernels.shoot-158.py311.nbi")):
        (tmp_path / "cache" / folder).mkdir(parents=True, exist_ok=True)
        assert not plan_cli.kernels_cached()  # both are needed
        (tmp_path / "cache" / folder / name).write_bytes(b"")
    assert plan_cli.kernels_cached()
    main([*argv, "--out", str(tmp_path / "b")])
    assert "compiling" not in capsys.readouterr().err


def test_a_failing_plot_process_exits_1_with_one_line_and_no_files(tmp_path, capsys, monkeypatch):
    """The plots are drawn in a process forked at the command's start (bliss.plots.plan_job): if drawing
    fails there, the command says so in one line, exits 1 and publishes none of the products."""
    import bliss.plots.plan as plots

    def broken(paths, data, groups=(0, 1)):
        raise ValueError("cannot draw this")

    monkeypatch.setattr(plots, "draw_plan_plots", broken)
    monkeypatch.setattr(pipeline, "fly_feedback", lambda problem, progress=None: _fake_planner(problem))
    monkeypatch.setattr(pipeline, "minimise_time", lambda problem, warm, **kw: _fake_planner(problem))
    out = tmp_path / "p"
    rc = main(["plan", "--no-progress", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 1
    assert "ValueError: cannot draw this" in err and "no files written" in err and "Traceback" not in err
    assert not out.exists()
    assert not any(tmp_path.iterdir())  # no temporary folder left behind either
