"""The simulated arm's lerobot calibration file, so the unmodified driver finds one."""

from __future__ import annotations

from pathlib import Path

from vla_ros.errors import CalibrationError
from vla_ros.robot.calibration import calibration_path, load_calibration, save_calibration, sim_calibration
from vla_ros.robot.description import joint_limits

__all__ = ["write_sim_calibration"]


def write_sim_calibration(robot_id: str, calibration_dir: str | Path | None = None,
                          urdf: str | Path | None = None) -> Path:
    """Write :func:`sim_calibration` of the URDF's joint limits as robot ``robot_id``'s calibration.

    An identical file is left alone; a different one (a real arm's calibration under the same id)
    is never overwritten.

    Args:
        robot_id: the driver's robot id.
        calibration_dir: lerobot calibration root (default ``HF_LEROBOT_CALIBRATION``).
        urdf: the description whose limits to use (default the project's).

    Returns:
        The file's path.

    Raises:
        CalibrationError: a different calibration already exists at that path.
    """
    limits = joint_limits(urdf)
    calib = sim_calibration({n: (lim.lower_rad, lim.upper_rad) for n, lim in limits.items()})
    path = calibration_path(robot_id, calibration_dir or None)
    if path.exists():
        try:
            existing = load_calibration(path)
        except CalibrationError:
            existing = None
        if existing == calib:
            return path
        raise CalibrationError(
            f"{path} exists and is not the simulated arm's calibration; not overwriting it. Use another "
            "robot_id (or calibration_dir) for the simulator, or delete the file if it is a stale sim one.")
    return save_calibration(calib, path)
