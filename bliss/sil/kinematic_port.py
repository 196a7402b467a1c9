"""The actuator port implemented by the kinematic inchworm plant (``sim.inchworm``): software in the loop
without a board."""
from __future__ import annotations

from bliss.fsw.attitude.actuation import ActuatorPort
from bliss.fsw.messages import ActuatorCommand, ActuatorState
from sim.inchworm import OK, InchwormAxes


class KinematicActuatorPort(ActuatorPort):
    """Wraps :class:`sim.inchworm.InchwormAxes`; the caller advances the axes' time (``advance``)."""

    def __init__(self, axes: InchwormAxes | None = None):
        self.axes = axes if axes is not None else InchwormAxes()
        self.t = 0.0
        self.refused = 0  # commands the axes refused (soft limit, rate)

    def send(self, command: ActuatorCommand) -> None:
        for i, target in enumerate(command.target_steps):
            if target is not None and self.axes.command(i, target, command.rate_hz) != OK:
                self.refused += 1

    def advance(self, dt: float) -> None:
        self.axes.advance(dt)
        self.t += dt

    def state(self) -> ActuatorState:
        return ActuatorState(self.t, tuple(int(s) for s in self.axes.reported_steps),
                             tuple(bool(m) for m in self.axes.moving))
