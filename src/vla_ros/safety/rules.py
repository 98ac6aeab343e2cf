"""Safety rules as pure functions: what one output step of the supervisor may command.

In the spirit of lerobot 0.4.4 ``robots/utils.py:ensure_safe_goal_position`` (cap the goal relative to
the present position), but in radians, per joint, for a whole vector at once, and telling the caller
which joints were limited so the supervisor can count clamps.

All vectors are ``(n,)`` float64 joint positions in radians (REP-103), in one fixed joint order
(:data:`vla_ros.robot.joints.JOINT_NAMES` in the supervisor); limits may be scalars or ``(n,)``. Ints
are accepted. Inputs are never modified. Each limiting rule returns a :class:`Limited`: the new
values and a boolean mask of the joints whose value the rule changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from vla_ros.errors import BadInputError
from vla_ros.robot.joints import JOINT_NAMES

__all__ = [
    "Limited",
    "check_finite",
    "clamp_position",
    "limit_acceleration",
    "limit_velocity",
    "ramp_from_state",
]

_EPS = 1e-9
"""Changes smaller than this (radians) do not count as a clamp (float round-off)."""


class Limited(NamedTuple):
    """Result of a limiting rule.

    Attributes:
        values: ``(n,)`` float64, the limited positions, radians.
        clamped: ``(n,)`` bool, True where the rule changed the input value.
    """

    values: np.ndarray
    clamped: np.ndarray


def _vec(x: ArrayLike) -> np.ndarray:
    return np.array(x, dtype=np.float64, ndmin=1)


def _limited(original: np.ndarray, values: np.ndarray) -> Limited:
    return Limited(values, np.abs(values - original) > _EPS)


def check_finite(values: ArrayLike, names: Sequence[str] = JOINT_NAMES) -> np.ndarray:
    """Reject a command holding NaN or inf (the arm never moves on bad data).

    Args:
        values: ``(n,)`` joint positions, radians.
        names: the joint name of each entry, for the message.

    Returns:
        The values as a new ``(n,)`` float64 array.

    Raises:
        BadInputError: naming every non-finite joint, or on a length mismatch with ``names``.
    """
    arr = _vec(values)
    if arr.shape != (len(names),):
        raise BadInputError(f"expected {len(names)} joint values, got shape {arr.shape}")
    bad = [f"{n}={v}" for n, v in zip(names, arr.tolist()) if not np.isfinite(v)]
    if bad:
        raise BadInputError(f"non-finite joint values: {', '.join(bad)}")
    return arr


def clamp_position(goal: ArrayLike, lower_rad: ArrayLike, upper_rad: ArrayLike,
                   margin_rad: float = 0.0) -> Limited:
    """Clamp positions into the joint limits shrunk by a margin on both sides.

    Args:
        goal: ``(n,)`` commanded positions, radians.
        lower_rad, upper_rad: joint limits, radians (URDF ``<limit lower/upper>``).
        margin_rad: distance kept from each limit, radians (>= 0).

    Returns:
        Positions within ``[lower + margin, upper - margin]``.

    Raises:
        ValueError: the margin is negative or leaves an empty interval for some joint.
    """
    g, lo, hi = _vec(goal), _vec(lower_rad) + margin_rad, _vec(upper_rad) - margin_rad
    if margin_rad < 0 or np.any(lo > hi):
        raise ValueError(f"position margin {margin_rad} rad leaves no room within the limits")
    return _limited(g, np.clip(g, lo, hi))


def limit_velocity(goal: ArrayLike, previous: ArrayLike, max_velocity_rad_s: ArrayLike,
                   dt_s: float) -> Limited:
    """Limit the step from the previous output so that no joint exceeds its velocity limit.

    Args:
        goal: ``(n,)`` desired positions, radians.
        previous: ``(n,)`` the positions output one step earlier, radians.
        max_velocity_rad_s: per-joint speed limit, rad/s (> 0).
        dt_s: the actual time since the previous output, seconds; ``<= 0`` allows no motion.

    Returns:
        ``previous + clip(goal - previous, -v * dt, v * dt)``.
    """
    g, p = _vec(goal), _vec(previous)
    step = _vec(max_velocity_rad_s) * max(dt_s, 0.0)
    return _limited(g, p + np.clip(g - p, -step, step))


def limit_acceleration(goal: ArrayLike, previous: ArrayLike, previous_velocity_rad_s: ArrayLike,
                       max_acceleration_rad_s2: ArrayLike, dt_s: float) -> Limited:
    """Limit the change of velocity per step, slowing down in time to stop at the goal.

    The step's velocity ``(out - previous) / dt`` stays within ``previous_velocity ± a * dt``, and its
    magnitude under the speed ``v`` from which the joint can still brake to a stop at the goal after
    this step (``v * dt + v^2 / (2a) <= distance``, or ``v <= a * dt``), so a far goal is approached
    along a trapezoid, not overshot.

    Args:
        goal: ``(n,)`` desired positions, radians.
        previous: ``(n,)`` the positions output one step earlier, radians.
        previous_velocity_rad_s: ``(n,)`` velocity of the previous step, rad/s.
        max_acceleration_rad_s2: per-joint acceleration limit, rad/s² (> 0).
        dt_s: the actual time since the previous output, seconds; ``<= 0`` allows no motion.

    Returns:
        The limited positions.
    """
    g, p = _vec(goal), _vec(previous)
    if dt_s <= 0:
        return _limited(g, p.copy())
    acc, v_prev = _vec(max_acceleration_rad_s2), _vec(previous_velocity_rad_s)
    distance = g - p
    brake = np.sqrt((acc * dt_s) ** 2 + 2.0 * acc * np.abs(distance)) - acc * dt_s
    brake = np.maximum(brake, acc * dt_s)  # from a * dt the joint stops in one step
    v = np.clip(distance / dt_s, -brake, brake)
    v = np.clip(v, v_prev - acc * dt_s, v_prev + acc * dt_s)
    return _limited(g, p + v * dt_s)


def ramp_from_state(goal: ArrayLike, state: ArrayLike, far_jump_rad: ArrayLike) -> Limited:
    """Keep the goal within ``far_jump_rad`` of the measured state, so a far command is ramped.

    A goal farther than this from where the arm is would be a jump; capped here, it is approached
    step by step (at the velocity limit) as the arm follows, never commanded at once. This is lerobot's
    ``ensure_safe_goal_position`` (``max_relative_target``) in radians.

    Args:
        goal: ``(n,)`` desired positions, radians.
        state: ``(n,)`` measured positions (``joint_states``), radians.
        far_jump_rad: the largest allowed lead of the command over the state, radians (> 0).

    Returns:
        ``clip(goal, state - far_jump_rad, state + far_jump_rad)``.
    """
    g, s, far = _vec(goal), _vec(state), _vec(far_jump_rad)
    return _limited(g, np.clip(g, s - far, s + far))
