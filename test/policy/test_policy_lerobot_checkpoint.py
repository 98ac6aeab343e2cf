"""smolvla_policy on a checkpoint trained by the real ``lerobot-train`` (no vla_ros contract), over DDS.

The guards take their facts from the checkpoint's ``train_config.json`` and the training dataset's
metadata (:func:`vla_ros.contract.read_contract`): the task guard refuses a task outside the dataset's
tasks, naming the closest; with the tasks source gone the node refuses to start unless
``allow_new_task``, and then warns at every enable; the camera guard compares what the mapped cameras
see with the dataset's camera signatures (live frames rendered by the simulator in another scene).
"""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest
import rclpy
from lerobot_train_testlib import IMAGE_HW, TASKS, lerobot_checkpoint
from policy_ros_harness import policy_params

from vla_ros.policy.errors import TaskRefusedError
from vla_ros.policy.node import SmolVLAPolicyNode

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def ros():
    rclpy.init()
    yield
    rclpy.shutdown()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return lerobot_checkpoint(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def live_frames():
    """Front and wrist images of a scene the training data never showed (other seed, other lighting)."""
    from vla_ros.sim.config import SimConfig
    from vla_ros.sim.render import CameraRenderer
    from vla_ros.sim.world import SimWorld

    world = SimWorld(SimConfig(image_width=IMAGE_HW[1], image_height=IMAGE_HW[0], seed=5, two_cubes=True))
    renderer = CameraRenderer(world, IMAGE_HW[1], IMAGE_HW[0])
    world.reset(3)
    world.set_joint_positions(world.start_pose_rad + np.array([0.2, 0.1, -0.1, 0.1, 0.3, 0.0]))
    frames = {cam: renderer.render(cam) for cam in ("front", "wrist")}
    renderer.close()
    return frames


def _params(trained, **extra):
    extra.setdefault("camera_map", ["front=camera1", "wrist=camera2"])
    return policy_params(trained.path, trained.calibration, **extra)


def _construct(params):
    node = SmolVLAPolicyNode(parameter_overrides=params)
    node.close()
    node.destroy_node()


def test_a_non_training_task_is_refused_naming_the_closest(trained):
    with pytest.raises(TaskRefusedError) as info:
        _construct(_params(trained, task="pick up the red cube"))
    message = str(info.value)
    assert f"closest training task: {TASKS[0]!r}" in message
    assert f"from dataset {trained.dataset}/meta/tasks" in message


def test_without_the_tasks_source_it_refuses_unless_allow_new_task(trained, tmp_path, harness, capfd):
    dataset = shutil.copytree(trained.dataset, tmp_path / "sim_pick")
    (dataset / "meta" / "tasks.parquet").unlink()
    params = dict(training_dataset=str(dataset), task="pick up the cube")
    with pytest.raises(TaskRefusedError, match="training tasks of this checkpoint are unknown"):
        _construct(_params(trained, **params))
    h = harness(_params(trained, allow_new_task=True, **params))
    for _ in range(2):
        assert h.enable(True).success
        assert h.enable(False).success
    h.wait_for(lambda: h.status)
    err = capfd.readouterr().err
    assert err.count("the training tasks are unknown") >= 3  # at start and at each of the two enables
    assert "runs unchecked because allow_new_task is true" in err


def test_the_camera_guard_refuses_swapped_cameras_before_the_arm_moves(trained, live_frames, harness):
    swapped = {"front": "wrist", "wrist": "front"}
    state = {"swap": False}
    h = harness(_params(trained, task=TASKS[0]),
                frames=lambda cam: live_frames[swapped[cam] if state["swap"] else cam])
    h.wait_for(lambda: h.status)
    ok = h.enable(True)
    assert ok.success and "camera identity ok" in ok.message, ok.message
    assert h.enable(False).success
    state["swap"] = True
    time.sleep(0.5)  # a few swapped frames arrive (published at 15 Hz)
    refused = h.enable(True)
    assert not refused.success
    assert "front looks like training's observation.images.camera2 (wrist)" in refused.message
    assert "wrist looks like training's observation.images.camera1 (front)" in refused.message
    assert "devices swapped?" in refused.message and not h.commands


def test_a_swap_while_running_stops_the_policy(trained, live_frames, harness):
    swapped = {"front": "wrist", "wrist": "front"}
    state = {"swap": False}
    h = harness(_params(trained, task=TASKS[0], camera_check_period_s=0.3),
                frames=lambda cam: live_frames[swapped[cam] if state["swap"] else cam])
    h.wait_for(lambda: h.status)
    assert h.enable(True).success
    time.sleep(1.0)  # a few periodic checks pass on the correct images (inference speed does not matter)
    assert h.status.state_name != "DISABLED", h.status
    state["swap"] = True
    status = h.wait_for(lambda: h.status.state_name == "DISABLED" and h.status, timeout_s=60.0)
    assert "camera check" in status.last_error and "devices swapped?" in status.last_error
