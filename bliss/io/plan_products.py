"""Writers of the ``bliss plan`` products: OEM, AEM, schedule CSV, JSON summary and plots, all into one
folder atomically (``bliss.io.atomic.OutputSet``), from the ``PlanOutcome`` of ``bliss.guidance.pipeline.plan``
and its ``PlanRequest``.
"""
from __future__ import annotations

import math

import numpy as np

from bliss.guidance.pipeline import SOLVER_ERRORS, TOL_POS_M, TOL_VEL_M_S, PlanOutcome, PlanRequest, replay
from bliss.guidance.problem import departure_state
from bliss.io.aem import write_aem
from bliss.io.atomic import OutputSet
from bliss.io.csvout import tdb_seconds_to_iso
from bliss.io.forked import Forked, Worker
from bliss.io.oem import write_oem
from bliss.io.schedule_csv import write_schedule_csv
from bliss.io.summary import sail_summary, write_summary
from bliss.plots import plan_job
from bliss.plots.orbits import sample_orbit
from sim.constants import AU, DAY
from sim.ephemeris import body_states


def _history(h) -> dict:
    """The optimiser's history, scalars only (iterations, constraint violation, timings)."""
    out = {}
    for k, v in dict(h or {}).items():
        if isinstance(v, (bool, int, float, str, np.integer, np.floating, np.bool_)):
            out[str(k)] = v
    return out


def _attitude_check(att) -> dict:
    """Largest cone [deg] and slew rate [deg/day] the written schedule uses (vs the limits)."""
    flying = att.mode != 0
    slew = att.slew_rates_deg_per_day()
    return {"max_cone_deg": float(np.degrees(att.cone[flying].max())) if flying.any() else None,
            "max_slew_deg_per_day": float(slew.max()) if slew.size else 0.0,
            "segment_days_min": float((att.t_end - att.t_start).min() / DAY),
            "segment_days_max": float((att.t_end - att.t_start).max() / DAY)}


