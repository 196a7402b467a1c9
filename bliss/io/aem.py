"""Sail attitude schedule as a CCSDS Attitude Ephemeris Message (AEM 2.0, XML), read with ``ccsds-ndm``.

Library and format. ``ccsds-ndm`` (maintained, installed, CCSDS NDM/XML 4.0 schemas) builds AEM 2.0
(CCSDS 504.0-B-2, ADM 2.0) object trees and writes/reads them as XML or KVN. Its KVN *reader* fails on
AEM 2.0 quaternion data (ccsds-ndm 3.1.1: ``KeyError: 'quaternion_state'``) and its KVN writer puts QC
first on data lines, so we write **XML**, where every quaternion component is a named element
(Q1, Q2, Q3, QC) and the round trip through the same library is exact.

Writer. Importing ``ccsds-ndm`` costs 1.2-2.5 s (it builds and patches the dataclasses of every NDM type,
CCSDS-wide), paid by every ``bliss plan`` (issue 10), so :func:`write_aem` writes the XML with the standard
library's ElementTree, element for element and in the same layout as the library's own writer (
``NdmIo().to_string(..., XML)``); tests/test_aem.py reads each file back with ``ccsds-ndm`` and checks that
the library writes the same text again. :func:`read_aem` uses the library.

Content. One AEM segment per schedule segment (the attitude is discontinuous at segment switches, so
each constant-attitude segment gets its own START_TIME/STOP_TIME and two states: at its start and at
its end). REF_FRAME_A = ICRF (the OEM written by :mod:`bliss.io.oem` uses ICRF axes too, for the
same reason: CCSDS names no ecliptic frame), REF_FRAME_B = SC_BODY_1, TIME_SYSTEM = TDB,
ATTITUDE_TYPE = QUATERNION. In ADM 2.0 the quaternion rotates REF_FRAME_A into REF_FRAME_B, scalar
component QC: it is our inertial-to-body quaternion (see :mod:`bliss.guidance.schedule` for the body
axes: +Z sail normal, +X the Sun direction projected onto the sail plane) re-expressed in ICRF axes.
Mode 1 segments (held in the RTN frame) turn slowly over the segment: INTERPOLATION_METHOD LINEAR (degree 1)
between the two states; mode 2 segments are inertially fixed (both states equal).

:func:`read_aem` reads a file back with the same library and returns times and quaternions in the
internal heliocentric ecliptic J2000 frame.
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import numpy as np
from astropy.time import Time

from bliss.guidance.schedule import MODE_NAMES, AttitudeSchedule, matrix_to_quaternion, quaternion_to_matrix
from sim.constants import DAY
from sim.frames import ECLIPJ2000_TO_ICRS

__all__ = ["write_aem", "read_aem", "AEM_REF_FRAME_A", "AEM_REF_FRAME_B"]

AEM_REF_FRAME_A = "ICRF"
AEM_REF_FRAME_B = "SC_BODY_1"
AEM_TIME_SYSTEM = "TDB"
#: Julian date of J2000.0 in TDB (IAU definition of the epoch J2000.0).
JD_J2000 = 2451545.0
_EPOCH_FMT = "%Y-%m-%dT%H:%M:%S.%f"


def _ecl_to_icrf() -> np.ndarray:
    return np.asarray(ECLIPJ2000_TO_ICRS, dtype=float)


def _iso(t_s: np.ndarray) -> list[str]:
    t_s = np.atleast_1d(np.asarray(t_s, dtype=float))
    days = t_s / DAY
    whole = np.floor(days)
    times = Time(JD_J2000 + whole, days - whole, format="jd", scale="tdb", precision=6)
    return [t.strftime(_EPOCH_FMT) for t in times]


def _tdb_seconds(epochs: list[str]) -> np.ndarray:
    t = Time(epochs, format="isot", scale="tdb")
    return ((t.jd1 - JD_J2000) + t.jd2) * DAY


def _to_frame(q_ecl: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Re-express scalar-last inertial->body quaternions (n, 4) with the inertial axes rotated by m."""
    return np.array([matrix_to_quaternion(m @ quaternion_to_matrix(q)) for q in q_ecl]).reshape(-1, 4)


#: AEM version attributes of the root element (CCSDS 504.0-B-2 XML: id and version).
_AEM_ID, _AEM_VERSION = "CCSDS_AEM_VERS", "2.0"
#: ATTITUDE_TYPE of a quaternion ephemeris, upper case as in CCSDS 504.0-B-2.
_ATTITUDE_TYPE = "QUATERNION"


def _add(parent: ET.Element, tag: str, text: str) -> ET.Element:
    node = ET.SubElement(parent, tag)
    node.text = text
    return node


def _state(parent: ET.Element, epoch: str, q: np.ndarray) -> None:
    """An ``attitudeState`` element: a quaternion ephemeris line (EPOCH, Q1, Q2, Q3, QC)."""
    eph = ET.SubElement(ET.SubElement(parent, "attitudeState"), "quaternionEphemeris")
    _add(eph, "EPOCH", epoch)
    quat = ET.SubElement(eph, "quaternion")
    for tag, value in zip(("Q1", "Q2", "Q3", "QC"), q):
        _add(quat, tag, repr(float(value)))  # shortest round-trip text, as the library writes floats


