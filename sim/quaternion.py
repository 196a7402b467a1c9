"""Quaternion (and 3x3 matrix) math shared by the plant and the flight software (pure functions, numba,
plain arrays).

Convention of ``bliss.fsw.messages``: scalar-last ``[x, y, z, w]``, inertial-to-body; the rotation matrix
R(q) has the body axes as columns in inertial coordinates, so body components are R(q)^T times inertial
ones. Products are Hamilton products; a body-side error dq is q_true = q_est (x) dq.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def quat_to_matrix(q, out):
    """Rotation matrix of the scalar-last quaternion q (columns: body axes in inertial coordinates)."""
    x, y, z, w = q[0], q[1], q[2], q[3]
    out[0, 0] = 1 - 2 * (y * y + z * z)
    out[0, 1] = 2 * (x * y - z * w)
    out[0, 2] = 2 * (x * z + y * w)
    out[1, 0] = 2 * (x * y + z * w)
    out[1, 1] = 1 - 2 * (x * x + z * z)
    out[1, 2] = 2 * (y * z - x * w)
    out[2, 0] = 2 * (x * z - y * w)
    out[2, 1] = 2 * (y * z + x * w)
    out[2, 2] = 1 - 2 * (x * x + y * y)


@njit(cache=True)
def to_body(q, v, out):
    """Components in body axes of the inertial vector v: R(q)^T v."""
    x, y, z, w = q[0], q[1], q[2], q[3]
    # R^T v = v + 2 w c - 2 qv x c with c = v x qv   (rotation by the conjugate)
    cx = v[1] * z - v[2] * y
    cy = v[2] * x - v[0] * z
    cz = v[0] * y - v[1] * x
    out[0] = v[0] + 2.0 * (w * cx - (y * cz - z * cy))
    out[1] = v[1] + 2.0 * (w * cy - (z * cx - x * cz))
    out[2] = v[2] + 2.0 * (w * cz - (x * cy - y * cx))


@njit(cache=True)
def quat_mul(a, b, out):
    """Hamilton product a (x) b of scalar-last quaternions (into ``out``, which may not alias a or b)."""
    ax, ay, az, aw = a[0], a[1], a[2], a[3]
    bx, by, bz, bw = b[0], b[1], b[2], b[3]
    out[0] = aw * bx + bw * ax + (ay * bz - az * by)
    out[1] = aw * by + bw * ay + (az * bx - ax * bz)
    out[2] = aw * bz + bw * az + (ax * by - ay * bx)
    out[3] = aw * bw - (ax * bx + ay * by + az * bz)


@njit(cache=True)
def error_angles(q_ref, q, out):
    """Rotation vector [rad] of the body-side rotation dq with q = q_ref (x) dq (into ``out``): angle
    2 atan2(|vec dq|, |w|) about vec(dq), the sign chosen for the shorter rotation (2 vec(dq) for small
    angles, the MEKF's error convention)."""
    c = np.empty(4)
    c[0], c[1], c[2], c[3] = -q_ref[0], -q_ref[1], -q_ref[2], q_ref[3]
    d = np.empty(4)
    quat_mul(c, q, d)
    if d[3] < 0.0:
        for i in range(4):
            d[i] = -d[i]
    sv = math.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2)
    k = 2.0 if sv < 1e-12 else 2.0 * math.atan2(sv, d[3]) / sv
    for i in range(3):
        out[i] = k * d[i]


@njit(cache=True)
def rotate_small(q, dtheta):
    """q <- q (x) [dtheta/2, 1], normalised (in place): the MEKF's multiplicative reset."""
    d = np.empty(4)
    d[0], d[1], d[2], d[3] = 0.5 * dtheta[0], 0.5 * dtheta[1], 0.5 * dtheta[2], 1.0
    _post_multiply(q, d)


@njit(cache=True)
def _post_multiply(q, d):
    """q <- q (x) d, normalised (in place)."""
    out = np.empty(4)
    quat_mul(q, d, out)
    n = math.sqrt(out[0] ** 2 + out[1] ** 2 + out[2] ** 2 + out[3] ** 2)
    for i in range(4):
        q[i] = out[i] / n


