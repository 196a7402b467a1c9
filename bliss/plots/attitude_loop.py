"""Plots of an attitude-loop run (``bliss attitude slew`` / ``bliss attitude fly``): pointing error and
cone, sail-normal rate, payload offsets and vane angle, inchworm steps. Input: the record of
``bliss.sil.attitude_loop`` (columns ``RECORD_COLUMNS``)."""
from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # files only; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["actuator_panels", "plot_attitude_run"]


def actuator_panels(ax_off, ax_steps, t, record, payload_step_m: float, vane_step_rad: float) -> None:
    """Payload offsets [mm] with the vane angle [deg] on a twin axis, and the axes' positions [steps]."""
    ax_off.plot(t, record[:, 5] * payload_step_m * 1e3, lw=0.8, label="payload x (axis 0)")
    ax_off.plot(t, record[:, 6] * payload_step_m * 1e3, lw=0.8, label="payload y (axis 1)")
    ax_off.set_ylabel("offset [mm]")
    twin = ax_off.twinx()
    twin.plot(t, np.degrees(record[:, 7] * vane_step_rad), color="C2", lw=0.8)
    twin.set_ylabel("vane [deg]", color="C2")
    ax_off.legend(loc="upper right", fontsize=8)
    for i in range(3):
        ax_steps.plot(t, record[:, 5 + i], lw=0.8, label=f"axis {i}")
    ax_steps.set_ylabel("position [steps]")
    ax_steps.legend(loc="upper right", fontsize=8)


def plot_attitude_run(path: str | os.PathLike, record: np.ndarray, t_ref: float, payload_step_m: float,
                      vane_step_rad: float, title: str, time_unit: str = "min", deviation=None) -> None:
    """Four (five with ``deviation``: (t [s], km) of the orbit vs the attitude-perfect flight) stacked
    panels against time since ``t_ref`` in ``time_unit`` ("min", "h" or "day")."""
    scale = {"min": 60.0, "h": 3600.0, "day": 86400.0}[time_unit]
    t = (record[:, 0] - t_ref) / scale
    n = 5 if deviation is not None else 4
    fig, ax = plt.subplots(n, 1, figsize=(8, 2.2 * n + 1), sharex=True)
    ax[0].plot(t, np.degrees(record[:, 3]), label="cone (true)")
    ax[0].plot(t, np.degrees(record[:, 4]), "--", label="cone (commanded)")
    ax0b = ax[0].twinx()
    ax0b.semilogy(t, np.maximum(np.degrees(record[:, 1]), 1e-4), color="C3", lw=0.8, label="pointing error")
    ax0b.set_ylabel("pointing error [deg]", color="C3")
    ax[0].set_ylabel("cone [deg]")
    ax[0].legend(loc="center right", fontsize=8)
    ax[1].plot(t, np.degrees(np.hypot(record[:, 8], record[:, 9])) * 60, lw=0.8, label="tilt (normal)")
    ax[1].plot(t, np.degrees(np.abs(record[:, 10])) * 60, lw=0.8, label="roll")
    ax[1].axhline(0.01, color="k", ls=":", lw=0.8, label="0.01 deg/min")
    ax[1].set_yscale("log")
    ax[1].set_ylabel("rate [deg/min]")
    ax[1].legend(loc="upper right", fontsize=8)
    actuator_panels(ax[2], ax[3], t, record, payload_step_m, vane_step_rad)
    if deviation is not None:
        td, dk = np.asarray(deviation, float).reshape(-1, 2).T
        ax[4].plot((td - t_ref) / scale, dk)
        ax[4].set_ylabel("orbit deviation [km]")
    ax[-1].set_xlabel(f"time [{time_unit}]")
    ax[0].set_title(title)
    for a in ax:
        a.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
