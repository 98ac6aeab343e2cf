"""Training and evaluation configuration: dataclasses validated once, exposed as command-line flags.

:class:`TrainConfig` holds every knob of ``training/train_smolvla.py`` (and :class:`EvalConfig` of
``training/eval_offline.py``); each field carries its
description and range (:func:`vla_ros.config.param`), from which :func:`add_config_arguments` builds
the argparse flags (``--batch-size``) and :func:`config_from_args` the validated config, so the flags
and the dataclass cannot drift. Defaults follow lerobot 0.4.4 ``configs/train.py`` and the seed
documents (colour-jitter ranges of the colour augmentation challenge; 3-7 epochs for < 500 episodes).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from vla_ros.config import check_range, param, param_specs, parse_mapping
from vla_ros.errors import ConfigError
from vla_ros.robot.units import Units

__all__ = [
    "MIXED_PRECISION",
    "VIDEO_BACKENDS",
    "EvalConfig",
    "TrainConfig",
    "add_config_arguments",
    "config_from_args",
    "parse_episode_ref",
    "parse_episode_weights",
]

VIDEO_BACKENDS = ("pyav", "torchcodec", "video_reader")
"""Video decoders lerobot 0.4.4 accepts (``datasets/video_utils.py:decode_video_frames``)."""

MIXED_PRECISION = ("no", "fp16", "bf16")
"""Accelerate's ``mixed_precision`` choices."""

C = TypeVar("C")


def _pair(low: float, high: float) -> Any:
    return lambda: [low, high]


def _jitter(split: str, what: str) -> dict[str, Any]:
    return param(f"{what} jitter range [low, high] of the {split} colour augmentation "
                 "(torchvision ColorJitter)")


