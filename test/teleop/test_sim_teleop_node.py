"""``sim_teleop`` in reach mode over real DDS.

Last tests: sim_teleop in-process against stand-in peers (test nodes publishing the simulator's topics,
and a recorder that refuses the task), for what the real graph cannot show: no recording without the task.

The full graph runs as processes, as ``vla-ros launch record use_sim:=true`` starts it: the real
``so101_sim`` (two cubes on their slots), the unmodified ``so101_driver`` on its emulated bus, the real
``bag_recorder`` and ``sim_teleop``, all but the simulator on simulated time. Nothing is mocked.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rclpy
from rcl_interfaces.msg import SetParametersResult
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_srvs.srv import Trigger
from visualization_msgs.msg import Marker, MarkerArray

from vla_ros.convert.reader import open_bag, read_custom_data
from vla_ros.errors import BadInputError, ConfigError
from vla_ros.paths import urdf_file
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.robot.kinematics import KinematicTree
from vla_ros.ros.qos import SENSOR_QOS, STATUS_QOS
from vla_ros.sim.config import DEFAULT_START_POSE_RAD
from vla_ros.sim.task import reached
from vla_ros.teleop.sim_node import SimTeleop, SimTeleopConfig, cube_position


def _stamp_ns(msg: MarkerArray) -> int:
    stamp = msg.markers[0].header.stamp
    return stamp.sec * 10**9 + stamp.nanosec


def _marker_xyz(msg: MarkerArray, ns: str, text: str) -> np.ndarray:
    marker = next(m for m in msg.markers if m.ns == ns and m.text == text)
    return np.array([marker.pose.position.x, marker.pose.position.y, marker.pose.position.z])


def _last_joint_positions(bag: Path, topic: str) -> np.ndarray:
    with open_bag(bag) as reader:
        conns = [c for c in reader.connections if c.topic == topic]
        last = None
        for conn, _, raw in reader.messages(connections=conns):
            last = reader.deserialize(raw, conn.msgtype)
    assert last is not None, f"no {topic} in {bag}"
    by_name = dict(zip(last.name, last.position))
    return np.array([by_name[n] for n in JOINT_NAMES])


def _start_graph(tmp_path: Path, namespace: str, start_node) -> Path:
    calib, bus, bags = tmp_path / "calibration", tmp_path / "bus", tmp_path / "bags"
    sim = start_node("so101_sim", namespace, port=str(bus), calibration_dir=str(calib), robot_id="teleop_sim",
                     image_width=96, image_height=72, camera_fps=15.0, two_cubes=True, cube_layout="slots",
                     seed=3)
    calib_file = calib / "robots" / "so_follower" / "teleop_sim.json"
    deadline = time.monotonic() + 90
    while not calib_file.exists() and time.monotonic() < deadline and sim.proc.poll() is None:
        time.sleep(0.1)
    assert calib_file.exists(), "the simulator wrote no calibration:\n" + sim.output()
    start_node("so101_driver", namespace, port=str(bus), calibration_dir=str(calib), robot_id="teleop_sim",
               publish_rate_hz=50.0, reconnect_backoff_s=0.2, reconnect_backoff_max_s=1.0, use_sim_time=True,
               command_source="sim_teleop")  # no supervisor in this graph: the teleop drives the arm
    # a stale task: if sim_teleop did not set the task per episode, the bags would carry this one
    start_node("bag_recorder", namespace, output_dir=str(bags), task="wave the arm", use_sim_time=True)
    return bags


@pytest.mark.slow
@pytest.mark.timeout(480)
def test_reach_mode_records_each_episode_with_the_task_it_performed(tmp_path, start_node, make_probe):
    namespace = f"/teleop_{os.getpid()}"
    bags_dir = _start_graph(tmp_path, namespace, start_node)
    probe = make_probe(namespace)
    objects = probe.record(MarkerArray, "sim/objects", STATUS_QOS, keep=20000)
    teleop = start_node("sim_teleop", namespace, mode="reach", episodes=2, settle_s=1.0, use_sim_time=True)
    with contextlib.suppress(subprocess.TimeoutExpired):
        teleop.proc.wait(360)
    logs = "\n".join(f"--- {p.name}:\n{p.output()[-3000:]}" for p in start_node.started)
    assert teleop.proc.returncode == 0, logs
    bags = sorted(p for p in bags_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(bags) == 2, logs
    tasks = [read_custom_data(bag)["task"] for bag in bags]
    assert tasks == ["reach the red cube", "reach the blue cube"], logs
    output = teleop.output()
    assert "task 'reach the red cube'" in output and "task 'reach the blue cube'" in output

    tree = KinematicTree(urdf_file())
    for bag, target in zip(bags, ("red", "blue")):
        with open_bag(bag) as reader:
            start_ns, end_ns = reader.start_time, reader.end_time
        assert 3.0 < (end_ns - start_ns) / 1e9 < 10.0, "a reach with its hold lasts about 4-6 s"
        with probe.lock:
            during = [m for m in objects if start_ns <= _stamp_ns(m) <= end_ns]
        assert during, f"no sim/objects during {bag.name}"
        last = during[-1]
        assert (end_ns - _stamp_ns(last)) / 1e9 < 1.0
        cube = _marker_xyz(last, "cubes", target)
        gripper = _marker_xyz(last, "gripper_frame", "gripper_frame")
        assert reached(gripper, cube), (target, gripper, cube)  # the simulator's ground truth
        # and what the bag says: the last recorded joint_states, through our URDF's kinematics
        joints = _last_joint_positions(bag, f"{namespace}/joint_states")
        fk = tree.link_pose("gripper_frame_link", dict(zip(JOINT_NAMES, joints)))[:3, 3]
        assert reached(fk, cube), (target, fk, cube)
        other = _marker_xyz(last, "cubes", "blue" if target == "red" else "red")
        assert not reached(gripper, other)


def test_config_reports_every_problem():
    with pytest.raises(ConfigError) as err:
        SimTeleopConfig(mode="dance", targets=[], task_template="reach the cube", recorder_node=" ")
    text = str(err.value)
    for part in ("mode='dance'", "targets must name", "no {target} field", "recorder_node"):
        assert part in text, text
    cfg = SimTeleopConfig(mode="reach", targets=["red", "blue"])
    assert [cfg.target(i) for i in range(3)] == [
        ("red", "reach the red cube"), ("blue", "reach the blue cube"), ("red", "reach the red cube")]


def _objects(frame_id: str = "base_link") -> MarkerArray:
    markers = []
    for i, (colour, x) in enumerate((("red", 0.2), ("blue", 0.25))):
        m = Marker(ns="cubes", id=i, type=Marker.CUBE, text=colour)
        m.header.frame_id = frame_id
        m.pose.position.x, m.pose.position.z = x, 0.0125
        markers.append(m)
    markers.append(Marker(ns="gripper_frame", id=0, type=Marker.SPHERE, text="gripper_frame"))
    return MarkerArray(markers=markers)


def test_cube_position_from_sim_objects():
    np.testing.assert_allclose(cube_position(_objects(), "blue"), [0.25, 0.0, 0.0125])
    np.testing.assert_allclose(cube_position(_objects("world"), "red"), [0.2, 0.0, 0.0125])
    with pytest.raises(BadInputError, match="no 'green' cube"):
        cube_position(_objects(), "green")
    with pytest.raises(BadInputError, match="frame 'camera'"):
        cube_position(_objects("camera"), "red")


class _StandInSim(Node):
    """Stands in for so101_sim's ROS side (a test input, no physics): joint_states at the start pose,
    sim/objects (re-stamped and re-published on every sim/reset) and the sim/reset service."""

    def __init__(self, namespace: str, context) -> None:
        super().__init__("stand_in_sim", namespace=namespace, context=context)
        self.resets = 0
        self.states = self.create_publisher(JointState, "joint_states", SENSOR_QOS)
        self.objects = self.create_publisher(MarkerArray, "sim/objects", STATUS_QOS)
        self.create_service(Trigger, "sim/reset", self._on_reset)
        self.create_timer(0.05, self._publish_state)
        self._publish_objects()

    def _publish_state(self) -> None:
        msg = JointState(name=list(JOINT_NAMES), position=list(DEFAULT_START_POSE_RAD))
        msg.header.stamp = self.get_clock().now().to_msg()
        self.states.publish(msg)

    def _publish_objects(self) -> None:
        msg = _objects()
        for marker in msg.markers:
            marker.header.stamp = self.get_clock().now().to_msg()
        self.objects.publish(msg)

    def _on_reset(self, _req, response):
        self.resets += 1
        self._publish_objects()
        response.success = True
        return response


class _RefusingRecorder(Node):
    """A recorder whose ``task`` cannot be set (the real one accepts any string): sim_teleop must then
    not start a recording."""

    def __init__(self, namespace: str, context) -> None:
        super().__init__("bag_recorder", namespace=namespace, context=context)
        self.declare_parameter("task", "wave the arm")
        self.add_on_set_parameters_callback(
            lambda params: SetParametersResult(successful=False, reason="refused by the test"))
        self.starts = 0
        self.create_service(Trigger, "record/start", self._on_start)

    def _on_start(self, _req, response):
        self.starts += 1
        response.success = True
        return response


def _spin(nodes, context) -> tuple[SingleThreadedExecutor, threading.Thread]:
    executor = SingleThreadedExecutor(context=context)  # as run_node spins a node
    for node in nodes:
        executor.add_node(node)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    return executor, thread


def _teleop(namespace: str, **params) -> tuple[SimTeleop, Any]:
    context = rclpy.Context()
    rclpy.init(context=context)
    overrides = [Parameter(k, value=v) for k, v in {"settle_s": 0.2, **params}.items()]
    return SimTeleop(namespace=namespace, context=context, parameter_overrides=overrides), context


@pytest.mark.parametrize(("mode", "with_recorder"), [("reach", True), ("reach", False), ("random", False)],
                         ids=["task-refused", "no-recorder", "random-no-recorder"])
@pytest.mark.timeout(120)
def test_nothing_is_recorded_without_the_task(mode, with_recorder):
    namespace = f"/teleop_refuse_{os.getpid()}_{mode}_{int(with_recorder)}"
    peers_ctx = rclpy.Context()
    rclpy.init(context=peers_ctx)
    sim = _StandInSim(namespace, peers_ctx)
    peers = [sim, _RefusingRecorder(namespace, peers_ctx)] if with_recorder else [sim]
    peer_exec, peer_thread = _spin(peers, peers_ctx)
    teleop, teleop_ctx = _teleop(namespace, mode=mode, episodes=1, max_attempts=2, episode_duration_s=3.0)
    teleop_exec, teleop_thread = _spin([teleop], teleop_ctx)
    try:
        deadline = time.monotonic() + 60  # run_node ends the process once the node is finished
        while not teleop.finished and time.monotonic() < deadline:
            time.sleep(0.1)
        assert teleop.finished, "sim_teleop neither gave up nor finished"
        assert teleop.exit_status == (1 if with_recorder else 0)
        if with_recorder:
            assert peers[1].starts == 0, "a recording was started although the task was not set"
            assert peers[1].get_parameter("task").value == "wave the arm"
            assert sim.resets == 2 and teleop.episode == 0  # retried once after a new reset, then gave up
        else:
            assert sim.resets == 1 and teleop.episode == 1  # played without recording
    finally:
        teleop_exec.shutdown()
        teleop_thread.join(5)
        teleop.destroy_node()
        rclpy.try_shutdown(context=teleop_ctx)
        peer_exec.shutdown()
        for node in peers:
            node.destroy_node()
        rclpy.try_shutdown(context=peers_ctx)
        peer_thread.join(5)
