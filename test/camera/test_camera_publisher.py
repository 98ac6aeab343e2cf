"""``camera_publisher`` over real DDS, reading a generated lossless video: the pixels that arrive are
the file's, every message is a new frame, and camera_info goes with each image."""

import itertools

import numpy as np
import pytest
import yaml
from sensor_msgs.msg import CameraInfo, Image

from vla_ros.camera.image import msg_to_rgb
from vla_ros.camera.node import CameraPublisherConfig, CameraPublisherNode
from vla_ros.config import param_specs
from vla_ros.errors import ConfigError
from vla_ros.paths import config_file
from vla_ros.ros.qos import SENSOR_QOS

pytestmark = pytest.mark.timeout(120)


def _stamp_ns(msg) -> int:
    return msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec


def test_published_frames_are_the_video_files_pixels(ros, video, index_of):
    path, frames = video
    images = ros.record(Image, "cameras/table/image_raw", SENSOR_QOS, keep=1000)
    infos = ros.record(CameraInfo, "cameras/table/camera_info", SENSOR_QOS, keep=1000)
    ros.add(CameraPublisherNode, name="table", device=str(path), width=320, height=240, fps=30.0,
            fovx_deg=90.0)
    ros.wait_for(lambda: len(images) >= 45 and len(infos) >= 45, 60, "45 images and camera_infos")
    with ros.lock:
        got, got_infos = list(images), list(infos)
    for msg in got:
        assert (msg.width, msg.height, msg.encoding, msg.step) == (320, 240, "rgb8", 960)
        assert msg.header.frame_id == "table_camera_optical_frame"
        rgb = msg_to_rgb(msg)
        np.testing.assert_array_equal(rgb, frames[index_of(rgb)])
    stamps = [_stamp_ns(m) for m in got]
    assert all(b > a for a, b in itertools.pairwise(stamps)), "a frame was published twice or out of order"
    indices = [index_of(msg_to_rgb(m)) for m in got]
    steps = [(b - a) % len(frames) for a, b in itertools.pairwise(indices)]
    assert all(s >= 1 for s in steps), "the same file frame was published twice in a row"
    assert any(b < a for a, b in itertools.pairwise(indices)), "the video did not loop"
    # Paced, not speed (bench/bench_sim_camera.py measures the rate): on average never faster than the
    # file's 30 fps (single intervals may be short after a stall: the capture catches up one frame).
    assert (len(stamps) - 1) / ((stamps[-1] - stamps[0]) / 1e9) <= 33
    info_by_stamp = {_stamp_ns(i): i for i in got_infos}
    matched = [info_by_stamp[s] for s in stamps if s in info_by_stamp]
    assert len(matched) >= len(stamps) // 2  # best effort may drop a few, but they travel together
    info = matched[-1]
    assert (info.width, info.height, info.header.frame_id) == (320, 240, "table_camera_optical_frame")
    assert info.k[0] == pytest.approx(160.0) and info.k[2] == pytest.approx(159.5)  # 90 deg: fx = W / 2


def test_bad_parameters_refuse_to_start(ros, video):
    path, _ = video
    with pytest.raises(ConfigError) as err:
        ros.add(CameraPublisherNode, name="a/b", device=str(path), fourcc="XVID")
    assert "fourcc" in str(err.value)
    with pytest.raises(ConfigError, match="name"):
        CameraPublisherConfig(name="a/b")


def test_intrinsics_from_parameters():
    ideal = CameraPublisherConfig(width=640, height=480, fovx_deg=90.0).intrinsics()
    assert (ideal.fx, ideal.fy, ideal.cx, ideal.cy) == pytest.approx((320.0, 320.0, 319.5, 239.5))
    calibrated = CameraPublisherConfig(width=640, height=480, fx=500.0, cx=300.0, cy=250.0).intrinsics()
    assert (calibrated.fx, calibrated.fy, calibrated.cx, calibrated.cy) == (500.0, 500.0, 300.0, 250.0)


def test_the_shipped_parameter_file_declares_valid_parameters_only():
    values = yaml.safe_load(config_file("camera_publisher.yaml").read_text())["/**"]["ros__parameters"]
    assert set(values) == set(param_specs(CameraPublisherConfig))
    assert CameraPublisherConfig(**values).frame_id == "front_camera_optical_frame"
