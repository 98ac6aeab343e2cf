"""Fixtures of the training tests: small SO-101-like LeRobot datasets written with lerobot's writer.

Each episode is a smooth joint-space motion (LeRobot units: degrees, gripper 0-100) from a start
pose near the same home, with two 64x48 AV1 cameras whose images follow the arm (a bright square
moves with shoulder_pan), 30 fps, like a lerobot SO-101 recording.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from lerobot.datasets.lerobot_dataset import LeRobotDataset

from vla_ros.robot.joints import LEROBOT_FEATURE_NAMES
from vla_ros.scheduling import keep_scheduling

FPS = 30
IMAGE_HW = (48, 64)
HOME = np.array([0.0, -100.0, 95.0, 70.0, 0.0, 2.0])
AMPLITUDE = np.array([30.0, 40.0, 35.0, 20.0, 45.0, 40.0])


def _image(state: np.ndarray, camera: int) -> np.ndarray:
    h, w = IMAGE_HW
    img = np.full((h, w, 3), 40 + 30 * camera, dtype=np.uint8)
    x = int(np.clip((state[0] + 60) / 120 * (w - 12), 0, w - 12))
    y = int(np.clip(state[5] / 100 * (h - 12), 0, h - 12))
    img[y:y + 12, x:x + 12] = (220, 180 - 60 * camera, 90)
    return img


def make_dataset(
    root: Path,
    *,
    episodes: int = 6,
    lengths: Sequence[int] = (24, 30, 36),
    tasks: Sequence[str] = ("pick up the cube",),
    cameras: Sequence[str] = ("front", "wrist"),
    seed: int = 0,
) -> Path:
    """Write a LeRobot v3.0 dataset at ``root`` (must not exist) and return ``root``."""
    names = list(LEROBOT_FEATURE_NAMES)
    features = {
        "observation.state": {"dtype": "float32", "shape": (6,), "names": names},
        "action": {"dtype": "float32", "shape": (6,), "names": names},
    }
    for cam in cameras:
        features[f"observation.images.{cam}"] = {
            "dtype": "video", "shape": (*IMAGE_HW, 3), "names": ["height", "width", "channels"]}
    ds = LeRobotDataset.create(root.name, fps=FPS, features=features, root=root,
                               robot_type="so101_follower", use_videos=True)
    rng = np.random.default_rng(seed)
    for ep in range(episodes):
        n = lengths[ep % len(lengths)]
        phase = rng.uniform(0, 2 * np.pi, 6)
        start = HOME + rng.normal(0, 2.0, 6)
        t = np.arange(n + 1) / n
        traj = start + AMPLITUDE * np.sin(np.pi * t[:, None]) * np.sin(phase)
        traj[:, 5] = np.clip(traj[:, 5], 0, 100)
        for i in range(n):
            frame = {"observation.state": traj[i].astype(np.float32),
                     "action": traj[i + 1].astype(np.float32),
                     "task": tasks[ep % len(tasks)]}
            for c, cam in enumerate(cameras):
                frame[f"observation.images.{cam}"] = _image(traj[i], c)
            ds.add_frame(frame)
        with keep_scheduling():  # the AV1 encoder would leave pytest real-time
            ds.save_episode()
    ds.finalize()
    return root


@pytest.fixture(scope="session")
def dataset_factory() -> object:
    """:func:`make_dataset`, for tests that need a dataset of their own."""
    return make_dataset


@pytest.fixture(scope="session")
def so101_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six episodes (24/30/36 frames), one task, cameras front and wrist."""
    return make_dataset(tmp_path_factory.mktemp("data") / "so101_pick")


@pytest.fixture(scope="session")
def so101_dataset_b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second dataset, same features, another task: for multi-dataset runs."""
    return make_dataset(tmp_path_factory.mktemp("data_b") / "so101_place", episodes=4,
                        lengths=(20, 28), tasks=("place the cube",), seed=1)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight SmolVLA checkpoint (cameras camera1/camera2, chunk 10, 5 executed)."""
    from vla_ros.policy.tiny import make_tiny_policy

    return make_tiny_policy(tmp_path_factory.mktemp("tiny") / "smolvla_tiny", chunk_size=10, n_action_steps=5)


RENAME = ["observation.images.front=observation.images.camera1",
          "observation.images.wrist=observation.images.camera2"]
"""Dataset cameras -> the tiny policy's cameras, as ``--rename-map`` takes them."""


@pytest.fixture(scope="session")
def rename_map() -> list[str]:
    """:data:`RENAME`."""
    return list(RENAME)
