"""The mapping config: defaults = config/convert.yaml, YAML overrides, units, topics to record."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from so101_reference import OFFICIAL_LIMITS

from vla_ros.convert.mapping import (
    ConvertConfig,
    StreamSpec,
    TopicMapping,
    camera_msgtype,
    feature_names,
    load_config,
    topics_to_record,
    units_of_feature_names,
)
from vla_ros.errors import ConfigError
from vla_ros.record.bag import recorded_topics


def test_installed_config_equals_the_defaults() -> None:
    from vla_ros.paths import config_file

    assert load_config(config_file("convert.yaml")) == ConvertConfig() == load_config()
    assert ConvertConfig().mapping.cameras["front"].topic == "cameras/front/image_raw"


def test_yaml_overrides_and_shorthand(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "fps: 15\nunits: rad\ntopics:\n  namespace: arm\n  cameras:\n    top: usb_cam/compressed\n"
        "  action: {topic: /leader/joint_states, tolerance_s: 0.2}\n"
    )
    config = load_config(path, task="wave")
    assert (config.fps, config.units, config.task) == (15, "rad", "wave")
    assert config.mapping.cameras == {"top": StreamSpec("usb_cam/compressed", 0.1)}
    assert topics_to_record(config.mapping) == [
        "/arm/joint_states",
        "/leader/joint_states",
        "/arm/usb_cam/compressed",
    ]
    assert topics_to_record(config.mapping, absolute=False)[0] == "joint_states"


def test_topics_to_record_includes_markers() -> None:
    mapping = TopicMapping(episode_topic="episode_marker")
    assert topics_to_record(mapping) == [
        "/joint_states",
        "/joint_commands",
        "/cameras/front/image_raw",
        "/cameras/wrist/image_raw",
        "/episode_marker",
    ]
    assert recorded_topics(mapping) == {
        "joint_states": "sensor_msgs/msg/JointState",
        "joint_commands": "sensor_msgs/msg/JointState",
        "cameras/front/image_raw": "sensor_msgs/msg/Image",
        "cameras/wrist/image_raw": "sensor_msgs/msg/Image",
    }


def test_invalid_mappings_are_refused_with_every_problem() -> None:
    mapping = TopicMapping(
        state=StreamSpec("joint_states", 0),
        action=StreamSpec("/joint_states", 0.1),
        cameras={"2cam": StreamSpec("", 0.1)},
    )
    with pytest.raises(ConfigError) as err:
        ConvertConfig(mapping=mapping, units="furlongs")
    text = str(err.value)
    for part in (
        "tolerance_s=0",
        "topics used for two dataset keys: ['/joint_states']",
        "camera name '2cam'",
        "empty topic",
        "units='furlongs'",
    ):
        assert part in text
    from vla_ros.convert.writer import check_vcodec

    check_vcodec("h264")
    with pytest.raises(ConfigError, match="vcodec='mpeg2'"):
        check_vcodec("mpeg2")


def test_units_and_feature_names() -> None:
    assert feature_names("lerobot")[0] == "shoulder_pan.pos"
    assert feature_names("rad")[-1] == "gripper.pos_rad"
    assert units_of_feature_names(feature_names("rad")) == "rad"
    assert units_of_feature_names(feature_names("lerobot")) == "lerobot"
    with pytest.raises(ConfigError):
        units_of_feature_names(["j0", "j1"])


def test_camera_message_types() -> None:
    assert camera_msgtype("cameras/front/image_raw") == "sensor_msgs/msg/Image"
    assert camera_msgtype("cameras/front/image_raw/compressed") == "sensor_msgs/msg/CompressedImage"


def test_core_modules_do_not_import_rclpy() -> None:
    code = (
        "import sys, vla_ros.convert, vla_ros.convert.cli, vla_ros.record.bag; "
        "assert 'rclpy' not in sys.modules, 'rclpy imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


def test_calibration_sources(tmp_path: Path) -> None:
    import numpy as np

    from vla_ros.convert.converter import unit_converter
    from vla_ros.robot.calibration import calibration_path, save_calibration, sim_calibration

    assert unit_converter(load_config(units="rad")) is None
    save_calibration(sim_calibration(OFFICIAL_LIMITS), calibration_path("arm7", tmp_path))
    by_id = unit_converter(load_config(robot_id="arm7", calibration_dir=str(tmp_path)))
    assert by_id is not None
    np.testing.assert_allclose(
        by_id.to_lerobot(np.array([0.5, 0, 0, 0, 0, -0.174533])), [28.6479, 0, 0, 0, 0, 0], atol=1e-3
    )
    sim = unit_converter(load_config(sim_calibration=True))  # the project's URDF limits
    assert sim is not None and sim.gripper_span_rad == pytest.approx(by_id.gripper_span_rad, rel=1e-2)
    from vla_ros.errors import CalibrationError

    with pytest.raises(CalibrationError, match="no calibration file"):
        unit_converter(load_config(robot_id="missing", calibration_dir=str(tmp_path)))
