"""Scripted demonstrations: smooth joint-space motions through random waypoints (ROS-agnostic).

Each episode starts from the arm's current position, visits ``num_waypoints`` poses drawn uniformly
from a box around ``centre_rad`` (clipped to the joint limits), and returns; every segment is a
minimum-jerk move (:mod:`vla_ros.safety.trajectory`, the same profile as the supervisor's reset).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from vla_ros.robot.description import JointLimit
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.safety.trajectory import MinimumJerkTrajectory, plan_minimum_jerk

__all__ = ["ScriptedEpisode", "plan_episode"]


@dataclass(frozen=True)
class ScriptedEpisode:
    """A sequence of minimum-jerk segments; :meth:`position` samples it at any time."""

    segments: tuple[MinimumJerkTrajectory, ...]

    @property
    def duration_s(self) -> float:
        """Total duration, seconds."""
        return sum(s.duration_s for s in self.segments)

    def position(self, t_s: float) -> np.ndarray:
        """``(6,)`` joint positions, radians, at ``t_s`` seconds from the start (held at the end)."""
        for segment in self.segments:
            if t_s < segment.duration_s:
                return segment.position(t_s)
            t_s -= segment.duration_s
        return self.segments[-1].goal_rad.copy()


def plan_episode(
    start_rad: Sequence[float],
    limits: Mapping[str, JointLimit],
    rng: np.random.Generator,
    *,
    centre_rad: Sequence[float] | None = None,
    spread_rad: float = 0.5,
    num_waypoints: int = 2,
    max_velocity_rad_s: float = 0.8,
) -> ScriptedEpisode:
    """Plan a demonstration from ``start_rad`` through random waypoints and back.

    Args:
        start_rad: ``(6,)`` current joint positions, radians, :data:`JOINT_NAMES` order.
        limits: joint limits (from the URDF); waypoints stay 0.1 rad inside them.
        rng: random generator (seed it for reproducible demonstrations).
        centre_rad: centre of the waypoint box (default: ``start_rad``).
        spread_rad: half-width of the waypoint box, radians.
        num_waypoints: poses visited before returning to the start.
        max_velocity_rad_s: speed limit of every joint, rad/s.
    """
    start = np.asarray(start_rad, dtype=np.float64)
    centre = np.asarray(centre_rad if centre_rad is not None else start, dtype=np.float64)
    lower = np.array([limits[n].lower_rad + 0.1 for n in JOINT_NAMES])
    upper = np.array([limits[n].upper_rad - 0.1 for n in JOINT_NAMES])
    poses = [np.clip(centre + rng.uniform(-spread_rad, spread_rad, size=6), lower, upper)
             for _ in range(num_waypoints)]
    segments, here = [], start
    for goal in [*poses, start]:
        segments.append(plan_minimum_jerk(here, goal, max_velocity_rad_s, min_duration_s=0.5))
        here = goal
    return ScriptedEpisode(tuple(segments))
