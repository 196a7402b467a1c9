"""sim.ephemeris: planets (builtin / DE421), small bodies, MPCORB lines, planet tables."""
import math

import numpy as np
import pytest
from astropy import units as u
from hypothesis import given, settings
from hypothesis import strategies as st
from astropy.time import Time

from sim.constants import AU, GM_EMB, GM_SUN, JULIAN_YEAR
from sim.ephemeris import (
    BENNU,
    BODIES,
    EphemerisError,
    SmallBody,
    body_state,
    body_states,
    planet_table,
)
from sim.kepler import rv2coe, true_to_mean
from sim.timeconv import epoch_to_tdb_seconds

DEG = math.pi / 180


def tdb(iso):
    return epoch_to_tdb_seconds(Time(iso, scale="tdb"))


# --- Earth from the built-in ephemeris ---------------------------------------------------------------

@pytest.mark.parametrize("date, dist_au", [
    ("2026-01-03T17:00:00", 0.98330),  # perihelion 2026-01-03 (USNO); Earth's q = a(1-e) = 0.98329 AU
    ("2026-07-06T18:00:00", 1.01670),  # aphelion 2026-07-06;          Q = a(1+e) = 1.01671 AU
])
def test_earth_distance_and_speed_at_apsides(date, dist_au):
    r, v = body_state("earth", tdb(date))
    rn, vn = np.linalg.norm(r), np.linalg.norm(v)
    # 2e-4 AU (30 000 km) allows for the Moon's pull on the Earth (EMB offset 4 700 km) and the
    # hour-level timing of the apsides.
    assert rn / AU == pytest.approx(dist_au, abs=2e-4)
    assert 29.2e3 < vn < 30.35e3
    # vis-viva with a = 1.00000 AU for the Earth-Moon barycentre orbit; 30 m/s allows the Moon's wobble
    # (Earth moves +-12.6 m/s about the EMB) and a's variation.
    assert vn == pytest.approx(math.sqrt((GM_SUN + GM_EMB) * (2 / rn - 1 / AU)), abs=30.0)
    # the internal frame is the J2000 ecliptic: the Earth stays near its plane, off by the ecliptic's
    # precession since 2000 (about 47"/century, so 12" = 9 000 km by 2026) plus the lunar wobble
    # (~400 km); an equatorial-frame mistake would put it up to 0.4 AU = 6e10 m off.
    assert abs(r[2]) < 2.0e7
    # velocity prograde about +z (the ecliptic pole)
    assert np.cross(r, v)[2] > 0.999 * np.linalg.norm(np.cross(r, v))


def test_earth_on_the_j2000_ecliptic_at_j2000():
    # At J2000.0 the frame's x-y plane is the mean ecliptic of date, so only the lunar wobble (Earth
    # about the EMB: 4 700 km x sin 5.1 deg = 420 km) and the planets' pull on the EMB (~1", 700 km).
    for t in (-15 * 86400.0, 0.0, 15 * 86400.0):
        r, _ = body_state("earth", t)
        assert abs(r[2]) < 1.0e6


def test_vectorised_matches_scalar_and_time_input():
    t = np.array([tdb("2024-03-01"), tdb("2030-10-10"), tdb("2045-12-31")])
    R, V = body_states("venus", t)
    assert R.shape == (3, 3) and V.shape == (3, 3)
    for k in range(3):
        r, v = body_state("venus", t[k])
        np.testing.assert_allclose(R[k], r, rtol=1e-13)
        np.testing.assert_allclose(V[k], v, rtol=1e-13)
    r_time, _ = body_state("Venus", Time("2024-03-01", scale="tdb"))
    np.testing.assert_allclose(r_time, R[0], rtol=1e-13)
    rs, vs = body_state("sun", t[0])
    assert not np.any(rs) and not np.any(vs)


