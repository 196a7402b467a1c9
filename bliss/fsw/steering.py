"""Onboard solar-sail steering laws: state estimate and target in, sail attitude out.

These laws run on the spacecraft. They take the current state *estimate* (r [m], v [m/s], heliocentric
ecliptic J2000), the Sun's GM, the target and the sail's optical parameters, and return the sail
attitude as (cone, clock) [rad] in the orbit RTN frame of that state (``sim.rtn`` convention:
n = cos(cone) R + sin(cone) (cos(clock) T + sin(clock) N)); ``sim.rtn.cone_clock_to_normal`` turns it
into the inertial unit normal. They never look at the simulator's truth (no ephemeris, no integrator).

Laws (see docs/guidance.md for the derivations and sources):

- :func:`optimal_cone_for_force_component`: the cone angle maximising the sail force's component along
  a direction at angle ``alpha_tilde`` from the Sun line. Ideal sail (force 2 P A cos^2(cone) along n):
  closed form tan(cone) = (-3 cos a~ + sqrt(9 cos^2 a~ + 8 sin^2 a~)) / (4 sin a~) (McInnes, "Solar
  Sailing", 1999, sec. 4.3); 35.26 deg for a~ = 90 deg. Non-ideal optics: a bounded 1-D search on the
  ``sim.sail`` force model (the optimal normal always lies in the plane of the Sun line and the
  direction, clocked toward the direction, because the force of any cone lies in the plane of the Sun
  line and the normal, with a non-negative component along the normal's tilt).
- :func:`locally_optimal`: maximise (or minimise) the instantaneous rate of one classical element
  (a, e, i, raan, argp) from Gauss's variational equations: the desired force direction is that
  element's gradient with respect to the perturbing acceleration, in RTN.
- :func:`blended`: a Lyapunov (Q-law-like) blend driving all five elements at once. Instead of the
  classical elements (singular for the near-zero inclination of an Earth-departure orbit) it uses the
  non-singular set (a, eccentricity vector, unit angular-momentum vector), which fixes the same five
  elements, with V = W_a ((a - a_T)/a_T)^2 + W_e |e - e_T|^2 + W_h |h^ - h^_T|^2. dV/dt = g . f is
  linear in the sail acceleration f, so the locally best feasible attitude points the force as close
  as possible to -g within the cone limit; when no feasible attitude makes dV/dt negative the law
  asks to coast (sail edge-on, schedule mode ``MODE_OFF``). This is the Macdonald & McInnes idea of blending the
  single-element locally optimal laws, with weights proportional to each element's error.

Every law is compiled with numba (``cache=True``); the ``_``-prefixed kernels take plain floats/arrays
and are callable from other numba code. Angles in radians, SI units.
"""
from __future__ import annotations

import math

import numpy as np
from astropy import units as u
from numba import njit

from sim.constants import AU, CONE_MAX_ALONG_TRACK, GM_SUN
from sim.kepler import coe2rv, perifocal_axes, rv2coe
from sim.rtn import rtn_basis
from sim.sail import IDEAL, K_RHO, K_S, Sail, rtn_accel_1au

#: Element indices of the five-element target array [a m, e, i rad, raan rad, argp rad].
EL_A, EL_E, EL_I, EL_RAAN, EL_ARGP = range(5)
ELEMENT_NAMES = ("a", "e", "i", "raan", "argp")

#: Ideal-sail cone maximising the along-track force, tan = 1/sqrt(2) (McInnes 1999 sec. 4.3) [rad].
CONE_ALONG_TRACK = CONE_MAX_ALONG_TRACK

#: Default cone limit [rad] = the ``Limits.max_cone_deg`` default (70 deg, justified in problem.py).
DEFAULT_MAX_CONE = math.radians(70.0)

