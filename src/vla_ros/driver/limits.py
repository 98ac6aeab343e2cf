"""Hard joint limits applied to commands, as defence in depth behind the safety supervisor."""

from __future__ import annotations

from collections.abc import Mapping

from vla_ros.robot.description import JointLimit

__all__ = ["clamp_to_limits"]


def clamp_to_limits(
    goal_rad: Mapping[str, float], limits: Mapping[str, JointLimit]
) -> tuple[dict[str, float], list[str]]:
    """Clamp each commanded joint position into its URDF ``[lower, upper]`` range.

    Args:
        goal_rad: ``{joint: position}``, radians; every joint must be in ``limits``.
        limits: the URDF limits (:func:`vla_ros.robot.description.joint_limits`).

    Returns:
        The clamped goal (a new dict, same keys and order) and the names of the joints that were clamped.

    Raises:
        KeyError: a joint has no limit.
    """
    out: dict[str, float] = {}
    clamped: list[str] = []
    for name, value in goal_rad.items():
        lim = limits[name]
        bounded = min(max(float(value), lim.lower_rad), lim.upper_rad)
        if bounded != value:
            clamped.append(name)
        out[name] = bounded
    return out, clamped
