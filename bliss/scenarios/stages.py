"""The stages a scenario runs, and the ONE adapter to the planning pipeline (:func:`run_plan`).

Each stage is a function ``scenario -> results`` (a flat dict of numbers, bools, strings and lists,
JSON-ready) registered in :data:`STAGES` with the quantities it reports, so scenario files can name
them in ``[expected.STAGE]`` and goldens can compare them. A stage name the build does not have
(``sil``: the attitude stage is the software-in-the-loop flight) is registered with ``available`` set to
why not, so a scenario asking for it fails validation with that reason. To add a stage: write
``run_x(scenario, ctx) -> dict`` and register it here.

``run_plan`` is the only place this package calls ``bliss.guidance.pipeline`` / ``bliss.cli.plan``
(they are being re-typed: re-point this function when they change). Ground-side: it uses the simulator.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from bliss.cli.plan import build_inputs  # the one validator of plan options (the scenario is fed through it)
from bliss.guidance import optimise, pipeline
from bliss.guidance.feedback import fly_feedback
from bliss.guidance.schedule import AttitudeSchedule
from bliss.scenarios import sil_span
from bliss.scenarios.model import fault_plan
from sim.constants import DAY

DATA_DIR = Path(__file__).resolve().parent / "data"
CATALOGUE = DATA_DIR / "neas_subset.csv"


@dataclass(frozen=True)
class Stage:
    run: Callable | None
    quantities: tuple
    available: str = ""  # empty: available; else why not
    doc: str = ""


# ---------------------------------------------------------------------------------------- targets
def catalogue_mpcorb_elements(designation: str) -> str:
    """``bliss plan --elements`` text of a row of the shipped NEA subset (data/SOURCES.md)."""
    import csv

    with open(CATALOGUE, newline="", encoding="utf-8") as fh:
        rows = {r["designation"]: r for r in csv.DictReader(fh)}
    row = rows.get(designation.strip())
    if row is None:
        raise ValueError(f"target.catalogue: {designation!r} is not in {CATALOGUE.name} (has: "
                         f"{', '.join(rows)}); copy its row from shared/data/smallbodies/neas.csv")
    return " ".join(row[k] for k in ("a_AU", "e", "i_deg_eclJ2000", "Omega_deg_eclJ2000",
                                     "omega_deg_eclJ2000", "M_deg")) + f" {row['epoch_JD_TT']}"


def plan_args(sc, out=None) -> argparse.Namespace:
    """The scenario as ``bliss plan`` options (the pipeline's input builder validates them)."""
    t, d = sc.target, sc.departure
    elements = t.elements
    if t.catalogue is not None:
        elements = catalogue_mpcorb_elements(t.catalogue)
    return argparse.Namespace(
        target=t.name, elements=elements, mpcorb=t.mpcorb, date=d.date,
        window=None if d.window is None else [str(w) for w in d.window],
        mass_g=float(sc.sail.mass_g), area_m2=float(sc.sail.area_m2), optics=sc.sail.optics,
        max_cone_deg=float(sc.limits.max_cone_deg), max_slew_deg_per_day=float(sc.limits.max_slew_deg_per_day),
        segments=sc.plan.segments, v_inf_km_s=d.v_inf_km_s,
        tof_guess_days=sc.plan.tof_guess_days, third_bodies="", ephem="builtin",
        out=out, no_progress=True)


# ------------------------------------------------------------------------------ the one adapter
def run_plan(sc, sail=None):
    """Plan the scenario's transfer: ``(outcome, request)``, a ``bliss.guidance.pipeline.PlanOutcome`` and
    the ``PlanRequest`` it came from, as ``bliss.io.plan_products.write_products`` takes them. ``sail``
    overrides the scenario's sail (the perturbation test). Free-time rendezvous goes through
    ``pipeline.plan``; the pipeline has no fixed-time or orbit-only mode, so those solve the
    ``TransferProblem`` (``tof_fixed`` / ``rendezvous=False``) with the optimiser directly and replay it
    like the pipeline does."""
    request = _request(sc, sail)
    if sc.target.mode == "rendezvous" and sc.target.tof_days is None:
        return pipeline.plan(request, n_segments=sc.plan.segments, show_progress=False, log=lambda m: None), request
    problem = _problem(sc, request)
    kw = {} if sc.plan.segments is None else {"n_segments": sc.plan.segments}
    warm = pipeline.fly_feedback(problem)
    if problem.tof_fixed is not None:
        best, note = optimise.solve_fixed_time(problem, None, **kw), "crude guess at the fixed time of flight"
    else:
        best, note = optimise.minimise_time(problem, warm if warm.converged else None, **kw), "feedback transfer"
    t_s, y = pipeline.replay(problem, best.schedule)
    seg_t = np.asarray(best.schedule.t, float)
    idx = np.searchsorted(t_s, seg_t)
    att = AttitudeSchedule.from_states(seg_t, best.schedule.mode, best.schedule.att, y[idx[:-1]], y[idx[1:]],
                                       meta={"method": best.method})
    r_t, v_t = problem.target.state(float(t_s[-1]))
    if problem.rendezvous:
        miss_pos, miss_vel = float(np.linalg.norm(y[-1, :3] - r_t)), float(np.linalg.norm(y[-1, 3:] - v_t))
    else:  # orbit-only: the optimiser's element-space miss (docs/guidance.md), as a distance and a speed
        miss_pos, miss_vel = best.miss_pos, best.miss_vel
    outcome = pipeline.PlanOutcome(
        problem=problem, warm=warm, best=best, t=t_s, y=y, attitude=att, target_r=np.asarray(r_t),
        target_v=np.asarray(v_t), miss_pos=miss_pos, miss_vel=miss_vel,
        converged=miss_pos <= pipeline.TOL_POS_M and miss_vel <= pipeline.TOL_VEL_M_S, window=None,
        timings={}, warm_start=note)
    return outcome, request


def _request(sc, sail=None):
    """The scenario's validated ``PlanRequest`` (``bliss plan``'s input builder), ``sail`` overriding."""
    request = build_inputs(plan_args(sc))
    return request if sail is None else dataclasses.replace(request, sail=sail)


def _problem(sc, request):
    return dataclasses.replace(
        pipeline.make_problem(request, float(request.dates[0])), rendezvous=sc.target.mode == "rendezvous",
        tof_fixed=None if sc.target.tof_days is None else sc.target.tof_days * DAY)


def make_problem(sc, sail=None):
    """The scenario's ``TransferProblem`` (first departure date) without planning."""
    return _problem(sc, _request(sc, sail))


# ---------------------------------------------------------------------------------- the stages
def attitude_stats(schedule_t, mode, cone, slew_deg_per_day) -> dict:
    flying = np.asarray(mode) != 0
    dur = np.diff(np.asarray(schedule_t, float))
    cone_deg = np.degrees(np.asarray(cone, float))
    return {"max_cone_deg": float(cone_deg[flying].max()) if flying.any() else 0.0,
            "mean_cone_deg": float(np.sum(cone_deg[flying] * dur[flying]) / dur[flying].sum()) if flying.any() else 0.0,
            "max_slew_deg_per_day": float(np.max(slew_deg_per_day)) if len(slew_deg_per_day) else 0.0,
            "coast_fraction": float(dur[~flying].sum() / dur.sum()),
            "n_segments": int(len(dur))}


def plan_results(res) -> dict:
    att = res.attitude
    t0 = float(att.t_start[0])
    out = {"converged": bool(res.converged), "tof_days": float((res.t[-1] - res.t[0]) / DAY),
           "miss_km": res.miss_pos / 1e3, "miss_m_s": float(res.miss_vel),
           "optimiser_converged": bool(res.best.converged), "method": str(res.best.method),
           **attitude_stats(np.append(att.t_start, att.t_end[-1]), att.mode, att.cone,
                            att.slew_rates_deg_per_day()),
           "schedule": {"t_days": ((np.append(att.t_start, att.t_end[-1]) - t0) / DAY).tolist(),
                        "cone_deg": np.degrees(att.cone).tolist(), "clock_deg": np.degrees(att.clock).tolist(),
                        "mode": [int(m) for m in att.mode]}}
    return out


def run_plan_stage(sc, ctx) -> dict:
    res, inputs = run_plan(sc, sail=ctx.get("sail"))
    ctx["plan"] = (res, inputs)
    return plan_results(res)


def run_feedback(sc, ctx) -> dict:
    """Fly the onboard executive's feedback laws (``bliss.guidance.feedback.fly_feedback``)."""
    problem = make_problem(sc, sail=ctx.get("sail"))
    r = fly_feedback(problem)
    h = r.history
    sched = r.schedule
    out = {"converged": bool(r.converged), "tof_days": r.tof / DAY, "miss_km": r.miss_pos / 1e3,
           "miss_m_s": float(r.miss_vel), "reason": str(h["reason"]),
           **attitude_stats(sched.t, sched.mode, np.asarray(sched.att)[:, 0], [h["max_slew_deg_per_day"]]),
           "coast_fraction": float(h["coast_fraction"]), "days_match": float(h["days_match"]),
           "days_rendezvous": float(h["days_rendezvous"])}
    if not problem.rendezvous:
        out["lyapunov_min"] = float(h["lyapunov_min"])
    return out


def run_attitude(sc, ctx) -> dict:
    """Fly the scenario's ``[attitude]`` span in the closed software-in-the-loop (``bliss.scenarios.sil_span``)."""
    inputs = sil_span.span_inputs(sc, fault_plan(sc))
    return sil_span.results(sil_span.fly(make_problem(sc, sail=ctx.get("sail")), inputs), inputs.start_day)


_COMMON = ("converged", "tof_days", "miss_km", "miss_m_s", "max_cone_deg", "mean_cone_deg",
           "max_slew_deg_per_day", "coast_fraction", "n_segments")
STAGES = {
    "plan": Stage(run_plan_stage, _COMMON + ("optimiser_converged", "method", "schedule"),
                  doc="minimum-time (or fixed-time / orbit-only) plan, as bliss plan"),
    "feedback": Stage(run_feedback, _COMMON + ("reason", "days_match", "days_rendezvous", "lyapunov_min"),
                      doc="the onboard executive's feedback laws flown from departure"),
    "attitude": Stage(run_attitude, sil_span.QUANTITIES,
                      doc="a span flown in the closed software-in-the-loop (attitude loop, executive, OD)"),
    "sil": Stage(None, (), available="the software-in-the-loop flight is the stage named 'attitude' ([attitude] "
                                     "sets its span); a board in the loop is bliss fly --actuators"),
}


def stage_unavailable(name: str) -> str:
    """Why stage ``name`` cannot run in this build ('' when it can)."""
    st = STAGES.get(name)
    return "unknown stage" if st is None else st.available


def run_stages(sc, stages=None, sail=None) -> tuple[dict, dict]:
    """Run ``stages`` (default: the scenario's) in order: ``({stage: results}, ctx)``; ``ctx["plan"]``
    holds the pipeline's (res, inputs) when the plan stage ran (for the product writers)."""
    ctx = {"sail": sail}
    results = {}
    for name in stages or sc.stages:
        results[name] = STAGES[name].run(sc, ctx)
    return results, ctx

