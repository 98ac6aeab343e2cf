"""Configuration of the SO-101 driver (one field per ROS parameter of ``so101_driver``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from vla_ros.config import param, range_problems
from vla_ros.errors import ConfigError

__all__ = ["DriverConfig"]


@dataclass(frozen=True)
class DriverConfig:
    """Parameters of the ``so101_driver`` node, validated on construction.

    Raises:
        ConfigError: listing every invalid field.
    """

    port: str = field(
        default="/dev/ttyACM0",
        metadata=param("Serial port of the arm's servo bus (or the emulator's link)", read_only=True),
    )
    robot_id: str = field(
        default="follower",
        metadata=param(
            "LeRobot robot id: the calibration is <calibration_dir>/robots/so_follower/<robot_id>.json",
            read_only=True,
        ),
    )
    calibration_dir: str = field(
        default="",
        metadata=param(
            "LeRobot calibration root ('' = lerobot's HF_LEROBOT_CALIBRATION, "
            "~/.cache/huggingface/lerobot/calibration)",
            read_only=True,
        ),
    )
    urdf_path: str = field(
        default="",
        metadata=param("URDF with the hard joint limits ('' = the package's urdf)", read_only=True),
    )
    publish_rate_hz: float = field(
        default=100.0,
        metadata=param("Bus read and joint_states publish rate, Hz", range=(1.0, 500.0)),
    )
    max_relative_target: float = field(
        default=0.0,
        metadata=param(
            "LeRobot's max_relative_target: largest step from the present position per command, in LeRobot "
            "units (degrees for the arm joints, percent of the range for the gripper); 0 = off",
            range=(0.0, 360.0),
        ),
    )
    disable_torque_on_exit: bool = field(
        default=True,
        metadata=param("Switch torque off when the node shuts down (false keeps the arm holding)"),
    )
    connect_timeout_s: float = field(
        default=10.0,
        metadata=param(
            "Until the first connection, a missing bus is reported as WARN ('waiting for port') for "
            "this long, then as ERROR; retries never stop",
            range=(0.0, 3600.0),
        ),
    )
    reconnect_backoff_s: float = field(
        default=0.5,
        metadata=param(
            "First delay between connection attempts, s (doubles up to the maximum)", range=(0.01, 60.0)
        ),
    )
    reconnect_backoff_max_s: float = field(
        default=5.0,
        metadata=param("Largest delay between connection attempts, s", range=(0.01, 600.0)),
    )
    read_retries: int = field(
        default=2,
        metadata=param(
            "Extra attempts of a failed bus transfer (read, write, torque switch) before a bus fault",
            range=(0, 20),
        ),
    )
    diagnostics_period_s: float = field(
        default=1.0,
        metadata=param("Period of the /diagnostics status, s", range=(0.1, 60.0)),
    )
    command_source: str = field(
        default="safety_supervisor",
        metadata=param(
            "The only node whose joint_commands move the arm (relative to the driver's namespace, or "
            "absolute); while any other node publishes joint_commands the arm holds",
            read_only=True,
        ),
    )
    startup_check_s: float = field(
        default=2.0,
        metadata=param(
            "At start, watch the ROS graph this long (discovery) and refuse to start if another node "
            "publishes joint_states (another arm's driver on the same topics), s",
            range=(0.0, 60.0),
        ),
    )

    def __post_init__(self) -> None:
        problems = range_problems(self)
        if not self.port.strip():
            problems.append("port is empty")
        if not self.robot_id.strip():
            problems.append("robot_id is empty")
        if not self.command_source.strip() or self.command_source.endswith("/"):
            problems.append(f"command_source={self.command_source!r} is not a node name")
        if self.reconnect_backoff_max_s < self.reconnect_backoff_s:
            problems.append(
                f"reconnect_backoff_max_s={self.reconnect_backoff_max_s} < "
                f"reconnect_backoff_s={self.reconnect_backoff_s}"
            )
        if problems:
            raise ConfigError("; ".join(problems))

    @property
    def period_s(self) -> float:
        """Bus cycle period, s."""
        return 1.0 / self.publish_rate_hz
