"""Solar-sail force model shared by the flight software and the simulator.

A flat sail of area ``A`` and total spacecraft mass ``m`` at distance ``r`` from the Sun, with unit normal
``n`` and Sun-to-sail unit vector ``u``. The cone angle ``alpha`` is the angle between ``n`` and ``u``
(``cos alpha = n . u``). The *front* face is the face the Sun lights when ``cos alpha > 0``; ``n`` points
away from the Sun, the direction an ideal sail is pushed.

Non-ideal optical model (McInnes, "Solar Sailing", 1999, sec. 2.6, after the JPL 1978 model), with
``P = P_SRP_1AU (AU/r)^2`` and ``c = cos alpha``:

    F_n = P A [ (1 + rho s) c^2 + B_lit (1 - s) rho c + (1 - rho) (eps_lit B_lit - eps_dark B_dark) / (eps_lit + eps_dark) c ]
    F_t = P A (1 - rho s) c sin alpha     along the in-plane tangent, the direction of u - c n

``rho`` reflectivity, ``s`` specular fraction, ``B`` non-Lambertian coefficients, ``eps`` emissivities.
The ideal flat reflector is ``rho = s = 1``: F = 2 P A c^2 n.

Sun behind the sail (``c < 0``): the front face gets no light and gives no thrust. The back face is then
the lit face, with the roles of the front/back coefficients swapped and its own reflectivity and specular
fraction, which are **zero (a black, absorbing back face) unless configured** (``back_reflective=True``
gives the back face the front's ``rho`` and ``s``). Edge-on (``c = 0``) gives no force. Shadowing by
planets is not modelled (BLISS cruises in interplanetary space).

The numba kernel ``srp_accel`` takes a plain parameter array from :meth:`Sail.kernel_params`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from astropy import units as u
from numba import njit

from sim.constants import AU, G_SUN_1AU, P_SRP_1AU

#: Layout of the kernel parameter array (see :meth:`Sail.kernel_params`).
K_SCALE, K_RHO, K_S, K_BF, K_BB, K_EF, K_EB, K_RHO_BACK, K_S_BACK = range(9)
N_PARAMS = 9


@dataclass(frozen=True)
class OpticalProperties:
    """Optical coefficients of the sail film (dimensionless, McInnes 1999 notation)."""

    name: str
    reflectivity: float      # rho (r-tilde)
    specular: float          # s, specular fraction of the reflected light
    b_front: float           # B_f, front non-Lambertian coefficient
    b_back: float            # B_b, back non-Lambertian coefficient
    eps_front: float         # front emissivity
    eps_back: float          # back emissivity
    back_reflective: bool = False  # back face reflects like the front; default black (absorbing)

    def __post_init__(self):
        for key in ("reflectivity", "specular", "eps_front", "eps_back"):
            v = getattr(self, key)
            if not (0.0 <= v <= 1.0):
                raise ValueError(f"optical property {key}={v!r} must lie in [0, 1]")
        for key in ("b_front", "b_back"):
            v = getattr(self, key)
            if not (0.0 <= v <= 1.0) or not math.isfinite(v):
                raise ValueError(f"non-Lambertian coefficient {key}={v!r} must lie in [0, 1]")


#: Ideal flat reflector: perfect specular reflection, no absorption, no thermal re-emission.
#: (B = 2/3 is the Lambertian value; it does not enter with s = 1.)
IDEAL = OpticalProperties("ideal", 1.0, 1.0, 2.0 / 3.0, 2.0 / 3.0, 0.0, 0.0)

#: McInnes reference sail (McInnes, "Solar Sailing", 1999, Table 2.3; values in shared/reference.md).
MCINNES_1999 = OpticalProperties("mcinnes", 0.88, 0.94, 0.79, 0.55, 0.05, 0.55)

#: NEA Scout sail (Heaton & Artusio-Glimpse 2015; values in shared/reference.md).
NEA_SCOUT_2015 = OpticalProperties("nea-scout", 0.91, 0.89, 0.79, 0.67, 0.025, 0.27)

OPTICS = {o.name: o for o in (IDEAL, MCINNES_1999, NEA_SCOUT_2015)}


@dataclass(frozen=True)
class Sail:
    """A flat solar sail: total spacecraft mass [kg], sail area [m^2] and optical properties.

    The BLISS baseline (Alvara et al. 2024): 10 g, 1 m^2. With the ideal optics
    ``characteristic_acceleration`` is 2 P A / m = 0.908 mm/s^2 and ``lightness_number`` 0.153.
    """

    mass: float = 0.010
    area: float = 1.0
    optics: OpticalProperties = field(default=IDEAL)

    def __post_init__(self):
        if not (math.isfinite(self.mass) and self.mass > 0):
            raise ValueError(f"sail mass must be a positive finite number of kilograms, got {self.mass!r}")
        if not (math.isfinite(self.area) and self.area > 0):
            raise ValueError(f"sail area must be a positive finite number of square metres, got {self.area!r}")

    @property
    def normal_coefficient(self) -> float:
        """Normal force at cone 0 in units of P A (2 for the ideal sail)."""
        o = self.optics
        return _normal_coefficient(o.reflectivity, o.specular, o.b_front, o.b_back, o.eps_front, o.eps_back)

    @property
    def characteristic_acceleration(self) -> float:
        """SRP acceleration at 1 AU with the sail facing the Sun [m/s^2]."""
        return P_SRP_1AU * self.area / self.mass * self.normal_coefficient

    @property
    def lightness_number(self) -> float:
        """Characteristic acceleration over the Sun's gravity at 1 AU (beta)."""
        return self.characteristic_acceleration / G_SUN_1AU

    @property
    def params(self) -> np.ndarray:
        """:meth:`kernel_params`, computed once per sail, read-only."""
        return self._cached_params()[1]

    @property
    def kernel_array(self) -> np.ndarray:
        """The writable array behind :attr:`params`, for passing to the numba kernels (never modify it):
        numba compiles a kernel separately for read-only arrays, so the kernels always get writable ones."""
        return self._cached_params()[0]

    def _cached_params(self):
        cached = self.__dict__.get("_params")
        if cached is None:
            p = self.kernel_params()
            view = p.view()
            view.setflags(write=False)
            cached = (p, view)
            object.__setattr__(self, "_params", cached)
        return cached

    def kernel_params(self) -> np.ndarray:
        """Plain float array for the numba kernels (layout ``K_*`` above)."""
        o = self.optics
        p = np.zeros(N_PARAMS)
        p[K_SCALE] = P_SRP_1AU * self.area / self.mass * AU**2  # [m^3/s^2]: accel = P_SCALE / r^2 * (...)
        p[K_RHO], p[K_S] = o.reflectivity, o.specular
        p[K_BF], p[K_BB] = o.b_front, o.b_back
        p[K_EF], p[K_EB] = o.eps_front, o.eps_back
        if o.back_reflective:
            p[K_RHO_BACK], p[K_S_BACK] = o.reflectivity, o.specular
        return p


