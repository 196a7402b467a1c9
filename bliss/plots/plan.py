"""Plots of a planned transfer (``bliss plan``), each written as a PNG.

1. :func:`plot_plan_trajectory` - the path in the ecliptic plane with Earth's and the target's orbits
   and the arrival point;
2. :func:`plot_attitude` - cone and clock angles of the schedule against time (steps: the attitude is
   held constant over each segment; no clock where the cone is near 0) and the normal's turn per switch;
3. :func:`plot_elements` - osculating a, e, i, RAAN (not drawn near i = 0, where it is undefined) and
   longitude of perihelion (RAAN + argp, defined at i = 0) against time, target values dashed;
4. :func:`plot_approach` - distance and relative speed to the target against time (log scale);
5. :func:`plot_window` - minimum time of flight against departure date, suspected local minima ringed.

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
from sim.kepler import rv2coe  # noqa: E402
from sim.timeconv import tdb_seconds_to_epoch  # noqa: E402

__all__ = ["plot_plan_trajectory", "plot_attitude", "plot_elements", "plot_approach", "plot_window",
           "draw_plan_plots", "warm_up", "osculating_elements", "relative_to_target", "suspected_local_minima", "switch_turns_deg"]

StateFn = Callable[[float], tuple]


def osculating_elements(y: np.ndarray, mu: float = GM_SUN) -> np.ndarray:
    """(n, 5) osculating [a m, e, i rad, raan rad, argp rad] of heliocentric states y (n, 6)."""
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


#: Spacing of the date ticks along the planned path [days].
DATE_TICK_DAYS = 30.0


def plot_plan_trajectory(path: str | os.PathLike, t_s, y, orbits: Mapping[str, np.ndarray],
                         arrival: np.ndarray | None = None, target_name: str = "target",
                         title: str | None = None, feedback: tuple | None = None) -> None:
    """Ecliptic-plane path of ``y`` (n, 6) with reference ``orbits`` {label: (k, 3) m}, the arrival point
    (target position at arrival, (3,) m), calendar-date ticks (TDB) every ``DATE_TICK_DAYS`` along the
    path and, with ``feedback = (t_s, y)``, the feedback laws' transfer beside the optimum. The legend
    sits below the axes, so it covers neither the departure nor the path."""
    t_s, y = np.asarray(t_s, float), np.asarray(y, float)
    fig, ax = plt.subplots(figsize=(6.8, 7.6), dpi=110)
    ax.plot(0.0, 0.0, marker="o", color="gold", markersize=14, markeredgecolor="orange",
            linestyle="none", label="Sun")
    colours = ["tab:blue", "tab:brown", "tab:purple", "tab:gray"]
    for k, (label, pos) in enumerate(orbits.items()):
        pos = np.asarray(pos, float) / AU
        ax.plot(pos[:, 0], pos[:, 1], "--", linewidth=1.0, color=colours[k % 4], label=f"{label} orbit")
    days = (t_s[-1] - t_s[0]) / DAY
    if feedback is not None:
        tf, yf = np.asarray(feedback[0], float), np.asarray(feedback[1], float)
        ax.plot(yf[:, 0] / AU, yf[:, 1] / AU, color="tab:orange", linewidth=1.1, alpha=0.9,
                label=f"feedback laws (onboard), {(tf[-1] - tf[0]) / DAY:.0f} days")
    xy = y[:, :2] / AU
    ax.plot(xy[:, 0], xy[:, 1], color="tab:red", linewidth=1.6, label=f"minimum-time transfer, {days:.0f} days")
    ticks = np.arange(t_s[0] + DATE_TICK_DAYS * DAY, t_s[-1] - 0.3 * DATE_TICK_DAYS * DAY, DATE_TICK_DAYS * DAY)
    if ticks.size:
        tx, ty = np.interp(ticks, t_s, xy[:, 0]), np.interp(ticks, t_s, xy[:, 1])
        ax.plot(tx, ty, "o", color="tab:red", markersize=3.5, label=f"every {DATE_TICK_DAYS:.0f} days (TDB)")
        for t, px, py in zip(ticks, tx, ty):
            r = np.hypot(px, py) or 1.0
            ux, uy = px / r, py / r  # label outward from the Sun, anchored on its side nearest the path
            ax.annotate(tdb_seconds_to_epoch(float(t)).iso[:10], (px, py), xytext=(7 * ux, 7 * uy),
                        textcoords="offset points", fontsize=6.5, color="tab:red",
                        ha="left" if ux > 0.4 else "right" if ux < -0.4 else "center",
                        va="bottom" if uy > 0.4 else "top" if uy < -0.4 else "center")
    ax.plot(xy[0, 0], xy[0, 1], "o", color="tab:green", markersize=8, zorder=5,
            label=f"departure {tdb_seconds_to_epoch(float(t_s[0])).iso[:10]}")
    if arrival is not None:
        a = np.asarray(arrival, float) / AU
        ax.plot(a[0], a[1], "*", color="black", markersize=13, zorder=5,
                label=f"{target_name} at arrival {tdb_seconds_to_epoch(float(t_s[-1])).iso[:10]}")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x [AU] (ecliptic J2000)")
    ax.set_ylabel("y [AU] (ecliptic J2000)")
    ax.set_title(title or f"Transfer to {target_name}, {days:.0f} days")
    ax.grid(True, linewidth=0.4, alpha=0.5)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2, fontsize="small", frameon=False)
    _save(fig, path)


#: Below this cone [deg] the clock angle is not drawn: at cone 0 the normal is the Sun line whatever the
#: clock, so near it a large clock change is a small turn of the sail (issue 9: 280 deg of clock for 13 deg
#: of normal). The bottom panel shows the normal's real turn at each switch instead.
CLOCK_MIN_CONE_DEG = 5.0


def switch_turns_deg(cone_rad, clock_rad) -> np.ndarray:
    """Angle [deg] the sail normal turns at each switch between successive segments, in the RTN frame
    common to both at the switch (n = cos(cone) R + sin(cone) (cos(clock) T + sin(clock) N))."""
    c, k = np.asarray(cone_rad, float), np.asarray(clock_rad, float)
    n = np.stack([np.cos(c), np.sin(c) * np.cos(k), np.sin(c) * np.sin(k)], axis=1)
    return np.degrees(np.arccos(np.clip(np.sum(n[:-1] * n[1:], axis=1), -1.0, 1.0)))


def plot_attitude(path: str | os.PathLike, t_start, t_end, cone_rad, clock_rad, max_cone_deg=None) -> None:
    """Cone and clock [deg] of each segment against days since the first segment start (steps; the clock
    left out where the cone is below ``CLOCK_MIN_CONE_DEG``), and the normal's turn at each switch."""
    t0 = float(t_start[0])
    edges = np.concatenate([np.asarray(t_start, float), [float(t_end[-1])]])
    d = (edges - t0) / DAY
    cone = np.degrees(np.asarray(cone_rad, float))
    clock = np.degrees(np.asarray(clock_rad, float))
    fig, (a1, a2, a3) = plt.subplots(3, 1, figsize=(7.5, 7.2), dpi=110, sharex=True)
    a1.stairs(cone, d, baseline=None, color="tab:red", linewidth=1.4, label="cone")
    if max_cone_deg is not None:
        a1.axhline(max_cone_deg, color="gray", linestyle=":", label=f"limit {max_cone_deg:g} deg")
    a1.set_ylabel("cone [deg]")
    a1.set_ylim(0, 95)
    a1.legend(fontsize="small")
    masked = cone < CLOCK_MIN_CONE_DEG
    a2.stairs(np.where(masked, np.nan, clock), d, baseline=None, color="tab:blue", linewidth=1.4)
    if np.any(masked):
        for k in np.flatnonzero(masked):
            a2.axvspan(d[k], d[k + 1], color="0.85", linewidth=0)
        a2.text(0.01, 0.04, f"grey: cone < {CLOCK_MIN_CONE_DEG:g} deg, clock not shown (undefined at cone 0)",
                transform=a2.transAxes, fontsize="small", color="0.3")
    a2.set_ylabel("clock [deg]")
    a2.set_ylim(-185, 185)
    a2.set_yticks([-180, -90, 0, 90, 180])
    turns = switch_turns_deg(cone_rad, clock_rad)
    if turns.size:
        a3.plot(d[1:-1], turns, "o", color="tab:purple", markersize=3.5)
    a3.set_ylabel("normal turn at\nswitch [deg]")
    a3.set_ylim(bottom=0)
    a3.set_xlabel("days since departure")
    a1.set_title("Sail attitude in the orbit (RTN) frame, held constant per segment")
    for a in (a1, a2, a3):
        a.grid(True, linewidth=0.4, alpha=0.5)
    _save(fig, path)


