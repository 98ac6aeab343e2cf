"""``safety_supervisor``: the node between the policy and the driver.

Subscribes ``policy/joint_commands`` (sensor_msgs/JointState, radians, reliable; taken only from the
``command_source`` node, and while any other node publishes there it holds and names the intruder on
``/diagnostics``: :class:`vla_ros.ros.command_source.CommandSourceGate`) and ``joint_states``
(best effort); publishes ``joint_commands`` (full 6-joint JointState, radians) at ``rate_hz`` from its
own timer, and ``safety/status`` (vla_ros/SafetyStatus, latched) at ``status_rate_hz`` and on every
change. Services: ``safety/estop`` (std_srvs/SetBool: true latches, false releases),
``safety/reset_to_home`` and ``safety/check_start_state`` (std_srvs/Trigger). Optionally calls the
driver's ``torque_enable`` (SetBool) on e-stop. All decisions are made by
:class:`vla_ros.safety.supervisor.SafetySupervisor`; this module only converts and wires.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rclpy.node import Node
from rclpy.task import Future
from rclpy.time import Time
from sensor_msgs.msg import JointState
from std_srvs.srv import SetBool, Trigger

from vla_ros.command_source.guard import SourceStatus
from vla_ros.msg import SafetyStatus
from vla_ros.robot.description import joint_limits
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.ros.command_source import CommandSourceGate
from vla_ros.ros.node_main import run_node
from vla_ros.ros.params import declare_config
from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS, STATUS_QOS
from vla_ros.safety.start_state import load_converter, load_start_distribution
from vla_ros.safety.supervisor import (
    Output,
    SafetyConfig,
    SafetyState,
    SafetySupervisor,
    SupervisorStatus,
)

__all__ = ["SafetySupervisorNode", "main"]


class SafetySupervisorNode(Node):
    """The ``safety_supervisor`` node (see the module docstring).

    Args:
        node_kwargs: passed to :class:`rclpy.node.Node` (``namespace``, ``context``,
            ``parameter_overrides``...).

    Raises:
        ConfigError: invalid parameters, an unreadable URDF, contract or dataset;
            CalibrationError: ``robot_id`` given but its calibration is missing.
    """

    def __init__(self, **node_kwargs: Any) -> None:
        super().__init__("safety_supervisor", **node_kwargs)
        cfg = declare_config(self, SafetyConfig)
        limits = joint_limits(cfg.urdf or None)
        converter = load_converter(cfg.robot_id, cfg.calibration_dir)
        distribution, notes = load_start_distribution(cfg.policy_path, cfg.dataset_root,
                                                      cfg.dataset_units, converter)
        for note in notes:
            self.get_logger().warning(note)
        self.core = SafetySupervisor(cfg, limits, distribution, converter, clock=self._now,
                                     unknown_start_reason="; ".join(notes))
        self.get_logger().info(f"home pose {self.core.home_rad.round(3).tolist()} rad and start-state check "
                               f"from {self.core.home_source}")
        self._last_key: tuple[SafetyState, str, bool] | None = None
        self._commands = self.create_publisher(JointState, "joint_commands", COMMAND_QOS)
        self._status = self.create_publisher(SafetyStatus, "safety/status", STATUS_QOS)
        self.source = CommandSourceGate(self, JointState, "policy/joint_commands", COMMAND_QOS,
                                        cfg.command_source, self._on_command,
                                        on_change=self._on_source_change)
        self.create_subscription(JointState, "joint_states", self._on_state, SENSOR_QOS)
        self.create_service(SetBool, "safety/estop", self._on_estop)
        self.create_service(Trigger, "safety/reset_to_home", self._on_reset)
        self.create_service(Trigger, "safety/check_start_state", self._on_check)
        self._torque = self.create_client(SetBool, "torque_enable") if cfg.estop_torque_off else None
        # not self._timers: that is rclpy's own list of the node's timers, which the executor runs
        self._own_timers = [self.create_timer(1.0 / cfg.rate_hz, self._on_tick),
                            self.create_timer(1.0 / cfg.status_rate_hz, self._publish_status)]
        self._publish_status()

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    # -- callbacks ------------------------------------------------------------------------------

    def _on_command(self, msg: JointState) -> None:
        stamp = msg.header.stamp
        stamp_s = stamp.sec + stamp.nanosec * 1e-9 if (stamp.sec or stamp.nanosec) else None
        problem = self.core.on_command(list(msg.name), list(msg.position), stamp_s)
        if problem is not None:
            self.get_logger().warning(f"policy/joint_commands: {problem}", throttle_duration_sec=2.0)
        self._publish_status_if_changed()

    def _on_source_change(self, status: SourceStatus) -> None:
        self.core.block_commands(status.message if status.holding else None)
        self._publish_status_if_changed()

    def _on_state(self, msg: JointState) -> None:
        problem = self.core.on_state(list(msg.name), list(msg.position))
        if problem is not None:
            self.get_logger().warning(problem, throttle_duration_sec=2.0)

    def _on_tick(self) -> None:
        out = self.core.step()
        if out is not None:
            self._commands.publish(_command_msg(out))
        self._publish_status_if_changed()

    def _on_estop(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        response.success, response.message = self.core.estop(request.data)
        self.get_logger().warning(f"safety/estop({request.data}): {response.message}")
        if self._torque is not None and response.success:
            self._set_torque(not request.data)
        self._publish_status_if_changed()
        return response

    def _on_reset(self, _: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        response.success, response.message = self.core.request_reset()
        self.get_logger().info(f"safety/reset_to_home: {response.message}")
        self._publish_status_if_changed()
        return response

    def _on_check(self, _: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        report = self.core.check_start_state()
        response.success, response.message = report.ok, report.message
        if report.ok:
            self.get_logger().info(f"safety/check_start_state: {report.message}")
        else:
            self.get_logger().warning(f"safety/check_start_state: {report.message}")
        return response

    # -- helpers --------------------------------------------------------------------------------

    def _set_torque(self, enable: bool) -> None:
        assert self._torque is not None
        if not self._torque.service_is_ready():
            self.get_logger().error(f"torque_enable service not available: torque not set to {enable}")
            return
        future = self._torque.call_async(SetBool.Request(data=enable))
        future.add_done_callback(lambda f: self._torque_done(f, enable))

    def _torque_done(self, future: Future, enable: bool) -> None:
        result = future.result()
        if result is None or not result.success:
            why = result.message if result is not None else future.exception()
            self.get_logger().error(f"torque_enable({enable}) failed: {why}")
        else:
            self.get_logger().info(f"torque_enable({enable}): {result.message}")

    def _publish_status_if_changed(self) -> None:
        if self.core.status().key != self._last_key:
            self._publish_status()

    def _publish_status(self) -> None:
        status = self.core.status()
        if status.key != self._last_key:
            text = status.state.name + (f": {status.reason}" if status.reason else "")
            if status.state in (SafetyState.ESTOP, SafetyState.FAULT):
                self.get_logger().warning(text)
            else:
                self.get_logger().info(text)
            self._last_key = status.key
        self._status.publish(_status_msg(status, self.get_clock().now()))

    def close(self) -> None:
        """Stop the timers (called by ``run_node`` before ``destroy_node``)."""
        self.source.close()
        for timer in self._own_timers:
            timer.cancel()


def _command_msg(out: Output) -> JointState:
    msg = JointState()
    msg.header.stamp = Time(nanoseconds=round(out.time_s * 1e9)).to_msg()
    msg.name = list(JOINT_NAMES)
    msg.position = out.positions_rad.tolist()
    return msg


def _status_msg(status: SupervisorStatus, now: Time) -> SafetyStatus:
    msg = SafetyStatus()
    msg.header.stamp = now.to_msg()
    msg.state = int(status.state)
    msg.state_name = status.state.name
    msg.estop_latched = status.estop_latched
    msg.joint_names = list(status.joint_names)
    msg.clamp_counts = list(status.clamp_counts)
    msg.reason = status.reason
    return msg


def main(args: Sequence[str] | None = None) -> int:
    """Run the ``safety_supervisor`` node."""
    return run_node(SafetySupervisorNode, args)
