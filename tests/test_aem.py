"""CCSDS AEM writer: round trip through ccsds-ndm, frame and metadata, schedule CSV round trip."""
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from bliss.guidance.schedule import MODE_INERTIAL, MODE_RTN, AttitudeSchedule, rotate
from bliss.io.aem import read_aem, write_aem
from bliss.io.schedule_csv import SCHEDULE_COLUMNS, read_schedule_csv, write_schedule_csv
from sim.constants import AU, DAY, GM_SUN
from sim.frames import ECLIPJ2000_TO_ICRS

ROOT = Path(__file__).resolve().parents[1]


def _schedule():
    from sim.kepler import kepler_propagate

    y0 = np.array([0.98 * AU, 0.1 * AU, 0.0, -3e3, 29.5e3, 0.9e3])
    t = 9.0e8 + np.linspace(0.0, 120 * DAY, 5)
    ys = []
    for tk in t:
        r, v = kepler_propagate(GM_SUN, y0[:3], y0[3:], tk - t[0])
        ys.append(np.concatenate([r, v]))
    ys = np.array(ys)
    n_in = np.array([0.6, 0.7, 0.2]) / np.linalg.norm([0.6, 0.7, 0.2])
    att = np.array([[0.61, 0.0, 0.0], [0.3, 1.4, 0.0], n_in, [1.2, -3.0, 0.0]])
    mode = np.array([MODE_RTN, MODE_RTN, MODE_INERTIAL, MODE_RTN])
    return AttitudeSchedule.from_states(t, mode, att, ys[:-1], ys[1:])


def test_aem_round_trip(tmp_path):
    s = _schedule()
    path = tmp_path / "attitude.aem"
    write_aem(path, s)
    back = read_aem(path)
    np.testing.assert_allclose(back["t_start"], s.t_start, atol=2e-6)  # microsecond epochs
    np.testing.assert_allclose(back["t_end"], s.t_end, atol=2e-6)
    np.testing.assert_allclose(back["q_start"], s.quaternion, atol=1e-14)
    np.testing.assert_allclose(back["q_end"], s.quaternion_end, atol=1e-14)
    np.testing.assert_allclose(back["normal"], s.normal, atol=1e-14)


def test_aem_metadata_and_icrf_quaternions(tmp_path):
    s = _schedule()
    path = tmp_path / "attitude.aem"
    write_aem(path, s)
    root = ET.parse(path).getroot()
    assert root.tag == "aem" and root.get("version") == "2.0"
    segs = root.findall("./body/segment")
    assert len(segs) == len(s)
    md = segs[0].find("metadata")
    assert md.findtext("REF_FRAME_A") == "ICRF"
    assert md.findtext("REF_FRAME_B") == "SC_BODY_1"
    assert md.findtext("TIME_SYSTEM") == "TDB"
    assert md.findtext("ATTITUDE_TYPE").upper() == "QUATERNION"
    # the file's quaternion rotates body +Z onto the sail normal expressed in ICRF axes
    q = segs[1].find("./data/attitudeState/quaternionEphemeris/quaternion")
    qf = np.array([float(q.findtext(k)) for k in ("Q1", "Q2", "Q3", "QC")])
    assert np.linalg.norm(qf) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(rotate(qf, [0, 0, 1]), ECLIPJ2000_TO_ICRS @ s.normal[1], atol=1e-13)
    # ICRF differs from the ecliptic by the obliquity: the quaternions must not be the ecliptic ones
    assert np.max(np.abs(qf - s.quaternion[1])) > 1e-3


def test_aem_text_is_what_ccsds_ndm_writes_for_the_same_message(tmp_path):
    """The writer uses the standard library (ccsds-ndm's import costs 1-2.5 s of every plan); the library
    reads the file and writes it again byte for byte (comments with XML's special characters included)."""
    from ccsds_ndm.mapping import NDMFileFormats
    from ccsds_ndm.ndm_io import NdmIo

    path = tmp_path / "attitude.aem"
    write_aem(path, _schedule(), comments=("a comment with <, > & \"quotes\"",))
    text = path.read_text(encoding="utf-8")
    assert NdmIo().to_string(NdmIo().from_path(path), NDMFileFormats.XML) == text


def test_aem_writer_does_not_import_ccsds_ndm(tmp_path):
    code = ("import sys; sys.path.insert(0, 'tests'); from test_aem import _schedule; "
            "from bliss.io.aem import write_aem; "
            f"write_aem({str(tmp_path / 'a.aem')!r}, _schedule()); print('ccsds_ndm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.stdout.strip() == "False"


def test_aem_rejects_empty_and_garbage(tmp_path):
    s = _schedule()
    empty = AttitudeSchedule(*(getattr(s, k)[:0] for k in ("t_start", "t_end", "mode", "cone", "clock",
                                                           "normal", "quaternion", "quaternion_end")))
    with pytest.raises(ValueError, match="at least one"):
        write_aem(tmp_path / "x.aem", empty)
    bad = tmp_path / "bad.aem"
    bad.write_text("this is not an AEM\n")
    with pytest.raises(ValueError):
        read_aem(bad)


def test_schedule_csv_round_trip(tmp_path):
    s = _schedule()
    path = tmp_path / "schedule.csv"
    write_schedule_csv(path, s)
    lines = path.read_text().splitlines()
    notes = [ln for ln in lines if ln.startswith("#")]
    assert lines[:len(notes)] == notes and notes  # the frame note comes first, then the header
    assert "ECLIPTIC" in " ".join(notes) and "attitude.aem" in " ".join(notes) and "ICRF" in " ".join(notes)
    header = lines[len(notes)].split(",")
    assert tuple(header) == SCHEDULE_COLUMNS
    back = read_schedule_csv(path)
    np.testing.assert_array_equal(back["seg_t"], s.seg_t())
    np.testing.assert_array_equal(back["seg_mode"], s.mode)
    np.testing.assert_allclose(back["seg_att"], s.seg_att(), rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(back["quaternion"], s.quaternion, atol=1e-16)
    np.testing.assert_allclose(np.degrees(back["cone"]), np.degrees(s.cone), rtol=1e-15)


def test_schedule_csv_rejects_gaps(tmp_path):
    s = _schedule()
    path = tmp_path / "schedule.csv"
    write_schedule_csv(path, s)
    lines = path.read_text().splitlines()
    k = 2 + sum(ln.startswith("#") for ln in lines)  # second data row, after the frame note and header
    cells = lines[k].split(",")
    cells[2] = repr(float(cells[2]) + 1.0)  # start_s of row 2 no longer equals end_s of row 1
    lines[k] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="contiguous"):
        read_schedule_csv(path)
