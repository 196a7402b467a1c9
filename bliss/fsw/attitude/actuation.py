"""The actuator port: where the attitude controller's step commands leave the flight software.

:class:`ActuatorPort` is the interface; implementations live outside ``bliss.fsw`` because they touch the
world: the kinematic inchworm plant for software-in-the-loop runs (``bliss.sil.kinematic_port``) and, on
the bench, the actuator-board driver (``hil``, a later issue).
"""
from __future__ import annotations

from abc import ABC, abstractmethod

from bliss.fsw.messages import ActuatorCommand, ActuatorState


class ActuatorPort(ABC):
    """Send inchworm axis targets; read back the axes' state."""

    @abstractmethod
    def send(self, command: ActuatorCommand) -> None:
        """Start moving the axes named in ``command.target_steps`` (``None`` leaves an axis alone)."""

    @abstractmethod
    def state(self) -> ActuatorState:
        """Positions (whole steps, as the board counts them), moving flags and fault bits of every axis."""
