"""What a checkpoint tells the diagnosis: the action normalisation it was trained with and its budget.

Read from the files only (no weights, no VLM): the saved post-processor's unnormaliser statistics
(``policy_postprocessor.json`` names its ``*.safetensors`` state; the pre-processor's normaliser as a
fallback), ``config.json`` (chunk size, executed steps, normalisation mode), and the training budget
from vla_ros's ``vla_ros_train.json`` or lerobot's ``train_config.json`` (``steps x batch_size /
frames``, the frames being the training dataset's when the record has none).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vla_ros.diagnose.errors import DiagnoseInputError

__all__ = ["CheckpointFacts", "locate_checkpoint", "read_checkpoint"]


@dataclass(frozen=True)
class CheckpointFacts:
    """The facts of one checkpoint.

    Attributes:
        path: its ``pretrained_model`` directory.
        action_mean, action_std: ``(J,)`` the action normalisation statistics, the data's units.
        normalization: the action's normalisation mode (``MEAN_STD``, ...).
        chunk_size, n_action_steps: from ``config.json`` (0 when absent).
        steps, batch_size, num_processes: the training run's (0 when unknown).
        frames: the frames the run trained on (0 when unknown).
        budget_source: where steps and frames came from.
    """

    path: Path
    action_mean: np.ndarray
    action_std: np.ndarray
    normalization: str
    chunk_size: int
    n_action_steps: int
    steps: int
    batch_size: int
    num_processes: int
    frames: int
    budget_source: str


def locate_checkpoint(path: str | Path) -> Path:
    """The ``pretrained_model`` directory of ``path``: itself, its ``pretrained_model``, or a run's
    ``checkpoints/last/pretrained_model``.

    Raises:
        DiagnoseInputError: none of them holds ``config.json``.
    """
    p = Path(path)
    for cand in (p, p / "pretrained_model", p / "checkpoints" / "last" / "pretrained_model"):
        if (cand / "config.json").is_file():
            return cand
    raise DiagnoseInputError(f"checkpoint {path}: no config.json there, in pretrained_model/ or in "
                             "checkpoints/last/pretrained_model/")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise DiagnoseInputError(f"checkpoint file {path} is unreadable: {err}") from err
    if not isinstance(data, dict):
        raise DiagnoseInputError(f"checkpoint file {path}: expected a JSON object")
    return data


def _action_stats(ckpt: Path) -> tuple[np.ndarray, np.ndarray]:
    from safetensors.numpy import load_file

    for pipeline, step in (("policy_postprocessor.json", "unnormalizer"), ("policy_preprocessor.json",
                                                                          "normalizer")):
        if not (ckpt / pipeline).is_file():
            continue
        for s in _read_json(ckpt / pipeline).get("steps", []):
            state = s.get("state_file")
            if state and step in str(s.get("registry_name", "")) and (ckpt / state).is_file():
                stats = load_file(str(ckpt / state))
                if "action.mean" in stats and "action.std" in stats:
                    return (np.asarray(stats["action.mean"], np.float64),
                            np.asarray(stats["action.std"], np.float64))
    raise DiagnoseInputError(f"checkpoint {ckpt}: no action mean/std in its saved normaliser "
                             "(policy_postprocessor.json / policy_preprocessor.json state files)")


def _budget(ckpt: Path, train_frames: int) -> tuple[int, int, int, int, str]:
    record = ckpt / "vla_ros_train.json"
    if record.is_file():
        b = _read_json(record).get("budget") or {}
        if b.get("steps") and b.get("batch_size") and b.get("frames"):
            return (int(b["steps"]), int(b["batch_size"]), int(b.get("num_processes") or 1), int(b["frames"]),
                    f"{record.name}")
    cfg = ckpt / "train_config.json"
    if cfg.is_file():
        c = _read_json(cfg)
        steps, batch = int(c.get("steps") or 0), int(c.get("batch_size") or 0)
        if steps and batch and train_frames:
            return steps, batch, 1, train_frames, f"{cfg.name}, frames of --train"
    return 0, 0, 0, 0, "no training record (vla_ros_train.json or train_config.json)"


def read_checkpoint(path: str | Path, train_frames: int) -> CheckpointFacts:
    """The :class:`CheckpointFacts` of ``path`` (see :func:`locate_checkpoint`).

    Args:
        path: checkpoint or run directory.
        train_frames: frames of the training dataset, for a budget from ``train_config.json``.

    Raises:
        DiagnoseInputError: no checkpoint there, unreadable files, no action statistics.
    """
    ckpt = locate_checkpoint(path)
    config = _read_json(ckpt / "config.json")
    mean, std = _action_stats(ckpt)
    steps, batch, processes, frames, source = _budget(ckpt, train_frames)
    norm = (config.get("normalization_mapping") or {}).get("ACTION", "")
    return CheckpointFacts(ckpt, mean, std, str(norm), int(config.get("chunk_size") or 0),
                           int(config.get("n_action_steps") or 0), steps, batch, processes, frames, source)