def _normal_coefficient(rho, s, b_lit, b_dark, e_lit, e_dark):
    esum = e_lit + e_dark
    thermal = (e_lit * b_lit - e_dark * b_dark) / esum if esum > 0.0 else 0.0
    return (1.0 + rho * s) + b_lit * (1.0 - s) * rho + (1.0 - rho) * thermal


@njit(cache=True, inline="always")
def _face_force(c, ux, uy, uz, mx, my, mz, rho, s, b_lit, b_dark, e_lit, e_dark):
    """Force per (P A) on the lit face with unit normal m, c = m . u > 0. Returns a 3-tuple."""
    esum = e_lit + e_dark
    thermal = (e_lit * b_lit - e_dark * b_dark) / esum if esum > 0.0 else 0.0
    fn = (1.0 + rho * s) * c * c + (b_lit * (1.0 - s) * rho + (1.0 - rho) * thermal) * c
    ft = (1.0 - rho * s) * c  # times (u - c m), whose norm is sin(alpha)
    return (fn * mx + ft * (ux - c * mx), fn * my + ft * (uy - c * my), fn * mz + ft * (uz - c * mz))


@njit(cache=True, inline="always")
def sail_numbers(p):
    """The kernel parameters ``p`` (``Sail.kernel_params()``) as a tuple of numbers, read in one place:
    a right-hand side reads its arrays before it branches and hands on numbers (see ``sim.dynamics``)."""
    return (p[K_SCALE], p[K_RHO], p[K_S], p[K_BF], p[K_BB], p[K_EF], p[K_EB], p[K_RHO_BACK], p[K_S_BACK])


