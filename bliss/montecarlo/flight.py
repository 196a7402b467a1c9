"""One Monte Carlo run: the scenario flown with one draw of dispersions, open or closed loop.

- Open loop (:func:`fly_open_loop`): the nominal planned schedule (``bliss scenario`` plan stage) flown
  as is, no re-planning, from the dispersed departure state with the dispersed sail and a pointing error
  on every segment; the miss is measured at the planned arrival epoch.
- Closed loop (:func:`fly_closed_loop`): the onboard executive (``bliss.fsw.executive``, the feedback
  laws) flies from the dispersed departure: each guidance step it reads a navigation estimate (truth plus
  the navigation error) and the target prediction, and the truth integrates its commands with the
  dispersed sail and a pointing error per command. The executive believes the nominal sail. The run
  ends when the executive declares TERMINAL (or SAFE, or after ``max_years``); the miss is the TRUE
  distance to the target then.

Truth integration: ``sim.dop853`` (Sun + sail), relative tolerance ``RTOL``.
"""
from __future__ import annotations

import math

import numpy as np

from bliss.fsw.executive import Executive, ExecutiveConfig
from bliss.fsw.messages import GuidanceInputs, NavStateEstimate, Phase
from sim.constants import DAY, JULIAN_YEAR
from sim.dop853 import integrate_final
from sim.dynamics import MODE_RTN
from sim.integrator import propagate_final

#: Integrator tolerance of the truth (as the feedback planner's default, bliss.guidance.feedback).
RTOL = 1e-9
#: Longest closed-loop flight [Julian years] (as bliss.guidance.feedback.fly_feedback's default).
MAX_YEARS = 4.0


def _miss(problem, t, y) -> tuple[float, float]:
    r_t, v_t = problem.target.state(float(t))
    return float(np.linalg.norm(y[:3] - r_t)), float(np.linalg.norm(y[3:] - v_t))


def fly_open_loop(problem, seg_t, seg_mode, seg_att, disp) -> dict:
    seg_t, seg_mode = np.asarray(seg_t, float), np.asarray(seg_mode, np.int64)
    att = np.array(seg_att, float)
    err = disp.pointing(len(seg_mode))
    rtn = seg_mode == MODE_RTN
    att[rtn, :2] += err[rtn]
    y0 = problem.y_depart + np.concatenate([disp.dr0, disp.dv0])
    yf = propagate_final(y0, seg_t, seg_mode, att, disp.sail(problem.sail).kernel_params(), rtol=RTOL)
    dr, dv = _miss(problem, seg_t[-1], yf)
    return {"tof_days": (seg_t[-1] - seg_t[0]) / DAY, "miss_km": dr / 1e3, "miss_m_s": dv,
            "converged": bool(dr <= 1e6 and dv <= 1.0), "end": "planned arrival"}


def fly_closed_loop(problem, disp, seg_days: float = 1.0, max_years: float = MAX_YEARS) -> dict:
    t0 = float(problem.t_depart)
    t_max = t0 + max_years * JULIAN_YEAR
    p_true = disp.sail(problem.sail).kernel_params()
    exe = Executive(ExecutiveConfig(
        sail_params=problem.sail.kernel_params(), max_cone=math.radians(problem.limits.max_cone_deg),
        max_slew_deg_per_day=problem.limits.max_slew_deg_per_day, rendezvous=problem.rendezvous,
        step=seg_days * DAY, t_end=t_max))
    target = problem.target
    y = problem.y_depart + np.concatenate([disp.dr0, disp.dv0])
    t, end, phase = t0, "max_years", None
    prediction = target.prediction(t0)
    while t < t_max - 1.0:
        if not target.two_body:
            prediction = target.prediction(t)
        nav = y + disp.nav_error()
        out = exe.step(t, GuidanceInputs(NavStateEstimate(t, nav[:3], nav[3:]), prediction))
        phase = out.phase
        if phase in (Phase.TERMINAL, Phase.SAFE):
            end = f"{phase.name.lower()}: {out.reason}"
            break
        if not out.commands:
            end = "no commands"
            break
        err = disp.pointing(len(out.commands))
        for cmd, e in zip(out.commands, err):
            mode = int(cmd.mode)
            a = (cmd.cone + e[0], cmd.clock + e[1], 0.0) if mode == MODE_RTN else (cmd.cone, cmd.clock, 0.0)
            y = integrate_final(y, np.array([t, t + cmd.duration]), np.array([mode], np.int64), np.array([a]),
                                p_true, RTOL)
            t += cmd.duration
    dr, dv = _miss(problem, t, y)
    return {"tof_days": (t - t0) / DAY, "miss_km": dr / 1e3, "miss_m_s": dv,
            "converged": phase == Phase.TERMINAL, "end": end}
