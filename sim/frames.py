"""Reference frames: the internal heliocentric ecliptic J2000 frame and ICRF-aligned (HCRS) axes.

Internal frame ("ecliptic J2000"): origin the Sun's centre, x toward the mean equinox of J2000.0,
z along the pole of the mean ecliptic of J2000.0. It is defined to be exactly astropy's
``HeliocentricMeanEcliptic(equinox="J2000")``: the ICRS -> ecliptic rotation is ERFA's ``ecm06`` at
J2000.0 (TT), i.e. the IAU 2006 frame bias followed by a rotation about x by the IAU 2006 mean
obliquity at J2000.0, 84381.406 arcsec (Hilton et al. 2006; IAU 2006 Resolution B1).

Note for users of other tools: SPICE's ``ECLIPJ2000`` instead rotates the J2000/ICRF axes by the
IAU 1976 obliquity 84381.448 arcsec with no frame bias; the two "ecliptic J2000" frames differ by
about 0.05 arcsec (about 30 km at 1 AU). Our frame is astropy's.

Rotations here are plain matrix products on float arrays (``(..., 3)``, metres and m/s); the
astropy-coordinate bridge (``to_astropy`` / ``from_astropy``) is for users who bring or take
astropy ``SkyCoord``/frames.
"""
from __future__ import annotations

import erfa
import numpy as np
from astropy import units as u

from sim.timeconv import JD_J2000, as_time, epoch_to_tdb_seconds, tdb_seconds_to_epoch

#: IAU 2006 mean obliquity of the ecliptic at J2000.0 [arcsec] (Hilton et al. 2006), as in ERFA obl06.
OBLIQUITY_J2000_ARCSEC = 84381.406

#: Rotation matrix ICRS/HCRS axes -> ecliptic J2000 axes (3x3, orthonormal): ERFA ecm06 at J2000.0 TT,
#: which is astropy's own matrix for ``HeliocentricMeanEcliptic(equinox="J2000")``.
ICRS_TO_ECLIPJ2000 = np.ascontiguousarray(erfa.ecm06(JD_J2000, 0.0))
#: Rotation matrix ecliptic J2000 axes -> ICRS/HCRS axes (transpose of ``ICRS_TO_ECLIPJ2000``).
ECLIPJ2000_TO_ICRS = np.ascontiguousarray(ICRS_TO_ECLIPJ2000.T)

__all__ = [
    "OBLIQUITY_J2000_ARCSEC",
    "ICRS_TO_ECLIPJ2000",
    "ECLIPJ2000_TO_ICRS",
    "icrs_to_ecliptic",
    "ecliptic_to_icrs",
    "to_astropy",
    "from_astropy",
]


def _vec(x, name):
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0 or a.shape[-1] != 3:
        raise ValueError(f"{name} must have a last axis of length 3 (x, y, z), got shape {a.shape}")
    return a


def icrs_to_ecliptic(x) -> np.ndarray:
    """Rotate vectors (shape ``(..., 3)``, any unit) from ICRF-aligned axes to ecliptic J2000 axes."""
    return _vec(x, "vector") @ ICRS_TO_ECLIPJ2000.T


def ecliptic_to_icrs(x) -> np.ndarray:
    """Rotate vectors (shape ``(..., 3)``, any unit) from ecliptic J2000 axes to ICRF-aligned axes."""
    return _vec(x, "vector") @ ECLIPJ2000_TO_ICRS.T


def _time_arg(t):
    if isinstance(t, (int, float, np.floating, np.integer)):
        return tdb_seconds_to_epoch(float(t))
    if isinstance(t, np.ndarray):
        return tdb_seconds_to_epoch(t)
    return as_time(t)


