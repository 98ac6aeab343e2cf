"""Configuration of a closed-loop run (flags of ``training/closed_loop.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from vla_ros.config import check_range, param
from vla_ros.errors import ConfigError

__all__ = ["STAGES", "ClosedLoopConfig"]

STAGES = ("record", "convert", "train", "evaluate", "report")
"""The stages, in order; ``--from-stage`` re-runs from one of them, reusing the earlier outputs."""


@dataclass
class ClosedLoopConfig:
    """Everything a closed-loop run needs; defaults finish in well under 45 minutes on 2 CPU cores.

    Raises:
        ConfigError: listing every invalid field.
    """

    output_dir: str = field(default="outputs/closed_loop", metadata=param(
        "run directory: bags/, dataset/, start_policy/, train/, eval/<condition>/, logs/, report.json, "
        "episode.png"))
    from_stage: str = field(default="record", metadata=param(
        "first stage to run; the earlier stages' outputs in output_dir are reused", choices=STAGES))
    episodes: int = field(default=40, metadata=param(
        "demonstration episodes to record (the expert alternates 'reach the red cube' and 'reach the "
        "blue cube')", range=(2, 10000)))
    episode_duration_s: float = field(default=6.0, metadata=param(
        "recorded seconds per demonstration", range=(1.0, 600.0)))
    image_size: str = field(default="128x96", metadata=param(
        "simulated camera size WIDTHxHEIGHT for recording and evaluation"))
    cube_layout: str = field(default="slots", metadata=param(
        "simulator cube layout: 'slots' (each colour near a fixed place) or 'random'",
        choices=("slots", "random")))
    seed: int = field(default=0, metadata=param("seed of the demonstration scenes", range=(0, 2**31 - 1)))
    eval_seed: int = field(default=1000, metadata=param(
        "seed of the evaluation scenes (not seen in training)", range=(0, 2**31 - 1)))
    steps: int = field(default=1500, metadata=param("training steps", range=(1, 10**7)))
    batch_size: int = field(default=16, metadata=param("training batch size", range=(1, 4096)))
    lr: float = field(default=1e-3, metadata=param("peak learning rate", range=(0.0, 1.0)))
    chunk_size: int = field(default=30, metadata=param("actions per predicted chunk", range=(1, 1000)))
    eval_episodes: int = field(default=5, metadata=param(
        "evaluation episodes per instruction and condition", range=(1, 1000)))
    eval_episode_duration_s: float = field(default=8.0, metadata=param(
        "simulated seconds the policy runs per evaluation episode", range=(1.0, 600.0)))
    swap_cameras: bool = field(default=True, metadata=param(
        "also deploy with the two cameras swapped: the guard should refuse; then measure the drop with "
        "allow_camera_remap"))
    baseline: bool = field(default=True, metadata=param(
        "also evaluate the untrained start policy (random weights, the dataset's statistics)"))
    stage_timeout_s: float = field(default=1800.0, metadata=param(
        "wall-clock limit of each stage process, s", range=(10.0, 86400.0)))

    def __post_init__(self) -> None:
        problems = []
        try:
            check_range(self)
        except ConfigError as err:
            problems.append(str(err))
        width, sep, height = self.image_size.lower().partition("x")
        if not (sep and width.isdigit() and height.isdigit()):
            problems.append(f"image_size={self.image_size!r} must be WIDTHxHEIGHT")
        if problems:
            raise ConfigError("; ".join(problems))

    @property
    def image_hw(self) -> tuple[int, int]:
        """``(height, width)`` of the camera images, px."""
        width, _, height = self.image_size.lower().partition("x")
        return int(height), int(width)
