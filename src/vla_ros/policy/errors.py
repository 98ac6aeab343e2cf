"""Errors of the policy subpackage (all derive from :mod:`vla_ros.errors`)."""

from __future__ import annotations

from vla_ros.errors import BadInputError, ConfigError

__all__ = ["CameraMapError", "CheckpointError", "NonFiniteChunkError", "TaskRefusedError"]


class CheckpointError(ConfigError):
    """A checkpoint is missing, incomplete or not a SmolVLA checkpoint; names the path and what is wrong."""


class CameraMapError(ConfigError):
    """``camera_map`` leaves an image feature of the checkpoint unmapped or maps something unknown."""


class TaskRefusedError(ConfigError):
    """The language instruction is not one of the checkpoint's training tasks."""


class NonFiniteChunkError(BadInputError):
    """A predicted action chunk contains NaN or inf."""
