"""The NEA catalogue of ``bliss survey``: loading, per-row validation and filters.

The packaged table (``bliss/survey/data/neas.csv``, provenance in ``data/SOURCES.md``) is read with
``pyarrow.csv``. Every row's orbit is validated (finite numbers, a > 0 AU, 0 <= e < 1, 0 <= i <= 180 deg,
node, perihelion argument and mean anomaly in [0, 360] deg, mean motion > 0); the first bad row raises
:class:`CatalogueError` naming the file, the line number (the header is line 1) and the designation.
H may be blank (two rows in the 2019 MPC file): such rows are kept, and dropped by any H filter.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from astropy.time import Time

from sim.constants import AU
from sim.timeconv import epoch_to_tdb_seconds

#: Orbit classes of the MPC (column ``orbit_class_MPC``; ``type5``/``type10`` are its two odd rows).
CLASSES = ("Atira", "Aten", "Apollo", "Amor")

_NUMERIC = {  # column -> (lowest, highest, what); bounds inclusive unless noted in _check
    "a_AU": (0.0, math.inf, "semi-major axis a [AU] must be > 0"),
    "e": (0.0, 1.0, "eccentricity e must satisfy 0 <= e < 1"),
    "i_deg_eclJ2000": (0.0, 180.0, "inclination must lie in [0, 180] deg"),
    "Omega_deg_eclJ2000": (0.0, 360.0, "node Omega must lie in [0, 360] deg"),
    "omega_deg_eclJ2000": (0.0, 360.0, "perihelion argument omega must lie in [0, 360] deg"),
    "M_deg": (0.0, 360.0, "mean anomaly M must lie in [0, 360] deg"),
    "epoch_JD_TT": (2.0e6, 3.0e6, "epoch must be a Julian date (TT) between 2,000,000 and 3,000,000"),
}
_OPTIONAL_NUMERIC = ("H_mag",)
_TEXT = ("designation", "orbit_class_MPC", "orbit_class_CNEOS_def")


class CatalogueError(ValueError):
    """A catalogue file that cannot be used; the message names the row."""


def default_path() -> Path:
    """The packaged NEA table (MPC NEA.txt of 2019-07-02, see bliss/survey/data/SOURCES.md)."""
    return Path(str(resources.files("bliss.survey") / "data" / "neas.csv"))


@dataclass(frozen=True)
class Catalogue:
    """Validated NEA rows as plain arrays. Angles in degrees, a in AU as in the file; ``elements``
    (n, 7) is ``[a m, e, i rad, raan rad, argp rad, M0 rad, epoch TDB s past J2000]`` per row, the form
    ``bliss.guidance.problem.Target(elements=...)`` and the screen take."""

    designation: np.ndarray   # (n,) str
    orbit_class: np.ndarray   # (n,) str, MPC class
    H: np.ndarray             # (n,) absolute magnitude, nan where blank
    a_au: np.ndarray
    e: np.ndarray
    i_deg: np.ndarray
    elements: np.ndarray      # (n, 7) SI/radians
    line: np.ndarray          # (n,) line number in the source file (header = 1)

    def __len__(self) -> int:
        return int(self.designation.size)

    def subset(self, mask) -> "Catalogue":
        m = np.asarray(mask)
        return Catalogue(self.designation[m], self.orbit_class[m], self.H[m], self.a_au[m], self.e[m],
                         self.i_deg[m], self.elements[m], self.line[m])

    def index(self, name: str) -> int:
        """Row of the object called ``name`` (exact designation, or its name/number part, e.g. 'Bennu',
        '101955', '(101955) Bennu'); KeyError if absent."""
        hits = np.flatnonzero(_name_mask(self.designation, [name]))
        if hits.size == 0:
            raise KeyError(name)
        return int(hits[0])


def row_error(path, k: int, name, what: str) -> CatalogueError:
    """The error for data row ``k`` (0-based; line k + 2 of the file, after the header) of a catalogue table,
    naming the row's designation (``name``, or none) and what to do; shared with ``bliss.missions.catalogue``."""
    return CatalogueError(f"{path}: line {k + 2} ({name or '(no designation)'}): {what}; fix or remove that row")


def _bad_row(path, table, k, what) -> CatalogueError:
    names = table.column("designation").to_pylist() if "designation" in table.column_names else None
    return row_error(path, k, names[k] if names else None, what)


