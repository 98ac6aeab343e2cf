"""Does the policy listen? The same observations under another training task, compared.

A policy can fit its demonstrations without reading the instruction: when every task was recorded
in scenes of its own it recognises the scene and replays its demonstration (measured in the closed
loop, cubes swapping slots, 8000 steps: on its training scenes the first chunk headed for the
demonstrated cube 95 % of the time with either instruction). Offline evaluation replays each
held-out episode twice, with its own task and with another task of the evaluated data, under the same
flow-matching noise and image transforms; the difference of the two predictions is the task's effect. A
policy that ignores the words predicts the same actions (effect 0); one that listens changes them
where the tasks differ.

Core module: NumPy only, no ROS, no torch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["DEAF_BELOW_STD", "describe", "swapped_tasks", "task_effect"]

DEAF_BELOW_STD = 0.05
"""Mean task effect, in action standard deviations of the data, below which the policy is reported as
not listening: the actions move by under 5 % of their spread when the instruction changes (our
threshold; a policy whose text input is cut off scores 0 exactly under the same noise)."""


def swapped_tasks(tasks: Iterable[str]) -> dict[str, str]:
    """Each task mapped to the next one in sorted order (cyclic), so every task is swapped once.

    Args:
        tasks: task strings (duplicates ignored).

    Returns:
        ``{task: other_task}``; empty with fewer than two distinct tasks (nothing to swap).
    """
    ordered = sorted(set(tasks))
    if len(ordered) < 2:
        return {}
    return {task: ordered[(k + 1) % len(ordered)] for k, task in enumerate(ordered)}


def task_effect(own: Sequence[np.ndarray], swapped: Sequence[np.ndarray], action_std: np.ndarray,
                tasks: dict[str, str]) -> dict[str, Any]:
    """How much the predicted actions change when the task is swapped.

    Args:
        own: per episode ``(T_i, D)`` actions predicted with the episode's task, data units.
        swapped: the same episodes and noise with the task replaced by ``tasks[task]``.
        action_std: ``(D,)`` action standard deviation of the data (``stats.json``), data units.
        tasks: the swap that was used (reported).

    Returns:
        ``rms`` (per joint RMS of swapped - own, data units), ``z`` (``rms / action_std``),
        ``mean_z``, ``listens`` (``mean_z >= DEAF_BELOW_STD``), ``threshold`` and ``swapped``.

    Raises:
        ValueError: the two sets of trajectories differ in count or shape, or are empty.
    """
    if len(own) != len(swapped) or not own or any(a.shape != b.shape for a, b in zip(own, swapped)):
        raise ValueError("task_effect needs the same, non-empty set of trajectories twice")
    diff = np.concatenate([b - a for a, b in zip(own, swapped)])
    rms = np.sqrt(np.mean(diff**2, axis=0))
    z = rms / np.where(action_std > 0, action_std, 1.0)
    mean_z = float(np.mean(z))
    return {"rms": rms.tolist(), "z": z.tolist(), "mean_z": mean_z, "listens": mean_z >= DEAF_BELOW_STD,
            "threshold": DEAF_BELOW_STD, "swapped": dict(tasks)}


def describe(effect: dict[str, Any] | None) -> str:
    """One line for the console: the effect and, when below the threshold, the warning."""
    if effect is None:
        return "task effect: n/a (fewer than two tasks in the evaluated data)"
    line = f"task effect: {100 * effect['mean_z']:.1f} % of an action std with the task swapped"
    if effect["listens"]:
        return line
    return (line + f" (< {100 * effect['threshold']:.0f} %): the actions barely change with the "
            "instruction; the policy may ignore it (e.g. it recognises each task's scenes)")
