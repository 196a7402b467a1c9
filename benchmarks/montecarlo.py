"""Monte Carlo throughput: runs per second serial vs on a 2-worker local Dask cluster, and Dask's
per-task overhead (so a user knows the smallest task worth distributing).

Workload: closed-loop runs of a short feedback-law flight (the onboard executive flying 60 days from
Earth toward Bennu with every dispersion of the bennu-default scenario), the same seeds serial and on
the cluster (results compared bit for bit). Overhead: N no-op tasks through the same cluster.

    python benchmarks/montecarlo.py [--runs 24] [--days 60]

Prints the table and the machine load; save it in benchmarks/results/montecarlo.txt.
"""
from __future__ import annotations

import argparse
import time

from bliss.distributed import open_client
from bliss.montecarlo.campaign import COLUMNS
from bliss.montecarlo.dispersions import draw
from bliss.montecarlo.flight import fly_closed_loop
from bliss.scenarios.model import find
from bliss.scenarios.stages import make_problem
from sim.constants import DAY, JULIAN_YEAR


def one_run(problem, errors, seed, index, years):
    return fly_closed_loop(problem, draw(errors, seed, index), max_years=years)


def noop(x):
    return x


def loadavg() -> str:
    with open("/proc/loadavg") as fh:
        return fh.read().strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=24)
    ap.add_argument("--days", type=float, default=60.0)
    ap.add_argument("--noop-tasks", type=int, default=2000)
    a = ap.parse_args()
    sc = find("bennu-default")
    problem = make_problem(sc)
    years = a.days * DAY / JULIAN_YEAR
    one_run(problem, sc.errors, 0, 0, years)  # compile / warm the numba kernels in this process
    print(f"load before: {loadavg()}")
    t = time.perf_counter()
    serial = [one_run(problem, sc.errors, 1, i, years) for i in range(a.runs)]
    t_serial = time.perf_counter() - t
    with open_client(n_workers=2) as client:
        client.run(one_run, problem, sc.errors, 0, 0, years)  # warm every worker (numba cache load)
        pf, ef = client.scatter([problem, sc.errors], broadcast=True)
        t = time.perf_counter()
        futs = [client.submit(one_run, pf, ef, 1, i, years, pure=False) for i in range(a.runs)]
        dist = client.gather(futs)
        t_dist = time.perf_counter() - t
        t = time.perf_counter()
        client.gather([client.submit(noop, i, pure=False) for i in range(a.noop_tasks)])
        t_noop = time.perf_counter() - t
    same = serial == dist
    print(f"load after:  {loadavg()}")
    print(f"workload: {a.runs} closed-loop runs of {a.days:g} days (bennu-default dispersions); "
          f"result columns {len(COLUMNS)}")
    print(f"| setup | wall [s] | runs/s | speed-up |")
    print(f"|---|---|---|---|")
    print(f"| serial, 1 process | {t_serial:.2f} | {a.runs / t_serial:.3f} | 1.00 |")
    print(f"| Dask LocalCluster, 2 worker processes | {t_dist:.2f} | {a.runs / t_dist:.3f} | {t_serial / t_dist:.2f} |")
    print(f"identical results serial vs cluster: {same}")
    print(f"Dask per-task overhead (no-op task, {a.noop_tasks} tasks): {1e3 * t_noop / a.noop_tasks:.2f} ms/task; "
          f"one run here takes {1e3 * t_serial / a.runs:.0f} ms")


if __name__ == "__main__":
    main()