@pytest.mark.parametrize("body", ["earth", "moon", "venus", "jupiter"])
def test_builtin_is_astropys_builtin_ephemeris(body):
    # sim.ephemeris calls ERFA epv00/plan94 directly for speed; astropy's get_body_barycentric_posvel
    # (ephemeris="builtin") minus the Sun must give the same heliocentric state to round-off (1 mm, 1e-8 m/s).
    from astropy.coordinates import get_body_barycentric_posvel

    from sim.frames import icrs_to_ecliptic
    from sim.timeconv import tdb_seconds_to_epoch

    t = np.linspace(tdb("1905-01-01"), tdb("2095-01-01"), 7)
    times = tdb_seconds_to_epoch(t)
    pb, vb = get_body_barycentric_posvel(body, times, ephemeris="builtin")
    ps, vs = get_body_barycentric_posvel("sun", times, ephemeris="builtin")
    r_ref = icrs_to_ecliptic((pb.xyz - ps.xyz).to_value(u.m).T)
    v_ref = icrs_to_ecliptic((vb.xyz - vs.xyz).to_value(u.m / u.s).T)
    r, v = body_states(body, t)
    np.testing.assert_allclose(r, r_ref, rtol=0, atol=1e-3)
    np.testing.assert_allclose(v, v_ref, rtol=0, atol=1e-8)


def test_emb_is_mass_weighted_earth_and_moon():
    t = tdb("2031-05-05")
    re, _ = body_state("earth", t)
    rm, _ = body_state("moon", t)
    remb, _ = body_state("earth-moon-barycenter", t)
    d = np.linalg.norm(rm - re)
    assert 3.5e8 < d < 4.1e8  # Earth-Moon distance 356 000-407 000 km
    assert np.linalg.norm(remb - re) == pytest.approx(d * 4.9028e12 / 4.0350e14, rel=1e-3)  # GM ratio DE430


# --- DE421 ------------------------------------------------------------------------------------------

def test_builtin_agrees_with_de421():
    pytest.importorskip("de421", reason="needs the optional de421 extra: pip install -e '.[de421]'")
    t = np.linspace(tdb("1950-01-01"), tdb("2050-01-01"), 400)
    # ERFA epv00 was fitted to DE405 with Earth errors of a few km; we measured 10.6 km max against
    # DE421 over 1950-2050. Tolerance 50 km, 0.05 m/s (the brief asked for "a few thousand km").
    r1, v1 = body_states("earth", t)
    r2, v2 = body_states("earth", t, ephem="de421")
    assert np.max(np.linalg.norm(r1 - r2, axis=1)) < 50e3
    assert np.max(np.linalg.norm(v1 - v2, axis=1)) < 0.05
    # Moon: astropy's truncated ELP2000-82B, measured 26 km; tolerance 100 km.
    r1, _ = body_states("moon", t)
    r2, _ = body_states("moon", t, ephem="de421")
    assert np.max(np.linalg.norm(r1 - r2, axis=1)) < 100e3
    # Other planets: ERFA plan94 (Simon et al. 1994), arcsecond level. Measured 3 200 km (Venus),
    # 27 000 km (Mars), 172 000 km (Jupiter); tolerances are 3x those.
    for body, tol in (("venus", 1.0e7), ("mars", 8.0e7), ("jupiter", 5.2e8)):
        r1, _ = body_states(body, t)
        r2, _ = body_states(body, t, ephem="de421")
        assert np.max(np.linalg.norm(r1 - r2, axis=1)) < tol, body


def test_de421_range_error():
    pytest.importorskip("de421", reason="needs the optional de421 extra: pip install -e '.[de421]'")
    with pytest.raises(EphemerisError, match="1899-12-04 to 2053-10-09"):
        body_state("earth", tdb("2060-01-01"), ephem="de421")
    body_state("earth", tdb("2053-10-01"), ephem="de421")  # inside: no error


# --- errors -----------------------------------------------------------------------------------------

def test_out_of_range_unknown_body_unknown_ephemeris():
    with pytest.raises(EphemerisError, match="outside the 'builtin' ephemeris' valid range 1900-01-01 to 2100-01-01"):
        body_state("earth", tdb("1850-06-01"))
    with pytest.raises(ValueError, match="outside"):  # EphemerisError is a ValueError
        body_states("mars", np.array([0.0, tdb("2101-01-01")]))
    with pytest.raises(EphemerisError, match="unknown body 'vulcan': valid bodies are sun, mercury"):
        body_state("vulcan", 0.0)
    with pytest.raises(EphemerisError, match="unknown ephemeris 'de999'"):
        body_state("earth", 0.0, ephem="de999")


