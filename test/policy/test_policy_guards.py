"""Deployment guards (pure functions), table-driven: camera map, task, robot fit, observation, chunk."""

import numpy as np
import pytest

from vla_ros.errors import BadInputError, StaleDataError
from vla_ros.policy.errors import CameraMapError, CheckpointError, NonFiniteChunkError, TaskRefusedError
from vla_ros.policy.guards import (
    check_camera_map,
    check_camera_swap,
    check_chunk,
    check_observation,
    check_robot_fit,
    check_task,
    closest_task,
)
from vla_ros.robot.joints import JOINT_NAMES

EXPECTED = ["observation.images.camera1", "observation.images.camera2"]



TRAINED = {"observation.images.front": "observation.images.camera1",
           "observation.images.wrist": "observation.images.camera2"}
EXPECTED = ["observation.images.camera1", "observation.images.camera2"]


def test_swapped_cameras_refused_naming_both():
    plan = check_camera_map({"front": "camera2", "wrist": "camera1"}, EXPECTED)
    with pytest.raises(CameraMapError) as err:
        check_camera_swap(plan, TRAINED)
    text = str(err.value)
    assert "front feeds observation.images.camera2 but fed observation.images.camera1" in text
    assert "wrist feeds observation.images.camera1" in text and "allow_camera_remap" in text


@pytest.mark.parametrize("camera_map", [{"front": "camera1", "wrist": "camera2"},
                                        {"up": "camera1", "side": "camera2"},
                                        {"front": "camera1", "camera2": ""}])
def test_training_mapping_or_other_names_pass(camera_map):
    assert check_camera_swap(check_camera_map(camera_map, EXPECTED), TRAINED) == []


def test_swap_allowed_is_reported():
    plan = check_camera_map({"front": "camera2", "wrist": "camera1"}, EXPECTED)
    assert len(check_camera_swap(plan, TRAINED, allow_remap=True)) == 2


@pytest.mark.parametrize(
    ("camera_map", "cameras", "empty"),
    [
        ({"front": "observation.images.camera1", "wrist": "observation.images.camera2"},
         {"front": "observation.images.camera1", "wrist": "observation.images.camera2"}, ()),
        ({"front": "camera1", "wrist": "camera2"},
         {"front": "observation.images.camera1", "wrist": "observation.images.camera2"}, ()),
        ({"front": "camera1", "camera2": ""}, {"front": "observation.images.camera1"},
         ("observation.images.camera2",)),
        ({"front": "camera1", "observation.images.camera2": ""}, {"front": "observation.images.camera1"},
         ("observation.images.camera2",)),
    ],
)
def test_camera_map_accepted(camera_map, cameras, empty):
    plan = check_camera_map(camera_map, EXPECTED)
    assert plan.cameras == cameras
    assert plan.empty == empty


@pytest.mark.parametrize(
    ("camera_map", "fragments"),
    [
        ({"front": "camera1"}, ["unmapped image features ['observation.images.camera2']"]),
        ({}, ["unmapped image features ['observation.images.camera1', 'observation.images.camera2']"]),
        ({"front": "camera1", "wrist": "camera3"},
         ["unknown image features ['observation.images.camera3']", "unmapped"]),
        ({"front": "camera1", "wrist": "camera1"}, ["fed by several cameras ['front', 'wrist']", "unmapped"]),
        ({"front": "camera1", "wrist": "camera2", "camera2": ""}, ["both fed by wrist and declared empty"]),
        ({"camera1": "", "camera2": ""}, ["needs at least one camera"]),
        ({"front cam": "camera1", "wrist": "camera2"}, ["not a valid ROS name"]),
        ({"front": "camera1", "wrist": "camera2", "top": ""},
         ["'top=' declares observation.images.top empty"]),
    ],
)
def test_camera_map_refused_lists_expected_and_available(camera_map, fragments):
    with pytest.raises(CameraMapError) as info:
        check_camera_map(camera_map, EXPECTED)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    assert f"Expected image features: {EXPECTED}" in message
    assert "camera_map provides" in message


TASKS = ["pick up the red cube and place it in the bowl", "push the blue block to the left"]


@pytest.mark.parametrize(
    ("task", "allow", "result"),
    [
        (TASKS[0], False, None),
        (TASKS[1], False, None),
        (TASKS[0], True, None),
        ("pick up the red cube and put it in the bowl", True, "closest training task: " + repr(TASKS[0])),
    ],
)
def test_task_accepted(task, allow, result):
    warning = check_task(task, TASKS, allow_new_task=allow)
    assert warning == result or (result and result in warning)