#: Coarse grid size for the non-ideal 1-D cone search before golden-section refinement (a 2.5 deg grid
#: over 90 deg brackets the single maximum of the smooth projection; refined to ~1e-10 rad).
_N_GRID = 37
#: Lyapunov value treated as "on the target orbit" (coast): about 1e-7 relative error in each element.
_V_DEADBAND = 1e-14
_GOLDEN = 0.5 * (math.sqrt(5.0) - 1.0)

#: Ideal-sail parameter vector (kernel layout of sim.sail) for callers that give no sail.
_IDEAL_PARAMS = Sail(0.010, 1.0, IDEAL).kernel_params()


# ----------------------------------------------------------------------------------------------------
# cone angle maximising a force component
# ----------------------------------------------------------------------------------------------------
@njit(cache=True)
def _ideal_optimal_cone(alpha_tilde):
    """Unconstrained optimal cone [rad] of an ideal sail for a direction alpha_tilde in [0, pi] from R."""
    ca = math.cos(alpha_tilde)
    sa = math.sin(alpha_tilde)
    root = math.sqrt(9.0 * ca * ca + 8.0 * sa * sa)
    # Two algebraically equal forms of tan(cone) = (-3 cos + root) / (4 sin) = 2 sin / (3 cos + root);
    # use the one whose denominator does not cancel.
    if ca >= 0.0:
        return math.atan2(2.0 * sa, 3.0 * ca + root)
    return math.atan2(-3.0 * ca + root, 4.0 * sa)


@njit(cache=True)
def _in_plane_force(cone, p):
    """Sail acceleration at 1 AU [m/s^2] for cone [rad]: (component along R, component along the tilt)."""
    ax, ay, _ = rtn_accel_1au(cone, 0.0, p)
    return ax, ay


@njit(cache=True)
def _projection(cone, alpha_tilde, p):
    """Force component at 1 AU [m/s^2] along a direction at alpha_tilde from R, normal tilted toward it."""
    fr, fp = _in_plane_force(cone, p)
    return fr * math.cos(alpha_tilde) + fp * math.sin(alpha_tilde)


@njit(cache=True)
def _is_ideal(p):
    return p[K_RHO] == 1.0 and p[K_S] == 1.0


@njit(cache=True)
def _best_cone(alpha_tilde, p, max_cone):
    """(cone, projection at 1 AU) maximising the force component along alpha_tilde, cone in [0, max_cone]."""
    if _is_ideal(p):
        # The ideal projection cos^2(c) cos(c - a~) is unimodal on [0, pi/2] (its derivative changes
        # sign once), so the constrained optimum is the unconstrained one clipped to the limit.
        c = min(_ideal_optimal_cone(alpha_tilde), max_cone)
        return c, _projection(c, alpha_tilde, p)
    # non-ideal: coarse grid, then golden-section search on the bracket around the best grid point
    best_k = 0
    best_f = -1e300
    h = max_cone / (_N_GRID - 1)
    for k in range(_N_GRID):
        f = _projection(k * h, alpha_tilde, p)
        if f > best_f:
            best_f = f
            best_k = k
    lo = max(0.0, (best_k - 1) * h)
    hi = min(max_cone, (best_k + 1) * h)
    x1 = hi - _GOLDEN * (hi - lo)
    x2 = lo + _GOLDEN * (hi - lo)
    f1 = _projection(x1, alpha_tilde, p)
    f2 = _projection(x2, alpha_tilde, p)
    for _ in range(60):
        if hi - lo < 1e-11:
            break
        if f1 < f2:
            lo = x1
            x1 = x2
            f1 = f2
            x2 = lo + _GOLDEN * (hi - lo)
            f2 = _projection(x2, alpha_tilde, p)
        else:
            hi = x2
            x2 = x1
            f2 = f1
            x1 = hi - _GOLDEN * (hi - lo)
            f1 = _projection(x1, alpha_tilde, p)
    c = 0.5 * (lo + hi)
    fc = _projection(c, alpha_tilde, p)
    if best_f > fc:  # the optimum sits on a grid end point (0 or the limit)
        return best_k * h, best_f
    return c, fc


