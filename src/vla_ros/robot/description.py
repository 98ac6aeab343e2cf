"""Joint limits and kinematic facts read from the project's SO-101 URDF (``urdf/so101.urdf``).

The URDF is the single source of joint limits: the safety supervisor, the driver's hard limits, the
simulator's calibration and the reset trajectory all read them from here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from vla_ros.errors import ConfigError
from vla_ros.robot.joints import JOINT_NAMES

__all__ = ["JointLimit", "joint_limits"]


@dataclass(frozen=True)
class JointLimit:
    """Limits of one revolute joint (URDF ``<limit>``): radians, rad/s, N·m."""

    lower_rad: float
    upper_rad: float
    velocity_rad_s: float
    effort_nm: float


@cache
def _parse(path: Path) -> dict[str, JointLimit]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as err:
        raise ConfigError(f"cannot read robot description {path}: {err}") from err
    limits = {}
    for joint in root.iter("joint"):
        lim = joint.find("limit")
        if joint.get("type") == "revolute" and lim is not None:
            limits[joint.get("name", "")] = JointLimit(
                lower_rad=float(lim.get("lower", "nan")),
                upper_rad=float(lim.get("upper", "nan")),
                velocity_rad_s=float(lim.get("velocity", "nan")),
                effort_nm=float(lim.get("effort", "nan")),
            )
    missing = [n for n in JOINT_NAMES if n not in limits]
    if missing:
        raise ConfigError(f"robot description {path} has no revolute limits for {missing}")
    return limits


def joint_limits(urdf: str | Path | None = None) -> dict[str, JointLimit]:
    """Limits of the six SO-101 joints, by URDF joint name, in :data:`JOINT_NAMES` order.

    Args:
        urdf: path of a URDF; default: the project's ``urdf/so101.urdf``.

    Raises:
        ConfigError: the file is unreadable or lacks a limit for one of the joints.
    """
    if urdf is None:
        from vla_ros.paths import urdf_file

        urdf = urdf_file()
    parsed = _parse(Path(urdf).resolve())
    return {n: parsed[n] for n in JOINT_NAMES}
