"""The closed loop: the onboard executive (``bliss.fsw.executive``) flying the spacecraft through the
attitude loop (``bliss.sil.attitude_loop``: MEKF, controller, inchworm axes, attitude plant), with the
orbit driven by the sail normal the plant actually achieves, and navigation from ground orbit
determination dead-reckoned onboard (``bliss.sil.navigation``). Software in the loop: sim and bliss only.

Each guidance step (``ExecutiveConfig.step``, default 1 day, shorter when the rendezvous plan's segments
are):

1. a ground OD upload is applied when due (``GroundOD``: weekly in cruise, daily within its approach range
   of the target by default), else the onboard estimate is the last one flown forward with the commanded
   attitudes (``DeadReckoning``);
2. the executive gets ``GuidanceInputs(NavStateEstimate, TargetPrediction)`` and returns its phase and
   attitude commands (time-shared within the step in RENDEZVOUS);
3. the commands become a segment table which the attitude loop flies (``fly_span``), in whole control
   periods: chunks of ``chunk_s`` (1 h) of attitude with the orbit predicted from the chunk's start, then
   the orbit integrated over the chunk with the achieved normals held per ``bin_s`` bin (10 min), the
   attitude loop's multi-rate coupling (docs/attitude.md);
4. the dead reckoning and the "commanded flight" (the same commands flown with perfect attitude from the
   same start, for the trajectory deviation) advance over the same segments.

The flight ends at TERMINAL (the executive's estimate within ``pos_tol``/``vel_tol`` of its target
prediction, or its fixed arrival epoch reached, ``fix_arrival_days``), SAFE, or ``t_end``. Telemetry goes to ``sink`` (a ``bliss.io.telemetry.TelemetryWriter`` or
anything with ``cycle``/``event``): every ``rec_every``-th control period the attitude record, at every
chunk end the true, estimated and commanded-flight states; every event (executive, OD, faults).

``sensor_dropout`` faults (``bliss.io.faultplan``) silence the Sun sensor and star camera (the MEKF then
propagates on the gyro alone) for the bins they overlap (resolution ``bin_s``).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from bliss.fsw.attitude.control import S_SAFE_N
from bliss.fsw.executive import MIN_FRACTION_S, Executive, ExecutiveConfig
from bliss.fsw.messages import AttitudeMode, GuidanceInputs, NavStateEstimate, Phase
from bliss.io.telemetry import BenchEvent
from bliss.sil.attitude_loop import K_COV_T, K_ERR2, K_ERRMAX, K_N, K_STEPS, RECORD_COLUMNS, AttitudeLoop
from bliss.sil.navigation import DeadReckoning, GroundOD
from bliss.sil.plan_flight import initial_attitude
from sim.constants import DAY
from sim.dop853 import integrate_final
from sim.integrator import Schedule, propagate
from sim.sensors import S_STAR_PERIOD, S_SUN_PERIOD

#: Telemetry columns: the attitude record (every rec_every-th control period; RECORD_COLUMNS without t)
#: and, at chunk ends, the orbit (true, onboard estimate, commanded flight) and the executive's phase.
ORBIT_COLUMNS = ("r_true_x_m", "r_true_y_m", "r_true_z_m", "v_true_x_m_s", "v_true_y_m_s", "v_true_z_m_s",
                 "nav_err_pos_m", "nav_err_vel_m_s", "deviation_m", "target_range_m", "target_vel_m_s",
                 "phase")
TELEMETRY_COLUMNS = ("pointing_err_rad",) + RECORD_COLUMNS[2:5] + ("act_pos_0", "act_pos_1", "act_pos_2") \
    + RECORD_COLUMNS[8:] + ORBIT_COLUMNS


@dataclass
class Event:
    t: float
    kind: str
    detail: str
    axis: int | None = None


@dataclass
class ClosedLoopResult:
    """What a closed-loop flight produced (SI units; angles in radians)."""

    t0: float
    t_end: float
    y_final: np.ndarray
    reason: str                         # why it stopped: "rendezvous", "SAFE: ...", "span end"
    converged: bool
    record: np.ndarray                  # attitude record rows (RECORD_COLUMNS)
    orbit: np.ndarray                   # rows (t, y_true 6, y_nav 6, y_cmd 6, phase) at chunk ends
    events: list = field(default_factory=list)
    steps: np.ndarray | None = None     # steps commanded per axis
    pointing_rms_rad: float = math.nan
    pointing_max_rad: float = math.nan
    n_cycles: int = 0
    n_slews: int = 0
    n_od_updates: int = 0
    n_safe_mode: int = 0                # attitude safe-mode entries (cone past ControllerConfig.safe_cone)
    miss_pos_m: float = math.nan
    miss_vel_m_s: float = math.nan
    wall_s: float = 0.0

    @property
    def days(self) -> float:
        return (self.t_end - self.t0) / DAY

    @property
    def deviation_m(self) -> np.ndarray:
        """|r_true - r_commanded-flight| [m] at the chunk ends."""
        return np.linalg.norm(self.orbit[:, 1:4] - self.orbit[:, 13:16], axis=1)

    @property
    def nav_error_m(self) -> np.ndarray:
        return np.linalg.norm(self.orbit[:, 1:4] - self.orbit[:, 7:10], axis=1)


def _segments(commands, t, n_periods, dt, cone_max, feather=None):
    """Segment table of the executive's commands from t, stretched/cut to n_periods control periods.
    Edge-on (OFF) becomes what the attitude controller flies for it: the feather cone ``feather`` (default
    ``cone_max``), clock 0 (at 90 deg no torque is left to hold the sail,
    ``bliss.fsw.attitude.control.command_target``), so the dead reckoning and the commanded flight count
    the thrust that is really there."""
    seg_t, seg_mode, seg_att = [t], [], []
    tc = t
    for c in commands:
        tc += c.duration if c.duration is not None else n_periods * dt
        seg_t.append(tc)
        if c.mode == AttitudeMode.OFF:
            seg_mode.append(int(AttitudeMode.RTN))
            seg_att.append((cone_max if feather is None else feather, 0.0, 0.0))
        else:
            seg_mode.append(int(c.mode))
            seg_att.append((min(c.cone, cone_max), c.clock, 0.0) if c.mode != AttitudeMode.INERTIAL
                           else tuple(c.normal))
    seg_t[-1] = t + n_periods * dt
    keep = [0] + [k for k in range(1, len(seg_t)) if seg_t[k] > seg_t[k - 1] + 1e-6]
    seg_t = np.array([seg_t[k] for k in keep])
    idx = [k - 1 for k in keep[1:]]
    return seg_t, np.array([seg_mode[k] for k in idx], np.int64), np.array([seg_att[k] for k in idx], float)


#: Slews larger than this [rad] are flown in two legs through the Sun-pointing attitude (cone 0): the attitude
#: controller is built for slews well under 90 deg, and a 125-deg command (cone 75 -> 50 deg at the opposite
#: clock) drove both payload axes into their soft limits and tumbled the sail (docs/fly.md).
MAX_SLEW_RAD = math.radians(90.0)
#: Time held at the via attitude [s]: a 75-deg slew to the Sun line takes about 1.5 h (docs/fly.md).
VIA_HOLD_S = 5400.0


def _rtn_normal(att):
    c, k = float(att[0]), float(att[1])
    return np.array([math.cos(c), math.sin(c) * math.cos(k), math.sin(c) * math.sin(k)])


def break_large_slews(seg_t, seg_mode, seg_att, prev, max_slew=MAX_SLEW_RAD, via_s=VIA_HOLD_S):
    """Insert a Sun-pointing leg (RTN cone 0) of ``via_s`` (at most half the segment) before every RTN
    segment whose attitude is more than ``max_slew`` [rad] from the one before it (``prev``: the previous
    step's last (mode, cone, clock), or None)."""
    t_out, m_out, a_out = [seg_t[0]], [], []
    last = prev
    for k in range(len(seg_mode)):
        t_a, t_b, m, a = seg_t[k], seg_t[k + 1], int(seg_mode[k]), seg_att[k]
        if (last is not None and m == 1 and last[0] == 1
                and math.acos(max(-1.0, min(1.0, float(_rtn_normal(last[1:]) @ _rtn_normal(a))))) > max_slew):
            t_via = t_a + min(via_s, 0.5 * (t_b - t_a))
            t_out.append(t_via)
            m_out.append(1)
            a_out.append((0.0, 0.0, 0.0))
        t_out.append(t_b)
        m_out.append(m)
        a_out.append(tuple(a))
        last = (m, float(a[0]), float(a[1]))
    return np.array(t_out), np.array(m_out, np.int64), np.array(a_out, float)


def _slice(seg, ta, tb):
    """The part [ta, tb] of a segment table (seg_t, seg_mode, seg_att)."""
    seg_t, seg_mode, seg_att = seg
    k0 = max(0, int(np.searchsorted(seg_t, ta, side="right")) - 1)
    k1 = min(len(seg_mode), int(np.searchsorted(seg_t, tb, side="left")))
    st = np.concatenate([[ta], seg_t[k0 + 1:k1], [tb]])
    return st, seg_mode[k0:k1], seg_att[k0:k1]


def fly_span(loop: AttitudeLoop, y, t, n_periods, seg_t, seg_mode, seg_att, sail_params, *, bin_n=300,
             chunk_bins=6, rec_every=30, dropout=None, rtol=1e-10, on_chunk=None, actuators=None):
    """Fly ``n_periods`` control periods from (t, y) with the attitude loop and the orbit coupled
    (bins of ``bin_n`` periods, chunks of ``chunk_bins`` bins). ``dropout(t0, t1) -> bool``: sensors silent
    over that bin. ``on_chunk(t, y, rec, silent)`` after each chunk. ``actuators``: a
    ``bliss.sil.port_loop.PortActuators`` (a board behind a port) or None (the kinematic axes). Returns the
    final orbit state."""
    fly = (actuators if actuators is not None else loop).fly_attitude
    dt = loop.dt
    sens_nominal = loop.sens[[S_STAR_PERIOD, S_SUN_PERIOD]].copy()
    k = 0
    while k < n_periods:
        nb_left = n_periods - k
        n_chunk = min(nb_left, bin_n * chunk_bins)
        if n_chunk > bin_n and n_chunk % bin_n:
            n_chunk -= n_chunk % bin_n  # whole bins; the remainder (< one bin) is a chunk of its own
        tc = t + k * dt
        silent = dropout is not None and dropout(tc, tc + min(n_chunk, bin_n) * dt)
        if dropout is not None and n_chunk > bin_n:
            # keep a chunk uniform in its sensor state (split where the dropout state changes)
            nb = 1
            while nb * bin_n < n_chunk and dropout(tc + nb * bin_n * dt, tc + (nb + 1) * bin_n * dt) == silent:
                nb += 1
            n_chunk = min(n_chunk, nb * bin_n)
        loop.sens[[S_STAR_PERIOD, S_SUN_PERIOD]] = 1e30 if silent else sens_nominal  # 1e30 s: never due
        nbins = max(1, n_chunk // bin_n) if n_chunk % bin_n == 0 else 1
        this_bin = n_chunk // nbins
        rec, normals = fly(n_chunk * dt, y, seg_t, seg_mode, seg_att, rec_every, bin_s=this_bin * dt)
        times = tc + np.arange(nbins + 1) * this_bin * dt
        y = integrate_final(y, times, np.full(nbins, 2, np.int64), normals[:nbins], sail_params, rtol)
        k += n_chunk
        if on_chunk is not None:
            on_chunk(times[-1], y, rec, silent)
    loop.sens[[S_STAR_PERIOD, S_SUN_PERIOD]] = sens_nominal
    return y


#: The rendezvous law's terminal phase in the closed loop [days]: the arrival epoch is fixed within 25 days of
#: it (below the executive's 30-day tgo_min: a flight entering RENDEZVOUS is not terminal yet). Measured
#: (benchmarks/results/fly_ablation_endgame.txt, docs/fly.md "The end game"): with perfect attitude and the
#: 60-deg hold counted 3 days is too late (the epoch was already moved past the pass), 10, 25 and 40 days
#: arrive; in the whole SIL the law moved the epoch 11-23 days out, so 10 days did not take, 25 (as 30, 40,
#: 60) does (seed 1: day 240.0, 399 km, 0.36 m/s).
FIX_ARRIVAL_DAYS = 25.0


def executive_config(problem, step: float, t_end: float, pos_tol: float, vel_tol: float,
                     min_fraction_s: float = MIN_FRACTION_S, off_attitude=None,
                     fix_arrival_within: float = 0.0, terminal_box: bool = True) -> ExecutiveConfig:
    """The executive as ``fly_feedback`` configures it by default (time-shared rendezvous law), with the
    shortest time-shared fraction ``min_fraction_s`` [s] and ``off_attitude`` (cone, clock) [rad], the
    attitude an edge-on command is really held at (None: truly edge-on), ``fix_arrival_within`` [s] the
    rendezvous law's terminal phase (``ExecutiveConfig``; 0: off), ``terminal_box`` its plans' miss in units of
    the acceptance box (``ExecutiveConfig.terminal_box``)."""
    return ExecutiveConfig(sail_params=problem.sail.kernel_params(),
                           max_cone=math.radians(problem.limits.max_cone_deg),
                           max_slew_deg_per_day=problem.limits.max_slew_deg_per_day,
                           rendezvous=problem.rendezvous, step=step, t_end=t_end, pos_tol=pos_tol,
                           vel_tol=vel_tol, min_fraction_s=min_fraction_s, off_attitude=off_attitude,
                           fix_arrival_within=fix_arrival_within, terminal_box=terminal_box)


def _slew_count(prev, seg_mode, seg_att, min_rad=math.radians(1.0)):
    """Attitude changes larger than min_rad (cone or clock, or a mode change) along the commands."""
    n = 0
    for m, a in zip(seg_mode, seg_att):
        cur = (int(m), float(a[0]), float(a[1]))
        if prev is not None and (cur[0] != prev[0] or abs(cur[1] - prev[1]) > min_rad
                                 or (cur[0] == 1 and abs(math.remainder(cur[2] - prev[2], 2 * math.pi)) > min_rad
                                     and cur[1] > min_rad)):
            n += 1
        prev = cur
    return n, prev


def fly_closed_loop(problem, y0, t0: float, t_end: float, loop: AttitudeLoop, od: GroundOD, *, sink=None,
                    faults=None, progress=None, step: float = DAY, pos_tol: float = 1.0e6,
                    vel_tol: float = 1.0, bin_s: float = 600.0, chunk_s: float = 3600.0, rec_every: int = 30,
                    rtol: float = 1e-10, start_on_target: bool = True, actuators=None,
                    min_fraction_s: float = MIN_FRACTION_S, break_slews: bool = True,
                    count_feather: bool = True, fix_arrival_days: float = FIX_ARRIVAL_DAYS,
                    terminal_box: bool = True) -> ClosedLoopResult:
    """Fly from state ``y0`` at ``t0`` until TERMINAL, SAFE or ``t_end`` (see the module docstring).
    ``faults``: a ``bliss.io.faultplan.FaultPlan`` (only ``sensor_dropout`` acts in software in the loop;
    the board faults need a board). ``progress(t)`` after every chunk. ``start_on_target``: the plant and
    the MEKF start on the first command's attitude (a flight handed over in a settled state).
    ``actuators``: a ``bliss.sil.port_loop.PortActuators`` (a board in the loop; its events are logged) or
    None (the kinematic inchworm model, compiled). ``min_fraction_s``: the executive's shortest time-shared
    attitude fraction [s]. ``break_slews``: fly slews over ``MAX_SLEW_RAD`` through the Sun line
    (``break_large_slews``). ``count_feather``: the executive's rendezvous plan counts the thrust of the
    feathered edge-on hold (``ExecutiveConfig.off_attitude``; False: plans edge-on as no thrust, the
    behaviour before, which does not arrive, docs/fly.md). ``fix_arrival_days``: the rendezvous law's
    terminal phase (``ExecutiveConfig.fix_arrival_within``): within this many days of the arrival epoch it
    is fixed, the least-miss plan is flown when none closes, and the flight ends at it (0: the epoch slides
    and extends, the behaviour before). ``terminal_box``: the terminal phase's plans minimise the miss in
    units of ``pos_tol``/``vel_tol`` (``ExecutiveConfig.terminal_box``; False: the element weights, as before)."""
    t_wall = time.perf_counter()
    dt = loop.dt
    bin_n = max(1, int(round(bin_s / dt)))
    chunk_bins = max(1, int(round(chunk_s / (bin_n * dt))))
    p = problem.sail.kernel_params()
    # the executive plans with the thrust its edge-on commands really give: the controller holds them at
    # feather_cone, clock 0 (``_segments``)
    exe = Executive(executive_config(problem, step, t_end, pos_tol, vel_tol, min_fraction_s,
                                     (loop.cfg.feather_cone, 0.0) if count_feather else None,
                                     fix_arrival_days * DAY, terminal_box))
    target = problem.target
    prediction = target.prediction(t0)
    y = np.asarray(y0, float).copy()
    y_cmd = y.copy()
    t = float(t0)
    loop.t = t
    loop.counters[K_COV_T] = t  # the MEKF covariance was last propagated now
    nav = DeadReckoning(t, y, p)
    events: list[Event] = []
    orbit_rows, recs = [], []
    phase = [Phase.MATCH]
    slews, prev_att = 0, None
    n_cycles = 0

    def emit(ev: Event):
        events.append(ev)
        if sink is not None:
            sink.event(BenchEvent(ev.t, ev.kind, ev.axis, ev.detail))

    def dropout(ta, tb):  # fault times are seconds after the run's start
        return any(t0 + f.at_s < tb and (f.end_s is None or t0 + f.end_s > ta)
                   for f in faults.entries if f.kind == "sensor_dropout")

    dropping = [False]
    n_safe = [int(loop.cs[S_SAFE_N])]

    cur = {}  # the step's segment table, and where the chunks have got to in it

    def on_chunk(tc, yc, rec, silent):
        nonlocal n_cycles, y_cmd
        # the onboard estimate and the commanded flight over the same chunk
        st, sm, sa = _slice(cur["seg"], cur["t"], tc)
        nav.fly(st, sm, sa)
        y_cmd = integrate_final(y_cmd, st, sm, sa, p, rtol)
        cur["t"] = tc
        if silent != dropping[0]:
            dropping[0] = silent
            emit(Event(tc, "sensor_dropout" if silent else "sensor_restored",
                       "Sun sensor and star camera silent: MEKF on the gyro alone" if silent
                       else "Sun sensor and star camera back: MEKF updates resume"))
        if loop.cs[S_SAFE_N] > n_safe[0]:
            n_safe[0] = int(loop.cs[S_SAFE_N])
            emit(Event(tc, "attitude_safe_mode", f"cone past {math.degrees(loop.cfg.safe_cone):.0f} deg: aiming at "
                                                 f"the Sun line (entry {n_safe[0]})"))
        if actuators is not None:
            for ev in actuators.events:
                emit(Event(ev.t, ev.kind, ev.detail, ev.axis))
            actuators.events.clear()
        recs.append(rec)
        n_cycles += int(round((tc - (orbit_rows[-1][0] if orbit_rows else t0)) / dt))
        orbit_rows.append((tc, yc.copy(), nav.y.copy(), y_cmd.copy(), int(phase[0])))
        if sink is not None:
            for row in rec:
                sink.cycle(float(row[0]), dict(zip(TELEMETRY_COLUMNS, row[1:])))
            rt, vt = target.state(tc)
            sink.cycle(tc, dict(zip(ORBIT_COLUMNS, (*yc, np.linalg.norm(nav.y[:3] - yc[:3]),
                                                    np.linalg.norm(nav.y[3:] - yc[3:]),
                                                    np.linalg.norm(y_cmd[:3] - yc[:3]), np.linalg.norm(yc[:3] - rt),
                                                    np.linalg.norm(yc[3:] - vt), int(phase[0])))))
        if progress is not None:
            progress(tc)

    reason, converged = "span end", False
    while t < t_end - dt:
        y_tgt = np.concatenate(target.state(t))  # the ground's knowledge, for the approach OD cadence
        up = od.update(t, y, y_tgt)
        if up is not None:
            nav.upload(t, up)
            emit(Event(t, "od_update", f"ground OD upload{' (approach)' if od.in_approach(y, y_tgt) else ''}: "
                                       f"error {np.linalg.norm(up[:3] - y[:3]):.0f} m, "
                                       f"{np.linalg.norm(up[3:] - y[3:]) * 1e3:.2f} mm/s"))
        if not target.two_body:
            prediction = target.prediction(t)
        out = exe.step(t, GuidanceInputs(nav.estimate(od.covariance()), prediction))
        for e in out.events:
            emit(Event(t, "executive", e))
        phase[0] = out.phase
        if out.phase in (Phase.TERMINAL, Phase.SAFE):
            converged = out.phase == Phase.TERMINAL
            reason = out.reason if converged else f"SAFE: {out.reason}"
            break
        if not out.commands:
            break
        total = sum(c.duration for c in out.commands if c.duration is not None) or step
        n = max(1, int(round(min(total, t_end - t) / dt)))
        seg_t, seg_mode, seg_att = _segments(out.commands, t, n, dt, loop.cfg.cone_max, loop.cfg.feather_cone)
        if break_slews:
            seg_t, seg_mode, seg_att = break_large_slews(seg_t, seg_mode, seg_att, prev_att)
        if prev_att is None and start_on_target:  # the flight starts on the first commanded attitude
            loop.x[:4] = loop.mq[:4] = initial_attitude(Schedule(seg_t, seg_mode, seg_att), y)
        ns, prev_att = _slew_count(prev_att, seg_mode, seg_att)
        slews += ns
        cur["seg"], cur["t"] = (seg_t, seg_mode, seg_att), t
        y = fly_span(loop, y, t, n, seg_t, seg_mode, seg_att, p, bin_n=bin_n, chunk_bins=chunk_bins,
                     rec_every=rec_every, dropout=dropout if faults is not None else None, rtol=rtol,
                     on_chunk=on_chunk, actuators=actuators)
        t = float(seg_t[-1])
    orbit = (np.array([[r[0], *r[1], *r[2], *r[3], r[4]] for r in orbit_rows]) if orbit_rows
             else np.zeros((0, 20)))
    rt, vt = target.state(t)
    c = loop.counters
    emit(Event(t, "end", f"{reason}: true miss {np.linalg.norm(y[:3] - rt):.0f} m, "
                         f"{np.linalg.norm(y[3:] - vt):.3f} m/s after {(t - t0) / DAY:.2f} days"))
    return ClosedLoopResult(t0=t0, t_end=t, y_final=y, reason=reason, converged=converged,
                            record=np.concatenate(recs) if recs else np.zeros((0, len(RECORD_COLUMNS))),
                            orbit=orbit, events=events, steps=c[K_STEPS:K_STEPS + 3].copy(),
                            pointing_rms_rad=math.sqrt(c[K_ERR2] / max(c[K_N], 1)),
                            pointing_max_rad=float(c[K_ERRMAX]),
                            n_cycles=n_cycles, n_slews=slews, n_od_updates=od.n_updates, n_safe_mode=n_safe[0],
                            miss_pos_m=float(np.linalg.norm(y[:3] - rt)),
                            miss_vel_m_s=float(np.linalg.norm(y[3:] - vt)), wall_s=time.perf_counter() - t_wall)


def reference_state(schedule: Schedule, y0, t: float, sail) -> np.ndarray:
    """The plan's (attitude-perfect) state at ``t``: the schedule flown from its start state ``y0``."""
    if t <= schedule.t0:
        return np.asarray(y0, float).copy()
    return propagate(np.asarray(y0, float), schedule.truncated(t), sail, t_out=np.array([t])).y_final.copy()


__all__ = ["ClosedLoopResult", "Event", "ORBIT_COLUMNS", "TELEMETRY_COLUMNS", "executive_config",
           "fly_closed_loop", "fly_span", "reference_state"]
