"""``camera_publisher``: one OpenCV camera (or a looping video file) as ROS image topics.

Publishes ``cameras/<name>/image_raw`` (``sensor_msgs/Image``, ``rgb8``) and
``cameras/<name>/camera_info`` with sensor QoS, both stamped with the capture time and the
``frame_id`` parameter, each frame once, as it arrives. Topics work with rqt_image_view and RViz's
Image display. A lost camera is reported and reopened with backoff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image

from vla_ros.camera.capture import CaptureConfig, CaptureLoop, Frame
from vla_ros.camera.intrinsics import CameraIntrinsics
from vla_ros.config import param
from vla_ros.errors import ConfigError
from vla_ros.ros.image import camera_info_msg, rgb_to_msg, stamp_from_ns
from vla_ros.ros.node_main import run_node
from vla_ros.ros.params import declare_config
from vla_ros.ros.qos import SENSOR_QOS

__all__ = ["CameraPublisherConfig", "CameraPublisherNode", "main"]


@dataclass
class CameraPublisherConfig(CaptureConfig):
    """The node's parameters: capture settings plus topic name, frame and intrinsics."""

    name: str = field(default="front", metadata=param(
        "Camera name: topics are cameras/<name>/image_raw and cameras/<name>/camera_info", read_only=True))
    frame_id: str = field(default="", metadata=param(
        "frame_id of the images (REP-103 optical frame); default <name>_camera_optical_frame"))
    fovx_deg: float = field(default=70.0, metadata=param(
        "Horizontal field of view, degrees, for camera_info when fx is 0 (typical USB webcam: 60-80)",
        range=(1.0, 179.0)))
    fx: float = field(default=0.0, metadata=param(
        "Calibrated focal length x, px (0: derive from fovx_deg)", range=(0.0, 1e5)))
    fy: float = field(default=0.0, metadata=param(
        "Calibrated focal length y, px (0: = fx)", range=(0.0, 1e5)))
    cx: float = field(default=-1.0, metadata=param(
        "Principal point x, px (-1: image centre)", range=(-1.0, 1e5)))
    cy: float = field(default=-1.0, metadata=param(
        "Principal point y, px (-1: image centre)", range=(-1.0, 1e5)))

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.name or "/" in self.name:
            raise ConfigError(f"name={self.name!r} must be a non-empty topic token without '/'")
        self.frame_id = self.frame_id or f"{self.name}_camera_optical_frame"

    def intrinsics(self) -> CameraIntrinsics:
        """The camera's pinhole intrinsics from the parameters."""
        ideal = CameraIntrinsics.from_fov(self.width, self.height, fovx_deg=self.fovx_deg)
        fx = self.fx or ideal.fx
        return CameraIntrinsics(
            self.width, self.height, fx, self.fy or fx,
            ideal.cx if self.cx < 0 else self.cx, ideal.cy if self.cy < 0 else self.cy)


class CameraPublisherNode(Node):
    """Publishes one camera (see the module docstring).

    Args:
        node_name: ROS node name.
        kwargs: passed to :class:`rclpy.node.Node` (``namespace``, ``parameter_overrides``, ``context``).

    Raises:
        ConfigError: invalid parameters.
    """

    def __init__(self, node_name: str = "camera_publisher", **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self.cfg = declare_config(self, CameraPublisherConfig)
        self._intrinsics = self.cfg.intrinsics()
        topic = f"cameras/{self.cfg.name}"
        self._image_pub = self.create_publisher(Image, f"{topic}/image_raw", SENSOR_QOS)
        self._info_pub = self.create_publisher(CameraInfo, f"{topic}/camera_info", SENSOR_QOS)
        self._was_connected = False
        self.capture = CaptureLoop(self.cfg, self._on_frame, self._on_error,
                                   now_ns=lambda: self.get_clock().now().nanoseconds)
        self.capture.start()
        self.get_logger().info(
            f"capturing {self.cfg.device!r} at {self.cfg.width}x{self.cfg.height}@{self.cfg.fps:g} "
            f"fps -> {self._image_pub.topic_name}")

    def _on_frame(self, frame: Frame) -> None:
        if not self._was_connected:
            self._was_connected = True
            self.get_logger().info(f"camera {self.cfg.device!r} delivering frames")
        stamp = stamp_from_ns(frame.stamp_ns)
        self._image_pub.publish(rgb_to_msg(frame.rgb, stamp, self.cfg.frame_id))
        self._info_pub.publish(camera_info_msg(self._intrinsics, stamp, self.cfg.frame_id))

    def _on_error(self, message: str) -> None:
        self._was_connected = False
        self.get_logger().error(message, throttle_duration_sec=5.0)

    def close(self) -> None:
        """Stop capturing and release the camera."""
        self.capture.stop()


def main(args: list[str] | None = None) -> int:
    """Entry point of ``camera_publisher``."""
    return run_node(CameraPublisherNode, args)