@dataclass
class TrainConfig:
    """Everything a fine-tuning run needs; see each field's description.

    Raises:
        ConfigError: from ``__post_init__``, listing every invalid field at once.
    """

    datasets: list[str] = field(default_factory=list, metadata=param(
        "local LeRobot v3.0 dataset directories to train on (one or more)"))
    policy_path: str = field(default="lerobot/smolvla_base", metadata=param(
        "SmolVLA checkpoint to start from: a pretrained_model directory or a Hub id"))
    output_dir: str = field(default="outputs/train/smolvla", metadata=param(
        "run directory: checkpoints/<step>/{pretrained_model,training_state}, checkpoints/last, logs"))
    resume: bool = field(default=False, metadata=param(
        "continue the run in output_dir from checkpoints/last (after a crash or to extend steps)"))
    steps: int = field(default=20_000, metadata=param("number of optimizer steps", range=(1, 10**9)))
    batch_size: int = field(default=32, metadata=param("frames per batch and process", range=(1, 4096)))
    num_workers: int = field(default=4, metadata=param("DataLoader worker processes", range=(0, 128)))
    cache_frames: bool = field(default=False, metadata=param(
        "decode every frame once (with num_workers processes) and train from memory, uint8 frames, no "
        "workers; for runs bound by video decoding, e.g. on few CPU cores (refused when the estimate "
        "exceeds half the available memory)"))
    seed: int = field(default=1000, metadata=param("seed of the split, sampling, augmentation and init",
                                                   range=(0, 2**31 - 1)))
    val_fraction: float = field(default=0.1, metadata=param(
        "fraction of each dataset's episodes held out for validation (whole episodes)", range=(0.0, 0.9)))
    val_freq: int = field(default=1000, metadata=param(
        "compute the validation loss every this many steps (0: never)", range=(0, 10**9)))
    val_max_batches: int = field(default=0, metadata=param(
        "validation batches per evaluation (0: the whole validation split)", range=(0, 10**9)))
    save_freq: int = field(default=1000, metadata=param(
        "save a checkpoint every this many steps (and after the last)", range=(1, 10**9)))
    log_freq: int = field(default=100, metadata=param("log training metrics every this many steps",
                                                      range=(1, 10**9)))
    rename_map: list[str] = field(default_factory=list, metadata=param(
        "dataset key=policy key, e.g. observation.images.front=observation.images.camera1"))
    video_backend: str = field(default="pyav", metadata=param(
        "video decoder of the datasets", choices=VIDEO_BACKENDS))
    tolerance_s: float = field(default=1e-4, metadata=param(
        "timestamp tolerance of the datasets, s (lerobot default)", range=(0.0, 1.0)))
    chunk_size: int = field(default=0, metadata=param(
        "override the policy's chunk_size (actions predicted per inference; 0: keep)", range=(0, 1000)))
    n_action_steps: int = field(default=0, metadata=param(
        "override the policy's n_action_steps (actions executed per chunk; 0: keep)", range=(0, 1000)))
    augment: bool = field(default=True, metadata=param("colour augmentation of the camera images"))
    augment_max_transforms: int = field(default=2, metadata=param(
        "colour transforms applied per image, drawn at random", range=(1, 4)))
    train_brightness: list[float] = field(
        default_factory=_pair(0.8, 1.2), metadata=_jitter("training", "brightness"))
    train_contrast: list[float] = field(
        default_factory=_pair(0.8, 1.2), metadata=_jitter("training", "contrast"))
    train_saturation: list[float] = field(
        default_factory=_pair(0.5, 1.5), metadata=_jitter("training", "saturation"))
    train_hue: list[float] = field(
        default_factory=_pair(-0.05, 0.05), metadata=_jitter("training", "hue"))
    val_brightness: list[float] = field(
        default_factory=_pair(0.7, 1.0), metadata=_jitter("validation", "brightness"))
    val_contrast: list[float] = field(
        default_factory=_pair(1.0, 1.3), metadata=_jitter("validation", "contrast"))
    val_saturation: list[float] = field(
        default_factory=_pair(0.5, 1.2), metadata=_jitter("validation", "saturation"))
    val_hue: list[float] = field(
        default_factory=_pair(-0.08, 0.06), metadata=_jitter("validation", "hue"))
    epochs_band: list[float] = field(default_factory=lambda: [3.0, 7.0], metadata=param(
        "warn when the planned epochs fall outside [lo, hi] (seed: 15.9 overfit, ~6 generalised)"))
    joint_weights: list[float] = field(default_factory=list, metadata=param(
        "per-joint loss weights in action order (empty: all 1)"))
    temporal_alpha: float = field(default=0.0, metadata=param(
        "weight frames by 1 + alpha * progress^2 within their episode (0: uniform)", range=(0.0, 100.0)))
    episode_weights: list[str] = field(default_factory=list, metadata=param(
        "oversample episodes: [dataset_number:]episode_index=weight (default weight 1)"))
    lr: float = field(default=0.0, metadata=param(
        "peak learning rate (0: the policy's preset, 1e-4 for SmolVLA)", range=(0.0, 1.0)))
    warmup_steps: int = field(default=-1, metadata=param(
        "learning-rate warmup steps (-1: the policy's preset)", range=(-1, 10**9)))
    decay_steps: int = field(default=-1, metadata=param(
        "cosine decay steps (-1: the policy's preset)", range=(-1, 10**9)))
    mixed_precision: str = field(default="no", metadata=param(
        "Accelerate mixed precision", choices=MIXED_PRECISION))
    cpu: bool = field(default=False, metadata=param("train on the CPU even when a GPU is present"))
    log_backend: str = field(default="csv", metadata=param(
        "where metrics go besides the console", choices=("csv", "tensorboard")))
    wandb: bool = field(default=False, metadata=param("also log to Weights & Biases"))
    wandb_project: str = field(default="vla_ros", metadata=param("Weights & Biases project"))
    progress_bar: bool = field(default=True, metadata=param("show a tqdm progress bar"))
    units: str = field(default=Units.LEROBOT, metadata=param(
        "units of observation.state/action in the datasets, recorded in the deployment contract",
        choices=Units.ALL))

    def __post_init__(self) -> None:
        problems = []
        try:
            check_range(self)
        except ConfigError as err:
            problems.append(str(err).partition(": ")[2])
        if not self.datasets:
            problems.append("datasets: at least one dataset directory is required")
        for name in (*_RANGE_FIELDS, "epochs_band"):
            pair = getattr(self, name)
            if len(pair) != 2 or pair[0] > pair[1]:
                problems.append(f"{name}={pair!r} must be [low, high] with low <= high")
        if any(w < 0 for w in self.joint_weights) or (self.joint_weights and sum(self.joint_weights) == 0):
            problems.append(f"joint_weights={self.joint_weights!r} must be >= 0 and not all 0")
        if self.n_action_steps and self.chunk_size and self.n_action_steps > self.chunk_size:
            problems.append(f"n_action_steps={self.n_action_steps} exceeds chunk_size={self.chunk_size}")
        for parse in (self.rename, lambda: parse_episode_weights(self.episode_weights)):
            try:
                parse()
            except ConfigError as err:
                problems.append(str(err))
        if problems:
            raise ConfigError("TrainConfig: " + "; ".join(problems))

    def rename(self) -> dict[str, str]:
        """The rename map as a dict (dataset key -> policy key)."""
        return parse_mapping(self.rename_map, "rename_map")

    @property
    def run_dir(self) -> Path:
        """``output_dir`` as a path."""
        return Path(self.output_dir)

    def to_json(self) -> str:
        """The config as JSON (all fields)."""
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from :meth:`to_json`'s output; unknown keys are a :class:`ConfigError`."""
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ConfigError(f"TrainConfig: unknown fields {sorted(unknown)}")
        return cls(**data)


