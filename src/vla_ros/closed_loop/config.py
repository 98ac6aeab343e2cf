"""Configuration of a closed-loop run (flags of ``training/closed_loop.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from vla_ros.config import param, parse_image_size, range_problems
from vla_ros.errors import ConfigError

__all__ = ["CONDITION_NAMES", "STAGES", "ClosedLoopConfig"]

STAGES = ("record", "convert", "train", "offline", "evaluate", "diagnose", "report")
"""The stages, in order; ``--from-stage`` re-runs from one of them, reusing the earlier outputs."""
CONDITION_NAMES = ("trained", "instructions_exchanged", "instruction_reworded", "cameras_swapped",
                   "cameras_swapped_physically", "cameras_swapped_allowed", "blind", "language_blind",
                   "language_blind_exchanged", "random_baseline")
"""The evaluation conditions (:data:`vla_ros.closed_loop.stages.CONDITIONS` defines each)."""


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
        "blue cube'); the first recording when there are two", range=(2, 10000)))
    episode_duration_s: float = field(default=6.0, metadata=param(
        "recorded seconds per demonstration", range=(1.0, 600.0)))
    image_size: str = field(default="128x96", metadata=param(
        "simulated camera size WIDTHxHEIGHT for recording and evaluation"))
    cube_layout: str = field(default="slots", metadata=param(
        "simulator cube layout: 'slots' (each colour near a fixed place) or 'random'",
        choices=("slots", "random")))
    swap_slots: bool = field(default=True, metadata=param(
        "'slots' layout: the colours exchange slots with probability 1/2 per episode, so that only "
        "looking tells which cube is where (without it a policy can reach the named cube blind)"))
    demo_swap_probability: float = field(default=0.35, metadata=param(
        "swap_slots: the share of demonstration scenes whose colours exchange slots (the evaluation "
        "scenes always 0.5). Below 0.5 the words alone already tell the slot most of the time, so a "
        "policy learns them first and then when the image overrides them; at 0.5 neither the words nor "
        "the image alone says anything about the target, only both together", range=(0.0, 1.0)))
    paired_scenes: bool = field(default=False, metadata=param(
        "record every demonstration scene twice, once per instruction (the simulator's scene_repeats:=2), "
        "so that only the instruction tells a pair apart (without it a policy can fit the demonstrations "
        "by recognising each scene and ignore the words)"))
    seed: int = field(default=0, metadata=param("seed of the demonstration scenes", range=(0, 2**31 - 1)))
    eval_seed: int = field(default=1000, metadata=param(
        "seed of the evaluation scenes (not seen in training)", range=(0, 2**31 - 1)))
    vision_size: int = field(default=64, metadata=param(
        "side of the tiny policy's vision input, px: SmolVLA pads each camera image to this square "
        "(a multiple of 16: patches of 8 px, the connector's 2x2 pixel shuffle)", range=(16, 512)))
    train_backbone: bool = field(default=True, metadata=param(
        "train the tiny policy's vision tower and VLM too (its weights are random: frozen, as SmolVLA "
        "freezes a pretrained backbone, they cannot learn where the cubes are)"))
    image_stage_episodes: int = field(default=40, metadata=param(
        "swap_slots: demonstrations of a second recording of new scenes (image_stage_seed, swapped at "
        "image_stage_swap_probability); the policy trained on the first recording is trained further "
        "on both for image_stage_steps: words first, then the image (vla_ros.closed_loop.curriculum; "
        "0 = one recording, one stage)", range=(0, 10000)))
    image_stage_swap_probability: float = field(default=0.5, metadata=param(
        "the share of the second recording's scenes whose colours exchange slots", range=(0.0, 1.0)))
    image_stage_steps: int = field(default=3000, metadata=param(
        "training steps of the second stage (on both recordings)", range=(1, 10**7)))
    image_stage_seed: int = field(default=2, metadata=param(
        "seed of the second recording's scenes (other scenes than seed's and eval_seed's)",
        range=(0, 2**31 - 1)))
    steps: int = field(default=3000, metadata=param(
        "training steps (on the first recording when there are two)", range=(1, 10**7)))
    batch_size: int = field(default=16, metadata=param("training batch size", range=(1, 4096)))
    lr: float = field(default=1e-3, metadata=param("peak learning rate", range=(0.0, 1.0)))
    chunk_size: int = field(default=50, metadata=param(
        "actions per predicted chunk (SmolVLA's default; 1.7 s at 30 fps leaves room for inference "
        "delays on a busy CPU)", range=(1, 1000)))
    eval_episodes: int = field(default=5, metadata=param(
        "evaluation episodes per instruction and condition", range=(1, 1000)))
    eval_episode_duration_s: float = field(default=6.0, metadata=param(
        "simulated seconds the policy runs per evaluation episode (the demonstrations' length; trained "
        "policies reached the named cube 2.8-4.9 s after the enable)", range=(1.0, 600.0)))
    conditions: list[str] = field(default_factory=lambda: list(CONDITION_NAMES), metadata=param(
        "evaluation conditions: trained, instructions_exchanged (each scene gets the other instruction), "
        "instruction_reworded (the training tasks reworded, allow_new_task: diagnose should name the "
        "task string), cameras_swapped (the guard should refuse before the arm moves), "
        "cameras_swapped_physically (swap_cameras:=true, images swapped under unchanged names: the camera "
        "check should refuse at every enable), cameras_swapped_allowed (camera_map swapped with "
        "allow_camera_remap, to measure the drop), blind (the images frozen: freeze_cameras), "
        "language_blind and language_blind_exchanged (instructions naming no cube, the control of "
        "follows_instruction), random_baseline (the untrained start policy)"))
    policy_checks: str = field(default="fail", metadata=param(
        "what a missed policy check (success, baseline, instruction, vision, controls) does: 'fail' the "
        "run (exit 1) or only 'report' it (toy runs whose policy is not meant to work); a missed guard "
        "check always fails", choices=("fail", "report")))
    ship_to: str = field(default="", metadata=param(
        "when every check passed, copy the trained policy with its contract, report.json and training "
        "log here, whole, at most 20 MB (a policy for deploy demo:=true; '' = do not ship)"))
    stage_timeout_s: float = field(default=1800.0, metadata=param(
        "wall-clock limit of each stage process, s", range=(10.0, 86400.0)))

    def __post_init__(self) -> None:
        problems = range_problems(self)
        unknown = sorted(set(self.conditions) - set(CONDITION_NAMES))
        if unknown or not self.conditions:
            problems.append(f"conditions {self.conditions} must be some of {list(CONDITION_NAMES)}")
        if self.image_stage_episodes == 1:
            problems.append("image_stage_episodes=1: a second recording needs at least 2 demonstrations "
                            "(one is held out), or 0 for none")
        if self.vision_size % 16:
            problems.append(f"vision_size={self.vision_size} must be a multiple of 16")
        try:
            parse_image_size(self.image_size)
        except ConfigError as err:
            problems.append(str(err))
        if problems:
            raise ConfigError("; ".join(problems))
