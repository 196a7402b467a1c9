"""sim.interop_poliastro: conversion to/from hapsira (poliastro fork) orbits and agreement of our
two-body propagation with hapsira's analytic propagators.

hapsira needs numpy<2 and astropy<7: these tests run in their own environment (bash .ci/poliastro-env.sh)
and are skipped elsewhere, except the one that checks the error message when hapsira is missing.
"""
import importlib.util
import math

import numpy as np
import pytest

from sim.constants import AU, GM_SUN
from sim.kepler import coe2rv, kepler_propagate, rv2coe

HAVE_HAPSIRA = importlib.util.find_spec("hapsira") is not None

# An Earth-like heliocentric orbit (a = 1 AU, e = 0.0167), slightly inclined so that no element is
# degenerate, at an epoch in 2022.
A, E, I, RAAN, ARGP, NU = AU, 0.0167, math.radians(1.5), math.radians(30.0), math.radians(100.0), 0.3
T0 = 7.0e8  # TDB s past J2000
R0, V0 = coe2rv(GM_SUN, A, E, I, RAAN, ARGP, NU)
PERIOD = 2 * math.pi * math.sqrt(A**3 / GM_SUN)


@pytest.fixture()
def hapsira():
    return pytest.importorskip("hapsira")


@pytest.mark.skipif(HAVE_HAPSIRA, reason="hapsira is installed here")
def test_missing_hapsira_gives_install_hint():
    from sim.interop_poliastro import to_hapsira

    with pytest.raises(ImportError, match="install the 'poliastro' extra in an environment of its own"):
        to_hapsira(R0, V0, T0)


@pytest.mark.poliastro
@pytest.mark.parametrize("plane", ["ecliptic", "equator"])
def test_round_trip(hapsira, plane):
    from hapsira.frames import Planes
    from sim.interop_poliastro import bliss_sun, from_hapsira, to_hapsira

    orb = to_hapsira(R0, V0, T0, plane=plane, attractor=bliss_sun())
    assert orb.attractor.name == "Sun"
    assert orb.plane is (Planes.EARTH_ECLIPTIC if plane == "ecliptic" else Planes.EARTH_EQUATOR)
    r, v, t = from_hapsira(orb)
    # float64 round-off of two rotations of 1.5e11 m: ~1e-4 m; tolerance 1 mm and 1e-9 m/s
    np.testing.assert_allclose(r, R0, rtol=0, atol=1e-3)
    np.testing.assert_allclose(v, V0, rtol=0, atol=1e-9)
    assert t == pytest.approx(T0, abs=1e-6)
    # frame-independent elements are the same in hapsira (with our GM)
    assert orb.a.to_value("m") == pytest.approx(A, rel=1e-12)
    assert orb.ecc.value == pytest.approx(E, abs=1e-12)


@pytest.mark.poliastro
def test_ecliptic_plane_rotation_matches_astropy_to_1m(hapsira):
    # hapsira's heliocentric EARTH_ECLIPTIC frame is astropy's HeliocentricEclipticIAU76; astropy's own
    # transformation from our frame (HeliocentricMeanEcliptic J2000) must agree with our matrix to 1 m.
    from astropy import units as u
    from astropy.coordinates import CartesianDifferential, CartesianRepresentation, HeliocentricMeanEcliptic
    from sim.interop_poliastro import to_hapsira
    from sim.timeconv import tdb_seconds_to_epoch

    orb = to_hapsira(R0, V0, T0, plane="ecliptic")
    frame_cls = orb.get_frame().__class__
    ours = HeliocentricMeanEcliptic(
        CartesianRepresentation(R0 * u.m).with_differentials(CartesianDifferential(V0 * u.m / u.s)),
        equinox="J2000", obstime=tdb_seconds_to_epoch(T0))
    theirs = ours.transform_to(frame_cls(obstime=ours.obstime))
    assert np.max(np.abs(theirs.cartesian.xyz.to_value(u.m) - orb.r.to_value(u.m))) < 1.0
    # and the two ecliptics really differ (IAU 1980 vs 2006 obliquity, frame bias): tens of km at 1 AU
    assert np.linalg.norm(orb.r.to_value(u.m) - R0) > 1e3


@pytest.mark.poliastro
def test_elements_agree_with_hapsira(hapsira):
    from sim.interop_poliastro import bliss_sun, to_hapsira

    orb = to_hapsira(R0, V0, T0, plane="ecliptic", attractor=bliss_sun())
    a, e, i, raan, argp, nu = rv2coe(GM_SUN, orb.r.to_value("m"), orb.v.to_value("m/s"))
    assert orb.inc.to_value("rad") == pytest.approx(i, abs=1e-12)
    assert orb.raan.to_value("rad") == pytest.approx(raan, abs=1e-10)
    assert orb.argp.to_value("rad") == pytest.approx(argp, abs=1e-9)
    assert orb.nu.to_value("rad") % (2 * math.pi) == pytest.approx(nu, abs=1e-9)