# --- Bennu and small bodies -------------------------------------------------------------------------

def test_bennu_state_at_epoch_reproduces_elements():
    r, v = BENNU.state(Time(2455562.5, format="jd", scale="tdb"))
    a, e, i, raan, argp, nu = rv2coe(GM_SUN, r, v)
    assert a / AU == pytest.approx(1.126391, rel=1e-12)
    assert e == pytest.approx(0.203745, abs=1e-12)
    assert i / DEG == pytest.approx(6.0349, abs=1e-10)
    assert raan / DEG == pytest.approx(2.0609, abs=1e-10)
    assert argp / DEG == pytest.approx(66.2231, abs=1e-10)
    assert true_to_mean(nu, e) / DEG == pytest.approx(101.7039, abs=1e-10)


def test_bennu_apsides_and_period_match_reference():
    # reference.md (JPL SBDB): q = 0.8969 AU, Q = 1.3559 AU, P = 1.195 yr (rounded there).
    assert BENNU.perihelion / AU == pytest.approx(0.8969, abs=5e-5)
    assert BENNU.aphelion / AU == pytest.approx(1.3559, abs=5e-5)
    assert BENNU.period / JULIAN_YEAR == pytest.approx(1.195, abs=5e-4)
    # the propagated orbit reaches them: at perihelion passage (M = 0) and half a period later
    t_peri = BENNU.epoch - BENNU.M0 / BENNU.mean_motion + 3 * BENNU.period
    (rq, vq), = [BENNU.state(t_peri)]
    rQ, _ = BENNU.state(t_peri + BENNU.period / 2)
    assert np.linalg.norm(rq) == pytest.approx(BENNU.perihelion, rel=1e-10)
    assert np.linalg.norm(rQ) == pytest.approx(BENNU.aphelion, rel=1e-10)
    assert abs(np.dot(rq, vq)) < 1e-6 * np.linalg.norm(rq) * np.linalg.norm(vq)


def test_bennu_by_name_and_vectorised():
    t = BENNU.epoch + np.array([0.0, 100.0, 400.0]) * 86400
    R, V = body_states("bennu", t)
    r, v = BENNU.state(t[2])
    np.testing.assert_array_equal(R[2], r)
    # energy is conserved along the two-body orbit
    eps = 0.5 * np.sum(V**2, axis=1) - GM_SUN / np.linalg.norm(R, axis=1)
    np.testing.assert_allclose(eps, -GM_SUN / (2 * BENNU.a), rtol=1e-12)


def test_from_elements_checks_units():
    with pytest.raises(EphemerisError, match="a must be an astropy Quantity"):
        SmallBody.from_elements("x", a=1.1, e=0.1, i=1 * u.deg, raan=0 * u.deg, argp=0 * u.deg, M=0 * u.deg,
                                epoch="2020-01-01")
    with pytest.raises(EphemerisError, match="i has unit"):
        SmallBody.from_elements("x", a=1.1 * u.AU, e=0.1, i=1 * u.m, raan=0 * u.deg, argp=0 * u.deg,
                                M=0 * u.deg, epoch="2020-01-01")
    with pytest.raises(EphemerisError, match="eccentricity"):
        SmallBody.from_elements("x", a=1.1 * u.AU, e=1.2, i=1 * u.deg, raan=0 * u.deg, argp=0 * u.deg,
                                M=0 * u.deg, epoch="2020-01-01")
    with pytest.raises(EphemerisError, match="bad epoch"):
        SmallBody.from_elements("x", a=1.1 * u.AU, e=0.1, i=1 * u.deg, raan=0 * u.deg, argp=0 * u.deg,
                                M=0 * u.deg, epoch="not a date")


# --- MPCORB -----------------------------------------------------------------------------------------

