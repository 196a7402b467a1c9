"""A Monte Carlo campaign: N independent runs of a scenario as Dask tasks, streamed to Parquet.

Layout of the output folder::

    campaign.json          what the campaign is (scenario, mode, seed); a resume must match it
    nominal.json           the nominal schedule flown open loop (kept, so a resume flies the same one)
    runs/part-*.parquet    result rows, one file per flush, each written to a temporary name and renamed
    failures.csv           every failed run: index, seed, error (also rows with status "failed")

Rows are flushed every ``FLUSH_ROWS`` finished runs or ``FLUSH_S`` seconds, so an interruption loses at
most the runs in flight; a resumed campaign reads the part files and submits only the run indices not
in them. A run that raises is recorded with its seed and error (status "failed"), never dropped, and
not retried on resume (re-run it alone with its seed to debug).
"""
from __future__ import annotations

import json
import time
import traceback
import uuid
from pathlib import Path

import numpy as np

from bliss.montecarlo import attitude, dispersions
from bliss.montecarlo.flight import fly_closed_loop, fly_open_loop

#: open: the planned schedule; closed: the feedback laws; attitude: the attitude span in the closed SIL
MODES = ("open", "closed", "attitude")
FLUSH_ROWS = 20
FLUSH_S = 10.0
_KEYS = ("run", "seed", "mode", "status", "error")
COLUMNS = _KEYS + ("tof_days", "miss_km", "miss_m_s", "converged", "end", "wall_s") + dispersions.PARAMETERS
ATTITUDE_COLUMNS = _KEYS + attitude.OUTCOMES + ("wall_s",) + attitude.PARAMETERS


def columns(mode: str) -> tuple:
    """Result columns of a campaign in ``mode``."""
    return ATTITUDE_COLUMNS if mode == "attitude" else COLUMNS


class CampaignMismatch(ValueError):
    """The output folder holds a different campaign."""


def run_one(problem, errors, seed: int, index: int, mode: str, nominal=None, fail_index=None) -> dict:
    """Run ``index`` of the campaign (a Dask task): a result row; exceptions become a failed row.
    ``nominal``: the open loop's schedule, or the attitude mode's span (``attitude.fly_run``).
    ``fail_index``: raise in that run (tests of the failure listing)."""
    t0 = time.perf_counter()
    row = {"run": int(index), "seed": int(seed), "mode": mode, "status": "ok", "error": ""}
    try:
        if fail_index is not None and int(index) == int(fail_index):
            raise RuntimeError(f"planted failure in run {index}")
        if mode == "attitude":
            row.update(attitude.fly_run(problem, errors, nominal, seed, index))
            row["wall_s"] = time.perf_counter() - t0
            return {c: row.get(c) for c in ATTITUDE_COLUMNS}
        disp = dispersions.draw(errors, seed, index)
        if mode == "open":
            out = fly_open_loop(problem, nominal["t"], nominal["mode"], nominal["att"], disp)
        else:
            out = fly_closed_loop(problem, disp)
        row.update(out)
        row.update(disp.row())
    except Exception as exc:  # noqa: BLE001 - a failed run is data: recorded with its seed, never dropped
        row.update(status="failed", error=f"{type(exc).__name__}: {exc} | "
                                          f"{traceback.format_exc(limit=3).splitlines()[-2].strip()}")
    row["wall_s"] = time.perf_counter() - t0
    return {c: row.get(c) for c in columns(mode)}


def _schema(mode: str):
    import pyarrow as pa

    types = {"run": pa.int64(), "seed": pa.int64(), "mode": pa.string(), "status": pa.string(),
             "error": pa.string(), "converged": pa.bool_(), "end": pa.string(), "reason": pa.string(),
             "slews": pa.int64(), "safe_mode_entries": pa.int64(), "fault_events": pa.int64(),
             "fault_axis": pa.int64()}
    return pa.schema([(c, types.get(c, pa.float64())) for c in columns(mode)])