#: Below this inclination [deg] the RAAN is not drawn: the node line is undefined at i = 0 and swings
#: wildly near it (the departure orbit is Earth's, i ~ 0 in the ecliptic). The bottom panel shows the
#: longitude of perihelion RAAN + argp instead of argp alone: it stays defined as i -> 0.
RAAN_MIN_I_DEG = 0.5


def plot_elements(path: str | os.PathLike, t_s, y, target_elements, target_name: str = "target") -> None:
    """Osculating a [AU], e, i, RAAN (left out where i < ``RAAN_MIN_I_DEG``) and longitude of perihelion
    RAAN + argp [deg] against days; target values (5,) [a, e, i, raan, argp] as dashed lines."""
    t_s = np.asarray(t_s, float)
    el = osculating_elements(y)
    tgt = np.asarray(target_elements, float)[:5]
    days = (t_s - t_s[0]) / DAY
    series = [el[:, 0] / AU, el[:, 1], np.degrees(el[:, 2]), el[:, 3], el[:, 3] + el[:, 4]]
    refs = [tgt[0] / AU, tgt[1], np.degrees(tgt[2]), np.degrees(tgt[3]), np.degrees(tgt[3] + tgt[4])]
    labels = ["a [AU]", "e", "i [deg]", "RAAN [deg]", "long. perihelion\nRAAN + argp [deg]"]
    low_i = np.degrees(el[:, 2]) < RAAN_MIN_I_DEG
    fig, axes = plt.subplots(5, 1, figsize=(7.5, 9.0), dpi=110, sharex=True)
    for k, ax in enumerate(axes):
        vals, ref = series[k], refs[k]
        if k >= 3:  # angles: unwrap to avoid 0/360 jumps, then shift next to the target value
            vals = np.degrees(np.unwrap(vals))
            vals += 360.0 * np.round((ref - vals[-1]) / 360.0)
        if k == 3 and np.any(low_i):
            vals = np.where(low_i, np.nan, vals)
            ax.text(0.99, 0.92, f"not shown while i < {RAAN_MIN_I_DEG:g} deg (node undefined at i = 0)",
                    transform=ax.transAxes, fontsize="small", color="0.3", ha="right", va="top")
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


