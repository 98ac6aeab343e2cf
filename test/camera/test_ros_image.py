"""rclpy image messages: RGB <-> sensor_msgs/Image (direct and cv_bridge agree), CameraInfo, stamps."""

import numpy as np
import pytest

from vla_ros.camera.image import msg_to_rgb
from vla_ros.camera.intrinsics import CameraIntrinsics
from vla_ros.errors import BadInputError, ConfigError
from vla_ros.ros import image as ros_image
from vla_ros.ros.image import camera_info_msg, direct_rgb_to_msg, rgb_to_msg, stamp_from_ns


@pytest.fixture
def rgb() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)


def test_rgb_roundtrips_through_an_image_message(rgb):
    stamp = stamp_from_ns(1_700_000_000_123_456_789)
    msg = rgb_to_msg(rgb, stamp, "cam_optical_frame")
    assert (msg.height, msg.width, msg.encoding, msg.step, msg.is_bigendian) == (48, 64, "rgb8", 192, 0)
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (1_700_000_000, 123_456_789)
    assert msg.header.frame_id == "cam_optical_frame"
    np.testing.assert_array_equal(msg_to_rgb(msg), rgb)
    np.testing.assert_array_equal(msg_to_rgb(rgb_to_msg(rgb[:, ::-1], stamp, "f")), rgb[:, ::-1])  # a view


@pytest.mark.skipif(not ros_image.HAVE_CV_BRIDGE, reason="cv_bridge is not installed")
def test_cv_bridge_and_direct_conversion_give_the_same_message(rgb):
    stamp = stamp_from_ns(42)
    bridged, direct = rgb_to_msg(rgb, stamp, "f"), direct_rgb_to_msg(rgb, stamp, "f")
    assert bridged == direct


def test_bad_arrays_are_refused_on_both_paths():
    stamp = stamp_from_ns(0)
    for bad in (np.zeros((4, 4), np.uint8), np.zeros((4, 4, 4), np.uint8), np.zeros((4, 4, 3), np.float32)):
        with pytest.raises(BadInputError):
            rgb_to_msg(bad, stamp, "f")
        with pytest.raises(BadInputError):
            direct_rgb_to_msg(bad, stamp, "f")


def test_camera_info_of_an_ideal_camera():
    intr = CameraIntrinsics.from_fov(640, 480, fovy_deg=90.0)
    msg = camera_info_msg(intr, stamp_from_ns(5), "cam")
    assert (msg.width, msg.height, msg.distortion_model) == (640, 480, "plumb_bob")
    assert msg.header.frame_id == "cam"
    assert list(msg.k) == pytest.approx([240.0, 0, 319.5, 0, 240.0, 239.5, 0, 0, 1])
    assert list(msg.p) == pytest.approx([240.0, 0, 319.5, 0, 0, 240.0, 239.5, 0, 0, 0, 1, 0])
    assert list(msg.r) == [1, 0, 0, 0, 1, 0, 0, 0, 1] and list(msg.d) == [0.0] * 5
    assert CameraIntrinsics.from_fov(640, 480, fovx_deg=90.0).fx == pytest.approx(320.0)
    with pytest.raises(ConfigError):
        CameraIntrinsics.from_fov(640, 480)
    with pytest.raises(ConfigError):
        CameraIntrinsics.from_fov(640, 480, fovy_deg=180.0)
    with pytest.raises(ConfigError, match="width"):
        CameraIntrinsics(0, 480, 1.0, 1.0, 0.0, 0.0)
