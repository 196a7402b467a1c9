"""Trajectory as a CCSDS Orbit Ephemeris Message (OEM 2.0, KVN), written with the maintained ``oem`` package.

Frame choice. BLISS works in heliocentric *ecliptic* J2000, but the CCSDS reference-frame names the
tools understand (CCSDS 502.0-B-2 / SANA: EME2000, ICRF, GCRF, ...; Orekit's ``CelestialBodyFrame`` and
STK's CCSDS export list the same) have no ecliptic frame. The ``oem`` package stores any REF_FRAME
string, but its own state comparison only knows EME2000/GCRF/ICRF/MCI/TEME/TOD as inertial. So the
states are rotated to **ICRF** axes with :mod:`sim.frames` (astropy's ERFA ecm06 matrix) and written with CENTER_NAME SUN,
REF_FRAME ICRF, TIME_SYSTEM TDB, in km and km/s. A COMMENT in the metadata says so. (The oem writer has
no COMMENT support: the lines are inserted into the library's output; its reader skips them.)

:func:`read_oem` reads a file back (with the same library) into SI arrays in the internal ecliptic frame.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

import numpy as np
from astropy.time import Time
from oem import OrbitEphemerisMessage
from oem.components import EphemerisSegment, HeaderSection, MetaDataSection

from sim.frames import ecliptic_to_icrs, icrs_to_ecliptic
from sim.timeconv import epoch_to_tdb_seconds, tdb_seconds_to_epoch

__all__ = ["write_oem", "read_oem", "OEM_REF_FRAME"]

OEM_REF_FRAME = "ICRF"
OEM_CENTER = "SUN"
OEM_TIME_SYSTEM = "TDB"
_M_PER_KM = 1000.0


def _tdb_time(t_s) -> Time:
    t = tdb_seconds_to_epoch(np.atleast_1d(np.asarray(t_s, dtype=float)))
    t.precision = 6
    return t


def _ecliptic_to_icrf(y: np.ndarray) -> np.ndarray:
    return np.hstack([ecliptic_to_icrs(y[:, :3]), ecliptic_to_icrs(y[:, 3:])])


def _icrf_to_ecliptic(y: np.ndarray) -> np.ndarray:
    return np.hstack([icrs_to_ecliptic(y[:, :3]), icrs_to_ecliptic(y[:, 3:])])


def write_oem(path: str | os.PathLike, t_s, y, *, object_name: str = "BLISS", object_id: str = "BLISS-SAIL",
              originator: str = "BLISS", comments: tuple[str, ...] = ()) -> None:
    """Write states ``y`` (n, 6) [m, m/s, heliocentric ecliptic J2000] at ``t_s`` (n,) [s TDB past J2000].

    ``comments`` are extra COMMENT lines (one line each) placed after the frame note.
    """
    t_s = np.asarray(t_s, dtype=float)
    y = np.asarray(y, dtype=float)
    if t_s.ndim != 1 or t_s.size < 2:
        raise ValueError("an OEM needs at least two states; lengthen the run or shorten the output step")
    if y.shape != (t_s.size, 6):
        raise ValueError(f"states must have shape ({t_s.size}, 6), got {y.shape}")
    if np.any(np.diff(t_s) <= 0):
        raise ValueError("OEM epochs must increase strictly")
    y_icrf = _ecliptic_to_icrf(y) / _M_PER_KM  # km, km/s
    epochs = _tdb_time(t_s)
    fmt = "%Y-%m-%dT%H:%M:%S.%f"
    header = HeaderSection({
        "CCSDS_OEM_VERS": "2.0",
        "CREATION_DATE": datetime.now(timezone.utc).strftime(fmt),
        "ORIGINATOR": originator,
    })
    metadata = MetaDataSection({
        "OBJECT_NAME": object_name,
        "OBJECT_ID": object_id,
        "CENTER_NAME": OEM_CENTER,
        "REF_FRAME": OEM_REF_FRAME,
        "TIME_SYSTEM": OEM_TIME_SYSTEM,
        "START_TIME": epochs[0].strftime(fmt),
        "STOP_TIME": epochs[-1].strftime(fmt),
        "INTERPOLATION": "HERMITE",
        "INTERPOLATION_DEGREE": "5",
    }, version="2.0")
    state_data = (epochs, *(y_icrf[:, k] for k in range(6)))
    segment = EphemerisSegment(metadata, state_data, version="2.0")
    message = OrbitEphemerisMessage(header, [segment])
    message.save_as(path, file_format="kvn")
    notes = (
        "Heliocentric states of the BLISS solar sail, simulated by BLISS (sim.integrator).",
        "Rotated from the internal frame (Sun-centred mean ecliptic and equinox of J2000) to ICRF axes",
        "with sim.frames (astropy), because CCSDS names no ecliptic frame. Units km and km/s.",
        *comments,
    )
    _insert_comments(path, notes)


def _insert_comments(path, notes) -> None:
    """Put ``COMMENT`` lines right after META_START (allowed there by CCSDS 502.0-B-2 sec. 5.2)."""
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines(keepends=True)
    i = next(k for k, line in enumerate(lines) if line.strip() == "META_START")
    extra = [f"COMMENT {note.strip()}\n" for note in notes if "\n" not in note]
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(lines[: i + 1] + extra + lines[i + 1:])


def read_oem(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read an OEM written by :func:`write_oem`: times [s TDB past J2000] and states (n, 6) [m, m/s]
    rotated back to heliocentric ecliptic J2000."""
    message = OrbitEphemerisMessage.open(path)
    states = list(message.states)
    if not states:
        raise ValueError(f"{path}: OEM holds no states")
    frames = {(s.frame.upper(), s.center.upper()) for s in states}
    if frames != {(OEM_REF_FRAME, OEM_CENTER)}:
        raise ValueError(f"{path}: expected REF_FRAME {OEM_REF_FRAME} about {OEM_CENTER}, found {sorted(frames)}")
    t_s = np.asarray(epoch_to_tdb_seconds(Time([s.epoch for s in states])), dtype=float)
    y = np.array([np.concatenate([s.position, s.velocity]) for s in states], dtype=float) * _M_PER_KM
    return t_s, _icrf_to_ecliptic(y)
