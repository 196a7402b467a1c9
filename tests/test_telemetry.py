"""bliss.io.telemetry: schema, batching, reader, resume, export (CSV and Parquet, all files or none)."""
import csv
import json
import sqlite3

import numpy as np
import pyarrow.parquet as pq
import pytest

from bliss.io.telemetry import (
    BenchEvent, TelemetryError, TelemetryReader, TelemetryWriter, export_run,
)

COLS = ("err_pointing_rad", "pos_0", "pos_1", "pos_2")


def _run(path, n=25, batch_rows=10):
    w = TelemetryWriter(path, COLS, {"seed": 7, "backend": "test"}, batch_rows=batch_rows, batch_s=60.0)
    for i in range(n):
        w.cycle(0.1 * i, {"err_pointing_rad": 1e-3 * i, "pos_0": i, "pos_1": -i, "pos_2": None})
        if i == 12:
            w.event(BenchEvent(0.1 * i, "axis_failed", 1, "STUCK at 12"))
            w.checkpoint(0.1 * i, {"cycle": i, "q": [0.0, 0.0, 0.0, 1.0]})
    return w


def test_wal_mode_and_schema(tmp_path):
    p = tmp_path / "run.sqlite"
    w = _run(p)
    db = sqlite3.connect(p)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    types = {r[1]: r[2] for r in db.execute("PRAGMA table_info(cycles)")}
    assert types == {"cycle": "INTEGER", "t": "REAL", **{c: "REAL" for c in COLS}}
    db.close()
    w.close()


def test_batches_commit_every_batch_rows(tmp_path):
    p = tmp_path / "run.sqlite"
    w = TelemetryWriter(p, COLS, batch_rows=10, batch_s=60.0)
    for i in range(9):
        w.cycle(float(i), {"pos_0": i})
    with TelemetryReader(p) as rd:
        assert rd.count("cycles") == 0  # the batch is not full yet
    w.cycle(9.0, {"pos_0": 9})
    with TelemetryReader(p) as rd:
        assert rd.count("cycles") == 10
    w.cycle(10.0, {"pos_0": 10})
    w.event(BenchEvent(10.0, "link_lost"))  # an event commits what waits before it
    with TelemetryReader(p) as rd:
        assert rd.count("cycles") == 11 and rd.count("events") == 1
    w.close()


def test_batches_commit_after_batch_s(tmp_path):
    p = tmp_path / "run.sqlite"
    w = TelemetryWriter(p, COLS, batch_rows=1000, batch_s=1e-9)  # every row is past the time limit
    w.cycle(0.0, {"pos_0": 1})
    with TelemetryReader(p) as rd:
        assert rd.count("cycles") == 1
    w.close()


def test_reader_round_trip(tmp_path):
    p = tmp_path / "run.sqlite"
    _run(p).close()
    with TelemetryReader(p) as rd:
        assert rd.metadata == {"seed": 7, "backend": "test"} and rd.columns == COLS
        rows = list(rd.cycles())
        assert len(rows) == 25 and rows[3] == {"cycle": 4, "t": 0.1 * 3, "err_pointing_rad": 3e-3,
                                               "pos_0": 3.0, "pos_1": -3.0, "pos_2": None}
        arr = rd.cycle_arrays()
        np.testing.assert_array_equal(arr["pos_1"], -np.arange(25.0))
        assert np.isnan(arr["pos_2"]).all()
        assert list(rd.events()) == [BenchEvent(1.2000000000000002, "axis_failed", 1, "STUCK at 12")]
        cp = rd.last_checkpoint()
        assert cp.t == pytest.approx(1.2) and cp.state == {"cycle": 12, "q": [0.0, 0.0, 0.0, 1.0]}
        assert rd.span() == (0.0, pytest.approx(2.4))


def test_bad_writes_are_refused(tmp_path):
    with pytest.raises(TelemetryError, match="column name 'Bad Name'"):
        TelemetryWriter(tmp_path / "a.sqlite", ("Bad Name",))
    with pytest.raises(TelemetryError, match="declared twice"):
        TelemetryWriter(tmp_path / "b.sqlite", ("x", "x"))
    w = TelemetryWriter(tmp_path / "c.sqlite", ("x",))
    with pytest.raises(TelemetryError, match="undeclared column"):
        w.cycle(0.0, {"y": 1.0})
    with pytest.raises(TelemetryError, match="exists"):
        TelemetryWriter(tmp_path / "c.sqlite", ("x",))
    w.close()


def test_reader_refuses_what_is_not_telemetry(tmp_path):
    with pytest.raises(TelemetryError, match="not found"):
        TelemetryReader(tmp_path / "missing.sqlite")
    junk = tmp_path / "junk.sqlite"
    junk.write_text("hello, not a database\n" * 100)
    with pytest.raises(TelemetryError, match="not a BLISS telemetry database"):
        TelemetryReader(junk)
    other = tmp_path / "other.sqlite"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE x (a)")
    db.commit()
    db.close()
    with pytest.raises(TelemetryError, match="not a BLISS telemetry database"):
        TelemetryReader(other)


def test_resume_drops_what_comes_after_the_checkpoint(tmp_path):
    p = tmp_path / "run.sqlite"
    _run(p).close()
    with TelemetryReader(p) as rd:
        cp = rd.last_checkpoint()
    w = TelemetryWriter.resume(p, after_t=cp.t, batch_rows=5)
    for i in range(13, 20):
        w.cycle(0.1 * i, {"pos_0": 100 + i})
    w.close()
    with TelemetryReader(p) as rd:
        rows = list(rd.cycles())
        assert [r["pos_0"] for r in rows] == list(range(13)) + [100.0 + i for i in range(13, 20)]
        ev = list(rd.events())
        assert ev[-1].kind == "resumed" and "dropped 12 cycle(s)" in ev[-1].detail


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export(tmp_path, fmt):
    p = tmp_path / "run.sqlite"
    _run(p).close()
    out = tmp_path / "out"
    files = export_run(p, out, fmt)
    assert sorted(f.name for f in files) == sorted([f"cycles.{fmt}", f"events.{fmt}", "run.json"])
    assert sorted(x.name for x in out.iterdir()) == sorted(f.name for f in files)  # no temp files left
    run = json.loads((out / "run.json").read_text())
    assert run["cycles"] == 25 and run["metadata"]["seed"] == 7
    if fmt == "csv":
        with open(out / "cycles.csv") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == 25 and float(rows[5]["pos_1"]) == -5.0 and rows[5]["pos_2"] == ""
        assert float(rows[7]["t"]) == 0.1 * 7  # repr: the float comes back exactly
        with open(out / "events.csv") as f:
            ev = list(csv.DictReader(f))
        assert ev == [{"t": repr(0.1 * 12), "kind": "axis_failed", "axis": "1", "detail": "STUCK at 12"}]
    else:
        tab = pq.read_table(out / "cycles.parquet")
        assert tab.num_rows == 25 and tab.column("pos_1").to_pylist()[5] == -5.0
        assert json.loads(tab.schema.metadata[b"bliss_run"])["columns"] == list(COLS)
        ev = pq.read_table(out / "events.parquet").to_pylist()
        assert ev == [{"t": 0.1 * 12, "kind": "axis_failed", "axis": 1, "detail": "STUCK at 12"}]


def test_export_failure_leaves_nothing(tmp_path):
    p = tmp_path / "run.sqlite"
    _run(p).close()
    out = tmp_path / "out"
    with pytest.raises(TelemetryError):
        export_run(p, out, "xlsx")
    with pytest.raises(TelemetryError):
        export_run(tmp_path / "nope.sqlite", out, "csv")
    assert not out.exists()