@njit(cache=True, inline="always")
def srp_accel_numbers(ux, uy, uz, inv_r2, nx, ny, nz, sp):
    """SRP acceleration [m/s^2] given the Sun-to-sail unit vector u, 1/r^2 [1/m^2], the unit normal n and
    the sail's numbers ``sp`` (:func:`sail_numbers`)."""
    scale1, rho, s, bf, bb, ef, eb, rho_back, s_back = sp
    c = nx * ux + ny * uy + nz * uz
    scale = scale1 * inv_r2
    if c > 0.0:
        fx, fy, fz = _face_force(c, ux, uy, uz, nx, ny, nz, rho, s, bf, bb, ef, eb)
    elif c < 0.0:
        fx, fy, fz = _face_force(-c, ux, uy, uz, -nx, -ny, -nz, rho_back, s_back, bb, bf, eb, ef)
    else:
        return 0.0, 0.0, 0.0
    return scale * fx, scale * fy, scale * fz


@njit(cache=True, inline="always")
def srp_accel_unit(ux, uy, uz, inv_r2, nx, ny, nz, p):
    """SRP acceleration [m/s^2] given the Sun-to-sail unit vector u, 1/r^2 [1/m^2] and the unit normal n.

    The hot-loop form: the caller has already computed u and 1/r^2 for gravity.
    """
    return srp_accel_numbers(ux, uy, uz, inv_r2, nx, ny, nz, sail_numbers(p))


@njit(cache=True)
def srp_accel(x, y, z, nx, ny, nz, p):
    """SRP acceleration [m/s^2] at heliocentric position (x, y, z) [m] for unit sail normal n."""
    r2 = x * x + y * y + z * z
    rinv = 1.0 / math.sqrt(r2)
    return srp_accel_unit(x * rinv, y * rinv, z * rinv, rinv * rinv, nx, ny, nz, p)


@njit(cache=True)
def rtn_accel_1au(cone, clock, p):
    """Sail acceleration [m/s^2] at 1 AU as its RTN components (R, T, N), for cone/clock [rad] in the RTN
    frame (``sim.rtn`` convention); at distance r it scales as (1 AU / r)^2. The one definition the
    steering laws and the rendezvous law's candidate forces use."""
    sa = math.sin(cone)
    return srp_accel_unit(1.0, 0.0, 0.0, 1.0 / (AU * AU), math.cos(cone), sa * math.cos(clock),
                          sa * math.sin(clock), p)


def srp_acceleration(sail: Sail, normal, position) -> np.ndarray:
    """SRP acceleration vector [m/s^2] for a unit sail ``normal`` at heliocentric ``position`` [m].

    Both are 3-vectors in the same inertial frame; ``position`` may be an astropy Quantity.
    """
    r = _as_metres(position)
    n = np.asarray(normal, dtype=float)
    norm = np.linalg.norm(n)
    if not np.isfinite(norm) or abs(norm - 1.0) > 1e-6:
        raise ValueError(f"sail normal must be a unit vector, got norm {norm!r}")
    return np.array(srp_accel(r[0], r[1], r[2], n[0], n[1], n[2], sail.kernel_params()))


def _as_metres(position) -> np.ndarray:
    if hasattr(position, "unit"):
        position = position.to_value(u.m)
    r = np.asarray(position, dtype=float).reshape(3)
    if not np.all(np.isfinite(r)) or not np.any(r):
        raise ValueError("position must be a finite, non-zero 3-vector in metres")
    return r
