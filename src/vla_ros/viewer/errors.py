"""Errors of the viewer."""

from __future__ import annotations

from vla_ros.errors import VlaRosError

__all__ = ["RerunMissingError", "ViewerError"]


class ViewerError(VlaRosError, RuntimeError):
    """The viewer cannot start (port in use, unreadable input) or was given data it cannot show."""


class RerunMissingError(ViewerError, ImportError):
    """rerun-sdk is not installed in this environment."""