_RANGE_FIELDS = tuple(f"{split}_{name}" for split in ("train", "val")
                      for name in ("brightness", "contrast", "saturation", "hue"))


@dataclass
class EvalConfig:
    """Settings of ``training/eval_offline.py``.

    Raises:
        ConfigError: from ``__post_init__``, listing every invalid field.
    """

    checkpoints: list[str] = field(default_factory=list, metadata=param(
        "checkpoints to compare: pretrained_model, checkpoints/<step> or run directories"))
    datasets: list[str] = field(default_factory=list, metadata=param(
        "datasets to evaluate on (default: the first checkpoint's training datasets)"))
    episodes: list[str] = field(default_factory=list, metadata=param(
        "[dataset_number:]episode_index to evaluate (default: the held-out episodes of the training "
        "record, else every episode)"))
    output_dir: str = field(default="outputs/eval", metadata=param("where report.json and the PNGs go"))
    tolerance_frac: float = field(default=0.05, metadata=param(
        "success tolerance as a fraction of each joint's range in the data (seed: 5 %)", range=(0.0, 1.0)))
    replan_every: int = field(default=0, metadata=param(
        "frames between predictions (0: the checkpoint's n_action_steps; 1: every frame)", range=(0, 1000)))
    max_episodes: int = field(default=0, metadata=param("evaluate at most this many episodes (0: all)",
                                                         range=(0, 10**6)))
    color_shift: bool = field(default=False, metadata=param(
        "colour-shift the images with the checkpoint's validation jitter (seed: darker, higher contrast)"))
    gripper_closed_frac: float = field(default=0.2, metadata=param(
        "gripper counts as closed below min + this fraction of its range", range=(0.0, 1.0)))
    batch_size: int = field(default=16, metadata=param("observations per inference batch", range=(1, 4096)))
    device: str = field(default="auto", metadata=param("torch device (auto: cuda when available)"))
    num_flow_steps: int = field(default=0, metadata=param(
        "flow-matching denoising steps (0: the checkpoint's)", range=(0, 1000)))
    seed: int = field(default=0, metadata=param("seed of the flow-matching noise and colour shift",
                                                range=(0, 2**31 - 1)))
    video_backend: str = field(default="pyav", metadata=param(
        "video decoder", choices=VIDEO_BACKENDS))
    plot_episodes: int = field(default=2, metadata=param("episodes plotted per checkpoint", range=(0, 100)))
    task_swap: bool = field(default=True, metadata=param(
        "with two or more tasks in the data, replay every episode again under another training task (same "
        "noise) and report how much the actions change: ~0 means the policy ignores the instruction "
        "(doubles the time)"))

    def __post_init__(self) -> None:
        problems = []
        try:
            check_range(self)
        except ConfigError as err:
            problems.append(str(err).partition(": ")[2])
        if not self.checkpoints:
            problems.append("checkpoints: at least one checkpoint is required")
        for ref in self.episodes:
            try:
                parse_episode_ref(ref)
            except ConfigError as err:
                problems.append(f"episodes: {err}")
        if problems:
            raise ConfigError("EvalConfig: " + "; ".join(problems))

    def torch_device(self) -> str:
        """The device to run on."""
        if self.device != "auto":
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"