def suspected_local_minima(t_depart_s, tof_s, converged) -> np.ndarray:
    """Mask of converged dates whose minimum time is suspect: it exceeds a neighbouring converged date's
    by more than the days between them. From the earlier of two dates this is a proof: an edge-on sail
    rides Earth's orbit (the planner models no Earth gravity) to the later departure and then flies that
    transfer, so TOF(t) <= (t' - t) + TOF(t'); the optimiser there found a local minimum. From the later
    date it is a suspicion (a new transfer family may have begun), flagged all the same."""
    t = np.asarray(t_depart_s, float) / DAY
    tof = np.asarray(tof_s, float) / DAY
    idx = np.flatnonzero(np.asarray(converged, bool) & np.isfinite(tof))
    out = np.zeros(t.size, bool)
    for a, b in zip(idx[:-1], idx[1:]):
        gap = t[b] - t[a]
        if tof[a] - tof[b] > gap:
            out[a] = True
        elif tof[b] - tof[a] > gap:
            out[b] = True
    return out


def plot_window(path: str | os.PathLike, t_depart_s, tof_s, converged, chosen_s: float | None = None,
                feedback_tof_s=None) -> None:
    """Minimum time of flight [days] against departure date; unconverged dates marked, chosen date starred;
    with ``feedback_tof_s`` [s] (NaN where the feedback laws did not close) the feedback laws' times beside."""
    from astropy.time import Time

    t = np.asarray(t_depart_s, float)
    tof = np.asarray(tof_s, float) / DAY
    ok = np.asarray(converged, bool) & np.isfinite(tof)
    dates = Time(2451545.0, t / DAY, format="jd", scale="tdb").to_datetime()
    fig, ax = plt.subplots(figsize=(7.5, 5.4), dpi=110)
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
    local = suspected_local_minima(t, tof_s, converged)
    if np.any(local):
        ax.plot(dates[local], tof[local], "o", markersize=13, markerfacecolor="none", markeredgecolor="tab:red",
                label="suspected local minimum (jump > date step)")
    if chosen_s is not None:
        k = int(np.argmin(np.abs(t - chosen_s)))
        ax.plot(dates[k], tof[k], "*", color="black", markersize=14, label="chosen departure")
    ax.set_xlabel("departure date (TDB)")
    ax.set_ylabel("time of flight [days]")
    ax.set_title("Departure window")
    ax.grid(True, linewidth=0.4, alpha=0.5)
    fig.autofmt_xdate()
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False)
    _save(fig, path)