def build_summary(res: PlanOutcome, request: PlanRequest) -> dict:
    ephem = request.ephem  # which ephemeris gave Earth's departure state

    prob, warm, best = res.problem, res.warm, res.best
    t_dep, t_arr = float(res.t[0]), float(res.t[-1])
    iso = lambda t: str(tdb_seconds_to_iso(t)[0])  # noqa: E731
    target = prob.target
    tgt = {"name": target.name}
    if target.elements is not None:
        el = target.elements
        tgt["elements"] = {"a_AU": el[0] / AU, "e": el[1], "i_deg": math.degrees(el[2]),
                           "raan_deg": math.degrees(el[3]), "argp_deg": math.degrees(el[4]),
                           "M_deg": math.degrees(el[5]), "epoch": iso(el[6]), "epoch_tdb_s": el[6]}
    out = {
        "product": "bliss plan",
        "sail": sail_summary(prob.sail),
        "target": tgt,
        "limits": {"max_cone_deg": prob.limits.max_cone_deg,
                   "max_slew_deg_per_day": prob.limits.max_slew_deg_per_day},
        "departure": {"epoch": iso(t_dep), "t_tdb_s": t_dep, "state": res.y[0],
                      "v_inf_m_s": prob.y_depart[3:] - departure_state(t_dep, np.zeros(3), ephem=ephem)[3:]},
        "ephemeris": request.ephemeris_summary or {"name": ephem},
        "arrival": {"epoch": iso(t_arr), "t_tdb_s": t_arr, "state": res.y[-1],
                    "target_state": np.concatenate([res.target_r, res.target_v]),
                    "position_error_m": res.miss_pos, "velocity_error_m_s": res.miss_vel,
                    "tolerance_position_m": TOL_POS_M, "tolerance_velocity_m_s": TOL_VEL_M_S,
                    "note": "errors from replaying schedule.csv from departure.state with sim.integrator"
                            + (" and the third bodies listed" if prob.third_body_names else "")},
        "third_bodies": list(prob.third_body_names),
        "force_model": ("Sun + sail" if not prob.third_body_names else
                        "Sun + sail + point-mass " + ", ".join(prob.third_body_names)
                        + " in the optimiser's polish and the replay (feedback law and multiple shooting: "
                          "Sun + sail)"),
        "tof_days": (t_arr - t_dep) / DAY,
        "method": best.method,
        "converged": res.converged,
        "optimiser_converged": bool(best.converged),
        "n_segments": len(res.attitude),
        "attitude_check": _attitude_check(res.attitude),
        "warm_start": res.warm_start,
        "optimiser_history": _history(best.history),
        "feedback": None if warm is None else {
            "tof_days": warm.tof / DAY, "position_error_m": warm.miss_pos,
            "velocity_error_m_s": warm.miss_vel, "converged": bool(warm.converged), "method": warm.method},
        "optimised": {"tof_days": best.tof / DAY, "position_error_m": best.miss_pos,
                      "velocity_error_m_s": best.miss_vel, "converged": bool(best.converged)},
        "frames": {"states": "heliocentric mean ecliptic and equinox of J2000 (internal); OEM/AEM in ICRF axes",
                   "quaternion": "scalar-last [qx, qy, qz, qw], inertial->body; body +Z sail normal, "
                                 "+X Sun direction projected on the sail"},
        "timings_s": res.timings,
        "files": {},
    }
    if res.window is not None:
        from bliss.plots.plan import suspected_local_minima  # lazy: matplotlib, only for a window scan

        rows = res.window
        local = suspected_local_minima([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
        out["window"] = [{"departure": iso(r[0]), "t_tdb_s": r[0], "tof_days": r[1] / DAY, "converged": r[2],
                          **({"feedback_tof_days": r[3] / DAY, "feedback_converged": r[4]} if len(r) >= 5 else {}),
                          "suspected_local_minimum": bool(lk), "note": r[5] if len(r) >= 6 else ""}
                         for r, lk in zip(rows, local)]
    return out


def _vectorised(state):
    """``times -> (r (n, 3), v (n, 3))`` from a one-time ``t -> (r, v)`` function."""
    def states(times):
        rv = [state(float(t)) for t in np.atleast_1d(times)]
        return np.array([r for r, _ in rv]), np.array([v for _, v in rv])
    return states


def _feedback_path(problem, warm, best):
    """(t, y) of the feedback laws' transfer replayed from departure, for the trajectory plot; None when
    there is none, when it is the transfer written (the optimiser failed) or when its replay fails."""
    if warm is None or warm is best:
        return None
    try:
        return replay(problem, warm.schedule)
    except SOLVER_ERRORS:
        return None


def write_products(out_dir, res: PlanOutcome, request: PlanRequest, plotter: Worker | None = None) -> dict:
    """Write every product into ``out_dir`` atomically; return the summary dict.

    The plots are drawn in a child process side by side with the other files (``bliss.io.forked``): in
    ``plotter`` when the caller forked one at its start (``bliss plan`` does, with
    ``bliss.plots.plan_job.prepare``: its child imports matplotlib while the parent plans), else in a child
    forked here. Either way the child gets only the numbers of :func:`plot_data` and draws them
    (``bliss.plots.plan_job.draw``)."""
    target = res.problem.target
    summary = build_summary(res, request)
    names = ["trajectory.oem", "attitude.aem", "schedule.csv", "trajectory.png", "attitude.png",
             "elements.png", "approach.png"] + (["window.png"] if res.window is not None else []) \
        + ["summary.json"]
    summary["files"] = {n: n for n in names}
    with OutputSet(out_dir) as out:
        # their temporary paths are taken here, in the parent, which publishes the set
        pngs = {n: str(out.path(n)) for n in names if n.endswith(".png")}
        data = plot_data(res)
        if plotter is None:
            plotter = Forked(lambda: plan_job.draw(pngs, data))
        else:
            plotter.submit(plan_job.draw, pngs, data)
        with plotter:
            write_oem(out.path("trajectory.oem"), res.t, res.y, comments=(
                f"Planned transfer to {target.name}, method {res.best.method}.",))
            write_aem(out.path("attitude.aem"), res.attitude, comments=(f"Planned transfer to {target.name}.",))
            write_schedule_csv(out.path("schedule.csv"), res.attitude)
            write_summary(out.path("summary.json"), summary)
    return summary


def plot_data(res: PlanOutcome) -> dict:
    """The numbers the plan's plots draw, computed in the parent (ephemerides, replays, elements), as
    plain arrays and strings for ``bliss.plots.plan.draw_plan_plots`` in the plot process."""
    prob, att = res.problem, res.attitude
    t_s, y = np.asarray(res.t, float), np.asarray(res.y, float)
    target = prob.target
    r_tgt, v_tgt = _vectorised(target.state)(t_s)
    data = {
        "t": t_s, "y": y, "target_name": target.name, "arrival": res.target_r,
        "orbits": {"Earth": sample_orbit(lambda t: body_states("earth", t), float(t_s[0])),
                   target.name: sample_orbit(_vectorised(target.state), float(t_s[0]))},
        "feedback": _feedback_path(prob, res.warm, res.best),
        "attitude": (att.t_start, att.t_end, att.cone, att.clock), "max_cone_deg": prob.limits.max_cone_deg,
        "target_elements": np.asarray(target.orbit_elements(float(t_s[-1])), float),
        "target_states": (r_tgt, v_tgt),
        "window": None,
    }
    if res.window is not None:
        data["window"] = np.array([tuple(r[:3]) + (tuple(r[3:5]) if len(r) >= 5 else (math.nan, 0.0))
                                   for r in res.window], dtype=float).reshape(-1, 5)
    return data
