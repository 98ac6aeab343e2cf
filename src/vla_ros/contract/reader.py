"""One reader of a checkpoint's training facts, whoever trained it.

Sources, in order, for each fact (:data:`vla_ros.contract.model.FACTS`); the first that records it
wins, and :attr:`DeploymentContract.sources` says which:

1. ``vla_ros_contract.json`` in the checkpoint (vla_ros training, or ``vla-ros contract --out``);
2. ``lerobot-train``'s ``train_config.json`` (``dataset.repo_id``/``root``, ``rename_map``) and the
   checkpoint's ``config.json`` (image features) and saved pre-processor (rename step);
3. the training dataset's own metadata: tasks, fps, camera features, every episode's first
   ``observation.state`` (start-state mean and std) and frames for the camera signatures. The dataset
   is looked for at the ``dataset`` argument, the contract's recorded datasets, ``dataset.root``,
   ``$HF_LEROBOT_HOME/<repo_id>`` and the Hub cache, never downloaded.

A fact no source records stays empty and its source says ``unknown: <why>``; the guards refuse on
that rather than skip (:mod:`vla_ros.policy.guards`, :mod:`vla_ros.safety.start_state`).

Core module: no ROS.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vla_ros.contract.dataset import (
    IMAGE_PREFIX,
    dataset_frames,
    dataset_tasks,
    episode_first_states,
    locate_dataset,
    read_metadata,
    start_state_stats,
    state_columns,
)
from vla_ros.contract.model import CONTRACT_FILE, DeploymentContract
from vla_ros.contract.signature import make_signature
from vla_ros.errors import ConfigError
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.robot.units import Units

__all__ = ["TRAIN_CONFIG_FILE", "checkpoint_dir", "dataset_signatures", "read_contract", "train_config"]

TRAIN_CONFIG_FILE = "train_config.json"
"""What ``lerobot-train`` saves next to each ``pretrained_model`` (lerobot 0.4.4 ``TrainPipelineConfig``)."""
LEROBOT_UNITS_SOURCE = "assumed: lerobot SO-101 recordings (degrees, 0 at mid-range; gripper 0-100 %)"


def checkpoint_dir(path: str | Path) -> Path:
    """The ``pretrained_model`` directory of ``path`` (itself, or ``path/pretrained_model``)."""
    path = Path(path).expanduser()
    for candidate in (path, path / "pretrained_model", path / "checkpoints" / "last" / "pretrained_model"):
        if (candidate / "config.json").is_file() or (candidate / CONTRACT_FILE).is_file():
            return candidate
    return path


def train_config(path: Path) -> dict[str, Any]:
    """``train_config.json`` of a checkpoint directory as a dict ({} if absent).

    Raises:
        ConfigError: the file exists but is not JSON.
    """
    file = path / TRAIN_CONFIG_FILE
    if not file.is_file():
        return {}
    try:
        data = json.loads(file.read_text())
    except ValueError as err:
        raise ConfigError(f"unreadable {file}: {err}") from err
    return data if isinstance(data, dict) else {}


def _image_features(path: Path) -> list[str]:
    try:
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError):
        return []
    return [k for k in (config.get("input_features") or {}) if k.startswith(IMAGE_PREFIX)]


def _rename_map(path: Path, train: dict[str, Any]) -> tuple[dict[str, str], str]:
    file = path / "policy_preprocessor.json"
    try:
        for step in json.loads(file.read_text()).get("steps", []):
            if step.get("registry_name") == "rename_observations_processor":
                return dict(step.get("config", {}).get("rename_map", {})), f"{file} (rename step)"
    except (OSError, ValueError):
        pass
    if isinstance(train.get("rename_map"), dict):
        return dict(train["rename_map"]), f"{path / TRAIN_CONFIG_FILE} (rename_map)"
    return {}, ""


class _Facts:
    """Facts being gathered: the first source to set a fact wins."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.sources: dict[str, str] = {}

    def set(self, fact: str, value: Any, source: str) -> None:
        if fact not in self.values and value not in (None, [], {}, (), 0, 0.0, ""):
            self.values[fact] = value
            self.sources[fact] = source

    def unknown(self, fact: str, why: str) -> None:
        self.sources.setdefault(fact, f"unknown: {why}")


def _from_own(facts: _Facts, own: DeploymentContract, file: Path) -> None:
    where = str(file)
    recorded = own.sources
    def source(fact: str) -> str:
        origin = recorded.get(fact, "")
        return where + (f" (from {origin})" if origin and not origin.startswith(where) else "")

    for fact in ("tasks", "camera_map", "fps", "units", "joint_names", "camera_features", "camera_signatures",
                 "robot_type", "datasets"):
        facts.set(fact, getattr(own, fact), source(fact))
    if own.has_start_state:
        facts.set("start_state", (own.start_state_mean, own.start_state_std), source("start_state"))


def _from_dataset(facts: _Facts, root: Path, rename: dict[str, str], signatures: bool) -> None:
    where = f"dataset {root}"
    facts.set("tasks", list(dataset_tasks(root)), f"{where}/meta/tasks")
    try:
        meta = read_metadata(root)
    except ConfigError as err:
        for fact in ("fps", "camera_features", "start_state", "camera_signatures"):
            facts.unknown(fact, str(err))
        return
    info = f"{where}/meta/info.json"
    cameras = list(meta.camera_keys)
    facts.set("fps", float(meta.fps), info)
    facts.set("robot_type", meta.info.get("robot_type") or "", info)
    facts.set("camera_features", {k: list(meta.features[k]["shape"]) for k in cameras}, info)
    facts.set("camera_map", {k: rename.get(k, k) for k in cameras}, f"{info} cameras + rename map")
    facts.set("datasets", [str(root)], where)
    _start_state(facts, root, meta)
    if signatures and "camera_signatures" not in facts.values and cameras:
        try:
            sigs, source = dataset_signatures([root])
        except ConfigError as err:
            facts.unknown("camera_signatures", str(err))
            return
        facts.set("camera_signatures", sigs, source)


