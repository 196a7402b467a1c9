"""Plots of a planned transfer (``bliss plan``), each written as a PNG.

1. :func:`plot_plan_trajectory` - the path in the ecliptic plane with Earth's and the target's orbits
   and the arrival point;
2. :func:`plot_attitude` - cone and clock angles of the schedule against time (steps: the attitude is
   held constant over each segment);
3. :func:`plot_elements` - osculating a, e, i, RAAN, argument of perihelion against time, with the
   target's values as dashed lines;
4. :func:`plot_approach` - distance and relative speed to the target against time (log scale);
5. :func:`plot_window` - minimum time of flight against departure date.

Frame: heliocentric mean ecliptic and equinox of J2000; times shown in days since departure (or as
calendar dates, TDB, for the window).
"""
from __future__ import annotations

import os
from typing import Callable, Mapping

import matplotlib

matplotlib.use("Agg")  # files only; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.constants import AU, DAY, GM_SUN  # noqa: E402

__all__ = ["plot_plan_trajectory", "plot_attitude", "plot_elements", "plot_approach", "plot_window",
           "osculating_elements", "relative_to_target"]

StateFn = Callable[[float], tuple]


def osculating_elements(y: np.ndarray, mu: float = GM_SUN) -> np.ndarray:
    """(n, 5) osculating [a m, e, i rad, raan rad, argp rad] of heliocentric states y (n, 6)."""
    from sim.kepler import rv2coe

    y = np.ascontiguousarray(y, dtype=float)
    return np.array([rv2coe(mu, row[:3].copy(), row[3:].copy())[:5] for row in y]).reshape(-1, 5)


def relative_to_target(t_s, y, target_state: StateFn) -> tuple[np.ndarray, np.ndarray]:
    """Distance [m] and relative speed [m/s] to the target at each time."""
    d = np.empty(len(t_s))
    s = np.empty(len(t_s))
    for k, t in enumerate(np.asarray(t_s, float)):
        r, v = target_state(float(t))
        d[k] = np.linalg.norm(y[k, :3] - np.asarray(r))
        s[k] = np.linalg.norm(y[k, 3:] - np.asarray(v))
    return d, s


def _save(fig, path):
    try:
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)


def plot_plan_trajectory(path: str | os.PathLike, t_s, y, orbits: Mapping[str, np.ndarray],
                         arrival: np.ndarray | None = None, target_name: str = "target",
                         title: str | None = None) -> None:
    """Ecliptic-plane path of ``y`` (n, 6) with reference ``orbits`` {label: (k, 3) m} and the arrival
    point (target position at arrival, (3,) m)."""
    t_s, y = np.asarray(t_s, float), np.asarray(y, float)
    fig, ax = plt.subplots(figsize=(6.4, 6.4), dpi=110)
    ax.plot(0.0, 0.0, marker="o", color="gold", markersize=14, markeredgecolor="orange",
            linestyle="none", label="Sun")
    colours = ["tab:blue", "tab:brown", "tab:purple", "tab:gray"]
    for k, (label, pos) in enumerate(orbits.items()):
        pos = np.asarray(pos, float) / AU
        ax.plot(pos[:, 0], pos[:, 1], "--", linewidth=1.0, color=colours[k % 4], label=f"{label} orbit")
    xy = y[:, :2] / AU
    ax.plot(xy[:, 0], xy[:, 1], color="tab:red", linewidth=1.6, label="sail trajectory")
    ax.plot(xy[0, 0], xy[0, 1], "o", color="tab:green", label="departure")
    if arrival is not None:
        a = np.asarray(arrival, float) / AU
        ax.plot(a[0], a[1], "*", color="black", markersize=13, label=f"{target_name} at arrival")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x [AU] (ecliptic J2000)")
    ax.set_ylabel("y [AU] (ecliptic J2000)")
    days = (t_s[-1] - t_s[0]) / DAY
    ax.set_title(title or f"Transfer to {target_name}, {days:.0f} days")
    ax.grid(True, linewidth=0.4, alpha=0.5)
    ax.legend(loc="upper right", fontsize="small", framealpha=0.85)
    _save(fig, path)


def plot_attitude(path: str | os.PathLike, t_start, t_end, cone_rad, clock_rad, max_cone_deg=None) -> None:
    """Cone and clock [deg] of each segment against days since the first segment start (steps)."""
    t0 = float(t_start[0])
    edges = np.concatenate([np.asarray(t_start, float), [float(t_end[-1])]])
    d = (edges - t0) / DAY
    cone = np.degrees(np.asarray(cone_rad, float))
    clock = np.degrees(np.asarray(clock_rad, float))
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7.5, 5.5), dpi=110, sharex=True)
    a1.stairs(cone, d, baseline=None, color="tab:red", linewidth=1.4, label="cone")
    if max_cone_deg is not None:
        a1.axhline(max_cone_deg, color="gray", linestyle=":", label=f"limit {max_cone_deg:g} deg")
    a1.set_ylabel("cone [deg]")
    a1.set_ylim(0, 95)
    a1.legend(fontsize="small")
    a2.stairs(clock, d, baseline=None, color="tab:blue", linewidth=1.4)
    a2.set_ylabel("clock [deg]")
    a2.set_ylim(-185, 185)
    a2.set_yticks([-180, -90, 0, 90, 180])
    a2.set_xlabel("days since departure")
    a1.set_title("Sail attitude in the orbit (RTN) frame, held constant per segment")
    for a in (a1, a2):
        a.grid(True, linewidth=0.4, alpha=0.5)
    _save(fig, path)


