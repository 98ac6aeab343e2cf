"""A DDS harness for smolvla_policy tests: the node under test in its own executor thread, and a helper
node publishing test inputs (joint_states, camera images) and recording the node's outputs."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
from policy_testlib import HOME_RAD, TASKS
from rcl_interfaces.msg import Parameter as ParameterMsg
from rcl_interfaces.srv import SetParameters
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import String
from std_srvs.srv import SetBool

from vla_ros.camera.image import rgb_to_fields
from vla_ros.msg import ActionChunk, PolicyStatus
from vla_ros.policy.node import SmolVLAPolicyNode
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS, STATUS_QOS


def policy_params(ckpt, calibration, **extra: Any) -> list[Parameter]:
    """Parameter overrides: checkpoint, calibration, a training task, no supervisor, plus ``extra``."""
    robot_id, root = calibration
    values = {"policy_path": str(ckpt), "robot_id": robot_id, "calibration_dir": str(root), "task": TASKS[0],
              "start_state_check": "skip", "camera_map": ["front=camera1", "wrist=camera2"],
              "torch_threads": 1,
              "inference_process": False, **extra}  # a thread: starts in a second, not ten
    return [Parameter(k, value=v) for k, v in values.items()]


class Harness:
    """Test inputs and output recorders around one ``smolvla_policy`` node in a unique namespace.

    Args:
        params: the node's parameter overrides.
        image_age_s: how old the published images claim to be (stale-data tests).
        image_size: ``(H, W)`` of the published images.
        frames: camera name (``front``, ``wrist``) -> the ``(H, W, 3)`` uint8 RGB image to publish now
            (default: the same grey image on both).
    """

    def __init__(self, params: list[Parameter], *, image_age_s: float = 0.0,
                 image_size: tuple[int, int] = (48, 64),
                 frames: Callable[[str], np.ndarray] | None = None) -> None:
        self.ns = f"/t_{uuid.uuid4().hex[:8]}"
        self.policy = SmolVLAPolicyNode(namespace=self.ns, parameter_overrides=params)
        self.io = Node("policy_test_io", namespace=self.ns)
        self.image_age_s = image_age_s
        self.frames = frames
        self.commands: list[tuple[float, float, np.ndarray]] = []  # (receive s, header stamp s, positions)
        self.chunks: list[ActionChunk] = []
        self.statuses: list[PolicyStatus] = []
        self._lock = threading.Lock()
        self.js_pub = self.io.create_publisher(JointState, "joint_states", SENSOR_QOS)
        self.img_pubs = [self.io.create_publisher(Image, f"cameras/{c}/image_raw", SENSOR_QOS)
                         for c in ("front", "wrist")]
        self.task_pub = self.io.create_publisher(String, "policy/task", 10)
        self.io.create_subscription(JointState, "policy/joint_commands", self._on_command, COMMAND_QOS)
        self.io.create_subscription(ActionChunk, "policy/action_chunk", self._on_chunk, STATUS_QOS)
        self.io.create_subscription(PolicyStatus, "policy/status", self._on_status, STATUS_QOS)
        self.enable_client = self.io.create_client(SetBool, "policy/enable")
        self.param_client = self.io.create_client(SetParameters, "smolvla_policy/set_parameters")
        self._image = Image(**rgb_to_fields(np.full((*image_size, 3), 90, np.uint8)))
        self.io.create_timer(1 / 30, self._publish_joint_states)
        self.io.create_timer(1 / 15, self._publish_images)
        self._policy_exec = SingleThreadedExecutor()  # as main() spins it
        self._policy_exec.add_node(self.policy)
        self._io_exec = SingleThreadedExecutor()
        self._io_exec.add_node(self.io)
        for executor in (self._policy_exec, self._io_exec):
            threading.Thread(target=executor.spin, daemon=True).start()

    # ---- inputs
    def _now(self) -> float:
        return self.io.get_clock().now().nanoseconds * 1e-9

    def _publish_joint_states(self) -> None:
        msg = JointState(name=list(JOINT_NAMES), position=list(HOME_RAD))
        msg.header.stamp = self.io.get_clock().now().to_msg()
        self.js_pub.publish(msg)

    def _publish_images(self) -> None:
        ns = self.io.get_clock().now().nanoseconds - int(self.image_age_s * 1e9)
        self._image.header.stamp.sec, self._image.header.stamp.nanosec = divmod(ns, 1_000_000_000)
        for cam, pub in zip(("front", "wrist"), self.img_pubs):
            if self.frames is None:
                pub.publish(self._image)
                continue
            msg = Image(**rgb_to_fields(self.frames(cam)))
            msg.header.stamp = self._image.header.stamp
            pub.publish(msg)

    # ---- outputs
    def _on_command(self, msg: JointState) -> None:
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        with self._lock:
            self.commands.append((time.monotonic(), stamp, np.array(msg.position)))

    def _on_chunk(self, msg: ActionChunk) -> None:
        with self._lock:
            self.chunks.append(msg)

    def _on_status(self, msg: PolicyStatus) -> None:
        with self._lock:
            self.statuses.append(msg)

    @property
    def status(self) -> PolicyStatus | None:
        with self._lock:
            return self.statuses[-1] if self.statuses else None

    def wait_for(self, condition: Callable[[], Any], timeout_s: float = 30.0) -> Any:
        """Poll ``condition`` until it is truthy (returned) or ``timeout_s`` passes (AssertionError)."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            value = condition()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout_s} s; last status: {self.status}")

    def call(self, client: Any, request: Any, timeout_s: float = 30.0) -> Any:
        self.wait_for(lambda: client.service_is_ready(), timeout_s)
        future = client.call_async(request)
        self.wait_for(future.done, timeout_s)
        return future.result()

    def enable(self, on: bool = True) -> SetBool.Response:
        return self.call(self.enable_client, SetBool.Request(data=on))

    def set_param(self, name: str, value: Any) -> Any:
        msg = ParameterMsg(name=name, value=Parameter(name, value=value).get_parameter_value())
        return self.call(self.param_client, SetParameters.Request(parameters=[msg])).results[0]

    def command_array(self) -> tuple[np.ndarray, np.ndarray]:
        """``(header stamps s, positions (N, 6))`` of the commands received so far."""
        with self._lock:
            cmds = list(self.commands)
        return np.array([c[1] for c in cmds]), np.array([c[2] for c in cmds]).reshape(-1, 6)

    def close(self) -> None:
        for e in (self._policy_exec, self._io_exec):
            e.shutdown(timeout_sec=2.0)
        self.policy.close()
        self.policy.destroy_node()
        self.io.destroy_node()
