"""Load a LeRobot SmolVLA checkpoint with lerobot's own classes, offline when it is local.

A checkpoint is the directory ``lerobot-train`` writes as ``checkpoints/<step>/pretrained_model``
(a training output directory or ``checkpoints/<step>`` holding one is accepted too), or a Hub id
already in the local cache. It holds ``config.json`` and ``model.safetensors``
(``PreTrainedPolicy.from_pretrained``), the saved processor pipelines ``policy_preprocessor.json`` /
``policy_postprocessor.json`` with their ``*.safetensors`` state (normalisation statistics, rename
map, tokenizer), optionally lerobot's ``train_config.json`` and our ``vla_ros_contract.json``. What
the checkpoint was trained on (tasks, cameras, fps, start state, camera signatures) is read by
:func:`vla_ros.contract.read_contract`, from whichever of these and the training dataset has it.

Loading is split in two so the node can refuse bad deployments before spending seconds on weights:
:func:`inspect_checkpoint` reads configs only (features, rename map, training tasks, contract) and
:func:`load_policy` builds the policy and processors (``make_pre_post_processors`` with
``pretrained_path``, overriding the device and pointing the tokenizer at the resolved VLM directory).

SmolVLA builds its backbone from ``vlm_model_name`` (a Hub id or a directory). The directory used is,
in order: the ``vlm_dir`` argument, the checkpoint's bundled ``vlm/`` (tiny checkpoints), the
configured name if it is a directory (absolute, or relative to the checkpoint), else the Hub id
resolved from the local Hugging Face cache (honouring ``HF_HUB_OFFLINE``).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vla_ros.contract import DeploymentContract, read_contract
from vla_ros.errors import ConfigError
from vla_ros.policy.errors import CheckpointError

__all__ = [
    "DTYPES",
    "REQUIRED_FILES",
    "CheckpointInfo",
    "LoadedPolicy",
    "cast_backbone",
    "inspect_checkpoint",
    "load_policy",
    "recorded_tasks",
]

REQUIRED_FILES = ("config.json", "model.safetensors", "policy_preprocessor.json", "policy_postprocessor.json")
"""Files every SmolVLA checkpoint directory must hold (lerobot 0.4.4 ``PreTrainedPolicy._save_pretrained``
and ``PolicyProcessorPipeline.save_pretrained``)."""

DTYPES = ("float32", "bfloat16")
"""Supported inference dtypes of the backbone (the small projections stay float32)."""

_VLM_FILES = ["*.json", "*.txt", "*.jinja", "*.model"]
"""Files of a Hub VLM needed to build SmolVLA without its weights (config, tokenizer, processor)."""


@dataclass(frozen=True)
class CheckpointInfo:
    """What a checkpoint expects, read without loading weights.

    Attributes:
        path: the local checkpoint directory.
        checkpoint_id: the path or Hub id as given.
        config: the policy's ``SmolVLAConfig`` with ``vlm_model_name`` resolved.
        vlm_dir: the VLM directory (or cached Hub id) the policy and tokenizer are built from.
        contract: the training facts (:func:`vla_ros.contract.read_contract`), each with its source;
            facts nothing records are empty.
        tasks: training instructions (contract, else the training dataset's ``meta/tasks``); empty
            when nothing records them.
        tasks_source: where ``tasks`` came from, or why they are unknown, for messages.
        rename_map: the saved pre-processor's rename step (dataset key -> policy key).
    """

    path: Path
    checkpoint_id: str
    config: Any
    vlm_dir: str
    contract: DeploymentContract
    tasks: tuple[str, ...]
    tasks_source: str
    rename_map: dict[str, str] = field(default_factory=dict)

    @property
    def image_features(self) -> dict[str, tuple[int, ...]]:
        """Policy image keys (``observation.images.*``) -> ``(C, H, W)`` shapes, in config order."""
        return {k: tuple(f.shape) for k, f in self.config.image_features.items()}

    @property
    def state_dim(self) -> int:
        """Length of ``observation.state``."""
        return int(self.config.robot_state_feature.shape[0])

    @property
    def action_dim(self) -> int:
        """Length of ``action``."""
        return int(self.config.action_feature.shape[0])

    @property
    def fps(self) -> float | None:
        """Control rate of the training data from the contract, Hz; None if unknown."""
        return self.contract.fps or None

    def batch_key(self, policy_key: str) -> str:
        """The key to feed the pre-processor so that its rename step yields ``policy_key``.

        Raises:
            CheckpointError: the rename step maps ``policy_key`` itself elsewhere and nothing onto it.
        """
        for src, dst in self.rename_map.items():
            if dst == policy_key:
                return src
        if policy_key in self.rename_map:
            raise CheckpointError(
                f"{self.path}: the pre-processor renames {policy_key!r} to {self.rename_map[policy_key]!r} "
                f"and nothing to {policy_key!r}; cannot feed that feature"
            )
        return policy_key


@dataclass
class LoadedPolicy:
    """A policy ready for ``predict_action_chunk`` with its processors.

    Attributes:
        info: what was inspected.
        policy: the ``SmolVLAPolicy`` (eval mode, on ``device``).
        preprocessor: observation dict -> model batch (rename, batch, newline, tokenize, device, normalise).
        postprocessor: model actions -> LeRobot units on CPU (unnormalise).
        device: torch device string; dtype: one of :data:`DTYPES`.
    """

    info: CheckpointInfo
    policy: Any
    preprocessor: Any
    postprocessor: Any
    device: str
    dtype: str


def inspect_checkpoint(
    path_or_id: str | Path, *, vlm_dir: str | Path = "", dataset: str | Path | None = None,
    signatures: bool = False,
) -> CheckpointInfo:
    """Read a checkpoint's configs, contract and training tasks, without loading weights.

    Args:
        path_or_id: a checkpoint directory, a training output directory holding one, or a cached Hub id.
        vlm_dir: local SmolVLM directory to use instead of the one the checkpoint names ("" = resolve).
        dataset: the training dataset (directory or repo id) when the checkpoint does not lead to it.
        signatures: compute camera signatures from the training dataset when no contract has them.

    Raises:
        CheckpointError: the checkpoint cannot be found, files are missing (all listed), it is not a
            SmolVLA checkpoint, or its VLM is not available locally.
    """
    from lerobot.configs.policies import PreTrainedConfig
    from lerobot.policies.smolvla.configuration_smolvla import SmolVLAConfig

    path = _locate(str(path_or_id))
    _check_files(path)
    try:
        config = PreTrainedConfig.from_pretrained(path)
    except Exception as err:  # draccus raises many kinds; all mean "not a readable policy config"
        raise CheckpointError(f"{path / 'config.json'}: not a readable LeRobot policy config: {err}") from err
    if not isinstance(config, SmolVLAConfig):
        raise CheckpointError(f"{path}: a {type(config).__name__} checkpoint; smolvla_policy needs SmolVLA")
    problems = []
    if config.robot_state_feature is None:
        problems.append("no observation.state input feature")
    if config.action_feature is None:
        problems.append("no action output feature")
    if not config.image_features:
        problems.append("no observation.images.* input feature")
    if problems:
        raise CheckpointError(f"{path}: " + "; ".join(problems))
    resolved = _resolve_vlm(path, config.vlm_model_name, str(vlm_dir))
    config.vlm_model_name = resolved
    config.load_vlm_weights = False  # the checkpoint's model.safetensors holds every weight
    try:
        contract = read_contract(path, dataset, signatures=signatures)
    except ConfigError as err:
        raise CheckpointError(f"{path}: {err}") from err
    return CheckpointInfo(path, str(path_or_id), config, resolved, contract, tuple(contract.tasks),
                          contract.source("tasks"), _rename_map(path))


def load_policy(
    info: CheckpointInfo,
    *,
    device: str = "cpu",
    dtype: str = "float32",
    num_flow_steps: int = 0,
    n_action_steps: int = 0,
    rtc_config: Any = None,
) -> LoadedPolicy:
    """Build the policy and its saved processors with lerobot's classes.

    Args:
        info: from :func:`inspect_checkpoint`.
        device: torch device (``cpu``, ``cuda``, ``cuda:1``, ``mps``).
        dtype: ``float32``, or ``bfloat16`` for the VLM and expert transformers (the state/action
            projections stay float32, as lerobot does when it loads SmolVLM weights in bfloat16).
        num_flow_steps: flow-matching denoising steps (0 = the checkpoint's ``num_steps``).
        n_action_steps: actions executed per chunk (0 = the checkpoint's).
        rtc_config: a ``lerobot.policies.rtc.configuration_rtc.RTCConfig`` to enable real-time
            chunking guidance, or None.

    Raises:
        CheckpointError: bad dtype/steps, or lerobot fails to build the policy or its processors.
    """
    from lerobot.policies.factory import make_pre_post_processors
    from lerobot.policies.smolvla.modeling_smolvla import SmolVLAPolicy

    config = copy.deepcopy(info.config)
    problems = []
    if dtype not in DTYPES:
        problems.append(f"dtype={dtype!r} is not one of {list(DTYPES)}")
    if n_action_steps > config.chunk_size:
        problems.append(f"n_action_steps={n_action_steps} exceeds the chunk_size={config.chunk_size}")
    if num_flow_steps < 0 or n_action_steps < 0:
        problems.append("num_flow_steps and n_action_steps must be >= 0")
    if problems:
        raise CheckpointError(f"{info.path}: " + "; ".join(problems))
    config.device = device
    config.num_steps = num_flow_steps or config.num_steps
    config.n_action_steps = n_action_steps or config.n_action_steps
    config.rtc_config = rtc_config
    try:
        policy = SmolVLAPolicy.from_pretrained(info.path, config=config)
        cast_backbone(policy, dtype)
        pre, post = make_pre_post_processors(
            config,
            pretrained_path=str(info.path),
            preprocessor_overrides={
                "device_processor": {"device": device},
                "tokenizer_processor": {"tokenizer_name": info.vlm_dir},
            },
        )
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        raise CheckpointError(f"{info.path}: lerobot could not load the policy: {err}") from err
    return LoadedPolicy(info, policy, pre, post, device, dtype)


def cast_backbone(policy: Any, dtype: str) -> None:
    """Cast SmolVLA's VLM and action-expert transformers to ``dtype`` in place.

    The state/action/time projections stay float32, as when lerobot loads SmolVLM weights in bfloat16
    (``SmolVLMWithExpertModel``: each layer casts its inputs to its own weight dtype, and
    ``VLAFlowMatching`` upcasts the expert's output to float32 before ``action_out_proj``).

    Raises:
        CheckpointError: ``dtype`` is not one of :data:`DTYPES`.
    """
    import torch

    if dtype not in DTYPES:
        raise CheckpointError(f"dtype={dtype!r} is not one of {list(DTYPES)}")
    policy.model.vlm_with_expert.to(getattr(torch, dtype))


def recorded_tasks(path: Path, contract: DeploymentContract | None = None) -> tuple[tuple[str, ...], str]:
    """The training instructions a checkpoint records, and where they were found.

    Order as :func:`vla_ros.contract.read_contract`: the deployment contract; else the dataset named
    in lerobot's ``train_config.json`` (``dataset.root``, ``$HF_LEROBOT_HOME/<repo_id>`` or the Hub
    cache). Returns ``((), "unknown: <why>")`` when nothing records them.
    """
    if contract is not None and contract.tasks:
        return tuple(contract.tasks), contract.source("tasks")
    found = read_contract(path, signatures=False)
    return tuple(found.tasks), found.source("tasks")


def _locate(path_or_id: str) -> Path:
    path = Path(path_or_id).expanduser()
    if path.is_dir():
        if (path / "config.json").is_file():
            return path
        for sub in (path / "pretrained_model", path / "checkpoints" / "last" / "pretrained_model"):
            if sub.is_dir():
                return sub
        return path
    if path_or_id.count("/") != 1 or path_or_id.startswith((".", "/", "~")):
        raise CheckpointError(f"policy checkpoint {path_or_id!r}: no such directory")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(path_or_id))
    except Exception as err:  # offline cache miss, unknown repo, network error
        raise CheckpointError(
            f"policy checkpoint {path_or_id!r} is neither a local directory nor available from the Hub "
            f"cache ({type(err).__name__}: {err}); download it once or give a local path"
        ) from err


def _check_files(path: Path) -> None:
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    for name in ("policy_preprocessor.json", "policy_postprocessor.json"):
        if (path / name).is_file():
            try:
                steps = json.loads((path / name).read_text()).get("steps", [])
            except ValueError:
                missing.append(f"{name} (unreadable JSON)")
                continue
            missing += [s["state_file"] for s in steps
                        if s.get("state_file") and not (path / s["state_file"]).is_file()]
    if missing:
        raise CheckpointError(f"checkpoint {path} is incomplete: missing {missing}")


def _rename_map(path: Path) -> dict[str, str]:
    steps = json.loads((path / "policy_preprocessor.json").read_text()).get("steps", [])
    for step in steps:
        if step.get("registry_name") == "rename_observations_processor":
            return dict(step.get("config", {}).get("rename_map", {}))
    return {}


def _resolve_vlm(path: Path, configured: str, override: str) -> str:
    if override:
        if not (Path(override) / "config.json").is_file():
            raise CheckpointError(f"vlm_dir {override!r} has no config.json (a SmolVLM directory is needed)")
        return str(Path(override).resolve())
    candidates = [path / "vlm", Path(configured).expanduser(), path / configured]
    for candidate in candidates:
        if (candidate / "config.json").is_file():
            return str(candidate.resolve())
    if configured.count("/") != 1 or configured.startswith((".", "/", "~")):
        raise CheckpointError(
            f"{path}: the VLM directory {configured!r} named in config.json does not exist and the "
            f"checkpoint bundles no vlm/; set vlm_dir to a local SmolVLM directory"
        )
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(configured, allow_patterns=_VLM_FILES)
    except Exception as err:  # offline cache miss, unknown repo, network error
        raise CheckpointError(
            f"{path}: the VLM {configured!r} (config, tokenizer, processor; no weights needed) is not "
            f"available ({type(err).__name__}); download it once with `huggingface-cli download "
            f"{configured}` or set vlm_dir to a local copy"
        ) from err
