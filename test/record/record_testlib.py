"""Test graph of the recorder tests: ``bag_recorder`` + a publisher of synthetic arm data + a client.

The publishers are test inputs (nothing is mocked); each graph uses its own namespace.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import String
from std_srvs.srv import Trigger

from vla_ros.camera.image import rgb_to_fields
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
        params = {"output_dir": str(tmp_path / "bags"), "backend": "rosbags", **params}
        overrides = [Parameter(k, value=v) for k, v in params.items()]
        self.recorder = BagRecorderNode(
            namespace=self.ns, context=self.context, parameter_overrides=overrides
        )
        self.arm = FakeArm(self.ns, self.context)
        self.client = Node("record_test", namespace=self.ns, context=self.context)
        self.status: list[dict[str, Any]] = []
        self.client.create_subscription(
            String, "record/status", lambda m: self.status.append(json.loads(m.data)), STATUS_QOS
        )
        self.executor = SingleThreadedExecutor(context=self.context)  # as run_node spins the recorder
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
