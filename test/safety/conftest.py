"""Shared fixtures of the safety tests: SO-101 limits, a URDF file, and a real-DDS test bench.

The bench spins the ``safety_supervisor`` node and a test node in one executor thread of a private
rclpy context. The test node publishes ``policy/joint_commands`` and ``joint_states`` (real test
inputs over DDS) and records ``joint_commands`` and ``safety/status``. Its optional "arm" stands in
for the physical robot (the only mock, as the house rules allow): it republishes the last
``joint_commands`` it received as ``joint_states``, like a servo that tracks perfectly.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from so101_reference import OFFICIAL_LIMITS as SO101_BOUNDS

from vla_ros.robot.description import JointLimit
from vla_ros.robot.joints import JOINT_NAMES


@pytest.fixture
def so101_bounds() -> dict[str, tuple[float, float]]:
    """``{joint: (lower, upper)}`` of the official SO-101 URDF, radians."""
    return dict(SO101_BOUNDS)


@pytest.fixture
def limits() -> dict[str, JointLimit]:
    """The SO-101's joint limits as data (velocity 10 rad/s, as the official URDF)."""
    return {n: JointLimit(lo, hi, 10.0, 3.0) for n, (lo, hi) in SO101_BOUNDS.items()}


def write_urdf(path: Path) -> Path:
    """Write a minimal URDF with the six SO-101 revolute joints and their limits."""
    links = "".join(f'<link name="l{i}"/>' for i in range(len(JOINT_NAMES) + 1))
    joints = "".join(
        f'<joint name="{n}" type="revolute"><parent link="l{i}"/><child link="l{i + 1}"/>'
        f'<limit lower="{lo}" upper="{hi}" velocity="10" effort="3"/></joint>'
        for i, (n, (lo, hi)) in enumerate(SO101_BOUNDS.items()))
    path.write_text(f'<?xml version="1.0"?><robot name="so101">{links}{joints}</robot>')
    return path


@pytest.fixture
def urdf(tmp_path: Path) -> Path:
    """A URDF file with the SO-101 limits."""
    return write_urdf(tmp_path / "so101.urdf")


@dataclass
class Recorded:
    """What the test node received."""

    commands: list[tuple[float, np.ndarray, float]] = field(default_factory=list)
    """(header stamp s, positions, receipt wall time) of each joint_commands message."""
    statuses: list[Any] = field(default_factory=list)


