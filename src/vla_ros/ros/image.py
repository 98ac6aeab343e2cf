"""rclpy image messages: ``sensor_msgs/Image`` from RGB arrays and ``sensor_msgs/CameraInfo``.

Uses cv_bridge (``CvBridge.cv2_to_imgmsg``) where it is installed, so images are built exactly as
the rest of a ROS install builds them, and the direct conversion of
:func:`vla_ros.camera.image.rgb_to_fields` where it is not (pip installs); both give the same message
(``test/camera/test_ros_image.py`` checks it when cv_bridge is present).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import CameraInfo, Image

from vla_ros.camera.image import rgb_to_fields
from vla_ros.camera.intrinsics import CameraIntrinsics

__all__ = ["HAVE_CV_BRIDGE", "camera_info_msg", "direct_rgb_to_msg", "rgb_to_msg", "stamp_from_ns",
           "stamp_to_s"]

try:
    from cv_bridge import CvBridge

    _BRIDGE: Any = CvBridge()
    HAVE_CV_BRIDGE = True
except (ImportError, AttributeError):  # pip installs have none; an apt one built for NumPy 1.x fails in a
    # venv with NumPy 2 (scripts/ros_venv.sh): "numpy.core.multiarray failed to import"
    _BRIDGE = None
    HAVE_CV_BRIDGE = False


def stamp_from_ns(ns: int) -> Time:
    """A ``builtin_interfaces/Time`` from integer nanoseconds (any clock: wall or simulated)."""
    sec, nanosec = divmod(int(ns), 1_000_000_000)
    return Time(sec=sec, nanosec=nanosec)


def stamp_to_s(stamp: Any) -> float:
    """A ``builtin_interfaces/Time`` (or a message header's stamp) in seconds."""
    return float(stamp.sec) + float(stamp.nanosec) * 1e-9


def direct_rgb_to_msg(rgb: np.ndarray, stamp: Time, frame_id: str) -> Image:
    """``sensor_msgs/Image`` (``rgb8``) from ``(H, W, 3)`` uint8 RGB without cv_bridge.

    Raises:
        BadInputError: the array is not ``(H, W, 3)`` uint8.
    """
    msg = Image(**rgb_to_fields(rgb))
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    return msg


def rgb_to_msg(rgb: np.ndarray, stamp: Time, frame_id: str) -> Image:
    """``sensor_msgs/Image`` (``rgb8``) from ``(H, W, 3)`` uint8 RGB, via cv_bridge when installed.

    Args:
        rgb: the image, row-major RGB.
        stamp: capture time.
        frame_id: the camera's optical frame (REP-103: z forward, x right, y down).

    Raises:
        BadInputError: the array is not ``(H, W, 3)`` uint8 (checked before cv_bridge sees it).
    """
    if _BRIDGE is None:
        return direct_rgb_to_msg(rgb, stamp, frame_id)
    arr = np.asarray(rgb)
    rgb_to_fields(arr[:1, :1] if arr.ndim == 3 else arr)  # the same checks on both paths, no copy
    msg = _BRIDGE.cv2_to_imgmsg(np.ascontiguousarray(arr), encoding="rgb8")
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    return msg


def camera_info_msg(intrinsics: CameraIntrinsics, stamp: Time, frame_id: str) -> CameraInfo:
    """``sensor_msgs/CameraInfo`` of an unrectified monocular pinhole camera (``plumb_bob``).

    ``R`` is identity and ``P = [K | 0]`` (``sensor_msgs/CameraInfo`` docs for a monocular camera).
    """
    msg = CameraInfo(
        width=intrinsics.width,
        height=intrinsics.height,
        distortion_model="plumb_bob",
        d=list(intrinsics.distortion),
        k=intrinsics.k,
        r=[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
        p=intrinsics.p,
    )
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    return msg