def _ours_integrated(t_out, rtol):
    """Our sail-off propagation: the DOP853 integrator with Schedule.off (pure two-body)."""
    from sim.integrator import Schedule, propagate
    from sim.sail import IDEAL, Sail

    tr = propagate(np.concatenate([R0, V0]), Schedule.off(T0, float(t_out[-1])), Sail(0.01, 1.0, IDEAL),
                   t_out=t_out, rtol=rtol)
    return tr.r, tr.v


@pytest.mark.poliastro
# (hapsira 0.18's mikkola and pimienta propagators go wrong beyond one revolution -- errors of 1e11 m
# after 2 orbits in our check -- so they are not used here.)
@pytest.mark.parametrize("method", ["farnocchia", "vallado"])
def test_ten_orbits_agree_with_hapsira_propagators(hapsira, method):
    from hapsira.twobody import propagation
    from astropy import units as u
    from sim.interop_poliastro import bliss_sun, from_hapsira, to_hapsira

    prop = {"farnocchia": propagation.FarnocchiaPropagator, "vallado": propagation.ValladoPropagator}[method]()
    t_out = T0 + np.arange(1, 21) * PERIOD / 2  # every half orbit for 10 orbits
    orb0 = to_hapsira(R0, V0, T0, attractor=bliss_sun())  # same GM as ours
    theirs = np.array([from_hapsira(orb0.propagate((t - T0) * u.s, method=prop))[:2] for t in t_out])
    r_h, v_h = theirs[:, 0], theirs[:, 1]
    # analytic vs analytic (our universal-variable Kepler solver): measured 1 cm, tolerance 1 m
    r_k = np.array([kepler_propagate(GM_SUN, R0, V0, t - T0)[0] for t in t_out])
    assert np.max(np.linalg.norm(r_k - r_h, axis=1)) < 1.0
    # our integrator at rtol 1e-12: measured 6 m after 10 orbits. Tolerance 100 m ~ 10 x rtol x |r| x
    # (10 orbits x 2 pi rad), i.e. ten times a relative error of rtol per radian of orbit; a frame, GM or
    # epoch slip would show as km. Velocity: 100 m x n (2e-7 rad/s) ~ 2e-5 m/s, tolerance 1e-4 m/s.
    r_i, v_i = _ours_integrated(t_out, 1e-12)
    assert np.max(np.linalg.norm(r_i - r_h, axis=1)) < 100.0
    assert np.max(np.linalg.norm(v_i - v_h, axis=1)) < 1e-4


@pytest.mark.poliastro
def test_hapsira_default_sun_gm_difference_is_the_expected_drift(hapsira):
    # hapsira's Sun k = 1.32712442099e20 (IAU 2009, TCB-compatible) vs our 1.32712440018e20 (DE421/DE430,
    # TDB-compatible): dGM/GM = 1.57e-8. From the same r, v a larger GM gives a larger a (vis-viva:
    # da/a = -dGM/GM for a near-circular orbit) and n = sqrt(GM/a^3) changes by 2 dGM/GM, so after N
    # orbits the along-track offset is about 2 pi N a * 2 dGM/GM = 295 km for N = 10.
    from astropy import units as u
    from hapsira.bodies import Sun
    from sim.interop_poliastro import from_hapsira, to_hapsira

    dgm = Sun.k.to_value(u.m**3 / u.s**2) / GM_SUN - 1
    expected = 2 * math.pi * 10 * A * 2 * dgm
    orb = to_hapsira(R0, V0, T0).propagate(10 * PERIOD * u.s)  # hapsira's own Sun
    r_h = from_hapsira(orb)[0]
    r_k = kepler_propagate(GM_SUN, R0, V0, 10 * PERIOD)[0]
    # 10 %: the estimate ignores e = 0.0167 and the radial part of the offset
    assert np.linalg.norm(r_h - r_k) == pytest.approx(expected, rel=0.1)


@pytest.mark.poliastro
def test_bad_inputs(hapsira):
    from hapsira.bodies import Earth
    from hapsira.twobody import Orbit
    from astropy import units as u
    from sim.interop_poliastro import from_hapsira, to_hapsira

    with pytest.raises(ValueError, match="unknown plane"):
        to_hapsira(R0, V0, T0, plane="galactic")
    with pytest.raises(ValueError, match="3 finite numbers"):
        to_hapsira(R0[:2], V0, T0)
    leo = Orbit.from_vectors(Earth, [7000.0, 0, 0] * u.km, [0, 7.5, 0] * u.km / u.s)
    with pytest.raises(ValueError, match="not the Sun"):
        from_hapsira(leo)
    with pytest.raises(ValueError, match="expected a hapsira Orbit"):
        from_hapsira((R0, V0))
