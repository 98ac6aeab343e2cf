"""Configuration of the ``smolvla_policy`` node (one field per ROS parameter), validated on construction."""

from __future__ import annotations

from dataclasses import dataclass, field

from vla_ros.config import param, range_problems
from vla_ros.errors import ConfigError
from vla_ros.policy.checkpoint import DTYPES
from vla_ros.policy.chunk_queue import OVERLAPS
from vla_ros.policy.pipeline import NOISES

__all__ = ["CAMERA_CHECKS", "START_STATE_CHECKS", "PolicyNodeConfig"]

START_STATE_CHECKS = ("refuse", "reset", "skip")
"""On enable: refuse if the start state is out of distribution; reset to home first, then check; skip."""

CAMERA_CHECKS = ("refuse", "warn", "off")
"""Camera identity by content: refuse (and hold while running) a mapping another one fits clearly better;
warn only; off."""


@dataclass(frozen=True)
class PolicyNodeConfig:
    """Parameters of the ``smolvla_policy`` node.

    Raises:
        ConfigError: listing every invalid field.
    """

    policy_path: str = field(
        default="",
        metadata=param("LeRobot SmolVLA checkpoint: a pretrained_model directory (or a training output "
                       "directory holding one) or a Hub id in the local cache", read_only=True),
    )
    vlm_dir: str = field(
        default="",
        metadata=param("Local SmolVLM directory (config, tokenizer, processor) to build the backbone from, "
                       "for offline use ('' = the checkpoint's bundled vlm/ or its vlm_model_name)",
                       read_only=True),
    )
    device: str = field(default="cpu", metadata=param("Torch device: cpu, cuda, cuda:N, mps", read_only=True))
    inference_process: bool = field(
        default=True,
        metadata=param("Run inference in a child process (no GIL shared with the control loop: the "
                       "steadiest control ticks) instead of a thread of the node (starts a few seconds "
                       "faster; the GIL switch interval is cut to 1 ms)", read_only=True),
    )
    inference_nice: int = field(
        default=0,
        metadata=param("Niceness added to the inference process (with inference_process): the control "
                       "loop wins the CPU when inference saturates the cores", range=(0, 19), read_only=True),
    )
    torch_threads: int = field(
        default=0,
        metadata=param("Torch intra-op threads for inference (0 = torch's default, one per core); 1 suits "
                       "tiny models and machines shared with other work", range=(0, 256), read_only=True),
    )
    dtype: str = field(
        default="float32",
        metadata=param("Backbone dtype (projections stay float32)", read_only=True, choices=DTYPES),
    )
    task: str = field(
        default="",
        metadata=param("Language instruction; must be a training task unless allow_new_task ('' = the "
                       "checkpoint's only training task, if it has exactly one); settable at run time"),
    )
    task_topic: str = field(
        default="",
        metadata=param("Optional std_msgs/String topic that sets the task ('' = none)", read_only=True),
    )
    allow_new_task: bool = field(
        default=False, metadata=param("Accept an instruction that is not one of the training tasks")
    )
    allow_camera_remap: bool = field(
        default=False, metadata=param(
            "Accept a camera_map that feeds a camera to another image feature than in training (the "
            "deployment contract's map); false refuses it, since that is what swapped cameras look like",
            read_only=True),
    )
    camera_check: str = field(
        default="refuse",
        metadata=param("Compare what each mapped camera sees with every training camera's signature at "
                       "enable (after the reset) and every camera_check_period_s while running: refuse (and "
                       "hold) when another mapping fits clearly better (swapped devices), warn, or off",
                       choices=CAMERA_CHECKS),
    )
    camera_check_period_s: float = field(
        default=2.0,
        metadata=param("Seconds between camera identity checks while running", range=(0.1, 3600.0),
                       read_only=True),
    )
    training_dataset: str = field(
        default="",
        metadata=param("Training dataset (directory, or repo id in lerobot's or the Hub's local cache) when "
                       "the checkpoint does not lead to it: its tasks, fps and camera signatures ('' = from "
                       "the checkpoint's contract or train_config.json)", read_only=True),
    )
    camera_map: list[str] = field(
        default_factory=list,
        metadata=param("ROS camera -> checkpoint image feature, e.g. ['front=observation.images.camera1']; "
                       "'<feature>=' declares a feature empty; [] = the deployment contract's map",
                       read_only=True),
    )
    fps: float = field(
        default=0.0,
        metadata=param("Control rate, Hz (0 = the checkpoint's dataset fps)", range=(0.0, 1000.0),
                       read_only=True),
    )
    n_action_steps: int = field(
        default=0,
        metadata=param("Actions executed per chunk (0 = the checkpoint's)", range=(0, 1000), read_only=True),
    )
    num_flow_steps: int = field(
        default=0,
        metadata=param("Flow-matching denoising steps (0 = the checkpoint's num_steps)", range=(0, 100),
                       read_only=True),
    )
    replan_threshold: int = field(
        default=-1,
        metadata=param("Start inference when this many actions or fewer are queued (-1 = auto: expected "
                       "inference delay + 2, at least half the executed chunk)", range=(-1, 1000)),
    )
    overlap: str = field(
        default="blend",
        metadata=param("How a new chunk meets the queued one: replace, blend (cross-fade over the overlap) "
                       "or rtc (lerobot real-time chunking guidance)", read_only=True, choices=OVERLAPS),
    )
    rtc_execution_horizon: int = field(
        default=10,
        metadata=param("RTC: steps of the previous chunk the guidance follows", range=(1, 1000),
                       read_only=True),
    )
    rtc_max_guidance_weight: float = field(
        default=10.0,
        metadata=param("RTC: largest guidance weight", range=(0.01, 1000.0), read_only=True),
    )
    max_obs_age_s: float = field(
        default=0.5,
        metadata=param("No inference on an observation part older than this, s", range=(0.001, 3600.0)),
    )
    autostart: bool = field(
        default=False, metadata=param("Enable at start (with the start-state check)", read_only=True)
    )
    start_state_check: str = field(
        default="refuse",
        metadata=param("On enable: refuse if safety/check_start_state fails; reset (safety/reset_to_home, "
                       "then check); skip (no check, no supervisor needed)", choices=START_STATE_CHECKS),
    )
    reset_timeout_s: float = field(
        default=30.0,
        metadata=param("Longest wait for safety/status to leave RESETTING, s", range=(0.1, 600.0)),
    )
    service_timeout_s: float = field(
        default=5.0,
        metadata=param("Longest wait for a safety service to appear and answer, s", range=(0.1, 600.0)),
    )
    robot_id: str = field(
        default="follower",
        metadata=param("LeRobot robot id whose calibration converts radians <-> LeRobot units",
                       read_only=True),
    )
    calibration_dir: str = field(
        default="",
        metadata=param("LeRobot calibration root ('' = lerobot's HF_LEROBOT_CALIBRATION)", read_only=True),
    )
    status_rate_hz: float = field(
        default=2.0,
        metadata=param("policy/status rate, Hz (also published on every change)", range=(0.1, 100.0),
                       read_only=True),
    )
    noise: str = field(
        default="gaussian",
        metadata=param("Debug: flow-matching noise; 'smooth' makes random-weight test checkpoints produce "
                       "smooth chunks", read_only=True, choices=NOISES),
    )
    extra_inference_delay_s: float = field(
        default=0.0,
        metadata=param("Debug (tests, benchmarks): extra seconds added to every inference",
                       range=(0.0, 60.0)),
    )

    def __post_init__(self) -> None:
        problems = range_problems(self)
        if not self.policy_path.strip():
            problems.append("policy_path is empty: give a SmolVLA checkpoint directory or Hub id")
        if problems:
            raise ConfigError("; ".join(problems))
