"""Optimiser minimum times for a random sample of NEAs at one departure date (the survey's Spearman check).

Draws ``--n`` rows (seed ``--seed``) from the packaged catalogue, runs the survey's planner adapter
(``bliss.survey.refine.optimise_rendezvous``: crude starts at 250 and 500 days, as ``bliss plan``)
as Dask tasks, and appends one JSON line per object to ``--out`` as each finishes (nothing lost if the
run is stopped). ``benchmarks/survey_correlation.py`` compares these with the screen.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

from bliss.distributed import open_client
from bliss.survey.catalogue import load_catalogue
from bliss.survey.refine import optimise_rendezvous
from sim.constants import DAY
from sim.sail import Sail
from sim.timeconv import as_time, epoch_to_tdb_seconds

DATE = "2030-11-21T00:00:00 TDB"   # bliss plan's default departure


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=120)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--out", default="benchmarks/results/survey_sample.jsonl")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    cat = load_catalogue()
    rng = np.random.default_rng(a.seed)
    idx = rng.choice(len(cat), size=a.n, replace=False)
    t_dep = float(epoch_to_tdb_seconds(as_time(DATE)))
    done = set()
    if os.path.exists(a.out):
        with open(a.out) as f:
            done = {json.loads(line)["designation"] for line in f if line.strip()}
    sail = Sail()
    with open_client(n_workers=a.workers) as client, open(a.out, "a") as f:
        futs = {}
        for k in idx:
            name = cat.designation[k]
            if name in done:
                continue
            futs[client.submit(optimise_rendezvous, sail, cat.elements[k], t_dep, [250 * DAY, 500 * DAY],
                               pure=False)] = (int(k), name)
        from distributed import as_completed
        for fut in as_completed(futs):
            k, name = futs[fut]
            r = fut.result()
            r.update(designation=name, row=k, t_depart=t_dep)
            f.write(json.dumps(r) + "\n")
            f.flush()
            print(name, r["tof_s"] / DAY, r["converged"], f"{r['seconds']:.1f}s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
