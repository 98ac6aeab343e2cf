"""SO-101 joint naming, in ROS (URDF) and LeRobot conventions.

The URDF joint names equal LeRobot's motor names for the SO follower
(lerobot 0.4.4 ``robots/so_follower/so_follower.py``: motor ids 1..6 in this order), and LeRobot's
feature names are ``<motor>.pos`` (``SOFollower._motors_ft``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vla_ros.errors import BadInputError

__all__ = [
    "ARM_JOINTS",
    "GRIPPER_JOINT",
    "JOINT_NAMES",
    "LEROBOT_FEATURE_NAMES",
    "MOTOR_IDS",
    "order_positions",
]

JOINT_NAMES: tuple[str, ...] = (
    "shoulder_pan",
    "shoulder_lift",
    "elbow_flex",
    "wrist_flex",
    "wrist_roll",
    "gripper",
)
"""URDF joint names, in LeRobot's motor order (the column order of ``observation.state``/``action``)."""

ARM_JOINTS: tuple[str, ...] = JOINT_NAMES[:5]
GRIPPER_JOINT: str = JOINT_NAMES[5]

MOTOR_IDS: dict[str, int] = {name: i + 1 for i, name in enumerate(JOINT_NAMES)}
"""Feetech bus ids of the SO-101 motors (lerobot ``SOFollower.__init__``)."""

LEROBOT_FEATURE_NAMES: tuple[str, ...] = tuple(f"{name}.pos" for name in JOINT_NAMES)
"""Names of the state/action vector entries in a lerobot-recorded SO-101 dataset."""


def order_positions(
    names: Sequence[str],
    positions: Sequence[float],
    expected: Sequence[str] = JOINT_NAMES,
    *,
    allow_subset: bool = False,
) -> dict[str, float]:
    """Match named positions to the expected joints, validating everything at once.

    Args:
        names: joint names as received (any order).
        positions: one value per name.
        expected: the joints this consumer knows.
        allow_subset: accept fewer joints than ``expected``.

    Returns:
        ``{joint: value}`` in the order of ``expected`` (only the joints present).

    Raises:
        BadInputError: listing every problem: length mismatch, unknown or duplicate names,
            missing joints (unless ``allow_subset``), NaN or inf values.
    """
    problems: list[str] = []
    if len(names) != len(positions):
        problems.append(f"{len(names)} names but {len(positions)} positions")
    unknown = [n for n in names if n not in expected]
    if unknown:
        problems.append(f"unknown joints {unknown} (expected names from {list(expected)})")
    duplicates = sorted({n for n in names if list(names).count(n) > 1})
    if duplicates:
        problems.append(f"duplicate joints {duplicates}")
    missing = [n for n in expected if n not in names]
    if missing and not allow_subset:
        problems.append(f"missing joints {missing}")
    values = np.asarray(positions, dtype=np.float64)
    if values.size and not np.all(np.isfinite(values)):
        bad = [n for n, v in zip(names, values) if not np.isfinite(v)]
        problems.append(f"non-finite values for {bad}")
    if not names:
        problems.append("no joints")
    if problems:
        raise BadInputError("; ".join(problems))
    given = dict(zip(names, values.tolist()))
    return {n: given[n] for n in expected if n in given}
