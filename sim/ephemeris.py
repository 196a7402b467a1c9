"""Ephemerides: planets from astropy's built-in model or JPL DE421, small bodies from osculating elements.

All states are heliocentric (origin the Sun's centre), in the internal ecliptic J2000 frame of
``sim.frames`` (astropy's ``HeliocentricMeanEcliptic(equinox="J2000")``), in m and m/s; times are TDB
seconds past J2000.0 (``sim.timeconv``).

Sources and valid ranges
------------------------
* ``ephem="builtin"`` (default, offline): astropy's built-in ephemeris. Earth and Sun from ERFA
  ``epv00`` (a fit to JPL DE405, documented for 1900-2100 with Earth errors of a few km), the other
  planets from ERFA ``plan94`` (Simon et al. 1994; arcsecond-level, i.e. up to thousands of km), the
  Moon from astropy's truncated ELP2000-82B. Valid range taken as 1900-01-01 to 2100-01-01 TDB (the
  interval ``epv00`` was fitted over).
* ``ephem="de421"``: JPL DE421 (Folkner et al. 2008, IPN PR 42-178) from the ``de421`` PyPI data package
  (the ``de421`` extra), read with jplephem's package reader. Valid range 1899-12-04 (first record in
  the package) to 2053-10-09 (end of DE421 as published by JPL). DE421's Mars...Neptune are the
  planetary-system barycentres.
* Small bodies: two-body (Kepler) propagation of osculating elements (``SmallBody``). This ignores
  planetary perturbations and non-gravitational forces (Yarkovsky): the error grows with the distance
  in time from the elements' epoch, to thousands of km in a few years and far more over decades.

Anything outside these ranges, or an unknown body, raises ``EphemerisError`` (a ``ValueError``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from astropy import units as u
from astropy.time import Time

from sim.constants import AU, DAY, GM_EMB, GM_PLANETS, GM_SUN
from sim.frames import ICRS_TO_ECLIPJ2000
from sim.kepler import elements_state
from sim.timeconv import JD_J2000, as_time, epoch_to_tdb_seconds, tdb_seconds_to_epoch

__all__ = [
    "EphemerisError",
    "BODIES",
    "VALID_RANGES",
    "GM_BODIES",
    "body_state",
    "body_states",
    "planet_table",
    "SmallBody",
    "BENNU",
    "SMALL_BODIES",
]


class EphemerisError(ValueError):
    """Unknown body, unknown ephemeris, or epoch outside an ephemeris' valid range."""


#: Major bodies this module serves, with the names accepted for each (lower case).
BODIES = ("sun", "mercury", "venus", "earth", "moon", "emb", "mars", "jupiter", "saturn", "uranus", "neptune")
_ALIASES = {"earth-moon-barycenter": "emb", "earth-moon-barycentre": "emb", "earthmoon": "emb", "luna": "moon"}

#: GM [m^3/s^2] of each major body, DE430 values from ``sim.constants`` (planet systems for Mars...Neptune).
GM_BODIES = {**GM_PLANETS, "emb": GM_EMB, "sun": GM_SUN}


def _tdb_s(iso: str) -> float:
    return epoch_to_tdb_seconds(Time(iso, scale="tdb"))


#: Valid time ranges [TDB s past J2000] per ephemeris, with the dates they come from.
VALID_RANGES = {
    "builtin": (_tdb_s("1900-01-01T00:00:00"), _tdb_s("2100-01-01T00:00:00"), "1900-01-01 to 2100-01-01"),
    "de421": (
        (2414992.5 - JD_J2000) * DAY,  # first record of the de421 package (1899-12-04)
        (2471184.5 - JD_J2000) * DAY,  # end of DE421 as published by JPL (2053-10-09)
        "1899-12-04 to 2053-10-09",
    ),
}


def _canon_body(name: str) -> str:
    if not isinstance(name, str):
        raise EphemerisError(f"body name must be a string, got {type(name).__name__}")
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    return key