def read_results(out_dir):
    """All rows written so far (a pyarrow Table, sorted by run) or None."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = sorted((Path(out_dir) / "runs").glob("part-*.parquet"))
    if not parts:
        return None
    table = pa.concat_tables([pq.read_table(p) for p in parts])
    return table.sort_by("run")


def _flush(out_dir: Path, rows: list, counter: list, mode: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not rows:
        return
    runs = out_dir / "runs"
    runs.mkdir(exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=_schema(mode))
    name = f"part-{int(time.time() * 1e6):017d}-{counter[0]:05d}.parquet"
    counter[0] += 1
    tmp = runs / (name + ".tmp")
    pq.write_table(table, tmp)
    tmp.replace(runs / name)
    rows.clear()


def _check_meta(out_dir: Path, meta: dict):
    p = out_dir / "campaign.json"
    if p.is_file():
        old = json.loads(p.read_text(encoding="utf-8"))
        for k in ("scenario", "mode", "seed"):
            if old.get(k) != meta[k]:
                raise CampaignMismatch(f"{out_dir} holds a campaign with {k}={old.get(k)!r}, not {meta[k]!r}: "
                                       f"use another --out or the same settings to resume")
        meta["n"] = max(int(old.get("n", 0)), meta["n"])
    tmp = p.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    tmp.replace(p)


def nominal_schedule(out_dir: Path, make) -> dict:
    """The open loop's nominal schedule: read from ``nominal.json`` if the campaign has one, else
    ``make()`` -> {"t", "mode", "att"} and saved."""
    p = out_dir / "nominal.json"
    if p.is_file():
        d = json.loads(p.read_text(encoding="utf-8"))
    else:
        d = {k: np.asarray(v).tolist() for k, v in make().items()}
        tmp = p.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(d) + "\n", encoding="utf-8")
        tmp.replace(p)
    return {"t": np.asarray(d["t"], float), "mode": np.asarray(d["mode"], np.int64),
            "att": np.asarray(d["att"], float)}


def run_campaign(client, problem, errors, scenario: str, n: int, seed: int, mode: str, out_dir,
                 nominal=None, log=print, fail_index=None) -> dict:
    """Run the campaign's runs 0..n-1 not yet in ``out_dir`` on ``client``; returns counts."""
    from dask.distributed import as_completed

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _check_meta(out_dir, {"scenario": scenario, "mode": mode, "seed": int(seed), "n": int(n)})
    done = read_results(out_dir)
    done_idx = set() if done is None else set(done.column("run").to_pylist())
    todo = [i for i in range(n) if i not in done_idx]
    log(f"montecarlo: {len(done_idx)} runs already done, {len(todo)} to run")
    rows, counter, last = [], [0], time.monotonic()
    if todo:
        # scatter the shared inputs once (not pickled into every task). hash=False: unique keys per call.
        # With content-hash keys a second campaign on the same client got the first one's keys, and the
        # first call's late release of them cancelled its tasks ("lost dependencies", seen once in the
        # suite's resume test).
        prob_f, err_f = client.scatter([problem, errors], broadcast=True, hash=False)
        nom_f = client.scatter(nominal, broadcast=True, hash=False) if nominal is not None else None
        token = uuid.uuid4().hex[:8]  # keys unique per submission: a resumed campaign never meets a stale key
        futures = [client.submit(run_one, prob_f, err_f, seed, i, mode, nom_f, fail_index, pure=False,
                                 key=f"mc-{scenario}-{mode}-s{seed}-r{i}-{token}") for i in todo]
        try:
            for k, fut in enumerate(as_completed(futures), 1):
                rows.append(fut.result())
                fut.release()
                if len(rows) >= FLUSH_ROWS or time.monotonic() - last > FLUSH_S:
                    _flush(out_dir, rows, counter, mode)
                    last = time.monotonic()
                    log(f"montecarlo: {k}/{len(todo)} runs finished")
        finally:
            _flush(out_dir, rows, counter, mode)  # whatever finished is kept, even on interruption
    table = read_results(out_dir)
    failed = [r for r in table.to_pylist() if r["status"] != "ok"]
    _write_failures(out_dir, failed)
    return {"n_total": table.num_rows, "n_new": len(todo), "n_failed": len(failed)}


def _write_failures(out_dir: Path, failed: list):
    import csv

    tmp = out_dir / "failures.csv.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["run", "seed", "mode", "error"])
        for r in failed:
            w.writerow([r["run"], r["seed"], r["mode"], r["error"]])
    tmp.replace(out_dir / "failures.csv")


def statistics(table) -> dict:
    """Median and 90th percentile of the miss and TOF over the successful runs (attitude runs: of the
    pointing error and the trajectory deviation, and the safe-mode count)."""
    ok = [r for r in table.to_pylist() if r["status"] == "ok"]
    if not ok:
        return {"n_ok": 0}
    if "pointing_error_rms_deg" in table.column_names:
        out = {"n_ok": len(ok), "n_failed": table.num_rows - len(ok),
               "runs_with_fault": int(sum(r["fault_axis"] >= 0 for r in ok)),
               "runs_with_safe_mode": int(sum(r["safe_mode_entries"] > 0 for r in ok))}
        for q in ("pointing_error_rms_deg", "pointing_error_max_deg", "trajectory_deviation_km"):
            v = np.array([r[q] for r in ok])
            out.update({f"{q}_median": float(np.median(v)), f"{q}_p90": float(np.percentile(v, 90)),
                        f"{q}_max": float(v.max())})
        return out
    miss = np.array([r["miss_km"] for r in ok])
    tof = np.array([r["tof_days"] for r in ok])
    return {"n_ok": len(ok), "n_failed": table.num_rows - len(ok),
            "closed_fraction": float(np.mean([bool(r["converged"]) for r in ok])),
            "miss_km_median": float(np.median(miss)), "miss_km_p90": float(np.percentile(miss, 90)),
            "miss_km_max": float(miss.max()),
            "tof_days_median": float(np.median(tof)), "tof_days_p90": float(np.percentile(tof, 90))}
