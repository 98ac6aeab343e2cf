"""The ``sim/objects`` message format (visualization_msgs/MarkerArray), defined once.

``so101_sim`` writes it (:func:`vla_ros.sim.node.objects_msg`); ``sim_teleop`` and ``sim_evaluator``
read it with :func:`parse_objects`. One ``Marker.CUBE`` per cube (``ns`` :data:`CUBES_NS`, ``text`` its
colour) and one ``Marker.SPHERE`` at the gripper frame (``ns`` :data:`GRIPPER_NS`), all in frame
:data:`WORLD_FRAME_ID`, stamped with the same simulated time.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from visualization_msgs.msg import Marker, MarkerArray

from vla_ros.ros.image import stamp_to_s

__all__ = ["CUBES_NS", "GRIPPER_NS", "WORLD_FRAME_ID", "Objects", "parse_objects"]

WORLD_FRAME_ID = "base_link"
"""frame_id of ``sim/objects``: the simulator's world frame (origin on the table top, x forward, z up)
is exactly ``base_link`` (the URDF's root sits at the world origin, unrotated)."""
CUBES_NS = "cubes"
GRIPPER_NS = "gripper_frame"


class Objects(NamedTuple):
    """One ``sim/objects`` message: stamp (s, simulated), gripper frame origin (3,) m, cube centres
    ``{colour: (3,) m}``, and the frame they are in."""

    stamp_s: float
    gripper: np.ndarray | None
    cubes: dict[str, np.ndarray]
    frame_id: str = WORLD_FRAME_ID


def parse_objects(msg: MarkerArray) -> Objects | None:
    """The ground truth in a ``sim/objects`` message (None if it holds no marker; deleted markers are
    skipped)."""
    if not msg.markers:
        return None
    gripper, cubes = None, {}
    for marker in msg.markers:
        if marker.action != Marker.ADD:
            continue
        p = marker.pose.position
        xyz = np.array([p.x, p.y, p.z], dtype=float)
        if marker.ns == CUBES_NS:
            cubes[marker.text] = xyz
        elif marker.ns == GRIPPER_NS:
            gripper = xyz
    header = msg.markers[0].header
    return Objects(stamp_to_s(header.stamp), gripper, cubes, header.frame_id)
