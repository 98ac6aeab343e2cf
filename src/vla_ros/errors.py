"""Exception hierarchy shared by every vla_ros subpackage.

Every error raised on purpose derives from :class:`VlaRosError` and from the matching builtin, so
callers can catch either (``except ValueError`` keeps working). Subpackages add their own subclasses
in their ``errors.py``.
"""

from __future__ import annotations

__all__ = ["BadInputError", "CalibrationError", "ConfigError", "StaleDataError", "VlaRosError"]


class VlaRosError(Exception):
    """Base class of every error vla_ros raises on purpose."""


class ConfigError(VlaRosError, ValueError):
    """A configuration value (ROS parameter, config file, CLI flag) is invalid."""


class CalibrationError(VlaRosError, ValueError):
    """A LeRobot calibration file is missing, unreadable or does not fit the robot."""


class BadInputError(VlaRosError, ValueError):
    """Input data (a command, an image, a bag message) is malformed: NaN/inf, wrong names, sizes."""


class StaleDataError(VlaRosError, TimeoutError):
    """Data is older than its allowed age, or has not arrived at all."""
