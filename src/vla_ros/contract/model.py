"""The deployment contract: what a checkpoint was trained on, which deployment must match.

Training (``vla_ros.training``) writes it next to each checkpoint's ``pretrained_model`` as
``vla_ros_contract.json``; for any other LeRobot checkpoint :func:`vla_ros.contract.read_contract`
builds one from ``lerobot-train``'s ``train_config.json`` and the training dataset's metadata. The
policy node refuses tasks and camera mappings that break it, and the safety supervisor takes its home
pose and start-state check from it. The seed lessons it encodes: a task string that differs by one
phrase, swapped cameras, a start pose far from the demonstrations.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from vla_ros.errors import ConfigError
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.robot.units import Units

__all__ = ["CONTRACT_FILE", "FACTS", "DeploymentContract"]

CONTRACT_FILE = "vla_ros_contract.json"

FACTS = ("tasks", "camera_map", "camera_features", "fps", "units", "joint_names", "start_state",
         "camera_signatures", "robot_type", "datasets")
"""The facts a contract records; :attr:`DeploymentContract.sources` says where each came from."""


@dataclass
class DeploymentContract:
    """Facts about a checkpoint's training data that deployment must match.

    Attributes:
        tasks: the exact language instructions of the training data.
        camera_map: dataset camera feature -> policy image feature, e.g.
            ``{"observation.images.front": "observation.images.camera1"}`` (the training rename map;
            identity entries when no rename was used).
        fps: control rate of the data, Hz (0 = unknown).
        units: units of ``observation.state``/``action`` in the data (:class:`Units`).
        joint_names: URDF joint names, the column order of state and action.
        start_state_mean: per-joint mean of the episodes' first ``observation.state``, in ``units``
            (empty = unknown).
        start_state_std: per-joint standard deviation of the same, in ``units``.
        robot_type: the data's robot type (``so101_follower``).
        datasets: where the data came from (paths or repo ids), for the record.
        camera_features: dataset camera key -> ``[H, W, C]`` image shape in the data (empty = unknown).
        camera_signatures: dataset camera key -> a :class:`vla_ros.contract.signature.CameraSignature`
            as a dict (what that camera saw in training; empty = unknown).
        sources: fact (one of :data:`FACTS`) -> where it came from, or ``"unknown: <why>"``.
    """

    tasks: list[str]
    camera_map: dict[str, str]
    fps: float
    units: str = Units.LEROBOT
    joint_names: list[str] = field(default_factory=lambda: list(JOINT_NAMES))
    start_state_mean: list[float] = field(default_factory=list)
    start_state_std: list[float] = field(default_factory=list)
    robot_type: str = "so101_follower"
    datasets: list[str] = field(default_factory=list)
    camera_features: dict[str, list[int]] = field(default_factory=dict)
    camera_signatures: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if self.units not in Units.ALL:
            problems.append(f"units={self.units!r} is not one of {Units.ALL}")
        if not self.fps >= 0:
            problems.append(f"fps={self.fps!r} must be > 0 (or 0 = unknown)")
        n = len(self.joint_names)
        for name in ("start_state_mean", "start_state_std"):
            values = getattr(self, name)
            if values and len(values) != n:
                problems.append(f"{name} has {len(values)} values for {n} joints")
        if problems:
            raise ConfigError("deployment contract: " + "; ".join(problems))

    def source(self, fact: str) -> str:
        """Where ``fact`` (one of :data:`FACTS`) came from; ``"unknown"`` when nothing says."""
        return self.sources.get(fact, "unknown")

    @property
    def has_tasks(self) -> bool:
        """The training tasks are known."""
        return bool(self.tasks)

    @property
    def has_start_state(self) -> bool:
        """The start-state statistics are known."""
        return bool(self.start_state_mean) and bool(self.start_state_std)

    @property
    def camera_names(self) -> list[str]:
        """The dataset's camera names (``front`` for ``observation.images.front``)."""
        return [k.removeprefix("observation.images.") for k in self.camera_map]

    def save(self, directory: str | Path) -> Path:
        """Write ``vla_ros_contract.json`` into ``directory``; returns its path."""
        return self.write(Path(directory) / CONTRACT_FILE)

    def write(self, path: str | Path) -> Path:
        """Write the contract as JSON to ``path`` (written aside, then moved into place); returns it."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, directory: str | Path) -> DeploymentContract | None:
        """Read the contract of a checkpoint directory; None if it has none.

        Raises:
            ConfigError: the file exists but is malformed.
        """
        path = Path(directory) / CONTRACT_FILE
        if not path.is_file():
            return None
        return cls.read(path)

    @classmethod
    def read(cls, path: str | Path) -> DeploymentContract:
        """Read a contract JSON file (unknown keys are refused, missing optional ones defaulted).

        Raises:
            ConfigError: unreadable or malformed.
        """
        path = Path(path)
        try:
            data = json.loads(path.read_text())
            known = {f.name for f in fields(cls)}
            if not isinstance(data, dict):
                raise TypeError(f"not a JSON object: {type(data).__name__}")
            if set(data) - known:
                raise TypeError(f"unknown keys {sorted(set(data) - known)}")
            return cls(**data)
        except (OSError, ValueError, TypeError) as err:
            raise ConfigError(f"malformed deployment contract {path}: {err}") from err
