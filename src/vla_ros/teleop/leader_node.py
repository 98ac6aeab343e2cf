"""``leader_teleop``: an SO-101 leader arm, read with lerobot's own ``SOLeader``, as joint commands.

The leader's positions come in LeRobot units (what lerobot-teleoperate sends to the follower
unchanged); they are converted to radians with the follower's calibration (the driver converts them
back with the same one) and published on ``joint_commands`` at ``rate_hz``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rclpy.node import Node
from sensor_msgs.msg import JointState

from vla_ros.config import check_range, param
from vla_ros.robot.calibration import LEADER_TYPE_DIR, calibration_path, load_calibration
from vla_ros.robot.joints import JOINT_NAMES, LEROBOT_FEATURE_NAMES
from vla_ros.robot.units import UnitConverter
from vla_ros.ros.node_main import run_node
from vla_ros.ros.params import declare_config
from vla_ros.ros.qos import COMMAND_QOS
from vla_ros.teleop.errors import TeleopError

__all__ = ["LeaderTeleop", "LeaderTeleopConfig", "main"]


@dataclass
class LeaderTeleopConfig:
    port: str = field(default="/dev/ttyACM1",
                      metadata=param("Serial port of the leader arm.", read_only=True))
    robot_id: str = field(default="leader", metadata=param("LeRobot calibration id of the leader.",
                                                           read_only=True))
    follower_id: str = field(default="follower", metadata=param(
        "Calibration id of the follower, whose gripper range converts units.", read_only=True))
    calibration_dir: str = field(default="", metadata=param(
        "LeRobot calibration root of the follower ('' = lerobot's default).", read_only=True))
    leader_calibration_dir: str = field(default="", metadata=param(
        "LeRobot calibration root of the leader ('' = lerobot's default).", read_only=True))
    rate_hz: float = field(default=30.0, metadata=param("Command rate, Hz.", range=(1.0, 200.0)))
    connect_attempts: int = field(default=5, metadata=param(
        "Tries to connect the leader at start, 1 s apart (a USB adapter still enumerating, a missed "
        "handshake reply), before giving up", range=(1, 100)))

    def __post_init__(self) -> None:
        check_range(self)


class LeaderTeleop(Node):
    """Reads the leader at ``rate_hz`` and publishes its pose as follower commands."""

    def __init__(self) -> None:
        super().__init__("leader_teleop")
        self.cfg = declare_config(self, LeaderTeleopConfig)
        calib_dir = self.cfg.calibration_dir or None
        follower = load_calibration(calibration_path(self.cfg.follower_id, calib_dir))
        self.units = UnitConverter.from_calibration(follower)
        self.leader = self._connect()
        self.pub = self.create_publisher(JointState, "joint_commands", COMMAND_QOS)
        self.create_timer(1.0 / self.cfg.rate_hz, self._tick)

    def _connect(self):  # -> lerobot SOLeader
        for attempt in range(1, self.cfg.connect_attempts + 1):
            try:
                return _connect_leader(self.cfg)
            except (ConnectionError, OSError, RuntimeError) as err:
                if attempt == self.cfg.connect_attempts:
                    raise TeleopError(f"cannot connect the leader arm on {self.cfg.port} after {attempt} "
                                      f"attempt(s): {err}") from err
                self.get_logger().warning(f"leader arm on {self.cfg.port}: {err}; retrying in 1 s")
                time.sleep(1.0)
        raise AssertionError("unreachable")

    def _tick(self) -> None:
        try:
            action = self.leader.get_action()
        except (ConnectionError, OSError, RuntimeError) as err:
            self.get_logger().error(f"leader read failed: {err}", throttle_duration_sec=2.0)
            return
        lerobot = np.array([action[k] for k in LEROBOT_FEATURE_NAMES], dtype=np.float64)
        if not np.all(np.isfinite(lerobot)):
            self.get_logger().warning("leader returned non-finite positions; skipped",
                                      throttle_duration_sec=2.0)
            return
        msg = JointState(name=list(JOINT_NAMES), position=self.units.to_ros(lerobot).tolist())
        msg.header.stamp = self.get_clock().now().to_msg()
        self.pub.publish(msg)

    def close(self) -> None:
        """Release the leader's bus (its torque stays off: it is moved by hand)."""
        if self.leader.is_connected:
            self.leader.disconnect()


def _connect_leader(cfg: LeaderTeleopConfig):  # -> lerobot SOLeader
    """Connect lerobot's SOLeader without prompting, using its calibration file."""
    from lerobot.teleoperators.so_leader import SOLeader, SOLeaderTeleopConfig

    path = calibration_path(cfg.robot_id, cfg.leader_calibration_dir or None, LEADER_TYPE_DIR)
    load_calibration(path)  # fail early, with the how-to-calibrate hint
    leader = SOLeader(SOLeaderTeleopConfig(port=cfg.port, id=cfg.robot_id,
                                           calibration_dir=Path(path).parent))
    try:
        leader.connect(calibrate=False)
        if not leader.is_calibrated:
            leader.bus.write_calibration(leader.calibration)
    except (ConnectionError, OSError, RuntimeError):
        leader.bus.port_handler.closePort()  # a failed handshake leaves the port open
        raise
    return leader


def main(args: list[str] | None = None) -> int:
    """Entry point of ``leader_teleop``."""
    return run_node(LeaderTeleop, args)