class Bench:
    """A supervisor node plus a test node over real DDS, spun in a background thread."""

    def __init__(self, rclpy: Any, ctx: Any, executor: Any) -> None:
        self.rclpy, self.ctx, self.executor = rclpy, ctx, executor
        self.nodes: list[Any] = []
        self.ns = f"/safety_test_{uuid.uuid4().hex[:8]}"
        self.rec = Recorded()
        self.lock = threading.Lock()
        self.arm_pose: np.ndarray | None = None
        self.arm_follows = False
        self.arm_running = True

    def start(self, start_pose: np.ndarray, **params: Any) -> Any:
        """Start the supervisor with ``params`` and the test node whose arm starts at ``start_pose``."""
        from rclpy.parameter import Parameter
        from sensor_msgs.msg import JointState
        from std_srvs.srv import SetBool, Trigger

        from vla_ros.msg import SafetyStatus
        from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS, STATUS_QOS
        from vla_ros.safety.node import SafetySupervisorNode

        tester = f"safety_tester_{uuid.uuid4().hex[:6]}"  # the policy here: the supervisor's command source
        params.setdefault("command_source", tester)
        overrides = [Parameter(k, value=v) for k, v in params.items()]
        self.supervisor = SafetySupervisorNode(namespace=self.ns, context=self.ctx,
                                               parameter_overrides=overrides)
        node = self.rclpy.create_node(tester, namespace=self.ns, context=self.ctx)
        self.node = node
        self.arm_pose = np.array(start_pose, dtype=float)
        self.cmd_pub = node.create_publisher(JointState, "policy/joint_commands", COMMAND_QOS)
        self.state_pub = node.create_publisher(JointState, "joint_states", SENSOR_QOS)
        node.create_subscription(JointState, "joint_commands", self._on_command, COMMAND_QOS)
        node.create_subscription(SafetyStatus, "safety/status", self._on_status, STATUS_QOS)
        self.estop_cli = node.create_client(SetBool, "safety/estop")
        self.reset_cli = node.create_client(Trigger, "safety/reset_to_home")
        self.check_cli = node.create_client(Trigger, "safety/check_start_state")
        node.create_timer(0.02, self._arm_tick)
        for n in (self.supervisor, node):
            self.executor.add_node(n)
            self.nodes.append(n)
        return self.supervisor

    def _on_command(self, msg: Any) -> None:
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        pos = np.array(msg.position, dtype=float)
        with self.lock:
            self.rec.commands.append((stamp, pos, time.monotonic()))
            if self.arm_follows:
                self.arm_pose = pos.copy()

    def _on_status(self, msg: Any) -> None:
        with self.lock:
            self.rec.statuses.append(msg)

    def _arm_tick(self) -> None:
        if not self.arm_running or self.arm_pose is None:
            return
        self.state_pub.publish(joint_state(self.arm_pose))

    # -- test helpers ---------------------------------------------------------------------------

    def command(self, positions: Any, names: Any = JOINT_NAMES) -> None:
        """Publish one policy command."""
        from sensor_msgs.msg import JointState

        msg = JointState()
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.name = list(names)
        msg.position = [float(p) for p in positions]
        self.cmd_pub.publish(msg)

    def stream(self, positions: Any, duration_s: float, rate_hz: float = 30.0) -> None:
        """Publish the same policy command at ``rate_hz`` for ``duration_s``."""
        end = time.monotonic() + duration_s
        while time.monotonic() < end:
            self.command(positions)
            time.sleep(1.0 / rate_hz)

    def stream_until(self, positions: Any, reached: Any, timeout_s: float = 20.0,
                     rate_hz: float = 30.0) -> None:
        """Publish the same policy command until the last joint_commands is close to ``reached``."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            self.command(positions)
            with self.lock:
                last = self.rec.commands[-1][1] if self.rec.commands else None
            if last is not None and np.allclose(last, reached, atol=1e-9):
                self.stream(positions, 0.2, rate_hz)  # a few more: it must stay there
                return
            time.sleep(1.0 / rate_hz)
        raise AssertionError(f"joint_commands did not reach {reached} within {timeout_s} s: {last}")

    def call(self, client: Any, request: Any, timeout_s: float = 15.0) -> Any:
        """Call a service and wait for the response."""
        assert client.wait_for_service(timeout_sec=timeout_s), f"{client.srv_name} not available"
        future = client.call_async(request)
        end = time.monotonic() + timeout_s
        while not future.done() and time.monotonic() < end:
            time.sleep(0.01)
        assert future.done(), f"{client.srv_name}: no response within {timeout_s} s"
        return future.result()

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 20.0, what: str = "") -> None:
        """Wait until ``predicate()`` (checked under the lock) is true."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            with self.lock:
                if predicate():
                    return
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what or predicate}")

    def last_status(self) -> Any:
        with self.lock:
            return self.rec.statuses[-1] if self.rec.statuses else None

    def wait_state(self, name: str, timeout_s: float = 20.0) -> Any:
        """Wait for a safety/status with ``state_name == name``; returns it."""
        self.wait_for(lambda: bool(self.rec.statuses) and self.rec.statuses[-1].state_name == name,
                      timeout_s, f"state {name}")
        return self.last_status()

    def commands_since(self, t_wall: float) -> list[tuple[float, np.ndarray, float]]:
        with self.lock:
            return [c for c in self.rec.commands if c[2] >= t_wall]

    def wait_commands(self, count: int, timeout_s: float = 20.0) -> None:
        """Wait until at least ``count`` joint_commands were received in total."""
        self.wait_for(lambda: len(self.rec.commands) >= count, timeout_s, f"{count} joint_commands")


def joint_state(positions: Any) -> Any:
    from sensor_msgs.msg import JointState

    msg = JointState()
    msg.name = list(JOINT_NAMES)
    msg.position = [float(p) for p in positions]
    return msg


@pytest.fixture
def bench() -> Iterator[Bench]:
    """A fresh rclpy context with an executor spinning in a thread; torn down after the test."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    executor = SingleThreadedExecutor(context=ctx)  # as run_node spins the supervisor
    thread = threading.Thread(target=executor.spin, daemon=True)
    b = Bench(rclpy, ctx, executor)
    thread.start()
    try:
        yield b
    finally:
        for n in b.nodes:
            if hasattr(n, "close"):
                n.close()
            executor.remove_node(n)
        executor.shutdown(timeout_sec=5.0)
        thread.join(timeout=5.0)
        for n in b.nodes:
            n.destroy_node()
        rclpy.try_shutdown(context=ctx)
