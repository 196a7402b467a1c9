"""Plots of a ``bliss fly`` run (docs/fly.md): pointing error, payload offsets and vane, inchworm steps,
trajectory deviation and navigation error, with the events marked. Input: a
``bliss.sil.closed_loop.ClosedLoopResult``."""
from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # files only; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bliss.plots.attitude_loop import actuator_panels  # noqa: E402

__all__ = ["plot_fly_run"]

_EVENT_COLOURS = {"od_update": "C2", "executive": "C1", "sensor_dropout": "C3", "sensor_restored": "C3"}


def plot_fly_run(path: str | os.PathLike, res, payload_step_m: float, vane_step_rad: float, title: str) -> None:
    """Five stacked panels against days since the run's start; events as vertical lines."""
    rec, orb = res.record, res.orbit
    td = (rec[:, 0] - res.t0) / 86400.0
    fig, ax = plt.subplots(5, 1, figsize=(9, 13), sharex=True)
    ax[0].semilogy(td, np.maximum(np.degrees(rec[:, 1]), 1e-4), lw=0.6, label="true pointing error")
    ax[0].semilogy(td, np.maximum(np.degrees(rec[:, 14]), 1e-4), lw=0.6, alpha=0.7, label="knowledge error (MEKF)")
    ax[0].set_ylabel("angle [deg]")
    ax[0].legend(loc="upper right", fontsize=8)
    ax[1].plot(td, np.degrees(rec[:, 3]), lw=0.8, label="cone (true)")
    ax[1].plot(td, np.degrees(rec[:, 4]), "--", lw=0.8, label="cone (commanded)")
    ax[1].set_ylabel("cone [deg]")
    ax[1].legend(loc="upper right", fontsize=8)
    actuator_panels(ax[2], ax[3], td, rec, payload_step_m, vane_step_rad)
    if orb.shape[0]:
        to = (orb[:, 0] - res.t0) / 86400.0
        ax[4].semilogy(to, np.maximum(res.deviation_m / 1e3, 1e-3), label="|true - commanded flight|")
        ax[4].semilogy(to, np.maximum(res.nav_error_m / 1e3, 1e-3), label="|true - onboard estimate|")
        ax[4].legend(loc="upper left", fontsize=8)
    ax[4].set_ylabel("position [km]")
    ax[4].set_xlabel("time [days since start]")
    for ev in res.events:
        c = _EVENT_COLOURS.get(ev.kind)
        if c is not None:
            for a in ax:
                a.axvline((ev.t - res.t0) / 86400.0, color=c, lw=0.5, alpha=0.4)
    ax[0].set_title(title + "\n(vertical lines: green OD upload, orange executive event, red sensor dropout)",
                    fontsize=9)
    for a in ax:
        a.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)
