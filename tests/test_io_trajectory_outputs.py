"""bliss.io.atomic (all-or-nothing file sets), bliss.io.oem (CCSDS OEM round trip), bliss.io.csvout."""
from __future__ import annotations

import math

import numpy as np
import pytest
from oem import OrbitEphemerisMessage

from bliss.io.atomic import OutputFolderError, OutputSet, check_writable
from bliss.io.csvout import write_trajectory_csv
from bliss.io.oem import read_oem, write_oem
from sim.constants import AU

#: IAU 2006 mean obliquity of the ecliptic at J2000 [rad] (84381.406 arcsec, Hilton et al. 2006).
EPS_J2000 = math.radians(84381.406 / 3600.0)
#: ICRS frame bias (IAU 2006) is about 0.02 arcsec: the tolerance on axis directions below [rad].
FRAME_BIAS_TOL = 2e-7


def _states(n=7, seed=3):
    rng = np.random.default_rng(seed)
    t = 8.8e8 + np.cumsum(rng.uniform(3600.0, 5 * 86400.0, n))
    y = np.hstack([rng.normal(0, 1.5 * AU, (n, 3)), rng.normal(0, 3e4, (n, 3))])
    return t, y


def test_output_set_publishes_all_files_at_the_end(tmp_path):
    folder = tmp_path / "a" / "b"
    with OutputSet(folder) as out:
        out.path("x.txt").write_text("one")
        out.path("y.txt").write_text("two")
        assert not (folder / "x.txt").exists()  # nothing under the final names yet
    assert sorted(p.name for p in folder.iterdir()) == ["x.txt", "y.txt"]
    assert (folder / "y.txt").read_text() == "two"


def test_output_set_failure_leaves_folder_as_it_was(tmp_path):
    keep = tmp_path / "x.txt"
    keep.write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with OutputSet(tmp_path) as out:
            out.path("x.txt").write_text("new")
            out.path("z.txt").write_text("new")
            raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.txt"]
    assert keep.read_text() == "old"
    # a folder created for the set is removed again
    with pytest.raises(RuntimeError):
        with OutputSet(tmp_path / "new" / "deep") as out:
            out.path("f").write_text("x")
            raise RuntimeError("boom")
    assert not (tmp_path / "new").exists()


def test_output_set_replaces_existing_files_on_success(tmp_path):
    (tmp_path / "x.txt").write_text("old")
    with OutputSet(tmp_path) as out:
        out.path("x.txt").write_text("new")
    assert (tmp_path / "x.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_check_writable_rejects_a_file_in_the_path(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(OutputFolderError, match="is a file"):
        check_writable(tmp_path / "f" / "sub")
    assert check_writable(tmp_path / "new") == tmp_path / "new"
    assert not (tmp_path / "new").exists()
    with pytest.raises(ValueError, match="plain file name"):
        with OutputSet(tmp_path) as out:
            out.path("../escape")


def test_oem_round_trip_with_the_oem_library(tmp_path):
    t, y = _states()
    path = tmp_path / "t.oem"
    write_oem(path, t, y, comments=("round trip",))
    text = path.read_text()
    assert "COMMENT round trip" in text and "REF_FRAME = ICRF" in text and "TIME_SYSTEM = TDB" in text
    oem = OrbitEphemerisMessage.open(path)  # the library reads it, comments and all
    assert len(list(oem.states)) == len(t)
    t2, y2 = read_oem(path)
    np.testing.assert_allclose(t2, t, rtol=0, atol=1e-5)       # microsecond epochs
    np.testing.assert_allclose(y2[:, :3], y[:, :3], rtol=1e-13, atol=1e-2)
    np.testing.assert_allclose(y2[:, 3:], y[:, 3:], rtol=1e-13, atol=1e-9)


def test_oem_axes_are_icrf_rotated_by_the_obliquity(tmp_path):
    """Ecliptic x stays x; ecliptic y goes to (0, cos eps, sin eps); ecliptic z to (0, -sin eps, cos eps)."""
    t = np.array([8.8e8, 8.8e8 + 86400.0, 8.8e8 + 2 * 86400.0])
    y = np.zeros((3, 6))
    y[0, 0] = y[1, 1] = y[2, 2] = AU
    y[:, 3:] = y[:, :3] * 1e-7  # 14.96 km/s along the same axis
    path = tmp_path / "axes.oem"
    write_oem(path, t, y)
    pos = np.array([s.position for s in OrbitEphemerisMessage.open(path).states]) * 1e3 / AU
    expected = np.array([[1, 0, 0], [0, math.cos(EPS_J2000), math.sin(EPS_J2000)],
                         [0, -math.sin(EPS_J2000), math.cos(EPS_J2000)]])
    np.testing.assert_allclose(pos, expected, rtol=0, atol=FRAME_BIAS_TOL)


def test_oem_rejects_bad_input(tmp_path):
    t, y = _states()
    with pytest.raises(ValueError, match="at least two"):
        write_oem(tmp_path / "a.oem", t[:1], y[:1])
    with pytest.raises(ValueError, match="increase"):
        write_oem(tmp_path / "b.oem", t[::-1], y)


def test_csv_parses_with_numpy_at_full_precision(tmp_path):
    t, y = _states()
    cone = np.linspace(0, 1, len(t))
    path = tmp_path / "t.csv"
    write_trajectory_csv(path, t, y, cone, -cone)
    data = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(1, 11))
    np.testing.assert_array_equal(data[:, 0], t)
    np.testing.assert_array_equal(data[:, 1:7], y)  # %.17g round-trips doubles exactly
    np.testing.assert_allclose(data[:, 7], np.linalg.norm(y[:, :3], axis=1) / AU, rtol=1e-15)
    np.testing.assert_allclose(np.radians(data[:, 8]), cone, rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(np.radians(data[:, 9]), -cone, rtol=1e-15, atol=1e-16)
    with pytest.raises(ValueError, match="shape"):
        write_trajectory_csv(path, t, y[:-1])
