"""EpisodeBagWriter (ROS-agnostic): one MCAP bag per episode, task in the metadata, written aside."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore

from vla_ros.convert import convert_bags, load_config
from vla_ros.convert.mapping import TopicMapping
from vla_ros.convert.reader import read_custom_data
from vla_ros.record.bag import PARTIAL_DIR, EpisodeBagWriter, RecorderConfig, recorded_topics, typestore_for
from vla_ros.record.errors import RecorderError
from vla_ros.robot.joints import JOINT_NAMES

TS = get_typestore(Stores.ROS2_KILTED)
NS = 1_000_000_000
T0 = 1_700_000_000 * NS
TOPICS = {"/" + t: m for t, m in recorded_topics(TopicMapping(cameras={})).items()}


def joint_cdr(t: int, value: float) -> bytes:
    time = TS.types["builtin_interfaces/msg/Time"](sec=t // NS, nanosec=t % NS)
    msg = TS.types["sensor_msgs/msg/JointState"](
        header=TS.types["std_msgs/msg/Header"](stamp=time, frame_id=""),
        name=list(JOINT_NAMES),
        position=np.full(6, value),
        velocity=np.zeros(0),
        effort=np.zeros(0),
    )
    return bytes(TS.serialize_cdr(msg, "sensor_msgs/msg/JointState"))


def record_episode(writer: EpisodeBagWriter, seconds: float = 1.0) -> None:
    for k in range(int(seconds * 100) + 1):
        t = T0 + k * 10_000_000
        writer.write("/joint_states", t, joint_cdr(t, k * 1e-3))
        writer.write("/joint_commands", t + 1_000_000, joint_cdr(t + 1_000_000, k * 1e-3 + 0.1))


def test_episode_bag_round_trip(tmp_path: Path) -> None:
    writer = EpisodeBagWriter(tmp_path / "bags", TOPICS)
    assert not writer.write("/joint_states", T0, joint_cdr(T0, 0.0))  # idle: dropped
    final = writer.start("pick the cube")
    assert writer.recording and not final.exists()
    assert (tmp_path / "bags" / PARTIAL_DIR / final.name).is_dir()
    record_episode(writer)
    assert writer.stop() == final and final.is_dir() and not writer.recording
    assert not any((tmp_path / "bags" / PARTIAL_DIR).iterdir())
    assert writer.counts == {"/joint_states": 101, "/joint_commands": 101}
    assert read_custom_data(final)["task"] == "pick the cube"
    config = load_config(units="rad", vcodec="h264", mapping=TopicMapping(cameras={}))
    result = convert_bags([final], tmp_path / "ds", config, progress=False)
    assert result.episodes == [(str(final), 30)]
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    ds = LeRobotDataset("local/ds", root=tmp_path / "ds")
    assert ds[0]["task"] == "pick the cube"
    # grid starts at the first command (T0 + 1 ms); tick 3 = T0 + 101 ms: state of T0 + 100 ms (k = 10),
    # command stamped exactly at the tick (k = 10)
    np.testing.assert_allclose(ds[3]["observation.state"].numpy(), 0.010, atol=1e-6)
    np.testing.assert_allclose(ds[3]["action"].numpy(), 0.110, atol=1e-6)


def test_discard_and_refusals(tmp_path: Path) -> None:
    writer = EpisodeBagWriter(tmp_path, TOPICS, storage="sqlite3")
    with pytest.raises(RecorderError, match="no task"):
        writer.start("  ")
    with pytest.raises(RecorderError, match="not recording"):
        writer.stop()
    first = writer.start("t")
    with pytest.raises(RecorderError, match="already recording"):
        writer.start("t")
    record_episode(writer, 0.2)
    assert writer.discard() == first
    assert not first.exists() and not any((tmp_path / PARTIAL_DIR).iterdir())
    second = writer.start("t")
    assert second != first or not first.exists()
    record_episode(writer, 0.2)
    saved = writer.stop()
    assert list(saved.glob("*.db3")) and writer.saved == [saved]


def test_config_and_typestores() -> None:
    from vla_ros.errors import ConfigError

    with pytest.raises(ConfigError, match="episode_duration_s"):
        RecorderConfig(episode_duration_s=-1.0)
    with pytest.raises(ConfigError, match="storage"):
        RecorderConfig(storage="rosbag1")
    assert typestore_for("humble").types["sensor_msgs/msg/Image"]
    assert typestore_for("unknown-distro").types["sensor_msgs/msg/CompressedImage"]
