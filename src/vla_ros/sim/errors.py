"""Errors of the simulator."""

from __future__ import annotations

from vla_ros.errors import BadInputError, VlaRosError

__all__ = ["SimError", "UnknownCubeError"]


class SimError(VlaRosError, RuntimeError):
    """The simulation cannot be built, rendered or stepped."""


class UnknownCubeError(BadInputError):
    """A task names a cube that is not in the scene."""
