"""The timestamped action queue that plays action chunks at the control rate (pure, no ROS, no torch).

Latency compensation: a chunk predicted from an observation captured at ``t_obs`` holds action ``i``
for time ``t_obs + i / fps`` (a LeRobot dataset pairs the observation of frame ``t`` with the action of
frame ``t``). By the time inference is done, the first actions' times have passed; they are dropped,
and the queue plays the rest on time, one action per control tick.

Overlap handling, when a new chunk arrives while actions of the previous one remain (the remaining
actions of both are paired in time order, both starting at the current tick):

* ``replace``: the new chunk's actions replace the old ones (a step where the two disagree);
* ``blend``: cross-fade over the whole overlap, the new chunk's weight rising linearly from
  ``1 / (L + 1)`` to ``L / (L + 1)`` over the ``L`` paired steps;
* ``rtc``: real-time chunking (Black et al. 2025, lerobot ``policies/rtc``). The smoothing happens
  during inference: :meth:`ChunkQueue.leftover` gives ``prev_chunk_left_over`` (the model-space actions
  still to come at the observation time) and :func:`inference_delay_steps` the ``inference_delay`` for
  ``predict_action_chunk``; the guided chunk then replaces the queue after dropping the actions whose
  time has passed, as lerobot's ``ActionQueue._replace_actions_queue`` drops ``real_delay`` actions.

Times are in seconds on any one clock (the node uses its ROS clock). A tick consumes the first action
that is less than one period late; an action one period late or more has missed its tick and is dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vla_ros.errors import BadInputError, ConfigError

__all__ = ["OVERLAPS", "Chunk", "ChunkQueue", "MergeReport", "inference_delay_steps"]

OVERLAPS = ("replace", "blend", "rtc")
"""Ways of merging a new chunk with the actions left from the previous one."""


@dataclass(frozen=True)
class Chunk:
    """A predicted action chunk.

    Attributes:
        obs_time_s: capture time of the observation it was predicted from, seconds.
        actions: ``(T, J)`` float64 actions as executed (the node: joint positions, radians).
        raw: ``(T, D)`` the same actions in model space (normalised, before the post-processor), kept
            for RTC's ``prev_chunk_left_over``; None if not needed.
    """

    obs_time_s: float
    actions: np.ndarray
    raw: np.ndarray | None = None


@dataclass(frozen=True)
class MergeReport:
    """What merging one chunk did.

    Attributes:
        first_future_index: index of the chunk's first action still to be played.
        overlap_steps: actions paired with the previous chunk's remaining ones (blended in ``blend``).
        executed: ``(K, J)`` what the queue will now play from that index on (``K`` = 0: every action
            of the chunk came too late).
    """

    first_future_index: int
    overlap_steps: int
    executed: np.ndarray


def inference_delay_steps(latency_s: float, fps: float) -> int:
    """Control ticks that pass during an inference of ``latency_s`` (RTC's ``inference_delay``).

    ``ceil(latency_s * fps)``, as lerobot's ``examples/rtc/eval_with_real_robot.py`` computes it.
    """
    if not (math.isfinite(latency_s) and latency_s >= 0):
        return 0
    return math.ceil(latency_s * fps - 1e-9)


class ChunkQueue:
    """Timestamped actions for a fixed-rate consumer (not thread-safe: use it from one thread).

    Args:
        fps: control rate, Hz (the dataset's).
        overlap: one of :data:`OVERLAPS`.
        n_action_steps: actions of each chunk to play, counted from the first one whose time has not
            passed when it is merged (lerobot's ``n_action_steps``, latency-compensated); None = all.

    Raises:
        ConfigError: bad ``fps``, ``overlap`` or ``n_action_steps``.
    """

    def __init__(self, fps: float, overlap: str = "replace", n_action_steps: int | None = None) -> None:
        problems = []
        if not (math.isfinite(fps) and fps > 0):
            problems.append(f"fps={fps!r} must be > 0")
        if overlap not in OVERLAPS:
            problems.append(f"overlap={overlap!r} is not one of {list(OVERLAPS)}")
        if n_action_steps is not None and n_action_steps < 1:
            problems.append(f"n_action_steps={n_action_steps!r} must be >= 1")
        if problems:
            raise ConfigError("ChunkQueue: " + "; ".join(problems))
        self.fps = float(fps)
        self.period_s = 1.0 / self.fps
        self.overlap = overlap
        self.n_action_steps = n_action_steps
        self.clear()

    def clear(self) -> None:
        """Forget every queued action (e.g. when the policy is disabled)."""
        self._times = np.zeros(0)
        self._actions: np.ndarray | None = None
        self._raw: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self._times)

    def depth(self, now_s: float) -> int:
        """Number of actions still playable at ``now_s`` (less than one period late)."""
        return int(np.count_nonzero(self._times + self.period_s > now_s))

    def needs_replan(self, now_s: float, threshold: int) -> bool:
        """Whether the playable actions have fallen to ``threshold`` or fewer."""
        return self.depth(now_s) <= threshold

    def pop(self, now_s: float) -> np.ndarray | None:
        """The action for the tick at ``now_s``, removing it and every action that missed its tick.

        Returns:
            ``(J,)`` the first action less than one period late, or None if the queue is dry (or its
            next action is still more than one period ahead).
        """
        self._drop(self._times + self.period_s <= now_s)
        if not len(self._times) or self._times[0] - self.period_s >= now_s:
            return None
        assert self._actions is not None
        action = self._actions[0].copy()
        self._drop(np.arange(len(self._times)) == 0)
        return action

    def leftover(self, at_s: float) -> np.ndarray | None:
        """Model-space actions still to come at time ``at_s``: RTC's ``prev_chunk_left_over``.

        Returns:
            ``(K, D)`` raw actions whose time is nearest to ``at_s`` or later (paired with a new chunk
            predicted from an observation captured at ``at_s``), or None when there are none.
        """
        if self._raw is None:
            return None
        keep = self._times + 0.5 * self.period_s > at_s
        return self._raw[keep].copy() if keep.any() else None

    def merge(self, chunk: Chunk, now_s: float) -> MergeReport:
        """Queue a new chunk at ``now_s`` according to :attr:`overlap`.

        Args:
            chunk: the new chunk (``n_action_steps`` of its actions are kept, from the first future one).
            now_s: the current time; actions nearer to an earlier tick than to ``now_s`` are dropped.

        Returns:
            What was merged (see :class:`MergeReport`).

        Raises:
            BadInputError: the chunk is not ``(T, J)`` with the queue's ``J``, or ``raw`` does not
                have ``T`` rows.
        """
        actions, raw = self._checked(chunk)
        times = chunk.obs_time_s + np.arange(len(actions)) * self.period_s
        first = int(np.count_nonzero(times + 0.5 * self.period_s <= now_s))
        end = first + (self.n_action_steps or len(actions))
        new_t, new_a = times[first:end], actions[first:end]
        new_r = raw[first:end] if raw is not None else None
        old = self._times + 0.5 * self.period_s > now_s
        overlap = min(int(old.sum()), len(new_t)) if self._actions is not None else 0
        if self.overlap == "blend" and overlap:
            assert self._actions is not None
            w = (np.arange(1, overlap + 1) / (overlap + 1))[:, None]
            new_a = new_a.copy()
            new_a[:overlap] = (1 - w) * self._actions[old][:overlap] + w * new_a[:overlap]
            if new_r is not None and self._raw is not None:
                new_r = new_r.copy()
                new_r[:overlap] = (1 - w) * self._raw[old][:overlap] + w * new_r[:overlap]
        self._times, self._actions, self._raw = new_t, new_a, new_r
        return MergeReport(first, overlap, new_a.copy())

    def _checked(self, chunk: Chunk) -> tuple[np.ndarray, np.ndarray | None]:
        actions = np.asarray(chunk.actions, dtype=np.float64)
        raw = None if chunk.raw is None else np.asarray(chunk.raw, dtype=np.float64)
        problems = []
        if actions.ndim != 2 or not len(actions):
            problems.append(f"actions must be (T, J) with T >= 1, got shape {actions.shape}")
        elif self._actions is not None and actions.shape[1] != self._actions.shape[1]:
            problems.append(f"actions have {actions.shape[1]} columns, the queue {self._actions.shape[1]}")
        if raw is not None and (raw.ndim != 2 or len(raw) != len(actions)):
            problems.append(f"raw must be (T, D) with T = {len(actions)}, got shape {raw.shape}")
        if not math.isfinite(chunk.obs_time_s):
            problems.append(f"obs_time_s={chunk.obs_time_s!r} is not finite")
        if problems:
            raise BadInputError("cannot queue chunk: " + "; ".join(problems))
        return actions, raw

    def _drop(self, mask: np.ndarray) -> None:
        if not mask.any():
            return
        keep = ~mask
        self._times = self._times[keep]
        if self._actions is not None:
            self._actions = self._actions[keep]
        if self._raw is not None:
            self._raw = self._raw[keep]