def to_astropy(r, v, t, frame: str = "ecliptic"):
    """An astropy coordinate frame object holding a heliocentric state.

    ``r`` [m] and ``v`` [m/s]: ecliptic J2000 vectors, shape ``(3,)`` or ``(n, 3)`` (plain floats in SI
    or astropy Quantities of length / speed). ``t``: TDB seconds past J2000 (float or array) or an
    astropy ``Time``/date string; it becomes the frame's ``obstime``.
    ``frame="ecliptic"`` returns ``HeliocentricMeanEcliptic(equinox="J2000")`` (no rotation needed);
    ``frame="hcrs"`` returns ``HCRS`` (ICRF-aligned axes), rotated with this module's matrix.
    """
    # astropy.coordinates is imported here and in from_astropy only: ~0.15 s that the rotations above
    # (all the integrator, the ephemeris and the file writers use) do not need
    from astropy.coordinates import HCRS, CartesianDifferential, CartesianRepresentation, HeliocentricMeanEcliptic

    r = u.Quantity(r, u.m) if not isinstance(r, u.Quantity) else r.to(u.m)
    v = u.Quantity(v, u.m / u.s) if not isinstance(v, u.Quantity) else v.to(u.m / u.s)
    rv, vv = _vec(r.value, "r"), _vec(v.value, "v")
    obstime = _time_arg(t)
    if frame == "ecliptic":
        rep = CartesianRepresentation(np.moveaxis(rv, -1, 0) * u.m)
        dif = CartesianDifferential(np.moveaxis(vv, -1, 0) * u.m / u.s)
        return HeliocentricMeanEcliptic(rep.with_differentials(dif), equinox="J2000", obstime=obstime)
    if frame == "hcrs":
        ri, vi = ecliptic_to_icrs(rv), ecliptic_to_icrs(vv)
        rep = CartesianRepresentation(np.moveaxis(ri, -1, 0) * u.m)
        dif = CartesianDifferential(np.moveaxis(vi, -1, 0) * u.m / u.s)
        return HCRS(rep.with_differentials(dif), obstime=obstime)
    raise ValueError(f"unknown frame {frame!r}: use 'ecliptic' (HeliocentricMeanEcliptic J2000) or 'hcrs'")


def from_astropy(coord, obstime=None):
    """``(r [m] (…,3), v [m/s] (…,3), t [TDB s past J2000])`` in ecliptic J2000 from an astropy coordinate.

    ``coord`` is a ``SkyCoord`` or frame instance with distance and velocity data (any frame astropy
    can transform to ``HeliocentricMeanEcliptic``); its ``obstime`` sets the heliocentric origin.
    Frames without an ``obstime`` (e.g. barycentric ``ICRS``) need ``obstime`` (``Time``, date string or
    TDB seconds) to place the Sun.
    """
    from astropy.coordinates import HCRS, HeliocentricMeanEcliptic  # lazy: see to_astropy

    frame = getattr(coord, "frame", coord)
    if not hasattr(frame, "transform_to"):
        raise ValueError(f"expected an astropy SkyCoord or coordinate frame, got {type(coord).__name__}")
    if "s" not in frame.data.differentials:
        raise ValueError(
            "the coordinate has no velocity: build it with velocities (e.g. CartesianDifferential) "
            "so a full state can be taken from it"
        )
    if obstime is None:
        obstime = getattr(frame, "obstime", None)
    else:
        obstime = _time_arg(obstime)
    if obstime is None:
        raise ValueError(
            f"the {type(frame).__name__} coordinate has no obstime: pass from_astropy(coord, obstime=Time(...)) "
            "so the Sun's position can be placed"
        )
    if isinstance(frame, HCRS):
        ri = np.moveaxis(frame.cartesian.xyz.to_value(u.m), 0, -1)
        vi = np.moveaxis(frame.velocity.d_xyz.to_value(u.m / u.s), 0, -1)
        r, v = icrs_to_ecliptic(ri), icrs_to_ecliptic(vi)
    else:
        ecl = frame.transform_to(HeliocentricMeanEcliptic(equinox="J2000", obstime=obstime))
        r = np.moveaxis(ecl.cartesian.xyz.to_value(u.m), 0, -1)
        v = np.moveaxis(ecl.velocity.d_xyz.to_value(u.m / u.s), 0, -1)
    return np.ascontiguousarray(r), np.ascontiguousarray(v), epoch_to_tdb_seconds(obstime)