def write_aem(path: str | os.PathLike, schedule: AttitudeSchedule, *, object_name: str = "BLISS",
              object_id: str = "BLISS-SAIL", originator: str = "BLISS",
              comments: tuple[str, ...] = ()) -> None:
    """Write ``schedule`` to ``path`` as an AEM 2.0 XML file (one AEM segment per schedule segment)."""
    n = len(schedule)
    if n == 0:
        raise ValueError("an AEM needs at least one attitude segment; the schedule is empty")
    m = _ecl_to_icrf()
    q0 = _to_frame(schedule.quaternion, m)
    q1 = _to_frame(schedule.quaternion_end, m)
    e0 = _iso(schedule.t_start)
    e1 = _iso(schedule.t_end)
    root = ET.Element("aem", {"id": _AEM_ID, "version": _AEM_VERSION})
    header = ET.SubElement(root, "header")
    for line in ("BLISS solar-sail attitude schedule: constant-attitude segments, one AEM segment each.",
                 "Quaternion rotates ICRF axes onto SC_BODY_1 (scalar QC): body +Z = sail normal,",
                 "body +X = Sun direction projected on the sail plane, body +Y = Z x X.",
                 *comments):
        _add(header, "COMMENT", line)
    _add(header, "CREATION_DATE", datetime.now(timezone.utc).strftime(_EPOCH_FMT))
    _add(header, "ORIGINATOR", originator)
    body = ET.SubElement(root, "body")
    for k in range(n):
        mode = MODE_NAMES.get(int(schedule.mode[k]), "?")
        note = (f"segment {k}: mode {mode}, cone {np.degrees(schedule.cone[k]):.6f} deg, "
                f"clock {np.degrees(schedule.clock[k]):.6f} deg (RTN frame at segment start)")
        segment = ET.SubElement(body, "segment")
        meta = ET.SubElement(segment, "metadata")
        for tag, text in (("COMMENT", note), ("OBJECT_NAME", object_name), ("OBJECT_ID", object_id),
                          ("CENTER_NAME", "SUN"), ("REF_FRAME_A", AEM_REF_FRAME_A),
                          ("REF_FRAME_B", AEM_REF_FRAME_B), ("TIME_SYSTEM", AEM_TIME_SYSTEM),
                          ("START_TIME", e0[k]), ("STOP_TIME", e1[k]), ("ATTITUDE_TYPE", _ATTITUDE_TYPE),
                          ("INTERPOLATION_METHOD", "LINEAR"), ("INTERPOLATION_DEGREE", "1")):
            _add(meta, tag, text)
        data = ET.SubElement(segment, "data")
        _state(data, e0[k], q0[k])
        _state(data, e1[k], q1[k])
    ET.indent(root, space="  ")
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()


def read_aem(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read an AEM written by :func:`write_aem`.

    Returns ``t_start``, ``t_end`` (n,) [s TDB past J2000] and ``q_start``, ``q_end`` (n, 4) scalar-last
    inertial->body quaternions with the inertial axes rotated back to heliocentric ecliptic J2000,
    plus ``normal`` (n, 3), body +Z at each segment start in the same frame.
    """
    from ccsds_ndm.ndm_io import NdmIo  # lazy: 1.2-2.5 s of import, paid only by a reader

    try:
        aem = NdmIo().from_path(path)
    except Exception as exc:  # the library raises several types for malformed files
        raise ValueError(f"{path}: not a readable CCSDS AEM ({type(exc).__name__}: {exc})") from None
    segs = aem.body.segment
    t0, t1, q0, q1 = [], [], [], []
    for seg in segs:
        md = seg.metadata
        if md.ref_frame_a.upper() != AEM_REF_FRAME_A or md.time_system.upper() != AEM_TIME_SYSTEM:
            raise ValueError(f"{path}: expected REF_FRAME_A {AEM_REF_FRAME_A} and TIME_SYSTEM "
                             f"{AEM_TIME_SYSTEM}, found {md.ref_frame_a} and {md.time_system}")
        states = [s.quaternion_ephemeris for s in seg.data.attitude_state]
        if len(states) < 2 or any(s is None for s in states):
            raise ValueError(f"{path}: each segment must hold two quaternion states (start and end)")
        t0.append(states[0].epoch)
        t1.append(states[-1].epoch)
        for store, st in ((q0, states[0]), (q1, states[-1])):
            q = st.quaternion
            store.append([q.q1, q.q2, q.q3, q.qc])
    m = _ecl_to_icrf()
    q_start = _to_frame(np.array(q0, float), m.T)
    q_end = _to_frame(np.array(q1, float), m.T)
    normal = np.array([quaternion_to_matrix(q)[:, 2] for q in q_start]).reshape(-1, 3)
    return {"t_start": _tdb_seconds(t0), "t_end": _tdb_seconds(t1), "q_start": q_start, "q_end": q_end,
            "normal": normal}
