"""Errors of the teleoperation subpackage."""

from __future__ import annotations

from vla_ros.errors import BadInputError, VlaRosError

__all__ = ["TeleopError", "UnreachableTargetError"]


class TeleopError(VlaRosError, ConnectionError):
    """The leader arm cannot be connected (after every attempt)."""


class UnreachableTargetError(BadInputError):
    """The scripted expert cannot put the gripper at the requested point (out of reach, or not from
    above within the joint limits)."""
