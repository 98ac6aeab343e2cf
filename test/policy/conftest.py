"""Shared fixtures of the policy tests: tiny SmolVLA checkpoints (built once per session, offline),
a calibration of the simulated arm, and a loaded tiny policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from policy_ros_harness import Harness
from policy_testlib import CAMERA_MAP, CHUNK, FPS, TASKS

from vla_ros.policy.tiny import make_tiny_policy
from vla_ros.robot.calibration import calibration_path, save_calibration, sim_calibration
from vla_ros.robot.description import joint_limits
from vla_ros.robot.units import UnitConverter


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny checkpoint: cameras camera1/camera2 (48x64), 15 Hz, chunks of 20, two training tasks."""
    return make_tiny_policy(tmp_path_factory.mktemp("ckpt") / "tiny", fps=FPS, chunk_size=CHUNK,
                            tasks=TASKS, camera_map=CAMERA_MAP, seed=0)


@pytest.fixture(scope="session")
def calibration(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """``(robot_id, calibration_dir)`` holding the simulated arm's lerobot calibration."""
    root = tmp_path_factory.mktemp("calibration")
    limits = {name: (lim.lower_rad, lim.upper_rad) for name, lim in joint_limits().items()}
    save_calibration(sim_calibration(limits), calibration_path("sim_test", root))
    return "sim_test", root


@pytest.fixture(scope="session")
def converter(calibration: tuple[str, Path]) -> UnitConverter:
    """Radians <-> LeRobot units of the simulated arm."""
    from vla_ros.robot.calibration import load_calibration

    return UnitConverter.from_calibration(load_calibration(calibration_path(*calibration)))


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> None:
    """Tiny models on a shared 2-core machine: one intra-op thread is ~10x faster than spinning two."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture
def harness():
    """Factory of :class:`policy_ros_harness.Harness` (a policy node and a probe), closed after the test."""
    made = []

    def make(*args, **kwargs):
        made.append(Harness(*args, **kwargs))
        return made[-1]

    yield make
    for h in made:
        h.close()
