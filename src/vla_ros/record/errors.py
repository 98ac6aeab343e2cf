"""Errors of the bag recorder."""

from __future__ import annotations

from vla_ros.errors import VlaRosError

__all__ = ["RecorderError"]


class RecorderError(VlaRosError, RuntimeError):
    """A recording cannot start, stop or be discarded (no task, not recording, writer failure)."""