@njit(cache=True)
def rotate_by_rate(q, w, dt):
    """q <- q (x) exp([w dt / 2]) (in place): exact integration of a constant body rate w over dt."""
    ang = math.sqrt(w[0] ** 2 + w[1] ** 2 + w[2] ** 2) * dt
    d = np.empty(4)
    if ang < 1e-12:
        for i in range(3):
            d[i] = 0.5 * w[i] * dt
        d[3] = 1.0
    else:
        s = math.sin(0.5 * ang) / ang * dt
        for i in range(3):
            d[i] = s * w[i]
        d[3] = math.cos(0.5 * ang)
    _post_multiply(q, d)


@njit(cache=True)
def matrix_to_quat(m, out):
    """Scalar-last unit quaternion (w >= 0) of the rotation matrix m (largest-component method)."""
    tr = m[0, 0] + m[1, 1] + m[2, 2]
    if tr >= m[0, 0] and tr >= m[1, 1] and tr >= m[2, 2]:
        w4 = 2.0 * math.sqrt(1.0 + tr)
        out[0], out[1] = (m[2, 1] - m[1, 2]) / w4, (m[0, 2] - m[2, 0]) / w4
        out[2], out[3] = (m[1, 0] - m[0, 1]) / w4, 0.25 * w4
    elif m[0, 0] >= m[1, 1] and m[0, 0] >= m[2, 2]:
        x4 = 2.0 * math.sqrt(1.0 + 2.0 * m[0, 0] - tr)
        out[0], out[1] = 0.25 * x4, (m[0, 1] + m[1, 0]) / x4
        out[2], out[3] = (m[0, 2] + m[2, 0]) / x4, (m[2, 1] - m[1, 2]) / x4
    elif m[1, 1] >= m[2, 2]:
        y4 = 2.0 * math.sqrt(1.0 + 2.0 * m[1, 1] - tr)
        out[0], out[1] = (m[0, 1] + m[1, 0]) / y4, 0.25 * y4
        out[2], out[3] = (m[1, 2] + m[2, 1]) / y4, (m[0, 2] - m[2, 0]) / y4
    else:
        z4 = 2.0 * math.sqrt(1.0 + 2.0 * m[2, 2] - tr)
        out[0], out[1] = (m[0, 2] + m[2, 0]) / z4, (m[1, 2] + m[2, 1]) / z4
        out[2], out[3] = 0.25 * z4, (m[1, 0] - m[0, 1]) / z4
    if out[3] < 0.0:
        for i in range(4):
            out[i] = -out[i]
    n = math.sqrt(out[0] ** 2 + out[1] ** 2 + out[2] ** 2 + out[3] ** 2)
    for i in range(4):
        out[i] /= n


@njit(cache=True)
def inverse3(m, out):
    """Inverse of a 3x3 matrix by cofactors (into ``out``)."""
    c00 = m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1]
    c01 = m[1, 2] * m[2, 0] - m[1, 0] * m[2, 2]
    c02 = m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]
    det = m[0, 0] * c00 + m[0, 1] * c01 + m[0, 2] * c02
    out[0, 0], out[1, 0], out[2, 0] = c00 / det, c01 / det, c02 / det
    out[0, 1] = (m[0, 2] * m[2, 1] - m[0, 1] * m[2, 2]) / det
    out[1, 1] = (m[0, 0] * m[2, 2] - m[0, 2] * m[2, 0]) / det
    out[2, 1] = (m[0, 1] * m[2, 0] - m[0, 0] * m[2, 1]) / det
    out[0, 2] = (m[0, 1] * m[1, 2] - m[0, 2] * m[1, 1]) / det
    out[1, 2] = (m[0, 2] * m[1, 0] - m[0, 0] * m[1, 2]) / det
    out[2, 2] = (m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]) / det


@njit(cache=True)
def normal_angle(e):
    """Angle [rad] between the body +z axes of two attitudes related by the rotation vector e (from
    :func:`error_angles`): Rodrigues' z-z element cos(t) + (e_z/t)^2 (1 - cos t) is the cosine."""
    th = math.sqrt(e[0] ** 2 + e[1] ** 2 + e[2] ** 2)
    if th < 1e-12:
        return 0.0
    czz = math.cos(th) + (e[2] / th) ** 2 * (1.0 - math.cos(th))
    return math.acos(min(1.0, max(-1.0, czz)))