def draw_plan_plots(paths: Mapping[str, str], data: Mapping, groups: tuple[int, ...] = (0, 1)) -> None:
    """The plan plots of ``groups`` to ``paths`` {file name: path} from ``data``
    (``bliss.io.plan_products.plot_data``: plain arrays, so this runs in a process that has loaded neither
    ephemeris nor planner). Group 0: trajectory, approach, window; group 1: attitude, elements (about
    equal drawing times, so that two processes can share them on two cores)."""
    t_s, y, name = data["t"], data["y"], data["target_name"]
    if 0 in groups:
        plot_plan_trajectory(paths["trajectory.png"], t_s, y, data["orbits"], data["arrival"], name,
                             feedback=data["feedback"])
        r_tgt, v_tgt = data["target_states"]  # the target's (r, v) at each of the times t_s
        plot_approach(paths["approach.png"], t_s, y, _tabulated(np.asarray(t_s, float), r_tgt, v_tgt), name)
        if data["window"] is not None:
            w = data["window"]
            plot_window(paths["window.png"], w[:, 0], w[:, 1], w[:, 2] > 0.5, float(t_s[0]),
                        feedback_tof_s=w[:, 3])
    if 1 in groups:
        plot_attitude(paths["attitude.png"], *data["attitude"], data["max_cone_deg"])
        plot_elements(paths["elements.png"], t_s, y, data["target_elements"], name)


def _tabulated(t_s: np.ndarray, r: np.ndarray, v: np.ndarray) -> StateFn:
    """``t -> (r, v)`` looked up at the tabulated times ``t_s`` (sorted); other times are an error."""
    def state(t: float):
        k = int(np.searchsorted(t_s, t))
        if k >= t_s.size or t_s[k] != t:
            raise ValueError(f"no tabulated state at t = {t!r} s")
        return r[k], v[k]
    return state


def warm_up() -> None:
    """Draw and save a throw-away figure with text (to memory): loads the fonts, the Agg renderer and the
    osculating-element kernel, the first figure's extra cost (~0.7 s here), before a plot's data arrive."""
    import io

    osculating_elements(np.array([[AU, 0.0, 0.0, 0.0, 30e3, 0.0]]))
    fig, ax = plt.subplots(figsize=(2.0, 2.0), dpi=50)
    ax.plot([0.0, 1.0], [0.0, 1.0])
    ax.semilogy([1.0, 2.0], [1.0, 10.0])
    ax.set_title("warm-up")
    ax.legend(["a"], fontsize="small")
    buf = io.BytesIO()
    _save(fig, buf)
