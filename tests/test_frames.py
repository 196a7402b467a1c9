"""sim.frames: ecliptic J2000 <-> ICRF-aligned (HCRS) rotations and the astropy bridge."""
import math

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import HCRS, ICRS, CartesianDifferential, CartesianRepresentation, HeliocentricMeanEcliptic
from astropy.time import Time

from sim.constants import AU
from sim.frames import (
    ECLIPJ2000_TO_ICRS,
    ICRS_TO_ECLIPJ2000,
    OBLIQUITY_J2000_ARCSEC,
    ecliptic_to_icrs,
    from_astropy,
    icrs_to_ecliptic,
    to_astropy,
)
from sim.timeconv import epoch_to_tdb_seconds

ARCSEC = math.pi / (180 * 3600)
# A 1 AU position and an Earth-like speed in a direction not aligned with any axis.
R1 = np.array([0.3, -0.8, 0.52]) / np.linalg.norm([0.3, -0.8, 0.52]) * AU
V1 = np.array([21e3, 9e3, -4e3])
T1 = 3.0e8  # TDB s past J2000 (2009-07-04)

# Tolerances: agreement with astropy's own transformation <= 1 m on a 1 AU vector (float64 round-off of
# the 1.5e11 m components is ~3e-5 m) and <= 1e-6 m/s in velocity.
POS_TOL_M = 1.0
VEL_TOL_MS = 1e-6


def test_matrix_is_a_rotation():
    np.testing.assert_allclose(ICRS_TO_ECLIPJ2000 @ ICRS_TO_ECLIPJ2000.T, np.eye(3), atol=1e-15)
    assert np.linalg.det(ICRS_TO_ECLIPJ2000) == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_array_equal(ECLIPJ2000_TO_ICRS, ICRS_TO_ECLIPJ2000.T)


def test_matrix_is_obliquity_rotation_plus_frame_bias():
    # Independent reference: a rotation about x by the IAU 2006 obliquity 84381.406" (Hilton et al. 2006).
    # The only other ingredient is the ICRS frame bias (IAU 2006), below 0.03" in every angle.
    eps = OBLIQUITY_J2000_ARCSEC * ARCSEC
    c, s = math.cos(eps), math.sin(eps)
    r1 = np.array([[1, 0, 0], [0, c, s], [0, -s, c]])
    resid = ICRS_TO_ECLIPJ2000 @ r1.T
    angle = math.acos(min(1.0, (np.trace(resid) - 1) / 2))
    assert angle < 0.03 * ARCSEC
    assert angle > 1e-3 * ARCSEC  # the bias is really there (frame-bias-free matrices differ by ~20 mas)


def test_rotation_matches_astropy_transform_to_1m():
    ecl = HeliocentricMeanEcliptic(
        CartesianRepresentation(R1 * u.m).with_differentials(CartesianDifferential(V1 * u.m / u.s)),
        equinox="J2000", obstime=Time(2451545.0 + T1 / 86400, format="jd", scale="tdb"))
    hc = ecl.transform_to(HCRS(obstime=ecl.obstime))
    r_astropy = hc.cartesian.xyz.to_value(u.m)
    v_astropy = hc.velocity.d_xyz.to_value(u.m / u.s)
    assert np.max(np.abs(ecliptic_to_icrs(R1) - r_astropy)) <= POS_TOL_M
    assert np.max(np.abs(ecliptic_to_icrs(V1) - v_astropy)) <= VEL_TOL_MS
    assert np.max(np.abs(icrs_to_ecliptic(r_astropy) - R1)) <= POS_TOL_M


def test_vectorised_rotation_round_trip():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3)) * AU
    back = icrs_to_ecliptic(ecliptic_to_icrs(x))
    assert back.shape == (50, 3)
    np.testing.assert_allclose(back, x, atol=1e-4)
    # the ecliptic pole (0, 0, 1) in ICRS is at Dec = 90 deg - obliquity, RA = 18 h (-y direction).
    pole = ecliptic_to_icrs([0.0, 0.0, 1.0])
    assert math.degrees(math.asin(pole[2])) == pytest.approx(90 - OBLIQUITY_J2000_ARCSEC / 3600, abs=1e-5)
    assert abs(pole[0]) < 1e-6 and pole[1] < 0


@pytest.mark.parametrize("frame", ["ecliptic", "hcrs"])
def test_to_astropy_from_astropy_round_trip(frame):
    c = to_astropy(R1, V1, T1, frame=frame)
    assert isinstance(c, HeliocentricMeanEcliptic if frame == "ecliptic" else HCRS)
    r, v, t = from_astropy(c)
    np.testing.assert_allclose(r, R1, rtol=0, atol=POS_TOL_M)
    np.testing.assert_allclose(v, V1, rtol=0, atol=VEL_TOL_MS)
    assert t == pytest.approx(T1, abs=1e-6)


def test_from_astropy_other_frames_and_arrays():
    # The same state expressed in ICRS (barycentric) comes back heliocentric ecliptic through astropy.
    ecl = to_astropy(np.stack([R1, 2 * R1]), np.stack([V1, -V1]), Time("2015-03-01", scale="tdb"))
    icrs = ecl.transform_to(ICRS())
    with pytest.raises(ValueError, match="no obstime"):
        from_astropy(icrs)
    r, v, t = from_astropy(icrs, obstime="2015-03-01 00:00:00 TDB")
    assert r.shape == (2, 3)
    np.testing.assert_allclose(r, [R1, 2 * R1], rtol=0, atol=POS_TOL_M)
    np.testing.assert_allclose(v, [V1, -V1], rtol=0, atol=1e-3)  # velocity through the Sun's SSB motion
    assert t == pytest.approx(epoch_to_tdb_seconds(Time("2015-03-01", scale="tdb")), abs=1e-6)


def test_bad_inputs():
    with pytest.raises(ValueError, match="last axis of length 3"):
        ecliptic_to_icrs([1.0, 2.0])
    with pytest.raises(ValueError, match="unknown frame"):
        to_astropy(R1, V1, T1, frame="galactic")
    with pytest.raises(ValueError, match="no velocity"):
        from_astropy(HCRS(CartesianRepresentation(R1 * u.m), obstime=Time("2020-01-01")))
    with pytest.raises(ValueError, match="SkyCoord or coordinate frame"):
        from_astropy(R1)