@njit(cache=True)
def _steer_rtn(lr, lt, ln, p, max_cone):
    """(cone, clock, projection at 1 AU) best aligning the force with the RTN direction (lr, lt, ln)."""
    lperp = math.sqrt(lt * lt + ln * ln)
    alpha_tilde = math.atan2(lperp, lr)
    clock = math.atan2(ln, lt) if lperp > 0.0 else 0.0
    cone, f = _best_cone(alpha_tilde, p, max_cone)
    norm = math.sqrt(lr * lr + lperp * lperp)
    return cone, clock, f * (1.0 if norm > 0.0 else 0.0)


@njit(cache=True)
def _rtn_components(r, v, w):
    """Components of the inertial vector w in the RTN frame of (r, v) (``sim.rtn.rtn_basis``)."""
    b = rtn_basis(r, v)
    return (b[0, 0] * w[0] + b[0, 1] * w[1] + b[0, 2] * w[2],
            b[1, 0] * w[0] + b[1, 1] * w[1] + b[1, 2] * w[2],
            b[2, 0] * w[0] + b[2, 1] * w[1] + b[2, 2] * w[2])


@njit(cache=True)
def _steer_inertial(r, v, w, p, max_cone):
    """(cone, clock, projection at 1 AU) best aligning the force with the inertial direction w."""
    lr, lt, ln = _rtn_components(r, v, w)
    return _steer_rtn(lr, lt, ln, p, max_cone)


# ----------------------------------------------------------------------------------------------------
# single-element locally optimal laws (Gauss's variational equations)
# ----------------------------------------------------------------------------------------------------
@njit(cache=True)
def _gauss_gradient(mu, r, v, element):
    """RTN gradient (G_r, G_t, G_n) of d(element)/dt with respect to the perturbing acceleration."""
    a, e, inc, raan, argp, nu = rv2coe(mu, r, v)
    rn = math.sqrt(r[0] ** 2 + r[1] ** 2 + r[2] ** 2)
    p = a * (1.0 - e * e)
    h = math.sqrt(mu * p)
    u = argp + nu
    sn, cn = math.sin(nu), math.cos(nu)
    if element == EL_A:
        return 2.0 * a * a * e * sn / h, 2.0 * a * a * p / (h * rn), 0.0
    if element == EL_E:
        return p * sn / h, ((p + rn) * cn + rn * e) / h, 0.0
    if element == EL_I:
        return 0.0, 0.0, rn * math.cos(u) / h
    si = max(math.sin(inc), 1e-12)  # raan/argp are singular at i = 0; the gradient is then huge
    if element == EL_RAAN:
        return 0.0, 0.0, rn * math.sin(u) / (h * si)
    es = max(e, 1e-12)
    return (-p * cn / (h * es), (p + rn) * sn / (h * es), -rn * math.sin(u) * math.cos(inc) / (h * si))


@njit(cache=True)
def _locally_optimal(mu, r, v, element, sign, p, max_cone):
    """(cone, clock) maximising sign * d(element)/dt."""
    gr, gt, gn = _gauss_gradient(mu, r, v, element)
    cone, clock, _ = _steer_rtn(sign * gr, sign * gt, sign * gn, p, max_cone)
    return cone, clock



# ----------------------------------------------------------------------------------------------------
# blended (Lyapunov) law on non-singular elements
# ----------------------------------------------------------------------------------------------------
@njit(cache=True)
def _target_vectors(mu, a_t, e_t, i_t, raan_t, argp_t):
    """Eccentricity vector (e P) and unit angular momentum (W) of the target orbit (inertial)."""
    P, _, W = perifocal_axes(i_t, raan_t, argp_t)
    ev = np.empty(3)
    hv = np.empty(3)
    for k in range(3):
        ev[k] = e_t * P[k]
        hv[k] = W[k]
    return ev, hv


