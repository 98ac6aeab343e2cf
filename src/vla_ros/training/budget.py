"""The training budget in epochs, and what the datasets hold, printed before a run starts.

Seed lesson (SmolVLA on 241 episodes / 100 832 frames): 50 000 steps x batch 32 = 15.9 epochs
overfit (training loss 0.014, poor generalisation); 20 000 steps = 6.35 epochs generalised better;
3-7 epochs are typical below 500 episodes. Steps mean nothing without the frame count, so the run
states its epochs and warns outside a band. The start-state statistics become the deployment
contract's (seed lesson: deployment started far from the demonstrations' start pose).

Core module: no ROS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from lerobot.datasets.lerobot_dataset import LeRobotDatasetMetadata
from lerobot.utils.constants import OBS_STATE

from vla_ros.contract import episode_first_states, start_state_stats

__all__ = ["DatasetSummary", "TrainingBudget", "plan_budget", "summarize_datasets"]


@dataclass(frozen=True)
class TrainingBudget:
    """How much of the data a run will see.

    Attributes:
        steps: optimizer steps.
        batch_size: samples per step and process.
        num_processes: data-parallel processes (GPUs).
        frames: training frames (after the validation split).
        epochs: ``steps * batch_size * num_processes / frames``.
        band: ``(low, high)`` epochs considered sound.
        warning: why the epochs fall outside the band, or "".
    """

    steps: int
    batch_size: int
    num_processes: int
    frames: int
    epochs: float
    band: tuple[float, float]
    warning: str = ""

    def describe(self) -> str:
        """One line for the console, plus the warning when there is one."""
        line = (f"budget: {self.steps} steps x {self.batch_size} batch x {self.num_processes} process(es) "
                f"/ {self.frames} frames = {self.epochs:.2f} epochs (band {self.band[0]:g}-{self.band[1]:g})")
        return line + (f"\nWARNING: {self.warning}" if self.warning else "")


def plan_budget(
    steps: int, batch_size: int, frames: int, band: Sequence[float], num_processes: int = 1
) -> TrainingBudget:
    """Epochs of a run and a warning when they leave ``band``.

    Args:
        steps: optimizer steps (> 0).
        batch_size: samples per step per process (> 0).
        frames: training frames (> 0).
        band: ``(low, high)`` acceptable epochs, e.g. ``(3, 7)``.
        num_processes: data-parallel processes.

    Raises:
        ValueError: non-positive steps, batch size, frames or processes.
    """
    if min(steps, batch_size, frames, num_processes) <= 0:
        raise ValueError(f"steps={steps}, batch_size={batch_size}, frames={frames}, "
                         f"num_processes={num_processes} must all be > 0")
    low, high = float(band[0]), float(band[1])
    epochs = steps * batch_size * num_processes / frames
    warning = ""
    if epochs > high:
        steps_hi = int(high * frames / (batch_size * num_processes))
        warning = (f"{epochs:.1f} epochs exceeds {high:g}: risk of overfitting (seed: 15.9 epochs overfit, "
                   f"~6 generalised better); at most {steps_hi} steps keep it in the band")
    elif epochs < low:
        steps_lo = int(np.ceil(low * frames / (batch_size * num_processes)))
        warning = f"{epochs:.2f} epochs is below {low:g}: likely undertrained; {steps_lo} steps reach it"
    return TrainingBudget(steps, batch_size, num_processes, frames, epochs, (low, high), warning)


@dataclass(frozen=True)
class DatasetSummary:
    """What a set of datasets holds, in their own units.

    Attributes:
        roots: dataset directories (absolute).
        fps: frame rate, Hz.
        tasks: distinct language instructions, sorted.
        cameras: camera feature keys (``observation.images.<name>``).
        episodes: total episodes.
        frames: total frames.
        state_names: names of the ``observation.state`` entries.
        start_state_mean: per-joint mean of the episodes' first state.
        start_state_std: per-joint standard deviation of the same.
        robot_type: the first dataset's robot type.
    """

    roots: list[str]
    fps: float
    tasks: list[str]
    cameras: list[str]
    episodes: int
    frames: int
    state_names: list[str]
    start_state_mean: list[float] = field(default_factory=list)
    start_state_std: list[float] = field(default_factory=list)
    robot_type: str = ""

    def describe(self) -> str:
        """Multi-line console description."""
        width = max((len(n) for n in self.state_names), default=0)
        rows = [f"  {n:<{width}}  {m:9.3f} +- {s:7.3f}"
                for n, m, s in zip(self.state_names, self.start_state_mean, self.start_state_std)]
        return "\n".join([
            f"datasets: {', '.join(self.roots)}",
            f"  {self.episodes} episodes, {self.frames} frames at {self.fps:g} fps, robot {self.robot_type}",
            f"  tasks ({len(self.tasks)}): " + "; ".join(repr(t) for t in self.tasks),
            f"  cameras: {', '.join(self.cameras)}",
            "  start state (mean +- std over episodes):",
            *rows,
        ])


def summarize_datasets(
    roots: Sequence[str | Path], metas: Sequence[LeRobotDatasetMetadata]
) -> DatasetSummary:
    """Tasks, cameras, sizes and start-state statistics of datasets opened by ``load_metadata``."""
    tasks = sorted({str(t) for m in metas for t in m.tasks.index})
    starts = np.concatenate([episode_first_states(r) for r in roots])
    mean, std = start_state_stats(starts)
    return DatasetSummary(
        roots=[str(Path(r).resolve()) for r in roots],
        fps=float(metas[0].fps),
        tasks=tasks,
        cameras=list(metas[0].camera_keys),
        episodes=sum(m.total_episodes for m in metas),
        frames=sum(m.total_frames for m in metas),
        state_names=list(metas[0].features[OBS_STATE].get("names") or []),
        start_state_mean=mean,
        start_state_std=std,
        robot_type=str(metas[0].robot_type or ""),
    )
