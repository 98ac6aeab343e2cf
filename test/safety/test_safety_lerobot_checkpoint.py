"""safety_supervisor on a checkpoint trained by the real ``lerobot-train`` (no vla_ros contract), over DDS.

Home and the start-state check come from the training dataset ``train_config.json`` names (found
locally): home is the mean of the episodes' first ``observation.state`` and the check allows
``mean ± k·std`` of the same. Without any start-state source the check refuses, saying why.
"""

from __future__ import annotations

import numpy as np
import pytest
from lerobot_train_testlib import lerobot_checkpoint
from std_srvs.srv import Trigger
from test_safety_node import start

from vla_ros.robot.calibration import calibration_path, load_calibration
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.robot.units import UnitConverter

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return lerobot_checkpoint(tmp_path_factory.getbasetemp())


def test_resets_to_the_datasets_mean_start_and_checks_its_spread(bench, urdf, trained):
    robot_id, calib_dir = trained.calibration
    converter = UnitConverter.from_calibration(load_calibration(calibration_path(robot_id, calib_dir)))
    mean_rad = converter.to_ros(trained.first_states.mean(axis=0))
    std_rad = np.abs(converter.to_ros(trained.first_states.mean(axis=0) + trained.first_states.std(axis=0))
                     - mean_rad)
    pose = mean_rad + np.array([0.4, 0.0, 0.0, 0.0, 0.0, 0.0])
    start(bench, urdf, pose=pose, policy_path=str(trained.path), robot_id=robot_id,
          calibration_dir=str(calib_dir), reset_speed_fraction=1.0, start_state_k=2.0,
          start_state_min_std_rad=0.0)
    bench.arm_follows = True
    far = bench.call(bench.check_cli, Trigger.Request())
    assert not far.success and "shoulder_pan" in far.message
    assert f"dataset {trained.dataset}: first observation.state of 6 episodes" in far.message
    assert bench.call(bench.reset_cli, Trigger.Request()).success
    bench.wait_state("RESETTING", timeout_s=5.0)
    held = bench.wait_state("HOLDING", timeout_s=30.0)
    assert held.reason.startswith(f"home reached (dataset {trained.dataset}")
    np.testing.assert_allclose(bench.rec.commands[-1][1], mean_rad, atol=0.05)
    assert bench.call(bench.check_cli, Trigger.Request()).success
    bench.arm_follows = False
    joint = int(np.argmax(std_rad[:5]))
    for factor, inside in ((1.5, True), (2.5, False)):  # k = 2 standard deviations of the dataset's starts
        bench.arm_pose = mean_rad.copy()
        bench.arm_pose[joint] += factor * std_rad[joint]
        bench.wait_commands(len(bench.rec.commands) + 3)
        check = bench.call(bench.check_cli, Trigger.Request())
        assert check.success is inside, check.message
        assert inside or JOINT_NAMES[joint] in check.message


def test_without_a_start_state_source_the_check_refuses(bench, urdf, trained, tmp_path):
    import shutil

    ckpt = shutil.copytree(trained.path, tmp_path / "ckpt")
    (ckpt / "train_config.json").unlink()  # nothing leads to the training data any more
    start(bench, urdf, policy_path=str(ckpt))
    check = bench.call(bench.check_cli, Trigger.Request())
    assert not check.success and "start-state statistics are unknown" in check.message
    assert "no vla_ros_contract.json records it" in check.message
