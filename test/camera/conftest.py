"""Fixtures of the camera tests: generated lossless videos and an in-process ROS probe."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from ros_testlib import Probe


def write_video(path: Path, width: int, height: int, count: int, fps: float = 30.0) -> list[np.ndarray]:
    """Write ``count`` random-noise frames to a lossless FFV1 video; returns them as RGB.

    The top-left 8x8 block of frame i is grey level 10 * i, so any decoded frame names its index.
    """
    rng = np.random.default_rng(len(path.name))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), fps, (width, height))
    assert writer.isOpened(), "OpenCV cannot write FFV1"
    frames = []
    for i in range(count):
        rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        rgb[:8, :8] = 10 * i
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        frames.append(rgb)
    writer.release()
    return frames


def frame_index(rgb: np.ndarray) -> int:
    """The index a frame of :func:`write_video` carries."""
    return round(float(rgb[:8, :8].mean()) / 10)


@pytest.fixture
def index_of() -> Callable[[np.ndarray], int]:
    """:func:`frame_index`, for the tests."""
    return frame_index


@pytest.fixture
def video(tmp_path: Path) -> tuple[Path, list[np.ndarray]]:
    """A 320x240, 20-frame lossless video and its frames (RGB)."""
    path = tmp_path / "scene.avi"
    return path, write_video(path, 320, 240, 20)


@pytest.fixture
def ros() -> Iterator[Probe]:
    """A probe in a unique namespace that also spins the camera nodes under test (``ros.add``)."""
    bench = Probe("camera_probe", f"/camtest_{uuid.uuid4().hex[:8]}")
    yield bench
    bench.close()
