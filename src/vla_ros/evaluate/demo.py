"""Endless demonstration episodes (``sim_evaluator continuous:=true``, ``make demo``); ROS-agnostic.

:class:`ContinuousPlan` hands out one :class:`~vla_ros.evaluate.scoring.EpisodePlan` after another: the
configured instructions in turn (red, blue, red, ...), until someone else sets the policy's task
(``vla-ros task ...``, ``ros2 param set /smolvla_policy task ...``); from the next episode on, that
task, scored against the cube it names. :func:`demo_line` is the episode's line of the demo's log.
"""

from __future__ import annotations

from collections.abc import Sequence

from vla_ros.evaluate.scoring import EpisodePlan, EpisodeResult, plan_episodes
from vla_ros.evaluate.targets import named_target

__all__ = ["ContinuousPlan", "demo_line"]


class ContinuousPlan:
    """The demo's episodes, without end.

    Args:
        tasks, targets: the instruction per target, as for
            :func:`~vla_ros.evaluate.scoring.plan_episodes` (validated the same way).

    Raises:
        ConfigError: tasks and targets do not pair up.
    """

    def __init__(self, tasks: Sequence[str], targets: Sequence[str]) -> None:
        self._cycle = plan_episodes(tasks, targets, 1)
        self.targets = list(targets)
        self._given: str | None = None
        self.followed: str | None = None
        """A task someone else set on the policy, followed since; None while alternating."""
        self._index = 0

    def next(self, policy_task: str) -> tuple[EpisodePlan, bool]:
        """The next episode, given the task the policy reports now (``policy/status``).

        Returns:
            ``(plan, scored)``: ``scored`` is False for a followed task that names no target (or
            several); its episodes run but are not scored (the plan then names the first target).
        """
        if self._given is not None and policy_task and policy_task != self._given:
            self.followed = policy_task
        index, self._index = self._index, self._index + 1
        if self.followed is None:
            cycled = self._cycle[index % len(self._cycle)]
            plan = EpisodePlan(index, cycled.task, cycled.target_named, cycled.scene_target)
            self._given = plan.task
            return plan, True
        target = named_target(self.followed, self.targets)
        self._given = self.followed
        plan = EpisodePlan(index, self.followed, target or self.targets[0], target or self.targets[0])
        return plan, target is not None


def demo_line(result: EpisodeResult, scored: bool) -> str:
    """``episode N: "<task>": success|failure (<closest approach> cm)``, N from 1.

    Refused, failed and unscored episodes say so instead of the outcome.
    """
    head = f'episode {result.index + 1}: "{result.task}"'
    if result.refused:
        return f"{head}: refused ({result.refusal})"
    if not scored:
        return f"{head}: not scored (names none or several of the cubes)"
    if result.min_distance_named_m is None:
        return f"{head}: error ({result.error or 'no sample'})"
    word = "success" if result.success else "failure"
    other = "; reached the other cube" if result.other_reached else ""
    return f"{head}: {word} ({100 * result.min_distance_named_m:.1f} cm{other})"
