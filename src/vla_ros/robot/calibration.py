"""LeRobot calibration files for the SO follower: locate, load, validate, write.

The file format is lerobot's own (``Robot._load_calibration``/``_save_calibration`` in lerobot 0.4.4
``robots/robot.py``): a JSON object ``{motor: MotorCalibration}`` read with draccus. Files live at
``<calibration_dir>/robots/so_follower/<robot_id>.json``; the default ``calibration_dir`` is lerobot's
``HF_LEROBOT_CALIBRATION`` (``~/.cache/huggingface/lerobot/calibration``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from vla_ros.errors import CalibrationError
from vla_ros.robot.joints import JOINT_NAMES, MOTOR_IDS

if TYPE_CHECKING:
    from lerobot.motors.motors_bus import MotorCalibration

__all__ = [
    "LEADER_TYPE_DIR",
    "MAX_RESOLUTION",
    "ROBOT_TYPE_DIR",
    "calibration_path",
    "default_calibration_root",
    "load_calibration",
    "save_calibration",
    "sim_calibration",
]

MAX_RESOLUTION = 4096
"""STS3215 encoder ticks per turn (lerobot ``feetech/tables.py`` MODEL_RESOLUTION["sts3215"])."""

ROBOT_TYPE_DIR = Path("robots") / "so_follower"
"""Sub-directory lerobot uses for SO follower calibrations (``SOFollower.name == "so_follower"``)."""

LEADER_TYPE_DIR = Path("teleoperators") / "so_leader"
"""Sub-directory lerobot uses for SO leader calibrations (``SOLeader.name == "so_leader"``)."""

CALIBRATE_HINT = (
    "Create one with `vla-ros calibrate --port PORT --robot-id ID` (runs lerobot's interactive "
    "calibration) or `lerobot-calibrate --robot.type=so101_follower --robot.port=PORT --robot.id=ID`."
)


def default_calibration_root() -> Path:
    """lerobot's calibration root (honours ``HF_LEROBOT_CALIBRATION``)."""
    from lerobot.utils.constants import HF_LEROBOT_CALIBRATION

    return Path(HF_LEROBOT_CALIBRATION)


def calibration_path(
    robot_id: str, calibration_dir: str | Path | None = None, type_dir: Path = ROBOT_TYPE_DIR
) -> Path:
    """Path of the calibration file of ``robot_id`` (an SO follower unless ``type_dir`` says
    otherwise, e.g. :data:`LEADER_TYPE_DIR`) under the root ``calibration_dir``."""
    root = Path(calibration_dir) if calibration_dir else default_calibration_root()
    return root / type_dir / f"{robot_id}.json"


def load_calibration(path: str | Path) -> dict[str, MotorCalibration]:
    """Load and validate a lerobot SO follower calibration file.

    Raises:
        CalibrationError: the file is missing or unreadable, or any motor is absent or has an
            invalid range (all problems reported at once), with a hint on how to calibrate.
    """
    from lerobot.motors.motors_bus import MotorCalibration  # imports torch: only when needed

    path = Path(path)
    if not path.is_file():
        raise CalibrationError(f"no calibration file at {path}. {CALIBRATE_HINT}")
    try:
        raw = json.loads(path.read_text())
        calib = {name: MotorCalibration(**fields) for name, fields in raw.items()}
    except (OSError, ValueError, TypeError) as err:
        raise CalibrationError(f"cannot read calibration {path}: {err}. {CALIBRATE_HINT}") from err
    _validate(calib, path)
    return calib


def _validate(calib: Mapping[str, MotorCalibration], path: Path) -> None:
    problems = []
    missing = [n for n in JOINT_NAMES if n not in calib]
    if missing:
        problems.append(f"missing motors {missing}")
    for name, c in calib.items():
        if name in MOTOR_IDS and c.id != MOTOR_IDS[name]:
            problems.append(f"{name}: id {c.id}, expected {MOTOR_IDS[name]}")
        if not 0 <= c.range_min < c.range_max <= MAX_RESOLUTION - 1:
            problems.append(f"{name}: range [{c.range_min}, {c.range_max}] is not within 0..4095")
    if problems:
        raise CalibrationError(f"invalid calibration {path}: " + "; ".join(problems))


def save_calibration(calib: Mapping[str, MotorCalibration], path: str | Path) -> Path:
    """Write ``calib`` in lerobot's format (creating parent directories); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({n: asdict(c) for n, c in calib.items()}, indent=4))
    return path


def sim_calibration(limits_rad: Mapping[str, tuple[float, float]]) -> dict[str, MotorCalibration]:
    """The calibration of the simulated arm, in which tick ``2048 + angle * 4095 / 2pi`` is ``angle``.

    Zero homing offset. Arm joints get the largest range symmetric about tick 2048 that stays within
    their limits (lerobot's degrees put 0 at mid-range); the gripper's range is its limits, so that
    0 % is the lower (closed) limit, as :mod:`vla_ros.robot.units` assumes.

    Args:
        limits_rad: ``{joint: (lower, upper)}`` in radians, e.g. from the URDF.
    """
    from lerobot.motors.motors_bus import MotorCalibration

    ticks_per_rad = (MAX_RESOLUTION - 1) / (2 * math.pi)
    calib = {}
    for name in JOINT_NAMES:
        lower, upper = limits_rad[name]
        if name == JOINT_NAMES[-1]:
            lo, hi = lower, upper
        else:
            hi = min(-lower, upper)
            lo = -hi
        calib[name] = MotorCalibration(
            id=MOTOR_IDS[name],
            drive_mode=0,
            homing_offset=0,
            range_min=round(2048 + lo * ticks_per_rad),
            range_max=round(2048 + hi * ticks_per_rad),
        )
    return calib