def parse_episode_ref(ref: str) -> tuple[int, int]:
    """Parse ``"[dataset_number:]episode_index"`` into ``(dataset_number, episode_index)``.

    Raises:
        ConfigError: not two non-negative integers.
    """
    ds, _, ep = ref.strip().rpartition(":")
    try:
        pair = (int(ds or 0), int(ep))
    except ValueError:
        pair = (-1, -1)
    if min(pair) < 0:
        raise ConfigError(f"{ref!r} is not [dataset_number:]episode_index (non-negative integers)")
    return pair


def parse_episode_weights(items: list[str]) -> dict[tuple[int, int], float]:
    """Parse ``["[dataset_number:]episode_index=weight", ...]``.

    Returns:
        ``{(dataset_number, episode_index): weight}``; dataset number 0 when omitted.

    Raises:
        ConfigError: a malformed item or a negative weight (all problems at once).
    """
    out: dict[tuple[int, int], float] = {}
    problems = []
    for key, value in parse_mapping(items, "episode_weights").items():
        try:
            pair, weight = parse_episode_ref(key), float(value)
        except (ConfigError, ValueError):
            problems.append(f"episode_weights: {key}={value} is not [dataset:]episode=weight")
            continue
        if weight < 0:
            problems.append(f"episode_weights: {key}={value} must be non-negative")
        out[pair] = weight
    if problems:
        raise ConfigError("; ".join(problems))
    return out


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_config_arguments(parser: argparse.ArgumentParser, cls: type, positional: str | None = None) -> None:
    """Add one flag per :func:`param`-marked field of dataclass ``cls`` (``--batch-size``).

    Lists take several values (``--datasets a b``), booleans are ``--flag/--no-flag``. ``positional``
    names a list field given as positional arguments instead.
    """
    for name, (f, spec) in param_specs(cls).items():
        kind = str(f.type)
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default  # type: ignore[misc]
        help_ = f"{spec.description} (default: {default!r})".replace("%", "%%")
        kwargs: dict[str, Any] = {"help": help_, "default": argparse.SUPPRESS}
        if spec.choices:
            kwargs["choices"] = spec.choices
        if name == positional:
            parser.add_argument(name, nargs="*", **kwargs)
        elif kind == "bool":
            parser.add_argument(_flag(name), action=argparse.BooleanOptionalAction, **kwargs)
        elif kind.startswith("list["):
            item = float if "float" in kind else str
            parser.add_argument(_flag(name), nargs="*", type=item, **kwargs)
        else:
            parser.add_argument(_flag(name), type={"int": int, "float": float}.get(kind, str), **kwargs)


def config_from_args(cls: type[C], args: argparse.Namespace, **overrides: Any) -> C:
    """Build ``cls`` from parsed flags (only those given override the defaults)."""
    names = set(param_specs(cls))
    values = {k: v for k, v in vars(args).items() if k in names}
    values.update(overrides)
    return cls(**values)
