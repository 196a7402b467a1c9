"""Monte Carlo campaigns: reproducible runs, resume, failure listing, loopback-only local cluster, and a
hand-started `dask scheduler` + `dask worker` giving the same results as the local cluster.

A short synthetic mission keeps the runs cheap: the 10 g ideal sail from Earth on 2030-11-21, a fixed
10-segment open-loop schedule of 100 days, Bennu as the target (the miss is large; what is tested is
that the runs are the same bits wherever they run)."""
from __future__ import annotations

import csv
import shutil
import socket
import subprocess
import sys

from pathlib import Path

import numpy as np
import pytest

from bliss.distributed import open_client
from bliss.guidance.problem import Limits, Target, TransferProblem, departure_state
from bliss.montecarlo import dispersions
from bliss.montecarlo.campaign import read_results, run_campaign, run_one
from bliss.montecarlo.flight import fly_closed_loop
from bliss.scenarios.model import ErrorsSpec
from sim.constants import DAY
from sim.ephemeris import BENNU
from sim.sail import Sail

T0 = 9.64e8  # TDB s past J2000, 2030-07-20
ERRORS = ErrorsSpec(departure_position_km=100.0, departure_velocity_m_s=0.1, nav_position_km=10.0,
                    nav_velocity_m_s=0.01, pointing_deg=1.0, optics_degradation=0.02, mass_fraction=0.01,
                    area_fraction=0.01)


@pytest.fixture(scope="module")
def problem():
    return TransferProblem(sail=Sail(), t_depart=T0, y_depart=departure_state(T0), target=Target("Bennu", body=BENNU),
                           limits=Limits())


@pytest.fixture(scope="module")
def nominal():
    n = 10
    return {"t": T0 + np.linspace(0.0, 100 * DAY, n + 1), "mode": np.ones(n, np.int64),
            "att": np.column_stack([np.full(n, 0.6), np.linspace(-0.3, 0.3, n), np.zeros(n)])}


@pytest.fixture(scope="module")
def client():
    with open_client(n_workers=2) as c:
        yield c


def _strip(rows):
    return [{k: v for k, v in r.items() if k != "wall_s"} for r in rows]


def test_same_seed_same_run_different_seed_different_run(problem, nominal):
    a = run_one(problem, ERRORS, 7, 3, "open", nominal)
    b = run_one(problem, ERRORS, 7, 3, "open", nominal)
    c = run_one(problem, ERRORS, 8, 3, "open", nominal)
    d = run_one(problem, ERRORS, 7, 4, "open", nominal)
    assert a["status"] == "ok", a["error"]
    assert _strip([a]) == _strip([b])
    assert a["miss_km"] != c["miss_km"] and a["miss_km"] != d["miss_km"]
    # the draw of run i does not depend on the other runs: SeedSequence(seed, spawn_key=(i,)) is spawn()'s i-th child
    child = np.random.SeedSequence(7).spawn(5)[3]
    assert child.generate_state(4).tolist() == dispersions.run_seed(7, 3).generate_state(4).tolist()


def test_closed_loop_run_is_reproducible(problem):
    runs = [fly_closed_loop(problem, dispersions.draw(ERRORS, 11, 0), max_years=0.05) for _ in range(2)]
    assert runs[0] == runs[1]
    assert runs[0]["tof_days"] == pytest.approx(0.05 * 365.25, abs=1.01)


def test_dispersions_follow_the_scenario_sigmas():
    rows = [dispersions.draw(ERRORS, 1, i) for i in range(400)]
    mass = np.array([r.mass_factor for r in rows])
    loss = np.array([r.reflectivity_loss for r in rows])
    dr = np.concatenate([r.dr0 for r in rows])
    assert abs(mass.std() - 0.01) < 0.0015 and abs(mass.mean() - 1.0) < 0.0015
    assert np.all(loss >= 0) and abs(loss.mean() - 0.02 * np.sqrt(2 / np.pi)) < 0.002  # half-normal mean
    assert abs(dr.std() - 100e3) < 8e3
    none = dispersions.draw(ErrorsSpec(), 1, 0)
    assert none.sail(Sail()) == Sail(optics=none.sail(Sail()).optics) and none.sail(Sail()).optics.reflectivity == 1.0


