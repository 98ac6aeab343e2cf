"""Conversion between ROS joint positions (radians, REP-103) and LeRobot SO-101 units.

This module owns the rule; the driver, the policy node and the converter all call it.

LeRobot units (lerobot 0.4.4 ``motors/motors_bus.py:_normalize`` with ``use_degrees=True``, the
SO follower default in ``robots/so_follower/config_so_follower.py``):

* arm joints (``MotorNormMode.DEGREES``): ``deg = (ticks - mid) * 360 / 4095`` with
  ``mid = (range_min + range_max) / 2``, i.e. 0 at mid-range. The official SO-101 URDF
  (``so101_new_calib.urdf``) puts joint zero at the same place, so ``rad = deg * pi / 180``.
* gripper (``MotorNormMode.RANGE_0_100``): ``pct = (ticks - range_min) / (range_max - range_min) * 100``.
  0 % is the calibrated closed end, which the URDF calls the gripper's lower limit (-10 deg), and
  the calibrated span in ticks gives the opening angle: ``rad = GRIPPER_CLOSED_RAD + pct / 100 * span``.

Arrays are ``(..., 6)`` float64 in :data:`vla_ros.robot.joints.JOINT_NAMES` order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from vla_ros.errors import CalibrationError
from vla_ros.robot.joints import GRIPPER_JOINT, JOINT_NAMES

__all__ = ["GRIPPER_CLOSED_RAD", "UnitConverter", "Units"]

GRIPPER_CLOSED_RAD = math.radians(-10.0)
"""Gripper angle at 0 % (lower limit of ``gripper`` in the official ``so101_new_calib.urdf``)."""

_TICK_RAD = 2 * math.pi / 4095
"""Radians per encoder tick as lerobot counts them (``360 / max_res`` degrees, max_res = 4095)."""

_GRIPPER = JOINT_NAMES.index(GRIPPER_JOINT)


class Units:
    """Names of the unit systems a joint vector can be in."""

    RADIANS = "rad"
    LEROBOT = "lerobot"
    ALL = (RADIANS, LEROBOT)


@dataclass(frozen=True)
class UnitConverter:
    """Converts SO-101 joint vectors between radians and LeRobot units.

    Attributes:
        gripper_span_rad: opening angle of the gripper from 0 % to 100 %, radians (> 0).
    """

    gripper_span_rad: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.gripper_span_rad) and self.gripper_span_rad > 0):
            raise CalibrationError(f"gripper_span_rad must be > 0, got {self.gripper_span_rad}")

    @classmethod
    def from_calibration(cls, calibration: Mapping[str, object]) -> UnitConverter:
        """Build from a lerobot calibration (``{motor: MotorCalibration}``).

        Raises:
            CalibrationError: the gripper is missing or its range is empty.
        """
        gripper = calibration.get(GRIPPER_JOINT)
        if gripper is None:
            raise CalibrationError(f"calibration has no '{GRIPPER_JOINT}' motor")
        span_ticks = gripper.range_max - gripper.range_min  # type: ignore[attr-defined]
        return cls(gripper_span_rad=span_ticks * _TICK_RAD)

    def to_lerobot(self, radians: np.ndarray) -> np.ndarray:
        """Radians ``(..., 6)`` -> LeRobot units (degrees; gripper 0-100)."""
        rad = _check(radians)
        out = np.degrees(rad)
        out[..., _GRIPPER] = (rad[..., _GRIPPER] - GRIPPER_CLOSED_RAD) / self.gripper_span_rad * 100.0
        return out

    def to_ros(self, lerobot: np.ndarray) -> np.ndarray:
        """LeRobot units ``(..., 6)`` -> radians."""
        val = _check(lerobot)
        out = np.radians(val)
        out[..., _GRIPPER] = GRIPPER_CLOSED_RAD + val[..., _GRIPPER] / 100.0 * self.gripper_span_rad
        return out

    def convert(self, values: np.ndarray, src: str, dst: str) -> np.ndarray:
        """Convert between any two of :attr:`Units.ALL`."""
        for unit in (src, dst):
            if unit not in Units.ALL:
                raise ValueError(f"unknown units {unit!r}, expected one of {Units.ALL}")
        if src == dst:
            return _check(values)
        return self.to_lerobot(values) if dst == Units.LEROBOT else self.to_ros(values)


def _check(values: np.ndarray) -> np.ndarray:
    arr = np.array(values, dtype=np.float64)
    if arr.shape[-1:] != (len(JOINT_NAMES),):
        raise ValueError(f"expected (..., {len(JOINT_NAMES)}) joint vectors, got shape {arr.shape}")
    return arr
