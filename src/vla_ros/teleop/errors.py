"""Errors of the teleoperation subpackage."""

from __future__ import annotations

from vla_ros.errors import BadInputError

__all__ = ["UnreachableTargetError"]


class UnreachableTargetError(BadInputError):
    """The scripted expert cannot put the gripper at the requested point (out of reach, or not from
    above within the joint limits)."""
