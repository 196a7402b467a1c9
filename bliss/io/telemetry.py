"""The bench's telemetry store: one run in one SQLite file (stdlib ``sqlite3``), schema in docs/bench.md.

:class:`TelemetryWriter` creates the file with the run's metadata (JSON) and the names of its cycle
columns (all REAL, declared at run start, e.g. ``q_true_0``, ``err_pointing_rad``), then takes
control cycles, events and checkpoints. The file is in write-ahead-log mode; cycles are buffered and
committed in batches (``batch_rows`` rows or ``batch_s`` seconds, whichever comes first), so a killed
writer loses at most the cycles of the batch it had not committed yet (measured in
tests/test_telemetry_kill.py). Events and checkpoints commit at once, with everything pending before
them. :class:`TelemetryReader` reads a finished (or killed) run: metadata, cycles, events, the last
checkpoint. :func:`export_run` writes CSV or Parquet (``pyarrow``), all files or none.
"""
from __future__ import annotations

import csv
import json
import math
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .atomic import OutputSet

__all__ = ["BenchEvent", "Checkpoint", "TelemetryError", "TelemetryWriter", "TelemetryReader",
           "export_run", "FORMAT", "SCHEMA_VERSION", "POINTING_ERROR", "actuator_columns"]

#: Marker in the ``meta`` table that says a file is a BLISS telemetry store, and its schema version.
FORMAT = "bliss-telemetry"
SCHEMA_VERSION = 1
#: Column names the bench's plots look for (docs/bench.md): the angle between the commanded and the
#: true sail normal [rad], and per axis the board's reported position / the commanded target [steps].
POINTING_ERROR = "pointing_err_rad"


