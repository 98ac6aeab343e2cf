"""Errors of the evaluation subpackage."""

from __future__ import annotations

from vla_ros.errors import VlaRosError

__all__ = ["EvaluationError", "GraphError"]


class EvaluationError(VlaRosError, RuntimeError):
    """The evaluation cannot go on: the policy refused a task, the scene lacks the named cube, ..."""


class GraphError(VlaRosError, TimeoutError):
    """A service or topic of the deploy graph is missing or does not answer in time."""
