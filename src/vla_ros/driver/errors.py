"""Errors of the SO-101 driver."""

from __future__ import annotations

from vla_ros.errors import VlaRosError

__all__ = ["BusFaultError", "NotDrivingError"]


class BusFaultError(VlaRosError, ConnectionError):
    """The servo bus failed: reads kept failing, the port vanished, or a connection attempt failed."""


class NotDrivingError(VlaRosError, RuntimeError):
    """A command arrived while the driver cannot move the arm (not connected, or torque off)."""
