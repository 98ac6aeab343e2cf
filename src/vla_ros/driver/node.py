"""``so101_driver``: the ROS 2 node that owns the SO-101 follower arm's servo bus.

Thin adapter over :class:`vla_ros.driver.loop.DriverLoop` (which owns the bus on its own thread):

* publishes ``joint_states`` (sensor_msgs/JointState, best effort): URDF joint names, radians,
  stamped with the node clock at the bus read; published from the bus thread right after each read;
* subscribes ``joint_commands`` (sensor_msgs/JointState, radians, by name, any order, subsets allowed);
  bad commands are rejected with a throttled warning and never reach the bus. Only messages of the
  ``command_source`` node (default: the safety supervisor) are followed; while any other node
  publishes there the arm holds, follows neither, and ``/diagnostics`` names the intruder
  (:class:`vla_ros.ros.command_source.CommandSourceGate`);
* serves ``torque_enable`` (std_srvs/SetBool);
* publishes ``/diagnostics`` (diagnostic_msgs/DiagnosticArray) every ``diagnostics_period_s`` and on
  every state change.

Refuses to start (exit status 1) without a valid LeRobot calibration file, naming how to make one,
and when another node already publishes its ``joint_states`` (another arm's driver on the same topics:
use a namespace or another ROS_DOMAIN_ID), watched for ``startup_check_s``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import rclpy.logging
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_srvs.srv import SetBool

from vla_ros.driver.arm import So101Arm
from vla_ros.driver.config import DriverConfig
from vla_ros.driver.errors import BusFaultError, NotDrivingError
from vla_ros.driver.loop import DriverLoop, DriverStatus, JointSample, Level
from vla_ros.errors import BadInputError
from vla_ros.robot.description import joint_limits
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.ros.command_source import CommandSourceGate, wait_sole_publisher
from vla_ros.ros.node_main import run_node
from vla_ros.ros.params import declare_config
from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS

__all__ = ["So101DriverNode", "main"]

_WARN_PERIOD_S = 2.0
_SERVICE_TIMEOUT_S = 5.0


class So101DriverNode(Node):
    """The SO-101 driver node.

    Args:
        node_name: ROS node name.
        kwargs: passed to :class:`rclpy.node.Node` (``namespace``, ``parameter_overrides``, ``context``...).

    Raises:
        CalibrationError: no valid calibration file for ``robot_id`` under ``calibration_dir``.
        ConfigError: invalid parameters or an unreadable URDF.
        SharedTopicError: another node publishes ``joint_states``.
    """

    def __init__(self, node_name: str = "so101_driver", **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self._closed = False
        self.config = declare_config(self, DriverConfig)
        cfg = self.config
        limits = joint_limits(cfg.urdf_path or None)
        arm = So101Arm(
            cfg.port,
            cfg.robot_id,
            cfg.calibration_dir or None,
            max_relative_target=cfg.max_relative_target or None,
            disable_torque_on_exit=cfg.disable_torque_on_exit,
        )
        self.get_logger().info(f"using calibration {arm.calibration_file}")
        self._joint_pub = self.create_publisher(JointState, "joint_states", SENSOR_QOS)
        wait_sole_publisher(self, self._joint_pub.topic_name, cfg.startup_check_s)
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.loop = DriverLoop(
            arm,
            cfg,
            limits,
            on_sample=self._publish_sample,
            on_status=self._on_status,
            clock_ns=lambda: self.get_clock().now().nanoseconds,
        )
        self.source = CommandSourceGate(self, JointState, "joint_commands", COMMAND_QOS, cfg.command_source,
                                        self._on_command, callback_group=MutuallyExclusiveCallbackGroup())
        self.create_service(
            SetBool, "torque_enable", self._on_torque_enable, callback_group=MutuallyExclusiveCallbackGroup()
        )
        self.create_timer(cfg.diagnostics_period_s, self._publish_diagnostics)
        self.loop.start()

    def close(self) -> None:
        """Stop the bus thread (torque off unless ``disable_torque_on_exit`` is false). Idempotent."""
        if not self._closed:
            self._closed = True  # from now on the bus thread only logs: the context may be gone
            self.source.close()
            self.loop.stop()
            arm = self.loop.arm
            torque = "torque off" if not arm.torque_enabled else (
                "torque left on (disable_torque_on_exit is false)" if not self.config.disable_torque_on_exit
                else "torque may still be on: the bus did not answer the switch-off")
            rclpy.logging.get_logger(self.get_name()).info(f"stopped; {torque}")

    def _can_publish(self) -> bool:
        return not self._closed and self.context.ok()

    # bus thread callbacks ---------------------------------------------------------------------------
    def _publish_sample(self, sample: JointSample) -> None:
        if not self._can_publish():
            return
        msg = JointState()
        msg.header.stamp = _stamp(sample.stamp_ns)
        msg.name = list(JOINT_NAMES)
        msg.position = sample.positions_rad.tolist()
        self._joint_pub.publish(msg)

    def _on_status(self, status: DriverStatus) -> None:
        if not self.context.ok():  # shutting down: rosout is gone, and close() reports nothing new
            return
        logger = self.get_logger()  # one call site per severity: rclpy keys its log state on the caller
        if status.level == Level.OK:
            logger.info(status.message)
        elif status.level == Level.WARN:
            logger.warning(status.message)
        else:
            logger.error(status.message)
        if self._can_publish():
            self._publish_diagnostics(status)

    # executor callbacks -----------------------------------------------------------------------------
    def _on_command(self, msg: JointState) -> None:
        try:
            clamped = self.loop.submit(list(msg.name), list(msg.position))
        except BadInputError as err:
            self.get_logger().warning(f"rejected joint command: {err}", throttle_duration_sec=_WARN_PERIOD_S)
            return
        except NotDrivingError as err:
            self.get_logger().warning(str(err), throttle_duration_sec=_WARN_PERIOD_S)
            return
        if clamped:
            self.get_logger().warning(
                f"joint command clamped to URDF limits for {clamped}", throttle_duration_sec=_WARN_PERIOD_S
            )

    def _on_torque_enable(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        try:
            response.message = self.loop.request_torque(request.data).result(timeout=_SERVICE_TIMEOUT_S)
            response.success = True
        except BusFaultError as err:
            response.success, response.message = False, str(err)
        except TimeoutError:
            response.success, response.message = False, "the bus thread did not answer in time"
        return response

    def _publish_diagnostics(self, status: DriverStatus | None = None) -> None:
        status = status or self.loop.status
        cfg = self.config
        values = {
            "state": status.state.value,
            "port": cfg.port,
            "robot_id": cfg.robot_id,
            "torque_enabled": str(status.torque_enabled).lower(),
            "read_rate_hz": f"{status.read_rate_hz:.1f}",
            "publish_rate_hz": f"{cfg.publish_rate_hz:.1f}",
            **{k: str(v) for k, v in status.counters.items()},
            "last_error": status.last_error,
        }
        diag = DiagnosticStatus(
            level=bytes([int(status.level)]),
            name=f"{self.get_name()}: servo bus",
            message=status.message,
            hardware_id=cfg.port,
            values=[KeyValue(key=k, value=v) for k, v in values.items()],
        )
        array = DiagnosticArray(status=[diag])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(array)


def _stamp(stamp_ns: int) -> Time:
    return Time(sec=stamp_ns // 1_000_000_000, nanosec=stamp_ns % 1_000_000_000)


def main(args: Sequence[str] | None = None) -> int:
    """Entry point of the ``so101_driver`` executable."""
    return run_node(So101DriverNode, args)


if __name__ == "__main__":
    sys.exit(main())