def mpcorb_line(M, peri, node, incl, e, a, epoch="K1111", desig="A1955", name="(101955) Bennu"):
    """One line in the MPC export format, built field by field.

    Columns (1-based, MPC "Export Format for Minor-Planet Orbits"): 1-7 packed number (A1955 = 101955),
    9-13 H, 15-19 G, 21-25 packed epoch (K1111 = 2011-01-01), 27-35 M, 38-46 peri, 49-57 node, 60-68 incl,
    71-79 e, 81-91 n [deg/d], 93-103 a [AU], 106 U, 108-116 reference, 118-122 #obs, 124-126 #opp,
    128-136 arc, 138-141 rms, 143-145 / 147-149 perturbers, 151-160 computer, 162-165 flags,
    167-194 readable designation, 195-202 last observation date.
    """
    n = math.degrees(0.01720209895) / a**1.5  # Gaussian k, as the MPC uses
    return (f"{desig:<7} {20.21:5.2f} {0.15:5.2f} {epoch} {M:9.5f}  {peri:9.5f}  {node:9.5f}  "
            f"{incl:9.5f}  {e:9.7f} {n:11.8f} {a:11.7f}  0 MPO600000  2651  15 1999-2024 "
            f"0.44 M-v 3Eh MPCLINUX   0804 {name:<28}20240101")


def bennu_mpcorb_line():
    """Bennu from reference.md's elements (JPL SBDB, epoch 2011-01-01.0)."""
    return mpcorb_line(101.7039, 66.2231, 2.0609, 6.0349, 0.203745, 1.126391)


def test_constructed_line_follows_the_column_spec():
    line = bennu_mpcorb_line()
    col = lambda a, b: line[a - 1:b]  # noqa: E731  (1-based inclusive, as in the MPC spec)
    assert len(line) == 202
    assert col(1, 7) == "A1955  " and col(21, 25) == "K1111"
    assert col(27, 35) == "101.70390" and col(38, 46) == " 66.22310" and col(49, 57) == "  2.06090"
    assert col(60, 68) == "  6.03490" and col(71, 79) == "0.2037450"
    assert col(81, 91) == " 0.82446138" and col(93, 103) == "  1.1263910" and col(106, 106) == "0"
    assert col(167, 194).strip() == "(101955) Bennu" and col(195, 202) == "20240101"


def test_mpcorb_bennu_gives_the_reference_elements():
    b = SmallBody.from_mpcorb_line(bennu_mpcorb_line())
    assert b.name == "(101955) Bennu"
    assert b.a == pytest.approx(BENNU.a, rel=1e-12)
    for k in ("e", "i", "raan", "argp", "M0"):
        assert getattr(b, k) == pytest.approx(getattr(BENNU, k), abs=1e-12), k
    # MPC epochs are 0h TT; reference.md's is 0h TDB: they differ by TDB-TT, under 2 ms.
    assert b.epoch == pytest.approx(BENNU.epoch, abs=2e-3)
    # so the states agree to ~ 2 ms x 30 km/s = 60 m; tolerance 100 m
    r1, _ = b.state(BENNU.epoch + 200 * 86400)
    r2, _ = BENNU.state(BENNU.epoch + 200 * 86400)
    assert np.linalg.norm(r1 - r2) < 100.0


@settings(max_examples=40, deadline=None)
@given(M=st.floats(0, 359.99999), peri=st.floats(0, 359.99999), node=st.floats(0, 359.99999),
       incl=st.floats(0, 179.99999), e=st.floats(0, 0.9999999), a=st.floats(0.5, 99.0),
       epoch=st.sampled_from(["J9611", "K0011", "K245V", "K25CA", "I99C9"]))
def test_mpcorb_parses_any_well_formed_line(M, peri, node, incl, e, a, epoch):
    b = SmallBody.from_mpcorb_line(mpcorb_line(M, peri, node, incl, e, a, epoch=epoch))
    # field precision: 5 decimals for angles, 7 for e and a
    assert math.degrees(b.M0) == pytest.approx(M, abs=6e-6)
    assert math.degrees(b.argp) == pytest.approx(peri, abs=6e-6)
    assert math.degrees(b.raan) == pytest.approx(node, abs=6e-6)
    assert math.degrees(b.i) == pytest.approx(incl, abs=6e-6)
    assert b.e == pytest.approx(e, abs=6e-8)
    assert b.a / AU == pytest.approx(a, abs=6e-8)
    year = {"I": 1800, "J": 1900, "K": 2000}[epoch[0]] + int(epoch[1:3])
    month = int(epoch[3], 32)  # '1'..'9', 'A'..'C' = 10..12 (base-32 digits)
    day = int(epoch[4], 32)  # '1'..'9', 'A'..'V' = 10..31
    assert b.epoch == pytest.approx(epoch_to_tdb_seconds(Time(f"{year}-{month:02d}-{day:02d}", scale="tt")), abs=1e-6)


