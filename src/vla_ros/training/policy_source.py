"""The checkpoint a run starts from: its policy config and the processor overrides for our data.

Resolution of the checkpoint (a directory, a run, a cached Hub id) and of its VLM directory is
:func:`vla_ros.policy.checkpoint.inspect_checkpoint`'s; this module adds what fine-tuning changes:
the device, an optional new chunk size, and the processor overrides ``lerobot-train`` applies
(lerobot 0.4.4 ``scripts/lerobot_train.py``: the datasets' normalisation statistics, the rename map,
the device) plus the resolved tokenizer directory for offline use.

Core module: no ROS.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lerobot.configs.policies import PreTrainedConfig

from vla_ros.errors import ConfigError
from vla_ros.policy.checkpoint import CheckpointInfo, inspect_checkpoint

__all__ = ["VLM_FILES", "bundle_vlm", "keep_vlm_name", "policy_config", "processor_overrides"]

VLM_FILES = ("*.json", "*.txt", "*.jinja", "*.model")
"""A VLM directory's files needed to build SmolVLA without the VLM's weights (config, tokenizer,
processor); the same set :mod:`vla_ros.policy.checkpoint` fetches from the Hub cache."""


def policy_config(
    source: str | Path, *, device: str, chunk_size: int = 0, n_action_steps: int = 0
) -> tuple[PreTrainedConfig, CheckpointInfo]:
    """The SmolVLA config to fine-tune from ``source``, ready for lerobot's ``make_policy``.

    Args:
        source: checkpoint directory or cached Hub id (e.g. ``lerobot/smolvla_base``).
        device: torch device type of the run (``cpu``, ``cuda``).
        chunk_size: new chunk size (0: keep the checkpoint's).
        n_action_steps: new executed steps per chunk (0: keep; capped to the chunk size when only
            the chunk size is changed).

    Returns:
        ``(config, info)``: the config has ``pretrained_path`` set, so ``make_policy`` loads the
        weights; ``info`` is the inspected checkpoint.

    Raises:
        vla_ros.policy.errors.CheckpointError: the checkpoint or its VLM cannot be found.
        ConfigError: ``n_action_steps`` exceeds the chunk size.
    """
    info = inspect_checkpoint(source)
    cfg = copy.deepcopy(info.config)
    cfg.device = device
    if chunk_size:
        cfg.chunk_size = chunk_size
        cfg.n_action_steps = min(cfg.n_action_steps, chunk_size)
    if n_action_steps:
        cfg.n_action_steps = n_action_steps
    if cfg.n_action_steps > cfg.chunk_size:  # SmolVLAConfig.__post_init__'s rule
        raise ConfigError(f"n_action_steps={cfg.n_action_steps} exceeds chunk_size={cfg.chunk_size}")
    cfg.pretrained_path = info.path
    return cfg, info


def processor_overrides(
    info: CheckpointInfo,
    policy_cfg: PreTrainedConfig,
    stats: Mapping[str, Any],
    rename: Mapping[str, str],
    device: str,
) -> dict[str, dict[str, Any]]:
    """Keyword arguments for ``make_pre_post_processors(..., pretrained_path=info.path, **this)``.

    The saved pipelines are kept, with this run's normalisation statistics, rename map and device,
    and the tokenizer read from the resolved VLM directory.
    """
    features = {**policy_cfg.input_features, **policy_cfg.output_features}
    norm = policy_cfg.normalization_mapping
    return {
        "preprocessor_overrides": {
            "device_processor": {"device": device},
            "normalizer_processor": {"stats": stats, "features": features, "norm_map": norm},
            "rename_observations_processor": {"rename_map": dict(rename)},
            "tokenizer_processor": {"tokenizer_name": info.vlm_dir},
        },
        "postprocessor_overrides": {
            "unnormalizer_processor": {"stats": stats, "features": dict(policy_cfg.output_features),
                                       "norm_map": norm},
        },
    }


def keep_vlm_name(info: CheckpointInfo, policy_cfg: PreTrainedConfig, preprocessor: Any) -> None:
    """Put the checkpoint's own VLM name back where loading resolved it to a local directory.

    ``inspect_checkpoint`` replaces ``vlm_model_name`` (e.g. the Hub id of SmolVLM2) with a resolved
    directory (e.g. a Hub-cache snapshot path); saved as such, a checkpoint would name a path that
    only exists on the training machine. Both names are only read when building, so the built policy
    and tokenizer are unaffected.
    """
    original = json.loads((info.path / "config.json").read_text()).get("vlm_model_name")
    if not original:
        return
    policy_cfg.vlm_model_name = original
    for step in getattr(preprocessor, "steps", []):
        if getattr(step, "tokenizer_name", None):
            step.tokenizer_name = original


def bundle_vlm(vlm_dir: Path, pretrained_dir: Path) -> Path | None:
    """Copy the VLM's config, tokenizer and processor files into ``<pretrained_dir>/vlm``.

    With them a checkpoint loads offline anywhere (``vla_ros.policy.checkpoint`` looks for a bundled
    ``vlm/`` first); the VLM weights are in ``model.safetensors`` already. Returns the bundle
    directory, or None when ``vlm_dir`` is not a directory.
    """
    if not Path(vlm_dir).is_dir():
        return None
    out = Path(pretrained_dir) / "vlm"
    out.mkdir(parents=True, exist_ok=True)
    for pattern in VLM_FILES:
        for src in Path(vlm_dir).glob(pattern):
            shutil.copy2(src, out / src.name)
    return out