def plot_elements(path: str | os.PathLike, t_s, y, target_elements, target_name: str = "target") -> None:
    """Osculating a [AU], e, i, RAAN, argp [deg] against days; target values (5,) as dashed lines."""
    t_s = np.asarray(t_s, float)
    el = osculating_elements(y)
    tgt = np.asarray(target_elements, float)[:5]
    days = (t_s - t_s[0]) / DAY
    labels = ["a [AU]", "e", "i [deg]", "RAAN [deg]", "arg. perihelion [deg]"]
    scale = [1 / AU, 1.0, np.degrees(1.0), np.degrees(1.0), np.degrees(1.0)]
    fig, axes = plt.subplots(5, 1, figsize=(7.5, 9.0), dpi=110, sharex=True)
    for k, ax in enumerate(axes):
        vals = el[:, k] * scale[k]
        ref = tgt[k] * scale[k]
        if k >= 3:  # angles: unwrap to avoid 0/360 jumps, then shift next to the target value
            vals = np.degrees(np.unwrap(el[:, k]))
            vals += 360.0 * np.round((ref - vals[-1]) / 360.0)
        ax.plot(days, vals, color="tab:red", linewidth=1.3, label="sail")
        ax.axhline(ref, color="black", linestyle="--", linewidth=1.0, label=target_name)
        ax.set_ylabel(labels[k])
        ax.grid(True, linewidth=0.4, alpha=0.5)
    axes[0].legend(fontsize="small", loc="best")
    axes[0].set_title(f"Osculating heliocentric elements (ecliptic J2000) converging on {target_name}")
    axes[-1].set_xlabel("days since departure")
    _save(fig, path)


def plot_approach(path: str | os.PathLike, t_s, y, target_state: StateFn, target_name: str = "target") -> None:
    """Distance [km] and relative speed [m/s] to the target against days (log scale)."""
    t_s = np.asarray(t_s, float)
    dist, speed = relative_to_target(t_s, np.asarray(y, float), target_state)
    days = (t_s - t_s[0]) / DAY
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7.5, 5.5), dpi=110, sharex=True)
    a1.semilogy(days, np.maximum(dist / 1e3, 1e-3), color="tab:purple")
    a1.set_ylabel(f"distance to {target_name} [km]")
    a2.semilogy(days, np.maximum(speed, 1e-6), color="tab:green")
    a2.set_ylabel("relative speed [m/s]")
    a2.set_xlabel("days since departure")
    a1.set_title(f"Approach to {target_name}: final {dist[-1] / 1e3:.3g} km, {speed[-1]:.3g} m/s")
    for a in (a1, a2):
        a.grid(True, which="both", linewidth=0.4, alpha=0.5)
    _save(fig, path)


def plot_window(path: str | os.PathLike, t_depart_s, tof_s, converged, chosen_s: float | None = None,
                feedback_tof_s=None) -> None:
    """Minimum time of flight [days] against departure date; unconverged dates marked, chosen date starred;
    with ``feedback_tof_s`` [s] (NaN where the feedback laws did not close) the feedback laws' times beside."""
    from astropy.time import Time

    t = np.asarray(t_depart_s, float)
    tof = np.asarray(tof_s, float) / DAY
    ok = np.asarray(converged, bool) & np.isfinite(tof)
    dates = Time(2451545.0, t / DAY, format="jd", scale="tdb").to_datetime()
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=110)
    ax.plot(dates[ok], tof[ok], "o-", color="tab:blue", label="minimum time (optimiser)")
    bad = ~ok & np.isfinite(tof)
    if np.any(bad):
        ax.plot(dates[bad], tof[bad], "x", color="tab:red", label="not converged (best found)")
    none = ~np.isfinite(tof)
    if np.any(none):
        ymin = np.nanmin(tof) if np.any(np.isfinite(tof)) else 0.0
        ax.plot(dates[none], np.full(int(none.sum()), ymin), "v", color="gray", label="no transfer found")
    if feedback_tof_s is not None:
        fb = np.asarray(feedback_tof_s, float) / DAY
        if np.any(np.isfinite(fb)):
            ax.plot(dates[np.isfinite(fb)], fb[np.isfinite(fb)], "s--", color="tab:orange", markersize=4,
                    label="feedback laws (onboard)")
    if chosen_s is not None:
        k = int(np.argmin(np.abs(t - chosen_s)))
        ax.plot(dates[k], tof[k], "*", color="black", markersize=14, label="chosen departure")
    ax.set_xlabel("departure date (TDB)")
    ax.set_ylabel("time of flight [days]")
    ax.set_title("Departure window")
    ax.grid(True, linewidth=0.4, alpha=0.5)
    ax.legend(fontsize="small")
    fig.autofmt_xdate()
    _save(fig, path)