@njit(cache=True)
def _cross(a, b):
    out = np.empty(3)
    out[0] = a[1] * b[2] - a[2] * b[1]
    out[1] = a[2] * b[0] - a[0] * b[2]
    out[2] = a[0] * b[1] - a[1] * b[0]
    return out


@njit(cache=True)
def _lyapunov(mu, r, v, a_t, ev_t, hv_t, w):
    """(V, gradient g (3,)) with dV/dt = g . f for the perturbing acceleration f (inertial)."""
    rn = math.sqrt(r[0] ** 2 + r[1] ** 2 + r[2] ** 2)
    v2 = v[0] ** 2 + v[1] ** 2 + v[2] ** 2
    rv = r[0] * v[0] + r[1] * v[1] + r[2] * v[2]
    a = 1.0 / (2.0 / rn - v2 / mu)
    ev = ((v2 - mu / rn) * r - rv * v) / mu
    h = _cross(r, v)
    hn = math.sqrt(h[0] ** 2 + h[1] ** 2 + h[2] ** 2)
    hh = h / hn
    da = (a - a_t) / a_t
    de = ev - ev_t
    dh = hh - hv_t
    V = w[0] * da * da + w[1] * (de[0] ** 2 + de[1] ** 2 + de[2] ** 2) + w[2] * (dh[0] ** 2 + dh[1] ** 2 + dh[2] ** 2)
    # a: da/dt = 2 a^2 / mu (v . f)
    g = (2.0 * w[0] * da / a_t * 2.0 * a * a / mu) * v
    # e vector: de/dt = (2 (v.f) r - (r.f) v - (r.v) f) / mu
    dr = de[0] * r[0] + de[1] * r[1] + de[2] * r[2]
    dv = de[0] * v[0] + de[1] * v[1] + de[2] * v[2]
    g += (2.0 * w[1] / mu) * (2.0 * dr * v - dv * r - rv * de)
    # unit angular momentum: dh^/dt = (I - h^ h^T)(r x f) / |h|
    hdot = hh[0] * hv_t[0] + hh[1] * hv_t[1] + hh[2] * hv_t[2]
    q = -(hv_t - hdot * hh)  # (I - h^h^T)(h^ - h^_T)
    g += (2.0 * w[2] / hn) * _cross(q, r)
    return V, g


@njit(cache=True)
def _best_rate(mu, r, v, a_t, ev_t, hv_t, w, p, max_cone):
    """(V, best dV/dt at 1 AU scale (<= 0 means a decrease is possible), cone, clock, |g|)."""
    V, g = _lyapunov(mu, r, v, a_t, ev_t, hv_t, w)
    gn = math.sqrt(g[0] ** 2 + g[1] ** 2 + g[2] ** 2)
    if gn == 0.0:
        return V, 0.0, 0.0, 0.0
    cone, clock, proj = _steer_inertial(r, v, -g / gn, p, max_cone)
    rn2 = r[0] ** 2 + r[1] ** 2 + r[2] ** 2
    return V, -proj * gn * AU * AU / rn2, cone, clock


@njit(cache=True)
def _effectivity(mu, r, v, a_t, ev_t, hv_t, w, p, max_cone, rate_here, n_anom):
    """Petropoulos' absolute effectivity: best dV/dt here over the best over the osculating orbit."""
    if rate_here >= 0.0:
        return 0.0
    a, e, inc, raan, argp, nu = rv2coe(mu, r, v)
    best = rate_here
    for k in range(n_anom):
        rr, vv = coe2rv(mu, a, e, inc, raan, argp, 2.0 * math.pi * k / n_anom)
        _, rate, _, _ = _best_rate(mu, rr, vv, a_t, ev_t, hv_t, w, p, max_cone)
        if rate < best:
            best = rate
    return rate_here / best


