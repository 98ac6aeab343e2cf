"""Errors of ``vla-ros diagnose``: input that cannot be compared, named with what is wrong."""

from __future__ import annotations

from vla_ros.errors import BadInputError, ConfigError, VlaRosError

__all__ = ["DiagnoseError", "DiagnoseInputError", "OutputExistsError"]


class DiagnoseError(VlaRosError):
    """Base class of the diagnosis errors."""


class DiagnoseInputError(DiagnoseError, BadInputError):
    """Training or deployment data cannot be diagnosed: no actions, empty episodes, NaN values, joint
    names or units that differ between the two sides; the message lists every problem found."""


class OutputExistsError(DiagnoseError, ConfigError):
    """The output directory exists already (``--out`` must be new, or ``--overwrite`` given)."""