def test_mpcorb_short_designation_without_readable_name():
    line = bennu_mpcorb_line()[:103]
    assert SmallBody.from_mpcorb_line(line).name == "101955"


@pytest.mark.parametrize("mutate, match", [
    (lambda s: s[:30] + "abc" + s[33:], "columns 27-35 \\(mean anomaly"),
    (lambda s: s[:20] + "Z1111" + s[25:], "columns 21-25 \\(epoch"),
    (lambda s: s[:20] + "K11D1" + s[25:], "columns 21-25 \\(epoch"),
    (lambda s: s[:72] + "x" + s[73:], "columns 71-79 \\(eccentricity"),
    (lambda s: s[:80], "80 characters long"),
    (lambda s: " " + s, "columns"),  # shifted by one column
    (lambda s: s[:85] + "9" + s[86:], "columns 81-91.*columns 93-103"),  # n inconsistent with a
])
def test_malformed_mpcorb_line_names_the_bad_column(mutate, match):
    with pytest.raises(EphemerisError, match=match):
        SmallBody.from_mpcorb_line(mutate(bennu_mpcorb_line()))


# --- planet table -----------------------------------------------------------------------------------

def test_planet_table_shapes_and_values():
    t0, t1, step = tdb("2027-01-01"), tdb("2027-03-01") + 1000.0, 86400.0
    gms, tt0, dt, pos, vel = planet_table(("earth", "moon", "jupiter"), t0, t1, step)
    nt = pos.shape[1]
    assert pos.shape == vel.shape == (3, nt, 3) and gms.shape == (3,)
    assert tt0 == t0 and dt == step
    assert t0 + dt * (nt - 2) < t1 <= t0 + dt * (nt - 1)  # covers t1 with the fewest points
    assert gms[0] == pytest.approx(3.986004354e14, rel=1e-9) and gms[2] == pytest.approx(1.26712765e17, rel=1e-8)
    r, v = body_state("jupiter", t0 + 5 * dt)
    np.testing.assert_allclose(pos[2, 5], r, rtol=1e-13)
    np.testing.assert_allclose(vel[2, 5], v, rtol=1e-13)
    assert pos.flags.c_contiguous and pos.dtype == np.float64


def test_planet_table_supports_cubic_hermite_to_within_1km():
    # The integrator interpolates the table with cubic Hermite; with a 1-day step the Earth's position
    # (lunar wobble included) between nodes is reproduced to < 1 km (estimate h^4/384 * |r''''| ~ 40 m).
    t0 = tdb("2028-02-01")
    gms, t0, dt, pos, vel = planet_table(["earth"], t0, t0 + 30 * 86400.0, 86400.0)
    k = np.arange(pos.shape[1] - 1)
    tm = t0 + (k + 0.5) * dt
    p0, p1, v0, v1 = pos[0, :-1], pos[0, 1:], vel[0, :-1], vel[0, 1:]
    mid = 0.5 * (p0 + p1) + dt / 8 * (v0 - v1)  # cubic Hermite at s = 1/2
    truth, _ = body_states("earth", tm)
    err = np.linalg.norm(mid - truth, axis=1)
    assert err.max() < 1.0e3
    assert err.max() > 0.0


def test_planet_table_errors():
    with pytest.raises(EphemerisError, match="not a perturbing body"):
        planet_table(["sun"], 0.0, 1e6, 86400.0)
    with pytest.raises(EphemerisError, match="not a perturbing body"):
        planet_table(["bennu"], 0.0, 1e6, 86400.0)
    with pytest.raises(EphemerisError, match="must be after"):
        planet_table(["earth"], 1e6, 0.0, 86400.0)
    with pytest.raises(EphemerisError, match="step must be a positive"):
        planet_table(["earth"], 0.0, 1e6, -1.0)
    with pytest.raises(EphemerisError, match="outside"):
        planet_table(["earth"], tdb("2099-12-01"), tdb("2100-02-01"), 86400.0)
    assert set(BODIES) >= {"earth", "venus", "mars", "jupiter"}
