"""Fixtures of the ROS 2 user's path: one colcon workspace per test session, built as the README says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ros2_testlib import Workspace, colcon_build, require_ros2_tools, ros_env

TASKS = ("reach the red cube", "reach the blue cube")
IMAGE_SIZE = (240, 320)  # (H, W): the simulator's cameras and the checkpoint's, as trained together


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """``colcon build --packages-select vla_ros`` in a fresh workspace, and a shell that sourced it."""
    require_ros2_tools()
    base = tmp_path_factory.mktemp("ws")
    env = ros_env(base / "home")
    build = colcon_build(base, env)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    ws = Workspace(base, env)
    yield ws
    ws.run("ros2 daemon stop", timeout=30)
    ws.close()


@pytest.fixture(scope="session")
def reach_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny SmolVLA trained (random weights) on the two reach tasks at the test's camera size."""
    from vla_ros.policy.tiny import make_tiny_policy

    return Path(make_tiny_policy(
        tmp_path_factory.mktemp("policy") / "tiny", image_size=IMAGE_SIZE, chunk_size=50, tasks=TASKS,
        camera_map={"observation.images.front": "observation.images.camera1",
                    "observation.images.wrist": "observation.images.camera2"}))
