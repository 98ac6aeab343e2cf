"""Errors of the safety subpackage."""

from __future__ import annotations

from vla_ros.errors import ConfigError

__all__ = ["StartStateSourceError"]


class StartStateSourceError(ConfigError):
    """The training start-state distribution (contract or dataset) cannot be read or converted."""
