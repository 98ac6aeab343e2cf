"""The SO-101 follower arm through lerobot's own ``SOFollower``, in ROS units.

Everything on the bus goes through lerobot 0.4.4 (``SOFollower`` -> ``FeetechMotorsBus`` ->
scservo_sdk -> pyserial); this class only converts units (via :class:`vla_ros.robot.units.UnitConverter`)
and adds what a long-running driver needs around it: no prompts, fault clean-up, torque control.

Not thread-safe: one thread (the driver loop) owns an instance.
"""

from __future__ import annotations

import contextlib
import logging
import termios
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import serial
from lerobot.robots.so_follower import SOFollower, SOFollowerRobotConfig

from vla_ros.robot.calibration import calibration_path, load_calibration
from vla_ros.robot.joints import JOINT_NAMES, LEROBOT_FEATURE_NAMES
from vla_ros.robot.units import UnitConverter

__all__ = ["BUS_ERRORS", "So101Arm"]

logger = logging.getLogger(__name__)

BUS_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    OSError,
    RuntimeError,
    serial.SerialException,
    termios.error,
)
"""What lerobot and pyserial raise when the bus fails: comm errors (ConnectionError), a vanished port
(SerialException/OSError, or termios.error from pyserial's ``flush``), motor checks (RuntimeError)."""


class So101Arm:
    """lerobot's SO follower with the user's calibration file, read and commanded in radians.

    Args:
        port: serial port of the servo bus.
        robot_id: lerobot robot id (names the calibration file).
        calibration_dir: lerobot calibration root (None/'' = lerobot's default).
        max_relative_target: lerobot's ``max_relative_target`` (LeRobot units; None or 0 = off).
        disable_torque_on_exit: torque off in :meth:`close` (lerobot's ``disable_torque_on_disconnect``).

    Raises:
        CalibrationError: the calibration file is missing or invalid (with how to make one).
    """

    def __init__(
        self,
        port: str,
        robot_id: str,
        calibration_dir: str | Path | None = None,
        *,
        max_relative_target: float | None = None,
        disable_torque_on_exit: bool = True,
    ) -> None:
        self.calibration_file = calibration_path(robot_id, calibration_dir or None)
        self.calibration = load_calibration(self.calibration_file)
        self.units = UnitConverter.from_calibration(self.calibration)
        config = SOFollowerRobotConfig(
            port=port,
            id=robot_id,
            calibration_dir=self.calibration_file.parent,
            max_relative_target=float(max_relative_target) if max_relative_target else None,
            disable_torque_on_disconnect=disable_torque_on_exit,
        )
        self.robot = SOFollower(config)
        self.port = port
        self.torque_enabled = False
        self.wrote_calibration = False

    @property
    def connected(self) -> bool:
        """Whether the serial port is open."""
        return bool(self.robot.bus.is_connected)

    def connect(self) -> None:
        """Open the bus the way lerobot does, then make the motors match the calibration file.

        ``SOFollower.connect(calibrate=False)`` pings the motors, checks firmware and writes lerobot's
        configuration (which leaves torque on). If the motors' homing offsets or limits differ from the
        file, the file's calibration is written to them, as lerobot does when the user accepts the file
        at its prompt (``SOFollower.calibrate``), with torque off as lerobot's EPROM writes always are.
        Torque is left as :meth:`set_torque` should decide; call it next.

        Raises:
            ConnectionError, OSError, RuntimeError: the bus could not be opened or configured; the port
                is closed again.
        """
        try:
            self.robot.connect(calibrate=False)
            self.torque_enabled = True  # lerobot's configure() ends with torque on
            if not self.robot.is_calibrated:
                logger.info("motors differ from %s: writing the file's calibration", self.calibration_file)
                self.robot.bus.disable_torque()
                self.robot.bus.write_calibration(self.robot.calibration)
                self.torque_enabled = False
                self.wrote_calibration = True
        except BUS_ERRORS:
            self.drop()
            raise

    def set_torque(self, enabled: bool, retries: int = 2) -> None:
        """Torque on (holding the present position, so nothing jumps) or off (limp).

        Args:
            enabled: torque on or off.
            retries: extra attempts of each bus transfer (lerobot's ``num_retry``): a status packet lost
                on a busy bus must not fail a torque switch that a repeat would complete.

        Raises:
            ConnectionError, OSError, RuntimeError: the bus did not answer after the retries.
        """
        bus = self.robot.bus
        with self._transaction():
            if enabled:
                present = bus.sync_read("Present_Position", normalize=False, num_retry=retries)
                bus.sync_write("Goal_Position", present, normalize=False)
                bus.enable_torque(num_retry=retries)
            else:
                bus.disable_torque(num_retry=retries)
        self.torque_enabled = enabled

    def read(self) -> np.ndarray:
        """Joint positions now, via ``SOFollower.get_observation``.

        Returns:
            ``(6,)`` float64 radians in :data:`JOINT_NAMES` order.
        """
        with self._transaction():
            obs = self.robot.get_observation()
        lerobot_units = np.array([obs[key] for key in LEROBOT_FEATURE_NAMES], dtype=np.float64)
        return self.units.to_ros(lerobot_units)

    def write(self, goal_rad: Mapping[str, float]) -> dict[str, float]:
        """Command some or all joints, via ``SOFollower.send_action`` (one sync write of Goal_Position).

        Args:
            goal_rad: ``{joint: position}`` in radians, already validated; joints left out keep their goal.

        Returns:
            The action lerobot sent (``{"<joint>.pos": value}``, LeRobot units, after max_relative_target).
        """
        full = np.zeros(len(JOINT_NAMES))
        for name, value in goal_rad.items():
            full[JOINT_NAMES.index(name)] = value
        lerobot_units = self.units.to_lerobot(full)
        action = {f"{n}.pos": float(lerobot_units[JOINT_NAMES.index(n)]) for n in goal_rad}
        with self._transaction():
            return self.robot.send_action(action)

    def close(self) -> None:
        """Disconnect as lerobot does (torque off first if configured); never raises for bus errors."""
        if not self.connected:
            return
        try:
            self.robot.disconnect()
            self.torque_enabled = self.torque_enabled and not self.robot.config.disable_torque_on_disconnect
        except BUS_ERRORS as err:
            logger.warning("could not disconnect cleanly from %s: %s", self.port, err)
            self.drop()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """Bus I/O; after a failure the port is usable again (scservo_sdk leaves ``is_using`` set when
        pyserial raises in the middle of a packet, which would fail every later call as 'port busy')."""
        try:
            yield
        except BUS_ERRORS:
            self.robot.bus.port_handler.is_using = False
            raise

    def drop(self) -> None:
        """Close the port without talking to the motors (after a fault); :meth:`connect` reopens it."""
        handler = self.robot.bus.port_handler
        with contextlib.suppress(*BUS_ERRORS, AttributeError):
            if handler.ser is not None:
                handler.ser.close()
        handler.is_open = False
        handler.is_using = False
