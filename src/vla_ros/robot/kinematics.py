"""Forward kinematics of a URDF tree (revolute, continuous, prismatic and fixed joints), with NumPy.

Used to check that the project's SO-101 description agrees with the official one, and wherever a
link pose is needed without a simulator. Conventions are URDF's (ROS wiki "urdf/XML/joint"): a
joint's ``<origin>`` places the joint frame in the parent link frame, ``rpy`` is fixed-axis roll,
pitch, yaw (``R = Rz(yaw) Ry(pitch) Rx(roll)``), and the joint moves about/along ``<axis>`` in the
joint frame. ROS-agnostic: never imports rclpy.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vla_ros.errors import BadInputError, ConfigError

__all__ = ["KinematicTree", "UrdfJoint", "rpy_to_matrix"]


def rpy_to_matrix(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """URDF fixed-axis roll/pitch/yaw (radians) as a (3, 3) rotation matrix ``Rz @ Ry @ Rx``."""
    cr, sr, cp, sp, cy, sy = (np.cos(roll), np.sin(roll), np.cos(pitch), np.sin(pitch),
                              np.cos(yaw), np.sin(yaw))
    return np.array([
        [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
        [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
        [-sp, cp * sr, cp * cr],
    ])


def _axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    x, y, z = axis / np.linalg.norm(axis)
    c, s = np.cos(angle), np.sin(angle)
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) + s * k + (1 - c) * (k @ k)


@dataclass(frozen=True)
class UrdfJoint:
    """One URDF joint: its type, links, origin (4x4, parent link frame) and unit axis."""

    name: str
    type: str
    parent: str
    child: str
    origin: np.ndarray
    axis: np.ndarray

    def transform(self, position: float) -> np.ndarray:
        """Pose of the child link frame in the parent link frame (4x4) at ``position`` (rad or m)."""
        motion = np.eye(4)
        if self.type in ("revolute", "continuous"):
            motion[:3, :3] = _axis_angle(self.axis, position)
        elif self.type == "prismatic":
            motion[:3, 3] = self.axis * position
        return self.origin @ motion


def _vector(elem: ET.Element | None, attr: str, default: str) -> np.ndarray:
    text = elem.get(attr, default) if elem is not None else default
    return np.array([float(v) for v in text.split()])


def _parse_joint(elem: ET.Element) -> UrdfJoint:
    origin_elem = elem.find("origin")
    origin = np.eye(4)
    origin[:3, :3] = rpy_to_matrix(*_vector(origin_elem, "rpy", "0 0 0"))
    origin[:3, 3] = _vector(origin_elem, "xyz", "0 0 0")
    parent, child = elem.find("parent"), elem.find("child")
    if parent is None or child is None:
        raise ConfigError(f"URDF joint {elem.get('name')!r} lacks <parent> or <child>")
    return UrdfJoint(
        name=elem.get("name", ""),
        type=elem.get("type", "fixed"),
        parent=parent.get("link", ""),
        child=child.get("link", ""),
        origin=origin,
        axis=_vector(elem.find("axis"), "xyz", "1 0 0"),
    )


class KinematicTree:
    """The joint tree of a URDF, for link poses at given joint positions.

    Args:
        urdf: path of the URDF file.

    Raises:
        ConfigError: the file cannot be read or parsed.
    """

    def __init__(self, urdf: str | Path) -> None:
        try:
            root = ET.parse(urdf).getroot()
        except (OSError, ET.ParseError) as err:
            raise ConfigError(f"cannot read URDF {urdf}: {err}") from err
        self.joints: dict[str, UrdfJoint] = {}
        self._by_child: dict[str, UrdfJoint] = {}
        for elem in root.findall("joint"):
            joint = _parse_joint(elem)
            self.joints[joint.name] = joint
            self._by_child[joint.child] = joint
        self.links: tuple[str, ...] = tuple(e.get("name", "") for e in root.findall("link"))

    def chain(self, link: str) -> list[UrdfJoint]:
        """The joints from the root link down to ``link``, root first.

        Raises:
            BadInputError: ``link`` is not a link of this URDF.
        """
        if link not in self.links:
            raise BadInputError(f"unknown link {link!r}; links: {list(self.links)}")
        joints = []
        while link in self._by_child:
            joint = self._by_child[link]
            joints.append(joint)
            link = joint.parent
        return joints[::-1]

    def link_pose(self, link: str, positions: Mapping[str, float]) -> np.ndarray:
        """Pose (4x4, metres) of ``link``'s frame in the root link's frame.

        Args:
            link: the link name.
            positions: joint positions (rad for revolute, m for prismatic) by joint name; joints not
                given are at 0.

        Raises:
            BadInputError: unknown link, or a position names no joint of the tree.
        """
        unknown = sorted(set(positions) - set(self.joints))
        if unknown:
            raise BadInputError(f"positions name unknown joints {unknown}")
        pose = np.eye(4)
        for joint in self.chain(link):
            pose = pose @ joint.transform(float(positions.get(joint.name, 0.0)))
        return pose