@njit(cache=True)
def _blended(mu, r, v, a_t, ev_t, hv_t, w, p, max_cone, eta_cut, n_anom):
    """(cone, clock, coast, V, best dV/dt, effectivity) of the blended law.

    Coasts when no feasible attitude reduces V or when the effectivity (this position's best rate of
    decrease over the best anywhere on the osculating orbit, sampled at ``n_anom`` true anomalies) is
    below ``eta_cut`` (Petropoulos 2004's effectivity; ``eta_cut`` = 0 disables it).
    """
    V, rate, cone, clock = _best_rate(mu, r, v, a_t, ev_t, hv_t, w, p, max_cone)
    if rate >= 0.0 or V < _V_DEADBAND:
        return cone, clock, True, V, rate, 0.0
    eta = 1.0
    if eta_cut > 0.0:
        eta = _effectivity(mu, r, v, a_t, ev_t, hv_t, w, p, max_cone, rate, n_anom)
    return cone, clock, eta < eta_cut, V, rate, eta


# ----------------------------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------------------------
def _vec(x, name, unit):
    if hasattr(x, "unit"):
        x = x.to_value(getattr(u, unit))
    x = np.asarray(x, dtype=float).reshape(-1)
    if x.size != 3 or not np.all(np.isfinite(x)) or not np.any(x):
        raise ValueError(f"{name} must be a finite non-zero 3-vector in {unit}")
    return x


def _angle(x, name):
    if hasattr(x, "unit"):
        x = x.to_value(u.rad)
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite angle in radians")
    return x


def _params(sail_params):
    if sail_params is None:
        return _IDEAL_PARAMS
    if isinstance(sail_params, Sail):
        return sail_params.kernel_params()
    p = np.asarray(sail_params, dtype=float)
    if p.shape != _IDEAL_PARAMS.shape:
        raise ValueError(f"sail_params must be a Sail or Sail.kernel_params() ({_IDEAL_PARAMS.size} floats)")
    return p


def _cone_limit(max_cone):
    c = _angle(max_cone, "max_cone")
    if not (0.0 < c <= math.pi / 2 + 1e-12):
        raise ValueError(f"max_cone must lie in (0, pi/2] rad, got {c!r}; pass radians, e.g. np.radians(70)")
    return min(c, math.pi / 2)


def optimal_cone_for_force_component(alpha_tilde, sail_params=None, max_cone=math.pi / 2) -> float:
    """Cone angle [rad] maximising the sail force's component along a direction ``alpha_tilde`` [rad]
    from the Sun line (the sail normal tilted toward that direction), limited to ``max_cone``.

    ``sail_params``: a :class:`sim.sail.Sail` or its ``kernel_params()``; None = ideal flat sail
    (closed form, McInnes 1999 sec. 4.3: 35.26 deg for ``alpha_tilde`` = 90 deg).
    """
    at = _angle(alpha_tilde, "alpha_tilde")
    if not (0.0 <= at <= math.pi):
        raise ValueError(f"alpha_tilde must lie in [0, pi] rad (angle from the Sun line), got {at!r}")
    return float(_best_cone(at, _params(sail_params), _cone_limit(max_cone))[0])


def locally_optimal(r, v, element, increase=True, sail_params=None, max_cone=math.pi / 2,
                    mu=GM_SUN) -> tuple[float, float]:
    """(cone, clock) [rad] maximising the instantaneous rate of change of one classical element.

    ``element``: 'a', 'e', 'i', 'raan' or 'argp' (or its index 0..4); ``increase=False`` minimises it.
    ``r`` [m], ``v`` [m/s]: heliocentric state estimate; ``mu`` [m^3/s^2] (default GM_SUN, DE430).
    raan and argp are singular for a zero inclination (and argp for e = 0): their laws then follow the
    limiting direction of the Gauss equations.
    """
    if isinstance(element, str):
        if element not in ELEMENT_NAMES:
            raise ValueError(f"element must be one of {', '.join(ELEMENT_NAMES)}, got {element!r}")
        element = ELEMENT_NAMES.index(element)
    if element not in range(5):
        raise ValueError(f"element index must be 0..4 (a, e, i, raan, argp), got {element!r}")
    cone, clock = _locally_optimal(float(mu), _vec(r, "r", "m"), _vec(v, "v", "m/s"), int(element),
                                   1.0 if increase else -1.0, _params(sail_params), _cone_limit(max_cone))
    return float(cone), float(clock)


