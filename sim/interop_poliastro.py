"""Interop with hapsira (the maintained fork of poliastro): states to and from ``hapsira.twobody.Orbit``.

hapsira is an optional extra (``pip install -e '.[poliastro]'``) that needs the old stack (numpy < 2,
astropy < 7), so it lives in an environment of its own (``.ci/poliastro-env.sh`` builds one). This
module imports it only when called.

Frames. Our internal frame is astropy's ``HeliocentricMeanEcliptic(equinox="J2000")`` (IAU 2006
obliquity 84381.406" plus frame bias; see ``sim.frames``). hapsira's heliocentric planes are
``Planes.EARTH_EQUATOR`` -> astropy ``HCRS`` (ICRF axes) and ``Planes.EARTH_ECLIPTIC`` -> astropy
``HeliocentricEclipticIAU76``, which rotates ICRF axes by the IAU 1980 obliquity at J2000
(84381.448", ERFA ``obl80``) with no frame bias. The two "ecliptic J2000" frames differ by a rotation
of about 0.05" (up to ~35 km at 1 AU), which ``to_hapsira``/``from_hapsira`` apply exactly.

Gravitational parameter. hapsira's ``Sun`` has k = 1.32712442099e20 m^3/s^2 (the IAU 2009
TCB-compatible value); ours (``GM_SUN``, JPL DE421/DE430, TDB-compatible, like our time scale) is
1.32712440018e20, 1.57e-8 smaller. Propagating the same state with both, an Earth-like orbit drifts
apart along track by about 4 pi a dGM/GM = 30 km per orbit. ``bliss_sun()`` gives hapsira's Sun with
our GM for like-for-like work; ``to_hapsira`` uses hapsira's own Sun unless told otherwise.
"""
from __future__ import annotations

import erfa
import numpy as np

from sim.constants import GM_SUN
from sim.frames import ECLIPJ2000_TO_ICRS, ICRS_TO_ECLIPJ2000
from sim.timeconv import JD_J2000, as_time, epoch_to_tdb_seconds, tdb_seconds_to_epoch

__all__ = ["to_hapsira", "from_hapsira", "bliss_sun", "ECLIPJ2000_TO_HAPSIRA_ECLIPTIC", "INSTALL_HINT"]

INSTALL_HINT = (
    "hapsira (the maintained poliastro fork) is not installed: install the 'poliastro' extra in an "
    "environment of its own, since it needs numpy<2 and astropy<7 (python3 -m venv .venv-poliastro && "
    ".venv-poliastro/bin/pip install -e '.[poliastro]', or run bash .ci/poliastro-env.sh)"
)


def _rot_x(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]])


#: ICRF axes -> astropy ``HeliocentricEclipticIAU76`` axes (hapsira's ``Planes.EARTH_ECLIPTIC`` for the
#: Sun): rotation about x by the IAU 1980 mean obliquity at J2000.0, ERFA obl80 = 84381.448".
_ICRS_TO_IAU76_ECLIPTIC = _rot_x(erfa.obl80(JD_J2000, 0.0))
#: Our ecliptic J2000 axes -> hapsira's EARTH_ECLIPTIC axes (a rotation of about 0.05 arcsec).
ECLIPJ2000_TO_HAPSIRA_ECLIPTIC = _ICRS_TO_IAU76_ECLIPTIC @ ECLIPJ2000_TO_ICRS


def _hapsira():
    try:
        import hapsira  # noqa: F401
        from hapsira.bodies import Sun
        from hapsira.frames import Planes
        from hapsira.twobody import Orbit
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return Sun, Planes, Orbit


def bliss_sun():
    """hapsira's ``Sun`` body with k set to our ``GM_SUN`` (JPL DE421/DE430, m^3/s^2)."""
    from astropy import units as u

    Sun, _, _ = _hapsira()
    return Sun._replace(k=GM_SUN * u.m**3 / u.s**2)


def _plane(plane, Planes):
    if plane in ("ecliptic", Planes.EARTH_ECLIPTIC):
        return Planes.EARTH_ECLIPTIC
    if plane in ("equator", "equatorial", "icrs", Planes.EARTH_EQUATOR):
        return Planes.EARTH_EQUATOR
    raise ValueError(f"unknown plane {plane!r}: use 'ecliptic' (Planes.EARTH_ECLIPTIC) or 'equator' (HCRS axes)")


def to_hapsira(r, v, t, plane="ecliptic", attractor=None):
    """A hapsira ``Orbit`` about the Sun from our state.

    ``r`` [m], ``v`` [m/s]: heliocentric ecliptic-J2000 vectors (3,) (floats or Quantities); ``t``: TDB
    seconds past J2000, or an astropy ``Time``/date string (the orbit's epoch, scale TDB).
    ``plane``: ``"ecliptic"`` (hapsira ``Planes.EARTH_ECLIPTIC``, default) or ``"equator"`` (HCRS axes).
    ``attractor``: default hapsira's ``Sun``; pass ``bliss_sun()`` to keep our GM.
    """
    from astropy import units as u

    Sun, Planes, Orbit = _hapsira()
    pl = _plane(plane, Planes)
    rv = np.asarray(r.to_value(u.m) if isinstance(r, u.Quantity) else r, dtype=np.float64)
    vv = np.asarray(v.to_value(u.m / u.s) if isinstance(v, u.Quantity) else v, dtype=np.float64)
    if rv.shape != (3,) or vv.shape != (3,) or not (np.all(np.isfinite(rv)) and np.all(np.isfinite(vv))):
        raise ValueError(f"r and v must be 3 finite numbers each (m, m/s), got shapes {rv.shape} and {vv.shape}")
    rot = ECLIPJ2000_TO_HAPSIRA_ECLIPTIC if pl is Planes.EARTH_ECLIPTIC else ECLIPJ2000_TO_ICRS
    if isinstance(t, (int, float, np.floating, np.integer)):
        epoch = tdb_seconds_to_epoch(float(t))
    else:
        epoch = as_time(t).tdb
    body = Sun if attractor is None else attractor
    return Orbit.from_vectors(body, (rot @ rv) * u.m, (rot @ vv) * u.m / u.s, epoch=epoch, plane=pl)


def from_hapsira(orbit):
    """``(r (3,) [m], v (3,) [m/s], t [TDB s past J2000])`` in our ecliptic J2000 frame from a hapsira
    ``Orbit`` about the Sun (plane ``EARTH_ECLIPTIC`` or ``EARTH_EQUATOR``)."""
    from astropy import units as u

    _, Planes, Orbit = _hapsira()
    if not isinstance(orbit, Orbit):
        raise ValueError(f"expected a hapsira Orbit, got {type(orbit).__name__}")
    if orbit.attractor.name != "Sun":
        raise ValueError(
            f"the orbit's attractor is {orbit.attractor.name}, not the Sun: our frame is heliocentric; "
            "change its attractor first (e.g. with hapsira's Orbit.change_attractor)"
        )
    if orbit.plane is Planes.EARTH_ECLIPTIC:
        rot = ECLIPJ2000_TO_HAPSIRA_ECLIPTIC.T
    elif orbit.plane is Planes.EARTH_EQUATOR:
        rot = ICRS_TO_ECLIPJ2000
    else:
        raise ValueError(f"unsupported plane {orbit.plane}: use Planes.EARTH_ECLIPTIC or Planes.EARTH_EQUATOR")
    r = rot @ orbit.r.to_value(u.m)
    v = rot @ orbit.v.to_value(u.m / u.s)
    return r, v, epoch_to_tdb_seconds(orbit.epoch)
