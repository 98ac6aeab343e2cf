"""Minimum-jerk joint trajectory from the current command to the home pose.

All joints move on the same normalised time profile (Flash & Hogan 1985, "The coordination of arm
movements", J. Neurosci. 5(7)): ``s(tau) = 10 tau^3 - 15 tau^4 + 6 tau^5`` for ``tau = t / T`` in [0, 1],
so they start and arrive together, with zero velocity and acceleration at both ends. Its peak speed
is ``15/8 * |delta| / T`` (at ``tau = 1/2``) and its peak acceleration ``10/sqrt(3) * |delta| / T^2``; the
duration ``T`` is the shortest that keeps every joint under its limits. Because a sampled position
moves at most the peak speed times the sample interval, the sampled stream respects the limits at any
output rate.

Vectors are ``(n,)`` float64 radians; times are seconds from the trajectory's start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["PEAK_ACCELERATION_FACTOR", "PEAK_VELOCITY_FACTOR", "MinimumJerkTrajectory",
           "plan_minimum_jerk"]

PEAK_VELOCITY_FACTOR = 15.0 / 8.0
"""Peak of ``ds/dtau`` of the minimum-jerk profile (at ``tau = 1/2``)."""

PEAK_ACCELERATION_FACTOR = 10.0 / math.sqrt(3.0)
"""Peak of ``|d2s/dtau2|`` of the minimum-jerk profile (at ``tau = 1/2 ± sqrt(3)/6``)."""


@dataclass(frozen=True)
class MinimumJerkTrajectory:
    """A synchronised minimum-jerk move of all joints.

    Attributes:
        start_rad: ``(n,)`` positions at ``t = 0``, radians.
        goal_rad: ``(n,)`` positions at ``t >= duration_s``, radians.
        duration_s: time to reach the goal, seconds (> 0).
    """

    start_rad: np.ndarray
    goal_rad: np.ndarray
    duration_s: float

    def _tau(self, t_s: float) -> float:
        return min(max(t_s / self.duration_s, 0.0), 1.0)

    def position(self, t_s: float) -> np.ndarray:
        """Positions at time ``t_s`` (clamped to [0, duration]), ``(n,)`` radians."""
        tau = self._tau(t_s)
        s = tau**3 * (10.0 - 15.0 * tau + 6.0 * tau**2)
        return self.start_rad + s * (self.goal_rad - self.start_rad)

    def velocity(self, t_s: float) -> np.ndarray:
        """Velocities at time ``t_s``, ``(n,)`` rad/s (zero outside [0, duration])."""
        tau = self._tau(t_s)
        ds = 30.0 * tau**2 * (1.0 - tau) ** 2
        return ds / self.duration_s * (self.goal_rad - self.start_rad)

    def done(self, t_s: float) -> bool:
        """Whether the trajectory has ended at time ``t_s``."""
        return t_s >= self.duration_s

    @property
    def peak_velocity_rad_s(self) -> np.ndarray:
        """``(n,)`` the highest speed of each joint along the move, rad/s."""
        return PEAK_VELOCITY_FACTOR * np.abs(self.goal_rad - self.start_rad) / self.duration_s


def plan_minimum_jerk(
    start_rad: ArrayLike,
    goal_rad: ArrayLike,
    max_velocity_rad_s: ArrayLike,
    max_acceleration_rad_s2: ArrayLike | None = None,
    min_duration_s: float = 0.2,
) -> MinimumJerkTrajectory:
    """Plan the fastest minimum-jerk move that keeps every joint within its limits.

    Args:
        start_rad: ``(n,)`` start positions, radians.
        goal_rad: ``(n,)`` goal positions, radians.
        max_velocity_rad_s: per-joint speed limit (scalar or ``(n,)``), rad/s, > 0.
        max_acceleration_rad_s2: per-joint acceleration limit, rad/s²; None or 0 = unlimited.
        min_duration_s: shortest duration, seconds (a zero-length move still takes this long).

    Returns:
        The trajectory.

    Raises:
        ValueError: non-finite positions, mismatched shapes or non-positive velocity limits.
    """
    start = np.array(start_rad, dtype=np.float64, ndmin=1)
    goal = np.array(goal_rad, dtype=np.float64, ndmin=1)
    vmax = np.broadcast_to(np.asarray(max_velocity_rad_s, dtype=np.float64), start.shape)
    if start.shape != goal.shape or not (np.all(np.isfinite(start)) and np.all(np.isfinite(goal))):
        raise ValueError(f"need finite start/goal of one shape, got {start.shape} and {goal.shape}")
    if not np.all(vmax > 0):
        raise ValueError(f"velocity limits must be > 0, got {vmax.tolist()}")
    distance = np.abs(goal - start)
    duration = max(float(np.max(PEAK_VELOCITY_FACTOR * distance / vmax)), min_duration_s)
    if max_acceleration_rad_s2 is not None:
        amax = np.broadcast_to(np.asarray(max_acceleration_rad_s2, dtype=np.float64), start.shape)
        ok = amax > 0
        if np.any(ok):
            duration = max(duration, float(np.max(np.sqrt(PEAK_ACCELERATION_FACTOR * distance[ok]
                                                          / amax[ok]))))
    return MinimumJerkTrajectory(start, goal, duration)
