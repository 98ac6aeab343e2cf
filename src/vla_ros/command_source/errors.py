"""Errors of :mod:`vla_ros.command_source`."""

from __future__ import annotations

from vla_ros.errors import VlaRosError

__all__ = ["SharedTopicError"]


class SharedTopicError(VlaRosError, RuntimeError):
    """Another arm's node already publishes on a topic this node must own alone (refusal to start)."""
