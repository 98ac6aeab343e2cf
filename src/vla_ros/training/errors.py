"""Errors of the training subpackage."""

from __future__ import annotations

from vla_ros.errors import ConfigError, VlaRosError

__all__ = ["CheckpointError", "DatasetMismatchError", "TrainingError"]


class TrainingError(VlaRosError, RuntimeError):
    """Training or offline evaluation cannot go on (e.g. a non-finite loss)."""


class DatasetMismatchError(ConfigError):
    """Datasets cannot be trained on together or do not fit the policy (fps, features, cameras)."""


class CheckpointError(VlaRosError, FileNotFoundError):
    """A checkpoint or training run directory is missing, incomplete or inconsistent."""
