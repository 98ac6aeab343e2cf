"""Errors of the operator sessions."""

from __future__ import annotations

from vla_ros.errors import VlaRosError

__all__ = ["SessionError"]


class SessionError(VlaRosError, RuntimeError):
    """The session cannot run: no terminal, a graph service missing or refusing, bad settings."""