def _floats(path, table, col) -> np.ndarray:
    arr = table.column(col)
    try:
        out = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        for k, text in enumerate(arr.to_pylist()):  # error path only: find the first unreadable cell
            try:
                float(text) if text not in (None, "") else None
            except ValueError:
                raise _bad_row(path, table, k, f"{col} is {text!r}, not a number") from None
        raise
    return out.astype(float)


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and validate an NEA table in the packaged file's column layout (default: the packaged file)."""
    path = Path(path) if path is not None else default_path()
    cols = (*_TEXT, *_NUMERIC, *_OPTIONAL_NUMERIC)
    try:
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in cols}, strings_can_be_null=True))
    except FileNotFoundError:
        raise CatalogueError(f"catalogue {str(path)!r} does not exist") from None
    except pa.ArrowInvalid as exc:  # ragged rows, bad quoting: pyarrow names the row
        raise CatalogueError(f"{path}: not a readable CSV table ({str(exc).splitlines()[0]})") from None
    missing = [c for c in cols if c not in table.column_names]
    if missing:
        raise CatalogueError(f"{path}: missing column(s) {', '.join(missing)}; expected the layout of "
                             "bliss/survey/data/neas.csv")
    if table.num_rows == 0:
        raise CatalogueError(f"{path}: the table has no rows")
    names = np.asarray(table.column("designation").to_pylist(), dtype=object)
    blank = np.flatnonzero([not (s or "").strip() for s in names])
    if blank.size:
        raise _bad_row(path, table, int(blank[0]), "designation is blank")
    vals = {}
    for col, (lo, hi, what) in _NUMERIC.items():
        x = _floats(path, table, col)
        bad = ~np.isfinite(x) | (x < lo) | (x > hi)
        if col == "a_AU":
            bad |= x <= 0.0
        if col == "e":
            bad |= x >= 1.0
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise _bad_row(path, table, k, f"{col} = {table.column(col)[k].as_py()!r}: {what}")
        vals[col] = x
    H = _floats(path, table, "H_mag")
    bad_h = np.isinf(H) | (np.isfinite(H) & ((H < -5.0) | (H > 40.0)))
    if bad_h.any():
        k = int(np.flatnonzero(bad_h)[0])
        raise _bad_row(path, table, k, f"H_mag = {H[k]!r}: absolute magnitude must lie in [-5, 40] or be blank")
    jd = vals["epoch_JD_TT"]
    uniq, inv = np.unique(jd, return_inverse=True)  # one epoch for the whole MPC file: convert once
    epoch = np.asarray(epoch_to_tdb_seconds(Time(uniq, format="jd", scale="tt")), float).reshape(-1)[inv]
    el = np.column_stack([vals["a_AU"] * AU, vals["e"], np.radians(vals["i_deg_eclJ2000"]),
                          np.radians(vals["Omega_deg_eclJ2000"]), np.radians(vals["omega_deg_eclJ2000"]),
                          np.radians(vals["M_deg"]), epoch])
    return Catalogue(designation=names.astype(str), orbit_class=np.asarray(table.column("orbit_class_MPC")
                     .to_pylist(), dtype=str), H=H, a_au=vals["a_AU"], e=vals["e"], i_deg=vals["i_deg_eclJ2000"],
                     elements=el, line=np.arange(2, table.num_rows + 2))


def _name_mask(designations: np.ndarray, names) -> np.ndarray:
    """Rows whose designation equals a name, or whose '(number) name' parts match it (case-insensitive)."""
    want = {n.strip().lower() for n in names if n.strip()}
    out = np.zeros(designations.size, bool)
    for k, d in enumerate(designations):
        d_low = d.lower()
        parts = {d_low}
        if d_low.startswith("(") and ")" in d_low:
            num, _, rest = d_low[1:].partition(")")
            parts |= {num.strip(), rest.strip()}
        out[k] = bool(parts & want)
    return out


def _check_range(what, rng):
    if rng is None:
        return None
    lo, hi = (float(x) for x in rng)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise ValueError(f"{what} range must be two finite numbers LOW <= HIGH, got {lo} {hi}")
    return lo, hi


def select(cat: Catalogue, h_max=None, h_min=None, classes=None, a_range=None, e_range=None, i_range=None,
           names=None) -> Catalogue:
    """Rows passing every filter given: H in [h_min, h_max] (blank H fails an H filter), MPC orbit class
    in ``classes`` (names from :data:`CLASSES`, case-insensitive), a [AU], e, i [deg] inside the closed
    ranges, designation in ``names`` (see :meth:`Catalogue.index`). ValueError (one line) on a bad
    filter or a name that is not in the catalogue."""
    m = np.ones(len(cat), bool)
    if h_max is not None or h_min is not None:
        lo = -math.inf if h_min is None else float(h_min)
        hi = math.inf if h_max is None else float(h_max)
        if not (lo <= hi) or math.isnan(lo) or math.isnan(hi):
            raise ValueError(f"H filter must satisfy h_min <= h_max, got {lo} and {hi}")
        m &= np.isfinite(cat.H) & (cat.H >= lo) & (cat.H <= hi)
    if classes:
        canon = {c.lower(): c for c in CLASSES}
        bad = [c for c in classes if c.strip().lower() not in canon]
        if bad:
            raise ValueError(f"unknown orbit class {bad[0]!r}; choose from {', '.join(CLASSES)}")
        m &= np.isin(cat.orbit_class, [canon[c.strip().lower()] for c in classes])
    for what, rng, x in (("a [AU]", a_range, cat.a_au), ("e", e_range, cat.e), ("i [deg]", i_range, cat.i_deg)):
        r = _check_range(what, rng)
        if r is not None:
            m &= (x >= r[0]) & (x <= r[1])
    if names:
        found = _name_mask(cat.designation, names)
        for n in names:
            if not _name_mask(cat.designation, [n]).any():
                raise ValueError(f"object {n!r} is not in the catalogue; give its designation as in neas.csv "
                                 "(e.g. '(101955) Bennu', 'Bennu', '101955' or '2010 LF64')")
        m &= found
    return cat.subset(m)
