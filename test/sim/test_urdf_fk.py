"""Our SO-101 URDF has the official kinematics: forward kinematics agree within 1 mm, limits equal.

The official description (TheRobotStudio SO-ARM100 ``so101_new_calib.urdf``) is read from
``../shared/so101`` when it is there; the tests skip cleanly otherwise.
"""

from pathlib import Path

import numpy as np
import pytest

from vla_ros.errors import BadInputError
from vla_ros.paths import urdf_file
from vla_ros.robot.description import joint_limits
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.robot.kinematics import KinematicTree, rpy_to_matrix

OFFICIAL = Path(__file__).resolve().parents[3] / "shared" / "so101" / "SO-ARM100" / "so101_new_calib.urdf"
# Our link name -> the official one, for every frame whose pose we compare.
LINKS = {
    "shoulder_link": "shoulder_link",
    "upper_arm_link": "upper_arm_link",
    "lower_arm_link": "lower_arm_link",
    "wrist_link": "wrist_link",
    "gripper_link": "gripper_link",
    "moving_jaw_link": "moving_jaw_so101_v1_link",
    "gripper_frame_link": "gripper_frame_link",
}

needs_official = pytest.mark.skipif(not OFFICIAL.is_file(), reason=f"official URDF not at {OFFICIAL}")


@pytest.fixture(scope="module")
def ours() -> KinematicTree:
    return KinematicTree(urdf_file())


@needs_official
def test_forward_kinematics_match_the_official_urdf_within_1mm(ours):
    official = KinematicTree(OFFICIAL)
    limits = joint_limits()
    rng = np.random.default_rng(2024)
    worst_m, worst_rot = 0.0, 0.0
    for _ in range(300):
        q = {n: rng.uniform(limits[n].lower_rad, limits[n].upper_rad) for n in JOINT_NAMES}
        for link, official_link in LINKS.items():
            a, b = ours.link_pose(link, q), official.link_pose(official_link, q)
            worst_m = max(worst_m, float(np.linalg.norm(a[:3, 3] - b[:3, 3])))
            worst_rot = max(worst_rot, float(np.abs(a[:3, :3] - b[:3, :3]).max()))
    assert worst_m < 1e-3, f"largest position difference {worst_m * 1000:.3f} mm"
    assert worst_rot < 1e-3, f"largest rotation-matrix difference {worst_rot:.2e}"


@needs_official
def test_joint_names_axes_and_limits_equal_the_official_ones(ours):
    official = KinematicTree(OFFICIAL)
    ours_limits, official_limits = joint_limits(), joint_limits(OFFICIAL)
    for name in JOINT_NAMES:
        assert ours.joints[name].type == official.joints[name].type == "revolute"
        np.testing.assert_allclose(ours.joints[name].axis, official.joints[name].axis)
        assert ours_limits[name] == official_limits[name], name
    assert ours.joints["gripper_frame_joint"].type == "fixed"


def test_known_pose_and_frame_conventions(ours):
    # At zero angles the upper arm stands up and the forearm points forward (+x), so the tool frame is
    # ~39 cm ahead of the base at shoulder height, its z axis (approach direction) along +x.
    pose = ours.link_pose("gripper_frame_link", {})
    np.testing.assert_allclose(pose[:3, 3], [0.391, 0.0, 0.226], atol=2e-3)
    np.testing.assert_allclose(pose[:3, 2], [1.0, 0.0, 0.0], atol=1e-3)
    # rpy is fixed-axis roll, pitch, yaw: Rz(yaw) @ Ry(pitch) @ Rx(roll)
    np.testing.assert_allclose(rpy_to_matrix(0.0, 0.0, np.pi / 2) @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(rpy_to_matrix(np.pi / 2, 0.0, 0.0) @ [0, 1, 0], [0, 0, 1], atol=1e-12)


def test_wrist_camera_optical_frame_looks_past_the_finger_tips(ours):
    # REP-103 optical frame: +z is the viewing direction; with the arm at zero angles the tips point +x.
    cam = ours.link_pose("wrist_camera_optical_frame", {})
    tip = ours.link_pose("gripper_frame_link", {})[:3, 3]
    to_tip = (tip - cam[:3, 3]) / np.linalg.norm(tip - cam[:3, 3])
    assert float(cam[:3, 2] @ to_tip) > 0.8


def test_bad_queries_are_reported(ours):
    with pytest.raises(BadInputError, match="unknown link"):
        ours.link_pose("no_such_link", {})
    with pytest.raises(BadInputError, match="elbow"):
        ours.link_pose("gripper_link", {"elbow": 0.1})
