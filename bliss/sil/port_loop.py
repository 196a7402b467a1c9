"""The attitude loop with its actuators behind an ``ActuatorPort`` (a board: the C firmware emulated on a
pty, the Cortex-M build under QEMU, or real hardware), paced against the wall clock.

``PortActuators.fly_attitude`` has the signature of ``AttitudeLoop.fly_attitude`` (so
``bliss.sil.closed_loop.fly_span`` uses either) but runs one control period at a time:

1. the flight software's controller and the plant fly one period (``run_chunk`` with one period; the
   kinematic axes inside move toward the new targets as the model predicts);
2. new targets go to the board (``ActuatorCommand``) at the drive rate times ``time_scale``;
3. the loop waits until the period's wall-clock deadline (``dt / time_scale`` after the previous one);
4. the board's reported positions (``ActuatorState``) overwrite the axes' true and reported positions:
   what the board really did is what the plant flies from the next period on.

Within a period the plant's axes move as the model predicts the board moves them: at the board's pace in
flight time (its drive rate, clamped to the boards' 20 kHz maximum, divided by ``time_scale``: at most
the flight's 1 kHz). An axis the board holds short of the target it was sent (not moving: a stuck or
failed axis, a fault, the watchdog, a soft limit) is held in the plant too (the model's stuck flag) until
the board moves it again; while the link is down every axis is held. Without this the model would move
the plant's axes to their targets within milliseconds of each period whatever the board did, and a
stuck or slow board would not show in the flight.

Pacing: one mission second is ``1 / time_scale`` wall seconds. The inchworms move in real time at their
drive rate, so the rate sent to the board is the flight rate times ``time_scale`` (clamped by the board to
its 20 kHz maximum, ``bliss.protocol.messages.RATE_MAX``): a board then makes in one wall period the steps
the flight axes make in one mission period, as long as ``time_scale * drive rate <= 20 kHz``. With a faster
``time_scale`` the board lags the model, and the plant follows the board (the lag is real). When the host
cannot keep the pace (a slow link, a reset) the loop does not sleep and counts the overrun.

Lockstep (``time_scale="auto"``): no fixed wall-clock pace. Each period the board is sent the positions
the flight's axes reach in that period (each axis's last reported position moved toward its target by at
most the flight's drive rate x the period, as the kinematic model moves it) at the boards' top rate
(20 kHz), and the loop waits until the board reports every axis stopped (arrived, or held short: stuck, a
fault, the watchdog) or ``LOCKSTEP_SLACK_S`` past the time that motion needs at 20 kHz. A period therefore
takes as long as the board needs to make the flight's steps (0.5 s for the 10,000 steps of a 10 s period
at 1 kHz) and no longer (a STATUS round trip while the axes hold): the plant flies exactly the motion of
the software-in-the-loop run when the board makes its steps, and what the board really did when it does
not (the reported positions still overwrite the plant's). This is how ten slews fly in about two minutes
(``tests/test_fly_board.py``) where a fixed ``--time-scale 20`` keeping the flight's pace takes 4.8 h and
``--time-scale 1000`` changes the slews (the board's 20 kHz is then 20 steps per flight second).

The orbit seen by the attitude software over a chunk is the chunk's prediction (position, velocity and
the Sun's acceleration at its start), as in ``AttitudeLoop.fly_attitude``.
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from bliss.fsw.messages import ActuatorCommand
from bliss.io.telemetry import BenchEvent
from bliss.protocol.messages import RATE_MAX
from sim.constants import GM_SUN
from sim.inchworm import A_REPORTED, A_STUCK, A_TARGET, A_TRUE, DEFAULT_DRIVE_HZ


#: Lockstep: how long past the time a leg needs at RATE_MAX the loop waits for the board to report the
#: axes stopped (a board that makes its steps slower than RATE_MAX, e.g. a stalled axis, is read then) [s].
LOCKSTEP_SLACK_S = 0.25
#: Lockstep: pause between two STATUS reads while the board moves [s]; a leg shorter than this at RATE_MAX
#: (10 steps) is read at once (a STATUS round trip takes about as long).
LOCKSTEP_POLL_S = 0.0005


class PortActuators:
    """Actuators behind ``port`` for ``loop`` (an ``AttitudeLoop``). ``poll(t_rel)`` runs every period
    before the exchange (the bench's fault injector); it returns events. ``time_scale``: mission seconds
    per wall second (None: no pacing, as fast as the board answers; ``"auto"``: lockstep, each period as
    long as the board needs for the period's steps, module doc). ``link_errors``: exceptions of the port
    that mean the board is out of reach past the port's own retries: the axes are held (event
    ``link_hold``) and the exchange is tried again next period (``link_resumed``)."""

    def __init__(self, loop, port, time_scale: float | None = 1.0, rate_hz: float = DEFAULT_DRIVE_HZ,
                 poll=None, t0: float = 0.0, clock=time.monotonic, sleep=time.sleep, link_errors=()):
        self.lockstep = time_scale == "auto"
        if not self.lockstep and time_scale is not None and not time_scale > 0:
            raise ValueError(f"time_scale must be > 0 mission seconds per wall second or 'auto', got {time_scale!r}")
        self.loop, self.port, self.time_scale = loop, port, time_scale
        if self.lockstep:  # the flight's pace in flight time; the board makes each period's steps at its top rate
            self.rate = float(RATE_MAX)
            loop.drive_hz = rate_hz
            self.leg_steps = int(rate_hz * loop.dt)  # most steps an axis makes in one period
        else:
            self.rate = rate_hz * (time_scale or 1.0)
        if time_scale is not None and not self.lockstep:  # the board's pace in flight time (unpaced: none)
            loop.drive_hz = min(self.rate, RATE_MAX) / time_scale
        self.poll, self.t0, self.clock, self.sleep = poll, t0, clock, sleep
        self.sent = None
        self.deadline = None
        self.overruns = 0
        self.cycles = 0
        self.events: list = []  # BenchEvents of the poll, drained by the caller
        self.max_lag_steps = 0  # largest |model - board| position seen at an exchange
        self.link_errors = tuple(link_errors)  # the port's "link down past its budget" exception types
        self.holding = False
        self.wait_s = 0.0  # lockstep: wall time spent waiting for the board to make the periods' steps
        self.late_legs = 0  # lockstep: periods whose steps the board had not made within the slack

    def fly_attitude(self, duration_s, y_orbit, seg_t, seg_mode, seg_att, rec_every=1, bin_s=None):
        loop = self.loop
        dt = loop.dt
        n = int(round(duration_s / dt))
        bin_n = max(1, int(round((bin_s or duration_s) / dt)))
        y = np.asarray(y_orbit, float)
        r0, v0 = y[:3], y[3:]
        a0 = -GM_SUN * r0 / np.linalg.norm(r0) ** 3
        t_orb = loop.t
        normals = np.zeros((max(1, n // bin_n), 3))
        nsum = np.zeros(3)
        recs = []
        for k in range(n):
            start = loop.axes[:, A_TRUE].copy()  # the board's positions (reported at the last exchange)
            tau = loop.t - t_orb
            yk = np.concatenate([r0 + v0 * tau + 0.5 * a0 * tau * tau, v0 + a0 * tau])
            rec, nrm = loop.fly_attitude(dt, yk, seg_t, seg_mode, seg_att,
                                         1 if rec_every > 0 and k % rec_every == 0 else 0, bin_s=dt)
            recs.append(rec)
            nsum += nrm[0]
            if (k + 1) % bin_n == 0:
                normals[(k + 1) // bin_n - 1] = nsum / np.linalg.norm(nsum)
                nsum[:] = 0.0
            self._exchange(start)
        return (np.concatenate(recs) if recs else np.zeros((0, 15))), normals

    def _exchange(self, start):
        loop = self.loop
        if self.poll is not None:  # stamped with the mission clock
            self.events += [dataclasses.replace(ev, t=loop.t) for ev in self.poll(loop.t - self.t0)]
        targets = tuple(int(s) for s in loop.steps_cmd)
        if self.lockstep:  # this period's leg: toward the target by at most the flight's steps per period
            targets = tuple(int(p) + max(-self.leg_steps, min(self.leg_steps, t - int(p)))
                            for p, t in zip(start, targets))
        try:
            if targets != self.sent:
                self.port.send(ActuatorCommand(loop.t, targets, self.rate))
                self.sent = targets
            if self.lockstep:
                st = self._wait_legs(start, targets)
            else:
                self._pace()
                st = self.port.state()
        except self.link_errors as exc:
            # the board is out of reach: its watchdog holds the axes (protocol.md), so the plant's axes hold
            # where they were; targets are sent again once the port answers
            loop.axes[:, A_TARGET] = loop.axes[:, A_TRUE]
            loop.axes[:, A_STUCK] = 1.0
            self.sent = None
            if not self.holding:
                self.events.append(BenchEvent(loop.t, "link_hold", None, f"actuators held: {exc}"))
            self.holding = True
            self.cycles += 1
            return
        if self.holding:
            self.events.append(BenchEvent(loop.t, "link_resumed", None, "port answers: targets sent again"))
            self.holding = False
        pos = np.asarray(st.position_steps, float)
        self.max_lag_steps = max(self.max_lag_steps, int(np.max(np.abs(loop.axes[:, A_TRUE] - pos))))
        loop.axes[:, A_TRUE] = pos
        loop.axes[:, A_REPORTED] = pos
        # held by the board short of its target: the plant holds it too until the board moves it again
        loop.axes[:, A_STUCK] = [float(not st.moving[i] and pos[i] != targets[i]) for i in range(len(pos))]
        self.cycles += 1

    def _wait_legs(self, start, targets):
        """Lockstep: the board's state once every axis stopped, or LOCKSTEP_SLACK_S past the time the
        longest leg needs at RATE_MAX."""
        need = max(abs(t - int(p)) for p, t in zip(start, targets)) / RATE_MAX
        t0 = self.clock()
        if need > LOCKSTEP_POLL_S:
            self.sleep(need)
        while True:
            st = self.port.state()
            if not any(st.moving) or self.clock() - t0 > need + LOCKSTEP_SLACK_S:
                break
            self.sleep(LOCKSTEP_POLL_S)
        if any(st.moving):
            self.late_legs += 1
        self.wait_s += self.clock() - t0
        return st

    def _pace(self):
        loop = self.loop
        if self.time_scale is not None:
            now = self.clock()
            self.deadline = (now if self.deadline is None else self.deadline) + loop.dt / self.time_scale
            if self.deadline > now:
                self.sleep(self.deadline - now)
            else:
                self.overruns += 1
                self.deadline = now


__all__ = ["PortActuators"]
