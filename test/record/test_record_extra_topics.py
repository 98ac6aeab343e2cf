"""``extra_topics``: a package's own message (the policy's ActionChunk) recorded next to the converter's
topics with the rosbags backend, read back with rosbags' AnyReader from the bag's own definitions."""

from __future__ import annotations

import numpy as np
import pytest
from rosbags.highlevel import AnyReader

from vla_ros.errors import ConfigError
from vla_ros.record.bag import EpisodeBagWriter, RecorderConfig, parse_extra_topics, typestore_for
from vla_ros.record.errors import RecorderError

CHUNK = "vla_ros/msg/ActionChunk"


def test_parse_extra_topics():
    assert parse_extra_topics([f"policy/action_chunk={CHUNK}"]) == {"policy/action_chunk": CHUNK}
    with pytest.raises(ConfigError, match="topic=package/msg/Type"):
        RecorderConfig(extra_topics=["policy/action_chunk", "x=vla_ros/ActionChunk"])


def test_action_chunks_recorded_and_read_back(tmp_path):
    store = typestore_for()
    writer = EpisodeBagWriter(tmp_path, {"/policy/action_chunk": CHUNK}, typestore=store)
    time = store.types["builtin_interfaces/msg/Time"](sec=1, nanosec=0)
    header = store.types["std_msgs/msg/Header"](stamp=time, frame_id="")
    chunk = store.types[CHUNK](header=header, joint_names=["shoulder_pan"], fps=30.0, num_steps=2,
                               actions=np.array([0.1, 0.2], dtype=np.float32), first_future_index=0,
                               inference_latency_s=0.25)
    writer.start("reach the red cube")
    writer.write("/policy/action_chunk", 1_000_000_000, store.serialize_cdr(chunk, CHUNK))
    bag = writer.stop()
    with AnyReader([bag]) as reader:
        (conn, _, raw), = list(reader.messages())
        msg = reader.deserialize(raw, conn.msgtype)
    assert conn.msgtype == CHUNK and msg.num_steps == 2 and msg.actions.tolist() == pytest.approx([0.1, 0.2])


def test_unknown_type_is_a_clear_error(tmp_path):
    with pytest.raises(RecorderError, match="no message definition for vla_ros/msg/NoSuch"):
        EpisodeBagWriter(tmp_path, {"/x": "vla_ros/msg/NoSuch"})
