"""Which camera feeds which input: the policy's ``camera_map`` (deploy) or the dataset's cameras (record).

The policy node takes its ``camera_map`` parameter, or, when that is empty, the training mapping of
the checkpoint's deployment contract (``smolvla_policy`` ``_camera_plan``); the viewer reads the same
two sources, with the policy's naming rules (:func:`vla_ros.policy.guards.image_key`: short feature
names accepted; ``feature=`` declares an empty input, which no camera feeds). ROS-agnostic.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vla_ros.config import parse_mapping
from vla_ros.contract import DeploymentContract
from vla_ros.policy.guards import IMAGE_PREFIX, image_key
from vla_ros.viewer.entities import CameraFeed

__all__ = ["contract_camera_map", "dataset_feeds", "policy_feeds"]

_CHECKPOINT_DIRS = ("", "pretrained_model", "checkpoints/last/pretrained_model")
"""Where a checkpoint lives under ``policy_path`` (the places ``vla_ros.policy.checkpoint`` looks)."""


def contract_camera_map(policy_path: str) -> dict[str, str]:
    """The deployment contract's mapping as ROS camera -> policy feature.

    Args:
        policy_path: a checkpoint directory or a training output directory holding one.

    Returns:
        e.g. ``{"front": "observation.images.camera1"}``; ``{}`` when no local checkpoint directory
        with a contract is found (a Hub id, an old checkpoint).

    Raises:
        ConfigError: the contract exists but is malformed.
    """
    root = Path(policy_path).expanduser()
    for sub in _CHECKPOINT_DIRS:
        contract = DeploymentContract.load(root / sub) if (root / sub).is_dir() else None
        if contract is not None:
            return {k.removeprefix(IMAGE_PREFIX): image_key(v) for k, v in contract.camera_map.items()}
    return {}


def policy_feeds(camera_map: Sequence[str], policy_path: str, cameras: Sequence[str]) -> list[CameraFeed]:
    """The cameras the policy sees, named by the feature they feed.

    Args:
        camera_map: the policy's ``camera_map`` parameter (``["front=observation.images.camera1"]``;
            ``[]`` = the checkpoint's contract).
        policy_path: the policy's ``policy_path`` parameter.
        cameras: the graph's cameras, used as ``observation.images.<camera>`` when neither source maps them.

    Returns:
        One feed per camera that feeds a feature, in feature order (``camera1`` before ``camera2``).

    Raises:
        ConfigError: a malformed ``camera_map`` item or contract.
    """
    parsed = parse_mapping(list(camera_map), "camera_map")
    given = {cam: feature for cam, feature in parsed.items() if feature}
    mapping = {cam: image_key(f) for cam, f in given.items()} or contract_camera_map(policy_path)
    if not mapping:
        mapping = {cam: image_key(cam) for cam in cameras}
    return sorted((CameraFeed(cam, feature, "policy") for cam, feature in mapping.items()),
                  key=lambda feed: feed.feature)


def dataset_feeds(cameras: dict[str, str] | None = None) -> list[CameraFeed]:
    """The cameras a recording will hold, named by their dataset feature (``observation.images.front``).

    Args:
        cameras: ``{camera name: topic}``; default: the converter's mapping (``config/convert.yaml``),
            the topics the bag recorder records.

    Raises:
        ConfigError: the converter config is invalid.
    """
    if cameras is None:
        from vla_ros.convert.mapping import load_config

        cameras = {name: spec.topic for name, spec in load_config().mapping.cameras.items()}
    return [CameraFeed(name, image_key(name), "dataset") for name in cameras]