def test_task_unknown_training_tasks_refuse_unless_allowed():
    with pytest.raises(TaskRefusedError, match=r"tasks of this checkpoint are unknown \(no dataset\)"):
        check_task("whatever the user says", [], allow_new_task=False, source="no dataset")
    warning = check_task("whatever the user says", [], allow_new_task=True, source="no dataset")
    assert "unknown (no dataset)" in warning and "runs unchecked" in warning


@pytest.mark.parametrize(
    ("task", "closest"),
    [
        ("pick up the red cube and put it in the bowl", TASKS[0]),
        ("Pick up the red cube and place it in the bowl", TASKS[0]),
        ("pick up the red cube and place it in the bowl ", TASKS[0]),
        ("push the block to the left", TASKS[1]),
    ],
)
def test_task_refused_names_closest(task, closest):
    with pytest.raises(TaskRefusedError) as info:
        check_task(task, TASKS, allow_new_task=False, source="contract.json")
    message = str(info.value)
    assert f"closest training task: {closest!r}" in message
    assert "from contract.json" in message and "allow_new_task" in message
    assert closest_task(task, TASKS) == closest


@pytest.mark.parametrize("task", ["", "   "])
def test_empty_task_refused(task):
    with pytest.raises(TaskRefusedError, match="no task set"):
        check_task(task, TASKS, allow_new_task=True)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((7, 6), "7/6 values"),
        ((6, 6, ["a", "b", "c", "d", "e", "f"]), "joint order"),
        ((6, 6, None, "furlongs"), "units 'furlongs'"),
    ],
)
def test_robot_fit_refused(args, fragment):
    with pytest.raises(CheckpointError, match=fragment):
        check_robot_fit(*args)


def test_robot_fit_accepted():
    check_robot_fit(6, 6, list(JOINT_NAMES))


SHAPES = {"observation.images.camera1": (3, 48, 64), "observation.images.camera2": (3, 48, 64)}
GOOD = {k: np.zeros((48, 64, 3), np.uint8) for k in SHAPES}


@pytest.mark.parametrize(
    ("stamps", "images", "error", "fragments"),
    [
        ({"joint_states": 9.9, "observation.images.camera1": 9.95, "observation.images.camera2": 9.0},
         GOOD, StaleDataError, ["observation.images.camera2 is 1.000 s old (max_obs_age_s=0.5)"]),
        ({"joint_states": None, "observation.images.camera1": 9.9, "observation.images.camera2": None},
         GOOD, StaleDataError, ["no joint_states received yet", "no observation.images.camera2 received"]),
        ({"joint_states": 10.0, "observation.images.camera1": 10.0, "observation.images.camera2": 10.0},
         {**GOOD, "observation.images.camera2": np.zeros((480, 640, 3), np.uint8)}, BadInputError,
         ["image is 640x480, the checkpoint was trained on 64x48"]),
        ({"joint_states": 10.0, "observation.images.camera1": 10.0, "observation.images.camera2": 10.0},
         {**GOOD, "observation.images.camera1": BadInputError("unsupported encoding '16UC1'")},
         BadInputError, ["observation.images.camera1: unsupported encoding '16UC1'"]),
        ({"joint_states": 1.0, "observation.images.camera1": 10.0, "observation.images.camera2": 10.0},
         {**GOOD, "observation.images.camera1": np.zeros((4, 4, 3), np.uint8)}, StaleDataError,
         ["joint_states is 9.000 s old", "image is 4x4"]),
    ],
)
def test_observation_refused(stamps, images, error, fragments):
    with pytest.raises(error) as info:
        check_observation(10.0, 0.5, stamps, images, SHAPES)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_observation_accepted():
    stamps = {"joint_states": 9.8, "observation.images.camera1": 9.7, "observation.images.camera2": 10.0}
    check_observation(10.0, 0.5, stamps, GOOD, SHAPES)


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ([(0, 0, np.nan)], "1 NaN/inf values at steps [0] of 5, joints ['shoulder_pan']"),
        ([(3, 5, np.inf), (4, 5, -np.inf)], "2 NaN/inf values at steps [3, 4] of 5, joints ['gripper']"),
    ],
)
def test_chunk_with_nan_refused(bad, fragment):
    chunk = np.zeros((5, 6))
    for step, joint, value in bad:
        chunk[step, joint] = value
    with pytest.raises(NonFiniteChunkError) as info:
        check_chunk(chunk)
    assert fragment in str(info.value)


def test_finite_chunk_accepted():
    check_chunk(np.ones((5, 6)))
