"""Plot of a bench run's telemetry (``bliss telemetry plot``): one PNG with the pointing error and the
actuator positions (reported: solid; commanded targets: dashed) against time, every event marked as a
dotted vertical line coloured by its kind. Column names: ``bliss.io.telemetry.POINTING_ERROR`` and
``actuator_columns()``; a panel whose columns the run did not record says so."""
from __future__ import annotations

import os
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # files only; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bliss.io.telemetry import POINTING_ERROR, BenchEvent, actuator_columns  # noqa: E402

__all__ = ["plot_run"]


def _time_axis(t: np.ndarray) -> tuple[float, str]:
    span = float(t[-1] - t[0]) if len(t) else 0.0
    if span > 2 * 86400:
        return 86400.0, "days"
    if span > 2 * 3600:
        return 3600.0, "hours"
    return 1.0, "s"


def plot_run(cycles: Mapping[str, np.ndarray], events: Sequence[BenchEvent], path: str | os.PathLike,
             title: str = "") -> None:
    """Write the run plot to ``path`` (PNG). ``cycles``: column -> array with ``t`` [s] (as
    ``TelemetryReader.cycle_arrays()`` returns)."""
    t = np.asarray(cycles["t"], dtype=float)
    scale, unit = _time_axis(t)
    t0 = float(t[0]) if len(t) else 0.0
    x = (t - t0) / scale
    fig, (ax_err, ax_pos) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    if POINTING_ERROR in cycles:
        ax_err.plot(x, np.degrees(cycles[POINTING_ERROR]), lw=1.0, color="k")
        ax_err.set_ylabel("pointing error [deg]")
    else:
        ax_err.text(0.5, 0.5, f"no column {POINTING_ERROR!r} in this run", ha="center",
                    transform=ax_err.transAxes)
    pos_cols, tgt_cols = actuator_columns()
    drawn = False
    for k, (pc, tc) in enumerate(zip(pos_cols, tgt_cols)):
        color = f"C{k}"
        if pc in cycles:
            ax_pos.plot(x, cycles[pc], lw=1.2, color=color, label=f"axis {k} position")
            drawn = True
        if tc in cycles:
            ax_pos.plot(x, cycles[tc], lw=0.8, ls="--", color=color, label=f"axis {k} target")
            drawn = True
    if drawn:
        ax_pos.set_ylabel("actuator [steps]")
        ax_pos.legend(loc="upper right", fontsize=8, ncol=3)
    else:
        ax_pos.text(0.5, 0.5, "no actuator columns (act_pos_K / act_target_K) in this run", ha="center",
                    transform=ax_pos.transAxes)
    kinds = sorted({e.kind for e in events})
    # events dotted, in a palette apart from the axes' C0-C2 so an event is not read as an axis
    colors = {kind: plt.cm.Dark2(i % 8) for i, kind in enumerate(kinds)}
    for e in events:
        xe = (e.t - t0) / scale
        for ax in (ax_err, ax_pos):
            ax.axvline(xe, color=colors[e.kind], lw=1.2, ls=":", alpha=0.9)
    for kind in kinds:  # legend entries for the event kinds
        ax_err.plot([], [], color=colors[kind], lw=1.5, ls=":", label=f"event: {kind}")
    if kinds:
        ax_err.legend(loc="upper right", fontsize=8)
    ax_pos.set_xlabel(f"time since the first cycle [{unit}]")
    for ax in (ax_err, ax_pos):
        ax.grid(alpha=0.3)
    fig.suptitle(title or "bench telemetry")
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
