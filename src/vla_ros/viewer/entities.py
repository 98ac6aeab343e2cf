"""Entity paths and the timeline of everything the viewer logs, defined once.

Cameras are named by the input they feed and the camera they come from: the policy's image feature
in the deploy graph (``policy/observation.images.camera1``, fed by ROS camera ``front``, shown as
``observation.images.camera1 ← front``), the dataset feature a recording will become in the record
graph and for bags (``dataset/observation.images.front``). Joints are URDF joint names; every joint
value is in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ARM",
    "CHUNK_PATH",
    "CUBES",
    "GRIPPER",
    "JOINT_SERIES",
    "LOG",
    "STATUS",
    "TIMELINE",
    "WORLD",
    "CameraFeed",
    "joint_entity",
    "status_entity",
]

TIMELINE = "ros_time"
"""The timeline: message header stamps (simulated seconds from 0 in simulation, UNIX time otherwise)."""

ARM = "arm"
"""Prefix of the URDF model (rerun's URDF loader puts ``<robot>/<link>/<joint>/<link>...`` below)."""
WORLD = "world"
"""``base_link`` coordinates (= the simulator's world frame, :data:`vla_ros.ros.objects.WORLD_FRAME_ID`)."""
CUBES = f"{WORLD}/cubes"
CHUNK_PATH = f"{WORLD}/chunk_path"
"""The gripper frame's future path over the action chunk being executed, metres."""
GRIPPER = f"{WORLD}/gripper"
"""The measured gripper frame origin, metres."""
STATUS = "status"
LOG = "log"

JOINT_SERIES = ("measured", "policy", "command", "chunk", "limits")
"""Series per joint: ``joint_states``, ``policy/joint_commands``, ``joint_commands`` (the supervisor's
output), the action chunk's future (points at their planned times), and the URDF limits (lower, upper)."""


def joint_entity(joint: str, series: str) -> str:
    """``joints/<joint>/<series>``, a series of :data:`JOINT_SERIES` (degrees).

    Raises:
        ValueError: unknown series.
    """
    if series not in JOINT_SERIES:
        raise ValueError(f"unknown joint series {series!r}, expected one of {JOINT_SERIES}")
    return f"joints/{joint}/{series}"


def status_entity(source: str, name: str) -> str:
    """``status/<source>/<name>``: a policy or safety status figure (``status/policy/latency_s``)."""
    return f"{STATUS}/{source}/{name}"


@dataclass(frozen=True)
class CameraFeed:
    """One camera as an input sees it.

    Attributes:
        camera: the ROS camera name (``cameras/<camera>/image_raw``).
        feature: the input it feeds (``observation.images.camera1``).
        scope: ``policy`` (deploy: the checkpoint's feature) or ``dataset`` (record, bags).
    """

    camera: str
    feature: str
    scope: str = "policy"

    @property
    def entity(self) -> str:
        """``<scope>/<feature>``."""
        return f"{self.scope}/{self.feature}"

    @property
    def label(self) -> str:
        """``<feature> ← <camera>``: the panel title."""
        return f"{self.feature} ← {self.camera}"
