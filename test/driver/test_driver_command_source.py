"""``so101_driver`` follows only its command source, over real DDS: a rogue publisher on
``joint_commands`` makes it hold (following neither), ``/diagnostics`` names the rogue, and it resumes
once the rogue is gone; a second ``joint_states`` publisher makes it refuse to start. The STS3215
emulator stands in for the arm's hardware; "safety_supervisor" is a plain test node standing in for it."""

from __future__ import annotations

import threading
import uuid

import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from ros_testlib import RoguePublisher
from sensor_msgs.msg import JointState

from vla_ros.command_source.errors import SharedTopicError
from vla_ros.driver.node import So101DriverNode
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS

POSE_A = np.array([0.3, -0.2, 0.2, 0.1, 0.0, 0.3])
POSE_B = np.array([-0.3, 0.2, -0.2, -0.1, 0.2, 0.6])
ROGUE = np.array([1.2, 0.8, -0.8, 1.0, 1.5, 1.0])  # the pose of the rogue script


class Bench:
    """Driver, source and observer nodes in one context, spun by one executor thread."""

    def __init__(self, context: Context, overrides: list[Parameter]) -> None:
        self.ns = f"/cs{uuid.uuid4().hex[:8]}"
        self.context = context
        self.lock = threading.Lock()
        self.state: np.ndarray | None = None
        self.rogue_on = False
        self.closest_to_rogue = np.inf  # rad, largest joint error from the rogue pose while it publishes
        self.source_diag: list[DiagnosticStatus] = []
        self.goal = POSE_A
        self.executor = SingleThreadedExecutor(context=context)
        self.driver = So101DriverNode(namespace=self.ns, context=context, parameter_overrides=overrides)
        self.source = self._node("safety_supervisor")
        pub = self.source.create_publisher(JointState, "joint_commands", COMMAND_QOS)
        self.source.create_timer(1 / 30, lambda: pub.publish(_command(self.goal)))
        observer = self._node("observer")
        observer.create_subscription(JointState, "joint_states", self._on_state, SENSOR_QOS)
        observer.create_subscription(DiagnosticArray, "/diagnostics", self._on_diag, 50)
        self.executor.add_node(self.driver)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def _node(self, name: str):
        node = rclpy.create_node(name, namespace=self.ns, context=self.context)
        self.executor.add_node(node)
        return node

    def _on_state(self, msg: JointState) -> None:
        with self.lock:
            self.state = np.array(msg.position)
            if self.rogue_on:
                self.closest_to_rogue = min(self.closest_to_rogue, float(np.abs(self.state - ROGUE).max()))

    def _on_diag(self, msg: DiagnosticArray) -> None:
        with self.lock:
            self.source_diag += [s for s in msg.status
                                 if s.name == f"{self.ns}/so101_driver: command source"]

    def at(self, pose: np.ndarray) -> bool:
        with self.lock:
            return self.state is not None and bool(np.allclose(self.state, pose, atol=0.02))

    def last_source_status(self) -> DiagnosticStatus | None:
        with self.lock:
            return self.source_diag[-1] if self.source_diag else None

    def close(self) -> None:
        self.driver.close()
        self.executor.shutdown(timeout_sec=10)
        self.thread.join(timeout=10)
        for node in self.executor.get_nodes():
            node.destroy_node()


def _command(pose: np.ndarray) -> JointState:
    return JointState(name=list(JOINT_NAMES), position=[float(p) for p in pose])


@pytest.fixture
def context():
    ctx = Context()
    rclpy.init(context=ctx)
    yield ctx
    rclpy.shutdown(context=ctx)


@pytest.fixture
def overrides(emulator, make_config, robot_id) -> list[Parameter]:
    cfg = make_config()
    return [Parameter("port", value=cfg.port), Parameter("robot_id", value=robot_id),
            Parameter("calibration_dir", value=cfg.calibration_dir),
            Parameter("reconnect_backoff_s", value=0.1), Parameter("startup_check_s", value=0.3)]


def test_a_rogue_publisher_holds_the_arm_is_named_and_the_source_resumes(context, overrides, waiter):
    bench = Bench(context, overrides)
    try:
        assert waiter(lambda: bench.at(POSE_A), 30), "the arm did not follow its source"
        bench.rogue_on = True
        rogue = RoguePublisher(rclpy.create_node("rogue", namespace="/", context=context),
                               f"{bench.ns}/joint_commands", ROGUE)

        def holding() -> bool:
            status = bench.last_source_status()
            return (status is not None and status.level == DiagnosticStatus.ERROR
                    and "/rogue" in status.message)
        assert waiter(holding, 15), bench.last_source_status()
        bench.goal = POSE_B  # the source moves on too: while the rogue is there, neither is followed
        assert waiter(lambda: bench.driver.source.guard.counts["dropped_held"] > 60, 15)
        assert bench.at(POSE_A), f"the arm moved while another node published joint_commands: {bench.state}"
        counts = bench.driver.source.guard.counts
        assert counts["dropped_held"] + counts["dropped_unverified"] > 30

        rogue.stop()
        bench.rogue_on = False
        assert bench.closest_to_rogue >= np.abs(POSE_A - ROGUE).max() - 0.02, "the arm moved toward the rogue"
        assert waiter(lambda: bench.at(POSE_B), 30), "the driver did not resume after the rogue left"
        status = bench.last_source_status()
        assert status.level == DiagnosticStatus.OK and "come only from" in status.message
    finally:
        bench.close()


def test_refuses_to_start_when_another_node_publishes_joint_states(context, overrides):
    other = rclpy.create_node("so101_driver", namespace="/", context=context)  # another arm, same name
    other.create_publisher(JointState, "/joint_states", SENSOR_QOS)
    try:
        with pytest.raises(SharedTopicError, match=r"/joint_states is already published by /so101_driver.*"
                                                   r"namespace:=arm2.*ROS_DOMAIN_ID"):
            So101DriverNode(context=context, parameter_overrides=overrides)
    finally:
        other.destroy_node()