def test_campaign_resumes_and_lists_failures(client, problem, nominal, tmp_path):
    out = tmp_path / "mc"
    c1 = run_campaign(client, problem, ERRORS, "t", 4, 5, "open", out, nominal, log=lambda m: None, fail_index=2)
    assert c1 == {"n_total": 4, "n_new": 4, "n_failed": 1}
    c2 = run_campaign(client, problem, ERRORS, "t", 7, 5, "open", out, nominal, log=lambda m: None)
    assert c2 == {"n_total": 7, "n_new": 3, "n_failed": 1}  # runs 0-3 skipped; the failed run is kept, not retried
    rows = read_results(out).to_pylist()
    assert [r["run"] for r in rows] == list(range(7))
    with open(out / "failures.csv", newline="") as fh:
        failures = list(csv.reader(fh))
    assert failures[0] == ["run", "seed", "mode", "error"] and len(failures) == 2
    assert failures[1][:3] == ["2", "5", "open"] and failures[1][3].startswith("RuntimeError: planted failure in run 2")
    # the resumed campaign equals one flown in one go (and in-process runs)
    fresh = [run_one(problem, ERRORS, 5, i, "open", nominal) for i in (0, 1, 3, 4, 5, 6)]
    assert _strip([r for r in rows if r["run"] != 2]) == _strip(fresh)
    with pytest.raises(ValueError, match="holds a campaign with seed=5"):
        run_campaign(client, problem, ERRORS, "t", 7, 6, "open", out, nominal, log=lambda m: None)


def _non_loopback_ip():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent for a UDP connect
        ip = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if ip.startswith("127.") else ip


def test_default_cluster_listens_on_loopback_only(client):
    addr = client.scheduler.address
    assert addr.startswith("tcp://127.0.0.1:"), addr
    workers = client.scheduler_info()["workers"]
    assert workers and all(w.startswith("tcp://127.0.0.1:") for w in workers), list(workers)
    assert "127.0.0.1" in client.dashboard_link
    ip = _non_loopback_ip()
    if ip is None:
        pytest.skip("this machine has no non-loopback IPv4 address to try")
    port = int(addr.rsplit(":", 1)[1])
    dash_port = int(client.dashboard_link.split(":")[2].split("/")[0])
    for p in (port, dash_port):
        with socket.socket() as s:
            s.settimeout(2.0)
            assert s.connect_ex((ip, p)) != 0, f"port {p} answers on {ip}"
    with socket.socket() as s:  # and the scheduler does answer on loopback (the check above can fail)
        s.settimeout(2.0)
        assert s.connect_ex(("127.0.0.1", port)) == 0


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_hand_started_scheduler_gives_identical_results(client, problem, nominal, tmp_path):
    dask = Path(sys.executable).with_name("dask")
    if not dask.exists():
        dask = shutil.which("dask")
    assert dask, "the dask command (dask[distributed]) is not installed"
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = [open(tmp_path / f"{n}.log", "w") for n in ("scheduler", "worker")]
    procs = [subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=logs[0], stderr=subprocess.STDOUT)]
    try:
        procs.append(subprocess.Popen([str(dask), "worker", address, "--nthreads", "1", "--nworkers", "1",
                                       "--host", "127.0.0.1", "--no-dashboard"], stdout=logs[1],
                                      stderr=subprocess.STDOUT))
        with open_client(address) as remote:
            remote.wait_for_workers(1, timeout=120)
            run_campaign(remote, problem, ERRORS, "t", 5, 21, "open", tmp_path / "remote", nominal, log=lambda m: None)
        run_campaign(client, problem, ERRORS, "t", 5, 21, "open", tmp_path / "local", nominal, log=lambda m: None)
        a = _strip(read_results(tmp_path / "remote").to_pylist())
        b = _strip(read_results(tmp_path / "local").to_pylist())
        assert len(a) == 5 and all(r["status"] == "ok" for r in a)
        assert a == b
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        for f in logs:
            f.close()



def test_interrupted_campaign_keeps_finished_runs_and_resumes(client, problem, nominal, tmp_path, monkeypatch):
    import bliss.montecarlo.campaign as campaign

    monkeypatch.setattr(campaign, "FLUSH_ROWS", 2)

    def interrupt(msg):
        if "runs finished" in msg:
            raise KeyboardInterrupt

    out = tmp_path / "mc"
    with pytest.raises(KeyboardInterrupt):
        run_campaign(client, problem, ERRORS, "t", 8, 3, "open", out, nominal, log=interrupt)
    kept = read_results(out).num_rows
    assert 2 <= kept < 8
    c = run_campaign(client, problem, ERRORS, "t", 8, 3, "open", out, nominal, log=lambda m: None)
    assert c["n_new"] == 8 - kept and c["n_total"] == 8
    rows = read_results(out).to_pylist()
    assert [r["run"] for r in rows] == list(range(8))
    assert _strip(rows) == _strip([run_one(problem, ERRORS, 3, i, "open", nominal) for i in range(8)])
