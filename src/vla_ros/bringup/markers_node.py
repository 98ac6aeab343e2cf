"""``chunk_markers``: draws the policy's current action chunk in RViz.

Subscribes ``policy/action_chunk`` (ActionChunk, radians) and publishes ``policy/action_chunk_markers``
(visualization_msgs/MarkerArray): the path of the gripper frame over the chunk (forward kinematics of
the project's URDF), as a line strip and dots, in the URDF's root frame ``base_link``.
"""

from __future__ import annotations

import numpy as np
from geometry_msgs.msg import Point
from rclpy.node import Node
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from vla_ros.msg import ActionChunk
from vla_ros.paths import urdf_file
from vla_ros.robot.kinematics import KinematicTree
from vla_ros.ros.node_main import run_node
from vla_ros.ros.qos import STATUS_QOS

__all__ = ["ChunkMarkers", "chunk_path", "main"]

TIP_LINK = "gripper_frame_link"


def chunk_path(tree: KinematicTree, joint_names: list[str], actions: np.ndarray) -> np.ndarray:
    """Gripper-frame positions along a chunk.

    Args:
        tree: kinematics of the arm.
        joint_names: the chunk's columns (URDF joint names).
        actions: ``(T, J)`` joint positions, radians.

    Returns:
        ``(T, 3)`` positions in the root link frame, metres.
    """
    return np.array([tree.link_pose(TIP_LINK, dict(zip(joint_names, row)))[:3, 3] for row in actions])


class ChunkMarkers(Node):
    """Republishes each ActionChunk as a MarkerArray."""

    def __init__(self) -> None:
        super().__init__("chunk_markers")
        self.tree = KinematicTree(urdf_file())
        self.pub = self.create_publisher(MarkerArray, "policy/action_chunk_markers", STATUS_QOS)
        self.create_subscription(ActionChunk, "policy/action_chunk", self._on_chunk, STATUS_QOS)

    def _on_chunk(self, msg: ActionChunk) -> None:
        names = list(msg.joint_names)
        actions = np.asarray(msg.actions, dtype=np.float64)
        if not names or actions.size != msg.num_steps * len(names) or not np.all(np.isfinite(actions)):
            self.get_logger().warning("malformed action chunk; not drawn", throttle_duration_sec=5.0)
            return
        path = chunk_path(self.tree, names, actions.reshape(msg.num_steps, len(names)))
        points = [Point(x=float(p[0]), y=float(p[1]), z=float(p[2])) for p in path]
        markers = MarkerArray()
        styles = ((0, Marker.LINE_STRIP, (0.1, 0.8, 0.2)), (1, Marker.SPHERE_LIST, (1.0, 0.6, 0.0)))
        for mid, kind, colour in styles:
            m = Marker(id=mid, type=kind, action=Marker.ADD, ns="action_chunk", points=points)
            m.header.frame_id = "base_link"
            m.header.stamp = msg.header.stamp
            m.pose.orientation.w = 1.0
            m.scale.x = m.scale.y = m.scale.z = 0.004 if kind == Marker.LINE_STRIP else 0.008
            m.color = ColorRGBA(r=colour[0], g=colour[1], b=colour[2], a=1.0)
            markers.markers.append(m)
        self.pub.publish(markers)


def main(args: list[str] | None = None) -> int:
    """Entry point of ``chunk_markers``."""
    return run_node(ChunkMarkers, args)
