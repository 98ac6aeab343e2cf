"""The deployment contract: what a checkpoint was trained on, which deployment must match.

Training (``vla_ros.training``) writes it next to each checkpoint's ``pretrained_model`` as
``vla_ros_contract.json``; the policy node refuses tasks and camera mappings that break it, and the
safety supervisor takes its home pose and start-state check from it. The seed lessons it encodes: a
task string that differs by one phrase, swapped cameras, a start pose far from the demonstrations.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from vla_ros.errors import ConfigError
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.robot.units import Units

__all__ = ["CONTRACT_FILE", "DeploymentContract", "episode_first_states", "start_state_stats"]

CONTRACT_FILE = "vla_ros_contract.json"


@dataclass
class DeploymentContract:
    """Facts about a checkpoint's training data that deployment must match.

    Attributes:
        tasks: the exact language instructions of the training data.
        camera_map: dataset camera feature -> policy image feature, e.g.
            ``{"observation.images.front": "observation.images.camera1"}`` (the training rename map;
            identity entries when no rename was used).
        fps: control rate of the data, Hz.
        units: units of ``observation.state``/``action`` in the data (:class:`Units`).
        joint_names: URDF joint names, the column order of state and action.
        start_state_mean: per-joint mean of the episodes' first ``observation.state``, in ``units``.
        start_state_std: per-joint standard deviation of the same, in ``units``.
        robot_type: the data's robot type (``so101_follower``).
        datasets: where the data came from (paths or repo ids), for the record.
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

    def __post_init__(self) -> None:
        problems = []
        if self.units not in Units.ALL:
            problems.append(f"units={self.units!r} is not one of {Units.ALL}")
        if not self.fps > 0:
            problems.append(f"fps={self.fps!r} must be > 0")
        n = len(self.joint_names)
        for name in ("start_state_mean", "start_state_std"):
            values = getattr(self, name)
            if values and len(values) != n:
                problems.append(f"{name} has {len(values)} values for {n} joints")
        if problems:
            raise ConfigError("deployment contract: " + "; ".join(problems))

    @property
    def camera_names(self) -> list[str]:
        """The dataset's camera names (``front`` for ``observation.images.front``)."""
        return [k.removeprefix("observation.images.") for k in self.camera_map]

    def save(self, directory: str | Path) -> Path:
        """Write ``vla_ros_contract.json`` into ``directory``; returns its path."""
        path = Path(directory) / CONTRACT_FILE
        path.write_text(json.dumps(asdict(self), indent=2))
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
        try:
            return cls(**json.loads(path.read_text()))
        except (ValueError, TypeError) as err:
            raise ConfigError(f"malformed deployment contract {path}: {err}") from err


def start_state_stats(first_states: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-joint mean and standard deviation of episode start states.

    Args:
        first_states: ``(num_episodes, num_joints)`` first ``observation.state`` of each episode.

    Returns:
        ``(mean, std)`` as lists of floats, in the units of the input.

    Raises:
        ValueError: no episodes, or non-finite values.
    """
    arr = np.asarray(first_states, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"need finite (episodes, joints) start states, got shape {arr.shape}")
    return arr.mean(axis=0).tolist(), arr.std(axis=0).tolist()


def episode_first_states(root: str | Path) -> np.ndarray:
    """The first ``observation.state`` of each episode of a local LeRobot (v3.0) dataset.

    Reads the metadata with lerobot's ``LeRobotDatasetMetadata`` and only the ``episode_index``,
    ``frame_index`` and ``observation.state`` columns with lerobot's ``load_nested_dataset`` (no video
    decoding, nothing downloaded).

    Args:
        root: the dataset directory (holding ``meta/info.json``).

    Returns:
        ``(num_episodes, state_dim)`` float64 in episode order, in the dataset's units and column order.

    Raises:
        ConfigError: not a readable dataset, no ``observation.state``, or an episode without its frame 0.
    """
    from lerobot.datasets.lerobot_dataset import LeRobotDatasetMetadata
    from lerobot.datasets.utils import load_nested_dataset

    root = Path(root)
    try:
        meta = LeRobotDatasetMetadata(f"local/{root.name}", root=root)
        frames = load_nested_dataset(root / "data").select_columns(
            ["episode_index", "frame_index", "observation.state"]).with_format("numpy")[:]
    except (OSError, KeyError, ValueError) as err:
        raise ConfigError(f"cannot read start states of dataset {root}: {err}") from err
    first = frames["frame_index"] == 0
    episodes = frames["episode_index"][first]
    missing = sorted(set(range(meta.total_episodes)) - set(episodes.tolist()))
    if missing or not episodes.size:
        raise ConfigError(f"dataset {root}: no frame 0 for episodes {missing or 'all'}")
    return np.asarray(frames["observation.state"][first], dtype=np.float64)[np.argsort(episodes)]
