"""bag_recorder over real DDS: synthetic joint_states / joint_commands / camera images published by a test
node, recorded, converted with the converter, loaded with lerobot.

The publishers are test inputs (nothing is mocked); each test uses its own namespace.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rclpy
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import String
from std_srvs.srv import Trigger

from vla_ros.camera.image import rgb_to_fields
from vla_ros.convert import convert_bags, load_config
from vla_ros.convert.reader import read_custom_data
from vla_ros.record.node import BagRecorderNode
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS, STATUS_QOS

_COUNTER = itertools.count()


class FakeArm(Node):
    """Publishes what the converter needs: joints at 50 Hz (position = tick count × 1e-3 rad, commands
    + 0.1), two 64×48 cameras at 25 Hz; header stamps = now."""

    def __init__(self, namespace: str, context: Any) -> None:
        super().__init__("fake_arm", namespace=namespace, context=context)
        self.k = 0
        self.states = self.create_publisher(JointState, "joint_states", SENSOR_QOS)
        self.commands = self.create_publisher(JointState, "joint_commands", COMMAND_QOS)
        self.cams = {
            n: self.create_publisher(Image, f"cameras/{n}/image_raw", SENSOR_QOS) for n in ("front", "wrist")
        }
        self.create_timer(0.02, self._joints)
        self.create_timer(0.04, self._images)

    def _joints(self) -> None:
        self.k += 1
        for pub, offset in ((self.states, 0.0), (self.commands, 0.1)):
            msg = JointState(name=list(JOINT_NAMES), position=[self.k * 1e-3 + offset] * 6)
            msg.header.stamp = self.get_clock().now().to_msg()
            pub.publish(msg)

    def _images(self) -> None:
        rgb = np.full((48, 64, 3), (self.k * 5) % 256, dtype=np.uint8)
        for pub in self.cams.values():
            msg = Image(**rgb_to_fields(rgb))
            msg.header.stamp = self.get_clock().now().to_msg()
            pub.publish(msg)


class Graph:
    """Recorder + fake arm + a test client node, spun in a background executor."""

    def __init__(self, tmp_path: Path, **params: Any) -> None:
        self.ns = f"/rec{os.getpid()}_{next(_COUNTER)}"
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        overrides = [
            Parameter("output_dir", value=str(tmp_path / "bags")),
            *(Parameter(k, value=v) for k, v in params.items()),
        ]
        self.recorder = BagRecorderNode(
            namespace=self.ns, context=self.context, parameter_overrides=overrides
        )
        self.arm = FakeArm(self.ns, self.context)
        self.client = Node("record_test", namespace=self.ns, context=self.context)
        self.status: list[dict[str, Any]] = []
        self.client.create_subscription(
            String, "record/status", lambda m: self.status.append(json.loads(m.data)), STATUS_QOS
        )
        self.executor = MultiThreadedExecutor(num_threads=3, context=self.context)
        for node in (self.recorder, self.arm, self.client):
            self.executor.add_node(node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def call(self, service: str, timeout_s: float = 30.0) -> Trigger.Response:
        client = self.client.create_client(Trigger, service)
        assert client.wait_for_service(timeout_sec=timeout_s), service
        future = client.call_async(Trigger.Request())
        deadline = time.monotonic() + timeout_s
        while not future.done():
            assert time.monotonic() < deadline, f"{service} timed out"
            time.sleep(0.02)
        return future.result()

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            assert time.monotonic() < deadline, "condition not met in time"
            time.sleep(0.05)

    def close(self) -> None:
        self.recorder.close()
        self.executor.shutdown()
        for node in (self.recorder, self.arm, self.client):
            node.destroy_node()
        rclpy.try_shutdown(context=self.context)
        self.thread.join(timeout=10)


@pytest.fixture
def graph(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Graph]:
    params = getattr(request, "param", {})
    g = Graph(tmp_path, **params)
    yield g
    g.close()


def messages_flowing(g: Graph) -> bool:
    return g.recorder.writer.recording and all(n > 0 for n in g.recorder.writer.counts.values())


@pytest.mark.parametrize("graph", [{"task": "pick the cube"}], indirect=True)
def test_record_convert_and_load(graph: Graph, tmp_path: Path) -> None:
    graph.wait_for(lambda: graph.status and graph.status[-1]["state"] == "idle")
    start = graph.call("record/start")
    assert start.success, start.message
    graph.wait_for(lambda: messages_flowing(graph))
    graph.wait_for(lambda: graph.recorder.writer.counts[f"{graph.ns}/cameras/front/image_raw"] >= 50, 60)
    graph.wait_for(lambda: graph.status[-1]["state"] == "recording")
    stop = graph.call("record/stop")
    assert stop.success and Path(stop.message).is_dir()
    graph.wait_for(lambda: graph.status[-1]["state"] == "idle" and graph.status[-1]["saved"] == 1)
    assert graph.status[-1]["last_saved"] == stop.message
    bag = Path(stop.message)
    assert bag.parent == tmp_path / "bags" and read_custom_data(bag)["task"] == "pick the cube"
    assert list(bag.glob("*.mcap"))

    config = load_config(units="rad", vcodec="h264", namespace=None)
    config = config.__class__(
        **{
            **config.__dict__,
            "mapping": config.mapping.__class__(namespace=graph.ns.strip("/")),
            "on_gap": "split",
        }
    )
    result = convert_bags([bag], tmp_path / "ds", config, progress=False)
    assert result.frames >= 40  # ≥ 50 frames at 25 Hz recorded: about 2 s, at 30 fps
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    ds = LeRobotDataset("local/ds", root=tmp_path / "ds", video_backend="pyav")
    assert len(ds) == result.frames and ds[0]["task"] == "pick the cube"
    item = ds[len(ds) // 2]
    assert item["observation.images.front"].shape == (3, 48, 64)
    state = ds.hf_dataset.with_format("numpy")[:]["observation.state"][:, 0]
    action = ds.hf_dataset.with_format("numpy")[:]["action"][:, 0]
    assert np.all(np.diff(state) >= 0) and np.all(action >= state + 0.1 - 1e-6)


@pytest.mark.parametrize("graph", [{"task": ""}], indirect=True)
def test_discard_and_task_required(graph: Graph, tmp_path: Path) -> None:
    refused = graph.call("record/start")
    assert not refused.success and "no task" in refused.message
    graph.recorder.set_parameters([Parameter("task", value="wave")])
    assert graph.call("record/start").success
    graph.wait_for(lambda: messages_flowing(graph))
    discarded = graph.call("record/discard")
    assert discarded.success and not Path(discarded.message).exists()
    assert not graph.call("record/stop").success
    assert not [p for p in (tmp_path / "bags").iterdir() if not p.name.startswith(".")]


@pytest.mark.parametrize(
    "graph", [{"task": "wave", "autostart": True, "episode_duration_s": 1.5}], indirect=True
)
def test_autostart_and_episode_duration(graph: Graph, tmp_path: Path) -> None:
    graph.wait_for(lambda: bool(graph.recorder.writer.saved), 60)
    bag = graph.recorder.writer.saved[0]
    assert not graph.recorder.writer.recording
    assert read_custom_data(bag)["task"] == "wave"
    from vla_ros.convert.reader import open_bag

    with open_bag(bag) as reader:
        span_s = (reader.end_time - reader.start_time) / 1e9
        topics = {c.topic for c in reader.connections}
    assert 1.0 <= span_s <= 3.0
    assert topics == {
        f"{graph.ns}/{t}"
        for t in ("joint_states", "joint_commands", "cameras/front/image_raw", "cameras/wrist/image_raw")
    }


def test_parameters_are_described(graph: Graph) -> None:
    described = {
        d.name: d
        for d in graph.recorder.describe_parameters(
            ["output_dir", "task", "autostart", "episode_duration_s", "storage"]
        )
    }
    assert described["output_dir"].read_only and described["storage"].read_only
    assert "0 = until record/stop" in described["episode_duration_s"].description
    assert described["episode_duration_s"].floating_point_range[0].to_value == 86400.0
