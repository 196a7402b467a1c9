"""Time at the boundary: astropy ``Time`` (or a date string) <-> seconds of TDB past J2000.0.

The simulator's internal time is a plain float: seconds of Barycentric Dynamical Time (TDB) elapsed
since J2000.0 = 2000-01-01T12:00:00 TDB = JD 2451545.0 TDB (IAU 1976 / IAU 2006 Resolution B3 define
TDB; J2000.0 is the standard epoch of the IAU). Conversion goes through astropy's time scales, so an
input in UTC/TT/TAI is converted to TDB first (UTC needs leap seconds, which astropy ships).
"""
from __future__ import annotations

import warnings

import erfa
import numpy as np
from astropy.time import Time

#: Julian date of J2000.0 in TDB [day] (IAU).
JD_J2000 = 2451545.0
#: Seconds per day [s] (SI, used for JD <-> seconds).
SECONDS_PER_DAY = 86400.0

__all__ = ["JD_J2000", "SECONDS_PER_DAY", "epoch_to_tdb_seconds", "tdb_seconds_to_epoch", "as_time"]


def as_time(t) -> Time:
    """Return ``t`` as an astropy ``Time``.

    ``t`` may be a ``Time`` or a string astropy can parse (ISO ``2026-01-01T00:00:00`` taken as UTC,
    or with an explicit scale suffix such as ``"2026-01-01 00:00:00 TDB"``; also ``"JD2460000.5"``).
    Raises ``ValueError`` with a one-line message for anything else.
    """
    if isinstance(t, Time):
        return t
    if isinstance(t, str):
        text = t.strip()
        scale = "utc"
        parts = text.rsplit(None, 1)
        if len(parts) == 2 and parts[1].lower() in Time.SCALES:
            text, scale = parts[0], parts[1].lower()
        try:
            if text.upper().startswith("JD"):
                return Time(float(text[2:]), format="jd", scale=scale)
            return Time(text, scale=scale)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"cannot parse date {t!r}: use ISO 8601 like '2026-01-01T00:00:00' (UTC), optionally "
                f"followed by a time scale ('2026-01-01 00:00:00 TDB'), or 'JD2461041.5' ({exc})"
            ) from None
    raise ValueError(
        f"expected an astropy Time or a date string, got {type(t).__name__} {t!r}; "
        f"pass e.g. astropy.time.Time('2026-01-01', scale='utc') or '2026-01-01T00:00:00'"
    )


def epoch_to_tdb_seconds(t) -> float | np.ndarray:
    """Seconds of TDB past J2000.0 (2000-01-01T12:00:00 TDB) for an astropy ``Time`` or date string.

    A scalar ``Time`` gives a float; an array ``Time`` gives a float64 array. The two-part Julian date
    is differenced before scaling, so precision is ~1 microsecond over centuries.
    """
    t = as_time(t)
    if t.scale == "utc":
        tt = t.tdb  # ERFA warns about "dubious year" where the leap-second table does not reach: keep it
    else:
        # From TT/TAI/TCB... astropy still estimates UT for the small TDB-TT terms and ERFA may warn
        # "dubious year" before 1960 or in the future; it does not matter at that level (< 2 ms).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", erfa.ErfaWarning)
            tt = t.tdb
    s = ((tt.jd1 - JD_J2000) + tt.jd2) * SECONDS_PER_DAY
    if np.ndim(s) == 0:
        return float(s)
    return np.asarray(s, dtype=np.float64)


def tdb_seconds_to_epoch(s) -> Time:
    """astropy ``Time`` (scale TDB) for seconds of TDB past J2000.0 (float or array)."""
    arr = np.asarray(s, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"TDB seconds must be finite numbers, got {s!r}")
    days = arr / SECONDS_PER_DAY
    whole = np.floor(days)
    return Time(JD_J2000 + whole, days - whole, format="jd", scale="tdb")
