"""The reach task's success rule: the gripper frame within 2 cm of the named cube's centre.

The one place that decides whether a simulated episode succeeded; :meth:`SimWorld.success
<vla_ros.sim.world.SimWorld.success>`, the scripted expert and the evaluator all call it.
ROS-agnostic and simulator-agnostic (plain NumPy): positions are (3,) metres in one frame
(the simulator's world frame = ``base_link``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from vla_ros.errors import BadInputError

__all__ = ["SUCCESS_TOLERANCE_M", "reach_distance_m", "reached"]

SUCCESS_TOLERANCE_M = 0.02
"""A reach succeeds when the gripper frame is within 2 cm of the cube's centre (issue #10). A 2.5 cm cube
has a 1.25 cm half edge, so the gripper frame is then at most 0.75 cm above its top face or beside it."""


def _point(value: ArrayLike, name: str, problems: list[str]) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        problems.append(f"{name} is not numeric ({err})")
        return np.full(3, np.nan)
    if arr.shape != (3,):
        problems.append(f"{name} must be 3 coordinates (x, y, z in m), got shape {arr.shape}")
    elif not np.all(np.isfinite(arr)):
        problems.append(f"{name}={arr.tolist()} is not finite")
    return arr


def _distance(gripper_xyz: ArrayLike, cube_xyz: ArrayLike, problems: list[str]) -> float:
    gripper = _point(gripper_xyz, "gripper_xyz", problems)
    cube = _point(cube_xyz, "cube_xyz", problems)
    if problems:
        raise BadInputError("; ".join(problems))
    return float(np.linalg.norm(gripper - cube))


def reach_distance_m(gripper_xyz: ArrayLike, cube_xyz: ArrayLike) -> float:
    """Euclidean distance between the gripper frame and a cube's centre.

    Args:
        gripper_xyz: origin of ``gripper_frame_link`` (between the finger tips), (3,) m.
        cube_xyz: the cube's centre, (3,) m, same frame.

    Returns:
        The distance, m.

    Raises:
        BadInputError: naming every argument that is not 3 finite numbers.
    """
    return _distance(gripper_xyz, cube_xyz, [])


def reached(gripper_xyz: ArrayLike, cube_xyz: ArrayLike, tolerance_m: float = SUCCESS_TOLERANCE_M) -> bool:
    """Whether the gripper frame is within ``tolerance_m`` of the cube's centre (the boundary counts).

    Args:
        gripper_xyz: origin of ``gripper_frame_link``, (3,) m.
        cube_xyz: the cube's centre, (3,) m, same frame.
        tolerance_m: success radius, m (default :data:`SUCCESS_TOLERANCE_M`).

    Raises:
        BadInputError: naming every problem: a point that is not 3 finite numbers, a tolerance that is
            negative or not a finite number.
    """
    problems: list[str] = []
    try:
        tolerance = float(tolerance_m)
    except (TypeError, ValueError):
        tolerance = math.nan
    if not (math.isfinite(tolerance) and tolerance >= 0):
        problems.append(f"tolerance_m={tolerance_m!r} must be a finite distance >= 0 m")
    return _distance(gripper_xyz, cube_xyz, problems) <= tolerance