def _times_array(t) -> np.ndarray:
    if isinstance(t, (Time, str)):
        return np.atleast_1d(np.asarray(epoch_to_tdb_seconds(t), dtype=np.float64))
    arr = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if arr.ndim != 1:
        raise EphemerisError(f"times must be a scalar or a 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise EphemerisError("times must be finite TDB seconds past J2000")
    return arr


def _check_range(ephem: str, t: np.ndarray) -> None:
    lo, hi, text = VALID_RANGES[ephem]
    bad = (t < lo) | (t > hi)
    if np.any(bad):
        first = float(t[np.argmax(bad)])
        date = tdb_seconds_to_epoch(first).iso
        raise EphemerisError(
            f"epoch {date} TDB is outside the {ephem!r} ephemeris' valid range {text} TDB; "
            f"choose an epoch inside it" + ("" if ephem == "de421" else " (or ephem='de421' where it covers it)")
        )


# --- builtin (astropy / ERFA) ----------------------------------------------------------------------

#: Moon's share of the Earth-Moon mass, GM_moon / (GM_earth + GM_moon) (DE430 GMs, sim.constants).
_MOON_SHARE = GM_PLANETS["moon"] / GM_EMB


#: ERFA plan94 planet numbers (Simon et al. 1994): 3 is the Earth-Moon barycentre, unused here.
_PLAN94_INDEX = {"mercury": 1, "venus": 2, "mars": 4, "jupiter": 5, "saturn": 6, "uranus": 7, "neptune": 8}
_AU_PER_DAY = AU / DAY  # m/s per AU/day


def _erfa_pv(pv):
    return pv["p"] * AU, pv["v"] * _AU_PER_DAY


def _builtin_icrs(body: str, t: np.ndarray):
    """Heliocentric ICRF-axes state from astropy's built-in ephemeris.

    Earth and planets call the same ERFA routines astropy's ``ephemeris="builtin"`` calls (epv00's
    heliocentric Earth; plan94's heliocentric planets, to which astropy adds and we do not subtract the
    Sun's barycentric offset), directly: ~100x faster per call, identical to round-off. The Moon goes
    through astropy (its ELP2000-82B series lives there).
    """
    import warnings

    import erfa

    jd1 = np.full(t.shape, JD_J2000)
    jd2 = t / DAY
    with warnings.catch_warnings():  # our own range check has run; ERFA would warn outside its fit range
        warnings.simplefilter("ignore", erfa.ErfaWarning)
        if body == "earth":
            pvh, _ = erfa.epv00(jd1, jd2)
            return _erfa_pv(pvh)
        if body in _PLAN94_INDEX:
            return _erfa_pv(erfa.plan94(jd1, jd2, _PLAN94_INDEX[body]))
    from astropy.coordinates import get_body_barycentric_posvel

    times = tdb_seconds_to_epoch(t)
    ps, vs = get_body_barycentric_posvel("sun", times, ephemeris="builtin")
    pm, vm = get_body_barycentric_posvel("moon", times, ephemeris="builtin")
    rm, vm = (pm.xyz - ps.xyz).to_value(u.m).T, (vm.xyz - vs.xyz).to_value(u.m / u.s).T
    if body == "moon":
        return rm, vm
    # "emb": astropy's builtin "earth-moon-barycenter" is ERFA plan94's (errors of thousands of km); the
    # mass-weighted mean of epv00's Earth and the ELP Moon is accurate to tens of km.
    re, ve = _builtin_icrs("earth", t)
    return re + _MOON_SHARE * (rm - re), ve + _MOON_SHARE * (vm - ve)


# --- JPL DE421 through jplephem ---------------------------------------------------------------------

_DE421 = None


def _de421():
    global _DE421
    if _DE421 is None:
        try:
            import de421  # the JPL DE421 data package (Chebyshev records as .npy files)
            from jplephem.ephem import Ephemeris
        except ImportError:
            raise EphemerisError(
                "ephem='de421' needs the de421 data package: pip install 'bliss-sail[de421]' "
                "(or pip install de421), or use ephem='builtin'"
            ) from None
        _DE421 = Ephemeris(de421)
    return _DE421


def _de421_icrs(body: str, t: np.ndarray):
    eph = _de421()
    jd1 = np.full(t.shape, JD_J2000)
    jd2 = t / DAY

    def pv(name):  # barycentric (SSB) for sun/planets/EMB, geocentric for the moon; km and km/day
        p, v = eph.position_and_velocity(name, jd1, jd2)
        return p.T * 1e3, v.T * (1e3 / DAY)

    ps, vs = pv("sun")
    if body == "sun":
        return np.zeros_like(ps), np.zeros_like(vs)
    if body in ("earth", "moon", "emb"):
        pe, ve = pv("earthmoon")
        if body != "emb":
            pm, vm = pv("moon")
            share = eph.earth_share if body == "earth" else -eph.moon_share
            pe, ve = pe - share * pm, ve - share * vm
    else:
        pe, ve = pv(body)
    return pe - ps, ve - vs


# --- public API -------------------------------------------------------------------------------------


def body_states(name: str, times, ephem: str = "builtin"):
    """Heliocentric ecliptic-J2000 states of a body over an array of times.

    ``times``: TDB seconds past J2000 (1-D array or scalar) or an astropy ``Time``. ``name``: one of
    ``BODIES`` or a small body in ``SMALL_BODIES`` (e.g. ``"bennu"``; two-body, ``ephem`` ignored).
    Returns ``(r (n, 3) [m], v (n, 3) [m/s])``.
    """
    key = _canon_body(name)
    t = _times_array(times)
    if key in SMALL_BODIES:
        return SMALL_BODIES[key].states(t)
    if key not in BODIES:
        raise EphemerisError(
            f"unknown body {name!r}: valid bodies are {', '.join(BODIES)} and small bodies "
            f"{', '.join(sorted(SMALL_BODIES))} (others via SmallBody.from_elements / from_mpcorb_line)"
        )
    if ephem not in VALID_RANGES:
        raise EphemerisError(f"unknown ephemeris {ephem!r}: use 'builtin' (astropy/ERFA) or 'de421'")
    _check_range(ephem, t)
    if key == "sun":
        z = np.zeros((t.size, 3))
        return z, z.copy()
    r, v = (_builtin_icrs if ephem == "builtin" else _de421_icrs)(key, t)
    rot = ICRS_TO_ECLIPJ2000.T
    return np.ascontiguousarray(r @ rot), np.ascontiguousarray(v @ rot)


def body_state(name: str, t_tdb_s, ephem: str = "builtin"):
    """Heliocentric ecliptic-J2000 state ``(r (3,) [m], v (3,) [m/s])`` of a body at one time.

    ``t_tdb_s``: TDB seconds past J2000 (float) or an astropy ``Time``/date string. See ``body_states``.
    """
    if np.ndim(t_tdb_s) != 0 and not isinstance(t_tdb_s, str):
        raise EphemerisError("body_state takes one time; use body_states for an array of times")
    r, v = body_states(name, t_tdb_s, ephem)
    return r[0], v[0]


def planet_table(bodies, t0, t1, step, ephem: str = "builtin"):
    """Sample perturbing bodies on a uniform time grid for the integrator's third-body terms.

    ``bodies``: names from ``BODIES`` except ``"sun"`` (e.g. ``("earth", "moon", "venus", "jupiter")``
    or ``("emb", ...)``). ``t0``, ``t1``: TDB seconds past J2000 (or astropy ``Time``), ``t1 > t0``;
    ``step`` [s] (or a time Quantity). The grid is ``t0 + k*step``, k = 0..nt-1, with the last point at
    or after ``t1``.
    Returns ``(gms (nb,) [m^3/s^2], t0 [s], dt [s], pos (nb, nt, 3) [m], vel (nb, nt, 3) [m/s])``,
    heliocentric ecliptic J2000, float64 C-contiguous.
    """
    if isinstance(bodies, str):
        bodies = (bodies,)
    keys = [_canon_body(b) for b in bodies]
    if not keys:
        raise EphemerisError("planet_table needs at least one body")
    for b, k in zip(bodies, keys):
        if k == "sun" or k not in BODIES:
            raise EphemerisError(
                f"planet_table: {b!r} is not a perturbing body; choose from "
                f"{', '.join(x for x in BODIES if x != 'sun')} (the Sun is the central body)"
            )
    t0 = float(_times_array(t0)[0])
    t1 = float(_times_array(t1)[0])
    dt = float(step.to_value(u.s)) if isinstance(step, u.Quantity) else float(step)
    if not (t1 > t0):
        raise EphemerisError(f"planet_table: t1 ({t1}) must be after t0 ({t0})")
    if not (dt > 0.0 and math.isfinite(dt)):
        raise EphemerisError(f"planet_table: step must be a positive number of seconds, got {step!r}")
    nt = int(math.ceil((t1 - t0) / dt - 1e-9)) + 1
    grid = t0 + dt * np.arange(nt)
    pos = np.empty((len(keys), nt, 3))
    vel = np.empty((len(keys), nt, 3))
    for j, k in enumerate(keys):
        pos[j], vel[j] = body_states(k, grid, ephem)
    gms = np.array([GM_BODIES[k] for k in keys], dtype=np.float64)
    return gms, t0, dt, pos, vel


# --- small bodies -----------------------------------------------------------------------------------

_MPC_CENTURY = {"I": 1800, "J": 1900, "K": 2000}


def _mpc_digit(c: str) -> int:
    """MPC packed single character: '1'..'9' -> 1..9, 'A'..'V' -> 10..31."""
    if c.isdigit():
        return int(c)
    if "A" <= c <= "V":
        return ord(c) - ord("A") + 10
    raise ValueError(c)


def _unpack_mpc_epoch(packed: str) -> Time:
    """MPC packed date (e.g. 'K1111' = 2011-01-01), time 0h TT."""
    if len(packed) != 5 or packed[0] not in _MPC_CENTURY or not packed[1:3].isdigit():
        raise ValueError(packed)
    year = _MPC_CENTURY[packed[0]] + int(packed[1:3])
    month, day = _mpc_digit(packed[3]), _mpc_digit(packed[4])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise ValueError(packed)
    return Time(f"{year:04d}-{month:02d}-{day:02d}T00:00:00", scale="tt")


def _unpack_mpc_number(packed: str) -> str:
    """Packed permanent number ('A1955' -> '101955'); other designations returned as they are."""
    p = packed.strip()
    if len(p) == 5 and p[1:].isdigit() and p[0].isalpha():
        base = ord(p[0]) - ord("A") + 10 if p[0].isupper() else ord(p[0]) - ord("a") + 36
        return str(base * 10000 + int(p[1:]))
    if p.isdigit():
        return str(int(p))
    return p


#: Gaussian gravitational constant [rad/day] (IAU 1938/1976), which the MPC uses for mean motion n.
_GAUSS_K = 0.01720209895

# MPCORB.DAT fixed columns (1-based inclusive), from the MPC's "Export Format for Minor-Planet Orbits".
_MPCORB_COLUMNS = [
    ("designation", 1, 7),
    ("epoch", 21, 25),
    ("mean anomaly M [deg]", 27, 35),
    ("argument of perihelion [deg]", 38, 46),
    ("longitude of ascending node [deg]", 49, 57),
    ("inclination [deg]", 60, 68),
    ("eccentricity", 71, 79),
    ("mean daily motion n [deg/day]", 81, 91),
    ("semimajor axis a [AU]", 93, 103),
]


@dataclass(frozen=True)
class SmallBody:
    """A small body on fixed osculating heliocentric elements (ecliptic J2000), propagated two-body.

    Fields (SI, radians): ``a`` [m], ``e``, ``i``, ``raan``, ``argp``, ``M0`` (mean anomaly at epoch),
    ``epoch`` [TDB s past J2000], ``mu`` [m^3/s^2] (GM of the Sun by default), ``name``.
    Two-body propagation ignores planetary perturbations and Yarkovsky drift: states drift from the
    true orbit the further they are from ``epoch`` (thousands of km within years, much more over
    decades). Elliptic orbits only (0 <= e < 1).
    """

    name: str
    a: float
    e: float
    i: float
    raan: float
    argp: float
    M0: float
    epoch: float
    mu: float = GM_SUN

    def __post_init__(self):
        if not (0.0 <= self.e < 1.0):
            raise EphemerisError(f"{self.name}: eccentricity must be in [0, 1) for SmallBody, got {self.e}")
        if not (self.a > 0.0 and math.isfinite(self.a)):
            raise EphemerisError(f"{self.name}: semi-major axis must be positive, got {self.a} m")
        if not (0.0 <= self.i <= math.pi):
            raise EphemerisError(f"{self.name}: inclination must be in [0, 180] deg, got {math.degrees(self.i)} deg")

    @property
    def mean_motion(self) -> float:
        """Mean motion n [rad/s]."""
        return math.sqrt(self.mu / self.a**3)

    @property
    def period(self) -> float:
        """Orbital period [s]."""
        return 2.0 * math.pi / self.mean_motion

    @property
    def perihelion(self) -> float:
        """Perihelion distance [m]."""
        return self.a * (1.0 - self.e)

    @property
    def aphelion(self) -> float:
        """Aphelion distance [m]."""
        return self.a * (1.0 + self.e)

    def kernel_elements(self) -> np.ndarray:
        """Plain float array ``[mu, a, e, i, raan, argp, M0, epoch]`` (SI, rad, TDB s) for numba kernels
        (e.g. ``sim.integrator.EventSpec.closest_approach``)."""
        return np.array([self.mu, self.a, self.e, self.i, self.raan, self.argp, self.M0, self.epoch])

    def state(self, t):
        """``(r (3,) [m], v (3,) [m/s])`` at ``t`` (TDB s past J2000, or an astropy ``Time``/string)."""
        if np.ndim(t) != 0 and not isinstance(t, str):
            raise EphemerisError("SmallBody.state takes one time; use states() for an array")
        r, v = self.states(t)
        return r[0], v[0]

    def states(self, times):
        """``(r (n, 3) [m], v (n, 3) [m/s])`` at an array of times (TDB s past J2000 or ``Time``)."""
        t = _times_array(times)
        r = np.empty((t.size, 3))
        v = np.empty((t.size, 3))
        for k in range(t.size):
            r[k], v[k] = elements_state(self.mu, self.a, self.e, self.i, self.raan, self.argp, self.M0, self.epoch,
                                        float(t[k]))
        return r, v

    @classmethod
    def from_elements(cls, name, a, e, i, raan, argp, M, epoch, mu=None):
        """Build from astropy Quantities: ``a`` (length), ``e`` (dimensionless), angles ``i``, ``raan``
        (Ω), ``argp`` (ω), ``M`` (mean anomaly at epoch); ``epoch`` an astropy ``Time`` or date string
        (converted to TDB); ``mu`` a Quantity in m^3/s^2 (default GM of the Sun, DE421/DE430)."""

        def q(x, unit, what):
            if not isinstance(x, u.Quantity):
                raise EphemerisError(f"{name}: {what} must be an astropy Quantity in {unit} (e.g. 1.2 * u.{unit})")
            try:
                return float(x.to_value(unit))
            except u.UnitConversionError:
                raise EphemerisError(f"{name}: {what} has unit {x.unit}, expected something convertible to {unit}") from None

        ev = float(e.to_value(u.one)) if isinstance(e, u.Quantity) else float(e)
        muv = GM_SUN if mu is None else q(mu, "m3 / s2", "mu")
        try:
            t_epoch = epoch_to_tdb_seconds(as_time(epoch))
        except ValueError as exc:
            raise EphemerisError(f"{name}: bad epoch: {exc}") from None
        return cls(
            name=str(name),
            a=q(a, "m", "a"),
            e=ev,
            i=math.radians(q(i, "deg", "i")),
            raan=math.radians(q(raan, "deg", "raan")),
            argp=math.radians(q(argp, "deg", "argp")),
            M0=math.radians(q(M, "deg", "M")),
            epoch=t_epoch,
            mu=muv,
        )

    @classmethod
    def from_mpcorb_line(cls, line: str, mu=None):
        """Parse one line of the Minor Planet Center's MPCORB.DAT (fixed-column export format).

        Columns used (1-based): 1-7 packed designation, 21-25 packed epoch (0h TT), 27-35 M, 38-46 ω,
        49-57 Ω, 60-68 i (degrees, ecliptic J2000), 71-79 e, 81-91 n [deg/day], 93-103 a [AU];
        167-194 readable designation when present. ``a`` and ``n`` must agree (Kepler's third law with
        the Gaussian constant) to 1e-5, which catches shifted columns. A bad field raises
        ``EphemerisError`` naming its columns.
        """
        if not isinstance(line, str):
            raise EphemerisError(f"MPCORB line must be a string, got {type(line).__name__}")
        line = line.rstrip("\r\n")
        if len(line) < 103:
            raise EphemerisError(
                f"MPCORB line is {len(line)} characters long; the orbit fields need at least 103 "
                "(columns 1-103 of the MPC export format)"
            )
        fields = {}
        for what, c0, c1 in _MPCORB_COLUMNS:
            text = line[c0 - 1 : c1]
            try:
                if what == "designation":
                    if not text.strip():
                        raise ValueError
                    fields[what] = _unpack_mpc_number(text)
                elif what == "epoch":
                    fields[what] = _unpack_mpc_epoch(text)
                else:
                    if not text.strip() or " " in text.strip():
                        raise ValueError
                    fields[what] = float(text)
            except ValueError:
                raise EphemerisError(
                    f"MPCORB line: columns {c0}-{c1} ({what}) hold {text!r}, which is not valid "
                    "(check the line follows the MPC export format column for column)"
                ) from None
        a_au = fields["semimajor axis a [AU]"]
        n_deg = fields["mean daily motion n [deg/day]"]
        e = fields["eccentricity"]
        if not (a_au > 0):
            raise EphemerisError(f"MPCORB line: columns 93-103 (semimajor axis a [AU]) must be positive, got {a_au}")
        n_expected = math.degrees(_GAUSS_K) / a_au**1.5
        if abs(n_deg / n_expected - 1.0) > 1e-5:
            raise EphemerisError(
                f"MPCORB line: mean daily motion (columns 81-91) {n_deg} deg/day does not match the "
                f"semimajor axis (columns 93-103) {a_au} AU, which implies {n_expected:.8f}; "
                "the line's columns are probably shifted"
            )
        readable = line[166:194].strip() if len(line) > 166 else ""
        name = readable or fields["designation"]
        return cls.from_elements(
            name,
            a=a_au * u.AU,
            e=e,
            i=fields["inclination [deg]"] * u.deg,
            raan=fields["longitude of ascending node [deg]"] * u.deg,
            argp=fields["argument of perihelion [deg]"] * u.deg,
            M=fields["mean anomaly M [deg]"] * u.deg,
            epoch=fields["epoch"],
            mu=mu,
        )


#: 101955 Bennu from JPL SBDB osculating elements (heliocentric ecliptic J2000, epoch 2011-01-01.0 TDB =
#: JD 2455562.5), as listed in the project's reference facts. Two-body propagation of these elements
#: drifts from Bennu's true orbit over years to decades (planetary perturbations, Yarkovsky effect).
BENNU = SmallBody.from_elements(
    "101955 Bennu",
    a=1.126391 * u.AU,
    e=0.203745,
    i=6.0349 * u.deg,
    raan=2.0609 * u.deg,
    argp=66.2231 * u.deg,
    M=101.7039 * u.deg,
    epoch=Time(2455562.5, format="jd", scale="tdb"),
)

#: Small bodies ``body_state`` knows by name (lower case).
SMALL_BODIES = {"bennu": BENNU, "101955 bennu": BENNU, "101955": BENNU}