def actuator_columns(n_axes: int = 3) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(positions, targets) column names of ``n_axes`` inchworm axes: ``act_pos_K``, ``act_target_K``."""
    return tuple(f"act_pos_{k}" for k in range(n_axes)), tuple(f"act_target_{k}" for k in range(n_axes))


_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_RESERVED = {"t", "cycle"}


class TelemetryError(ValueError):
    """A file is not a telemetry store this code can read, or a write does not fit its schema."""


@dataclass(frozen=True)
class BenchEvent:
    """Something that happened on the bench: ``t`` [s, the run's clock], ``kind`` (e.g. ``axis_failed``,
    ``link_lost``, ``board_reset``), ``axis`` (None: not about one axis) and a one-line ``detail``."""

    t: float
    kind: str
    axis: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Checkpoint:
    """State saved for resuming: ``t`` [s] and a JSON-able dict."""

    t: float
    state: dict


def _schema(columns: Sequence[str]) -> list[str]:
    cols = "".join(f', "{c}" REAL' for c in columns)
    return [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE runs (id INTEGER PRIMARY KEY, created_utc TEXT NOT NULL, metadata TEXT NOT NULL)",
        "CREATE TABLE cycle_columns (position INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)",
        f"CREATE TABLE cycles (cycle INTEGER PRIMARY KEY, t REAL NOT NULL{cols})",
        "CREATE TABLE events (id INTEGER PRIMARY KEY, t REAL NOT NULL, kind TEXT NOT NULL, axis INTEGER,"
        " detail TEXT NOT NULL)",
        "CREATE TABLE checkpoints (id INTEGER PRIMARY KEY, t REAL NOT NULL, state TEXT NOT NULL)",
        "CREATE INDEX cycles_t ON cycles (t)",
        "CREATE INDEX events_t ON events (t)",
    ]


def _check_columns(columns: Sequence[str]) -> tuple[str, ...]:
    cols = tuple(columns)
    for c in cols:
        if not isinstance(c, str) or not _NAME.match(c) or c in _RESERVED:
            raise TelemetryError(f"cycle column name {c!r}: use lower-case letters, digits and '_' (not "
                                 f"starting with a digit, at most 63 characters, not {sorted(_RESERVED)})")
    if len(set(cols)) != len(cols):
        dup = sorted({c for c in cols if cols.count(c) > 1})
        raise TelemetryError(f"cycle columns declared twice: {dup}")
    return cols


class TelemetryWriter:
    """Write one run to ``path`` (a new file; :meth:`resume` reopens one).

    ``batch_rows``/``batch_s``: commit the buffered cycles when this many are waiting or this long
    [s, ``time.monotonic``] after the last commit, whichever comes first. ``synchronous``: SQLite's
    ``PRAGMA synchronous`` (``NORMAL``: a commit survives the process being killed; ``FULL``: also a
    power loss, at an fsync per commit)."""

    def __init__(self, path: str | os.PathLike, columns: Sequence[str], metadata: Mapping | None = None,
                 *, batch_rows: int = 100, batch_s: float = 1.0, synchronous: str = "NORMAL",
                 _resume: bool = False):
        if batch_rows < 1 or not batch_s > 0:
            raise TelemetryError(f"need batch_rows >= 1 and batch_s > 0, got {batch_rows}, {batch_s}")
        self.path = Path(path)
        self.batch_rows = int(batch_rows)
        self.batch_s = float(batch_s)
        if not _resume:
            cols = _check_columns(columns)
            meta_json = json.dumps(dict(metadata or {}), sort_keys=True, allow_nan=False)
            if self.path.exists():
                raise TelemetryError(f"telemetry file {str(self.path)!r} exists; choose a new file or resume it")
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        if synchronous not in ("NORMAL", "FULL"):
            raise TelemetryError(f"synchronous must be NORMAL or FULL, got {synchronous!r}")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        if _resume:
            self.columns = TelemetryReader._columns_of(self._db, self.path)
        else:
            self.columns = cols
            with self._transaction():
                for stmt in _schema(cols):
                    self._db.execute(stmt)
                self._db.executemany("INSERT INTO meta VALUES (?, ?)",
                                     [("format", FORMAT), ("schema_version", str(SCHEMA_VERSION))])
                self._db.execute("INSERT INTO runs VALUES (1, ?, ?)",
                                 (datetime.now(timezone.utc).isoformat(), meta_json))
                self._db.executemany("INSERT INTO cycle_columns VALUES (?, ?)", list(enumerate(cols)))
        names = ", ".join(f'"{c}"' for c in ("t",) + self.columns)
        self._insert_cycle = (f"INSERT INTO cycles ({names}) VALUES "
                              f"({', '.join('?' * (1 + len(self.columns)))})")
        self._pending: list[tuple] = []
        self._last_commit = time.monotonic()
        self.committed_cycles = self._db.execute("SELECT COUNT(*) FROM cycles").fetchone()[0]

    @classmethod
    def resume(cls, path: str | os.PathLike, after_t: float | None = None, **kw) -> "TelemetryWriter":
        """Reopen a run to continue it. With ``after_t`` (the resumed checkpoint's time) the cycles and
        events later than it, which the resumed run will produce again, are deleted first; an event
        ``resumed`` records how many."""
        TelemetryReader(path).close()  # validates the file
        w = cls(path, (), None, _resume=True, **kw)
        if after_t is not None:
            with w._transaction():
                nc = w._db.execute("DELETE FROM cycles WHERE t > ?", (after_t,)).rowcount
                ne = w._db.execute("DELETE FROM events WHERE t > ?", (after_t,)).rowcount
                w._db.execute("DELETE FROM checkpoints WHERE t > ?", (after_t,))
            w.committed_cycles -= nc
            w.event(BenchEvent(after_t, "resumed", None, f"from t={after_t!r}: dropped {nc} cycle(s) and "
                                                         f"{ne} event(s) after it"))
        return w

    # ---- writing ---------------------------------------------------------------------------------
    def cycle(self, t: float, values: Mapping[str, float]) -> None:
        """One control cycle at ``t`` [s]: a value for some or all declared columns (missing: NULL).
        Unknown names are an error; values must be real numbers (NaN is stored as NULL)."""
        unknown = set(values) - set(self.columns)
        if unknown:
            raise TelemetryError(f"cycle has undeclared column(s) {sorted(unknown)}; declared at run start: "
                                 f"{list(self.columns)}")
        row = [float(t)]
        for c in self.columns:
            v = values.get(c)
            v = None if v is None else float(v)
            row.append(None if v is not None and math.isnan(v) else v)
        self._pending.append(tuple(row))
        if len(self._pending) >= self.batch_rows or time.monotonic() - self._last_commit >= self.batch_s:
            self.flush()

    def event(self, ev: BenchEvent) -> None:
        """Record an event; committed at once, with every cycle waiting before it."""
        with self._transaction():
            self._write_pending()
            self._db.execute("INSERT INTO events (t, kind, axis, detail) VALUES (?, ?, ?, ?)",
                             (float(ev.t), str(ev.kind), None if ev.axis is None else int(ev.axis),
                              str(ev.detail)))

    def checkpoint(self, t: float, state: Mapping) -> None:
        """Save ``state`` (JSON-able) for resuming; committed at once, with every cycle before it."""
        blob = json.dumps(dict(state), sort_keys=True, allow_nan=False)
        with self._transaction():
            self._write_pending()
            self._db.execute("INSERT INTO checkpoints (t, state) VALUES (?, ?)", (float(t), blob))

    def flush(self) -> None:
        """Commit the buffered cycles now."""
        with self._transaction():
            self._write_pending()

    def close(self) -> None:
        if self._db is not None:
            self.flush()
            self._db.close()
            self._db = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _write_pending(self) -> None:
        if self._pending:
            self._db.executemany(self._insert_cycle, self._pending)
            self.committed_cycles += len(self._pending)
            self._pending.clear()

    def _transaction(self):
        if self._db is None:
            raise TelemetryError(f"telemetry writer for {str(self.path)!r} is closed")
        writer = self

        class _Tx:
            def __enter__(self):
                writer._db.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, exc, tb):
                if exc_type is None:
                    writer._db.execute("COMMIT")
                    writer._last_commit = time.monotonic()
                else:
                    writer._db.execute("ROLLBACK")
                return False

        return _Tx()


class TelemetryReader:
    """Read the run in ``path``; raises :class:`TelemetryError` with a one-line reason if the file is
    missing or is not a telemetry store."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_file():
            raise TelemetryError(f"telemetry file {str(self.path)!r} not found; give the .sqlite file a run wrote")
        try:
            self._db = sqlite3.connect(f"file:{self.path.resolve()}?mode=ro", uri=True)
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise TelemetryError(f"{str(self.path)!r} is not a BLISS telemetry database ({exc})") from None
        if meta.get("format") != FORMAT:
            self._db.close()
            raise TelemetryError(f"{str(self.path)!r} is not a BLISS telemetry database (no format marker)")
        if meta.get("schema_version") != str(SCHEMA_VERSION):
            self._db.close()
            raise TelemetryError(f"{str(self.path)!r} has telemetry schema version {meta.get('schema_version')};"
                                 f" this program reads version {SCHEMA_VERSION}")
        self.columns = self._columns_of(self._db, self.path)
        row = self._db.execute("SELECT created_utc, metadata FROM runs WHERE id = 1").fetchone()
        self.created_utc, self.metadata = row[0], json.loads(row[1])

    @staticmethod
    def _columns_of(db, path) -> tuple[str, ...]:
        try:
            return tuple(r[0] for r in db.execute("SELECT name FROM cycle_columns ORDER BY position"))
        except sqlite3.DatabaseError as exc:
            raise TelemetryError(f"{str(path)!r} is not a BLISS telemetry database ({exc})") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def count(self, table: str) -> int:
        if table not in ("cycles", "events", "checkpoints"):
            raise ValueError(f"no table {table!r}")
        return self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    def span(self) -> tuple[float, float] | None:
        lo, hi = self._db.execute("SELECT MIN(t), MAX(t) FROM cycles").fetchone()
        return None if lo is None else (lo, hi)

    def cycles(self) -> Iterator[dict]:
        """Each cycle as a dict: ``cycle``, ``t`` and the declared columns (None where not given)."""
        names = ("cycle", "t") + self.columns
        sel = ", ".join(f'"{c}"' for c in names)
        for row in self._db.execute(f"SELECT {sel} FROM cycles ORDER BY cycle"):
            yield dict(zip(names, row))

    def cycle_arrays(self) -> dict[str, np.ndarray]:
        """All cycles as one float array per column (NaN where a value is missing)."""
        names = ("t",) + self.columns
        sel = ", ".join(f'"{c}"' for c in names)
        rows = self._db.execute(f"SELECT {sel} FROM cycles ORDER BY cycle").fetchall()
        a = np.array(rows, dtype=float).reshape(len(rows), len(names))
        return {n: a[:, k] for k, n in enumerate(names)}

    def events(self) -> Iterator[BenchEvent]:
        for t, kind, axis, detail in self._db.execute("SELECT t, kind, axis, detail FROM events ORDER BY id"):
            yield BenchEvent(t, kind, axis, detail)

    def last_checkpoint(self) -> Checkpoint | None:
        row = self._db.execute("SELECT t, state FROM checkpoints ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else Checkpoint(row[0], json.loads(row[1]))


def export_run(path: str | os.PathLike, out_dir: str | os.PathLike, fmt: str) -> list[Path]:
    """Write the run's cycles and events as ``cycles.FMT`` and ``events.FMT`` plus ``run.json``
    (metadata) in ``out_dir``: all of them or, on any error, none. ``fmt``: ``csv`` or ``parquet``."""
    if fmt not in ("csv", "parquet"):
        raise TelemetryError(f"export format must be csv or parquet, got {fmt!r}")
    with TelemetryReader(path) as rd:
        cyc = rd.cycle_arrays()
        evs = list(rd.events())
        run = {"source": str(Path(path).name), "created_utc": rd.created_utc, "metadata": rd.metadata,
               "columns": list(rd.columns), "cycles": len(cyc["t"]), "events": len(evs)}
    ev_cols = {"t": [e.t for e in evs], "kind": [e.kind for e in evs], "axis": [e.axis for e in evs],
               "detail": [e.detail for e in evs]}
    with OutputSet(out_dir) as out:
        if fmt == "csv":
            _write_csv(out.path("cycles.csv"), cyc)
            _write_csv(out.path("events.csv"), ev_cols)
        else:
            meta = {b"bliss_run": json.dumps(run).encode()}
            pq.write_table(pa.table(cyc).replace_schema_metadata(meta), out.path("cycles.parquet"))
            ev_schema = pa.schema([("t", pa.float64()), ("kind", pa.string()), ("axis", pa.int64()),
                                   ("detail", pa.string())], metadata=meta)
            pq.write_table(pa.table(ev_cols, schema=ev_schema), out.path("events.parquet"))
        out.path("run.json").write_text(json.dumps(run, indent=2) + "\n")
        names = [out.final_path(n) for n in out.names]
    return names


def _write_csv(path: Path, cols: Mapping[str, Sequence]) -> None:
    names = list(cols)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        for row in zip(*(cols[n] for n in names)):
            w.writerow(["" if v is None or (isinstance(v, float) and math.isnan(v)) else
                        (repr(float(v)) if isinstance(v, (float, np.floating)) else v) for v in row])
