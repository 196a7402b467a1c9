"""The small-body tables of ``bliss missions``: Jupiter-family comets and interstellar objects.

The packaged tables (``bliss/missions/data/jfc.csv``, ``interstellar.csv``; provenance, frames and known
problems in ``data/SOURCES.md``) are read with the standard library's ``csv`` module (583 and 4 rows). Both give perihelion elements: q [AU],
e, i, node Ω, perihelion argument ω [deg, ecliptic J2000] and the perihelion time Tp (JD TT). Each row
becomes ``[a m, e, i rad, Ω rad, ω rad, M0 = 0, Tp TDB s past J2000]``: the mean anomaly is zero at
perihelion, so the elements' own epoch column is not needed (one MPC row, P/2017 B4, has none).

Validation (first bad row: :class:`CatalogueError` naming the file, the line, header = line 1, and the
designation): finite numbers, q > 0 AU, 0 <= e < 1 for comets and e > 1 for interstellar objects,
0 <= i <= 180 deg, Ω and ω in [0, 360] deg, Tp a Julian date.

Quality: six fragment rows of the MPC file have ω and Ω swapped (``quality_flag``, SOURCES.md); they are
swapped back on loading (``swapped`` says which) so that they agree with the parent comets and JPL.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from astropy.time import Time

from bliss.survey.catalogue import CatalogueError, row_error
from sim.constants import AU
from sim.timeconv import epoch_to_tdb_seconds

__all__ = ["CatalogueError", "SmallBodies", "default_path", "load_comets", "load_interstellar"]

#: column -> (lowest, highest, what must hold) for the perihelion elements of both tables.
_ANGLES = {
    "i_deg_eclJ2000": (0.0, 180.0, "inclination must lie in [0, 180] deg"),
    "Omega_deg_eclJ2000": (0.0, 360.0, "node Omega must lie in [0, 360] deg"),
    "omega_deg_eclJ2000": (0.0, 360.0, "perihelion argument omega must lie in [0, 360] deg"),
    "Tp_JD_TT": (2.0e6, 3.0e6, "perihelion time must be a Julian date (TT) between 2,000,000 and 3,000,000"),
}
#: The MPC marks its six fragment rows with swapped angles with this quality_flag text (SOURCES.md).
SWAPPED_FLAG = "omega/Omega appear swapped"


@dataclass(frozen=True)
class SmallBodies:
    """Validated rows as plain arrays; ``elements`` (n, 7) is the form ``sim.kepler.elements_state`` and
    ``bliss.guidance.problem.Target(elements=...)`` take (M0 = 0 at the perihelion time)."""

    designation: np.ndarray  # (n,) str
    q_au: np.ndarray
    e: np.ndarray
    i_deg: np.ndarray
    elements: np.ndarray     # (n, 7) [a m, e, i rad, raan rad, argp rad, 0, Tp TDB s]
    period_yr: np.ndarray    # (n,) orbital period [yr], nan for hyperbolas
    line: np.ndarray         # (n,) line number in the file (header = 1)
    swapped: np.ndarray      # (n,) bool: omega and Omega swapped back on loading

    def __len__(self) -> int:
        return int(self.designation.size)

    @property
    def a_au(self) -> np.ndarray:
        return self.elements[:, 0] / AU

    @property
    def aphelion_au(self) -> np.ndarray:
        return np.where(self.e < 1.0, self.q_au * (1.0 + self.e) / np.where(self.e < 1, 1.0 - self.e, 1.0), np.inf)

    def index(self, name: str) -> int:
        """Row whose designation contains ``name`` (case-insensitive, e.g. '46P', 'Wirtanen'); KeyError."""
        want = name.strip().lower()
        hits = [k for k, d in enumerate(self.designation) if want and want in d.lower()]
        if not hits:
            raise KeyError(name)
        exact = [k for k in hits if self.designation[k].lower().split("/")[0] == want]
        return (exact or hits)[0]


def default_path(which: str) -> Path:
    """The packaged table: ``which`` is "jfc" or "interstellar"."""
    return Path(str(resources.files("bliss.missions") / "data" / f"{which}.csv"))


def _bad_row(path, names, k, what) -> CatalogueError:
    return row_error(path, k, names[k], what)


def _column(path, table, names, col, lo, hi, what) -> np.ndarray:
    """A numeric column as floats; the first unreadable or out-of-range cell raises, naming its row."""
    cells = table[col]
    out = np.empty(len(cells))
    for k, text in enumerate(cells):
        try:
            out[k] = float(text)
        except (TypeError, ValueError):
            raise _bad_row(path, names, k, f"{col} is {text!r}, not a number") from None
        if not (math.isfinite(out[k]) and lo <= out[k] <= hi):
            raise _bad_row(path, names, k, f"{col} = {text!r}: {what}")
    return out


def _load(path, hyperbolic: bool) -> SmallBodies:
    path = Path(path)
    cols = ("designation", "q_AU", "e", *_ANGLES)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, [])
            rows = list(reader)
    except FileNotFoundError:
        raise CatalogueError(f"catalogue {str(path)!r} does not exist") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CatalogueError(f"{path}: not a readable CSV table ({exc})") from None
    missing = [c for c in cols if c not in header]
    if missing:
        raise CatalogueError(f"{path}: missing column(s) {', '.join(missing)}; expected the layout of "
                             f"bliss/missions/data/{'interstellar' if hyperbolic else 'jfc'}.csv")
    if not rows:
        raise CatalogueError(f"{path}: the table has no rows")
    ragged = [k for k, r in enumerate(rows) if len(r) != len(header)]
    if ragged:
        k = ragged[0]
        raise CatalogueError(f"{path}: line {k + 2}: {len(rows[k])} fields, the header has {len(header)}; "
                             "fix or remove that row")
    table = {c: [r[j] for r in rows] for j, c in enumerate(header)}
    names = [s.strip() for s in table["designation"]]
    if "" in names:
        raise _bad_row(path, names, names.index(""), "designation is blank")
    q = _column(path, table, names, "q_AU", 1e-6, 1e3, "perihelion distance q [AU] must be > 0")
    if hyperbolic:
        e = _column(path, table, names, "e", 1.0, 1e3, "eccentricity e must be > 1 (a hyperbola)")
        if (e <= 1.0).any():
            raise _bad_row(path, names, int(np.flatnonzero(e <= 1.0)[0]), "e = 1 (a parabola) is not handled; "
                           "eccentricity e must be > 1 (a hyperbola)")
    else:
        e = _column(path, table, names, "e", 0.0, 1.0, "eccentricity e must satisfy 0 <= e < 1")
        if (e >= 1.0).any():
            raise _bad_row(path, names, int(np.flatnonzero(e >= 1.0)[0]),
                           "e = 1: eccentricity e must satisfy 0 <= e < 1")
    ang = {c: _column(path, table, names, c, *bounds) for c, bounds in _ANGLES.items()}
    flags = table.get("quality_flag", [""] * q.size)
    swapped = np.array([bool(f) and SWAPPED_FLAG in f for f in flags])
    node = np.where(swapped, ang["omega_deg_eclJ2000"], ang["Omega_deg_eclJ2000"])
    argp = np.where(swapped, ang["Omega_deg_eclJ2000"], ang["omega_deg_eclJ2000"])
    tp = np.asarray(epoch_to_tdb_seconds(Time(ang["Tp_JD_TT"], format="jd", scale="tt")), float).reshape(-1)
    a = q / (1.0 - e)  # negative for hyperbolas (sim.kepler's convention)
    el = np.column_stack([a * AU, e, np.radians(ang["i_deg_eclJ2000"]), np.radians(node), np.radians(argp),
                          np.zeros(q.size), tp])
    period = np.where(e < 1.0, np.abs(a) ** 1.5, np.nan)  # Kepler's third law, years for a in AU
    return SmallBodies(designation=np.asarray(names, dtype=str), q_au=q, e=e, i_deg=ang["i_deg_eclJ2000"],
                       elements=el, period_yr=period, line=np.arange(2, q.size + 2), swapped=swapped)


def load_comets(path: str | Path | None = None) -> SmallBodies:
    """Jupiter-family comets (default: the packaged MPC table, 583 comets, epoch 2026-01-03)."""
    return _load(path if path is not None else default_path("jfc"), hyperbolic=False)


def load_interstellar(path: str | Path | None = None) -> SmallBodies:
    """Interstellar objects on hyperbolic orbits (default: the packaged 1I, 2I, 3I table)."""
    return _load(path if path is not None else default_path("interstellar"), hyperbolic=True)