def dataset_signatures(roots: Sequence[str | Path]) -> tuple[dict[str, dict[str, Any]], str]:
    """Camera signatures of one or more local datasets: per camera key, frames across their episodes.

    Returns:
        ``(camera key -> signature dict, source)`` for :attr:`DeploymentContract.camera_signatures`.

    Raises:
        ConfigError: a dataset or its videos cannot be read, or a camera has no frame with structure.
    """
    frames: dict[str, list[np.ndarray]] = {}
    episodes = 0
    for root in roots:
        meta = read_metadata(root)
        for key, found in dataset_frames(root, meta.camera_keys).items():
            frames.setdefault(key, []).extend(found)
        episodes += min(8, meta.total_episodes)
    where = ", ".join(f"dataset {r}" for r in roots)
    source = f"{where}: {max(map(len, frames.values()), default=0)} frames across {episodes} episodes"
    return {key: make_signature(f, source).to_dict() for key, f in frames.items()}, source


def _start_state(facts: _Facts, root: Path, meta: Any) -> None:
    feature = meta.features.get("observation.state")
    if feature is None or tuple(feature["shape"]) != (len(JOINT_NAMES),):
        facts.unknown("start_state", f"dataset {root}: no 6-joint observation.state")
        return
    try:
        states = episode_first_states(root)
    except ConfigError as err:
        facts.unknown("start_state", str(err))
        return
    columns = state_columns(feature.get("names"))
    if columns is not None:
        states = states[:, columns]
    mean, std = start_state_stats(states)
    facts.set("start_state", (mean, std),
              f"dataset {root}: first observation.state of {len(states)} episodes")
    facts.set("joint_names", list(JOINT_NAMES), f"dataset {root}: observation.state names")


def read_contract(
    checkpoint: str | Path, dataset: str | Path | None = None, *, signatures: bool = True
) -> DeploymentContract:
    """The facts a checkpoint was trained on, from every source this machine has.

    Args:
        checkpoint: a local checkpoint directory (``pretrained_model``, or a directory holding one).
        dataset: the training dataset, a directory or a repo id, when the checkpoint's own records
            do not lead to it (tried first).
        signatures: compute camera signatures from the dataset's frames when no source records them
            (decodes a few dozen frames).

    Returns:
        The contract; unknown facts are empty, with ``sources[fact] = "unknown: <why>"``.

    Raises:
        ConfigError: a contract or ``train_config.json`` exists but is malformed.
    """
    path = checkpoint_dir(checkpoint)
    facts = _Facts()
    own = DeploymentContract.load(path)
    if own is not None:
        _from_own(facts, own, path / CONTRACT_FILE)
    train = train_config(path)
    rename, rename_source = _rename_map(path, train)
    ds_cfg = train.get("dataset") or {}
    repo_id = ds_cfg.get("repo_id") if isinstance(ds_cfg.get("repo_id"), str) else None
    refs: list[tuple[str | Path | None, str | None]] = [(dataset, None)] if dataset else []
    refs += [(d, None) for d in (own.datasets if own else [])]
    refs.append((repo_id, ds_cfg.get("root")))
    tried: list[str] = []
    for ref, root in refs:
        found, looked = locate_dataset(ref, root)
        tried += looked
        if found is not None:
            _from_dataset(facts, found, rename, signatures)
            break
    missing = (f"training dataset not found locally (looked at {tried})" if tried else
               f"no {CONTRACT_FILE} records it, and no {TRAIN_CONFIG_FILE} or dataset names the "
               "training data")
    images = _image_features(path)
    if images:
        inverse = {v: k for k, v in rename.items()}
        facts.set("camera_map", {inverse.get(k, k): k for k in images},
                  f"{path / 'config.json'} image features" + (f" + {rename_source}" if rename else ""))
    facts.set("units", Units.LEROBOT, LEROBOT_UNITS_SOURCE)
    facts.set("joint_names", list(JOINT_NAMES), "assumed: SO-101 joint order")
    facts.set("robot_type", "so101_follower", "assumed: SO-101")
    for fact in ("tasks", "fps", "start_state", "camera_signatures", "camera_features", "datasets"):
        facts.unknown(fact, missing)
    v = facts.values
    mean, std = v.get("start_state", ([], []))
    return DeploymentContract(
        tasks=list(v.get("tasks", [])), camera_map=dict(v.get("camera_map", {})),
        fps=float(v.get("fps", 0.0)),
        units=v["units"], joint_names=list(v["joint_names"]),
        start_state_mean=[float(x) for x in np.asarray(mean, dtype=np.float64)],
        start_state_std=[float(x) for x in np.asarray(std, dtype=np.float64)],
        robot_type=v["robot_type"], datasets=list(v.get("datasets", [])),
        camera_features=dict(v.get("camera_features", {})),
        camera_signatures=dict(v.get("camera_signatures", {})), sources=dict(facts.sources),
    )
