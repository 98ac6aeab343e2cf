"""Errors of camera capture."""

from __future__ import annotations

from vla_ros.errors import VlaRosError

__all__ = ["CaptureError", "EndOfVideoError"]


class CaptureError(VlaRosError, OSError):
    """A camera or video cannot be opened, or stopped delivering frames."""


class EndOfVideoError(CaptureError):
    """A video file (not looping) has no more frames."""