#: Default blend weights (W_a, W_e, W_h) on (fractional a error)^2, |e - e_T|^2, |h^ - h^_T|^2.
#: Normalising each error by its largest rate per unit acceleration near 1 AU (about 2/v for a/a and e,
#: 1/v for h^, as in Petropoulos' Q-law) gives 1 : 1 : 4; doubling W_a was the fastest of a small grid
#: of weights for Earth -> Bennu orbit matching (see docs/guidance.md), so that is the default.
DEFAULT_WEIGHTS = np.array([2.0, 1.0, 4.0])

#: Default effectivity cut (coast where the best rate of decrease of V is below this fraction of the
#: best anywhere on the osculating orbit) and the number of true anomalies sampled to find that best.
DEFAULT_ETA_CUT = 0.0
DEFAULT_N_ANOM = 36


def blended_kernel_inputs(target_elems, mu=GM_SUN, weights=None):
    """(a_T, e-vector_T, h^_T, weights) arrays for the numba kernel ``_blended`` from [a, e, i, raan, argp]."""
    el = np.asarray(target_elems, dtype=float).reshape(-1)
    if el.size < 5 or not np.all(np.isfinite(el[:5])) or not (el[0] > 0 and 0 <= el[1] < 1):
        raise ValueError("target_elems must be [a m > 0, 0 <= e < 1, i, raan, argp rad] (finite)")
    w = DEFAULT_WEIGHTS if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    if w.size != 3 or not np.all(np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
        raise ValueError("weights must be 3 non-negative numbers (W_a, W_e, W_h), not all zero")
    ev, hv = _target_vectors(float(mu), *el[:5])
    return float(el[0]), ev, hv, w.astype(float)


def blended(r, v, target_elems, weights=None, max_cone=DEFAULT_MAX_CONE, sail_params=None,
            mu=GM_SUN, eta_cut=DEFAULT_ETA_CUT, n_anom=DEFAULT_N_ANOM) -> tuple[float, float, bool]:
    """(cone, clock, coast): the blended law driving a, e, i, raan and argp toward ``target_elems``.

    ``target_elems``: [a m, e, i rad, raan rad, argp rad] (heliocentric ecliptic J2000). ``coast`` is
    True when no attitude within ``max_cone`` [rad] reduces the Lyapunov function, or when this point of
    the orbit is an inefficient place to do it (effectivity below ``eta_cut``, see ``_blended``): fly
    the sail off (edge-on) until a better place comes round.
    """
    a_t, ev, hv, w = blended_kernel_inputs(target_elems, mu, weights)
    if not (0.0 <= eta_cut < 1.0) or int(n_anom) < 4:
        raise ValueError("eta_cut must lie in [0, 1) and n_anom be at least 4")
    cone, clock, coast, _, _, _ = _blended(float(mu), _vec(r, "r", "m"), _vec(v, "v", "m/s"), a_t, ev, hv, w,
                                           _params(sail_params), _cone_limit(max_cone), float(eta_cut), int(n_anom))
    return float(cone), float(clock), bool(coast)


def lyapunov_value(r, v, target_elems, weights=None, mu=GM_SUN) -> float:
    """The blended law's Lyapunov function V (dimensionless; 0 on the target orbit)."""
    a_t, ev, hv, w = blended_kernel_inputs(target_elems, mu, weights)
    return float(_lyapunov(float(mu), _vec(r, "r", "m"), _vec(v, "v", "m/s"), a_t, ev, hv, w)[0])
