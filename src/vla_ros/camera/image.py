"""Conversion between ROS image messages and NumPy arrays, without ROS (works on rclpy and rosbags
messages alike: anything with the ``sensor_msgs/Image`` or ``CompressedImage`` fields).

Arrays are ``(H, W, 3)`` uint8 RGB, row-major, the layout of ``sensor_msgs/Image`` with encoding
``rgb8`` (encodings as in ``sensor_msgs/image_encodings.hpp``). The converter, the policy node and the
camera publisher all use this module, so every image is checked the same way.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from vla_ros.errors import BadInputError

__all__ = ["CHANNELS", "compressed_to_rgb", "image_to_rgb", "msg_to_rgb", "rgb_to_fields"]

CHANNELS: dict[str, int] = {"rgb8": 3, "bgr8": 3, "rgba8": 4, "bgra8": 4, "mono8": 1}
"""Supported 8-bit encodings and their channel counts."""

_TO_RGB = {
    "bgr8": cv2.COLOR_BGR2RGB,
    "rgba8": cv2.COLOR_RGBA2RGB,
    "bgra8": cv2.COLOR_BGRA2RGB,
    "mono8": cv2.COLOR_GRAY2RGB,
}


def image_to_rgb(height: int, width: int, encoding: str, step: int, data: Any) -> np.ndarray:
    """Decode raw ``sensor_msgs/Image`` fields into an RGB array.

    Args:
        height, width: image size in pixels.
        encoding: one of :data:`CHANNELS`.
        step: bytes per row (may include padding).
        data: the pixel bytes (bytes, bytearray, array.array or uint8 ndarray).

    Returns:
        ``(height, width, 3)`` uint8 RGB (a copy; the message is not referenced).

    Raises:
        BadInputError: every problem at once: unknown encoding, empty size, ``step`` shorter than a
            row, or a data length different from ``height * step``.
    """
    problems = []
    channels = CHANNELS.get(encoding)
    if channels is None:
        problems.append(f"unsupported encoding {encoding!r} (supported: {sorted(CHANNELS)})")
    if height <= 0 or width <= 0:
        problems.append(f"empty image {width}x{height}")
    if channels is not None and step < width * channels:
        problems.append(f"step {step} is shorter than a row ({width} px x {channels} B)")
    buf = np.frombuffer(memoryview(data).cast("B") if not isinstance(data, np.ndarray) else data,
                        dtype=np.uint8)
    if buf.size != height * step:
        problems.append(f"{buf.size} bytes of data, expected height x step = {height} x {step}")
    if problems:
        raise BadInputError(f"bad {width}x{height} {encoding} image: " + "; ".join(problems))
    rows = buf.reshape(height, step)[:, : width * channels]
    img = rows.reshape(height, width, channels)
    if encoding == "rgb8":
        return img.copy()
    return cv2.cvtColor(np.ascontiguousarray(img), _TO_RGB[encoding])


def msg_to_rgb(msg: Any) -> np.ndarray:
    """Decode a ``sensor_msgs/Image`` (rclpy or rosbags) into ``(H, W, 3)`` uint8 RGB.

    Raises:
        BadInputError: see :func:`image_to_rgb`.
    """
    return image_to_rgb(int(msg.height), int(msg.width), str(msg.encoding), int(msg.step), msg.data)


def compressed_to_rgb(fmt: str, data: Any) -> np.ndarray:
    """Decode a ``sensor_msgs/CompressedImage`` payload (JPEG or PNG) with OpenCV.

    Raises:
        BadInputError: the payload is empty or does not decode.
    """
    buf = np.frombuffer(bytes(data), dtype=np.uint8)
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR) if buf.size else None
    if img is None:
        raise BadInputError(f"cannot decode {len(buf)}-byte compressed image (format {fmt!r})")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def rgb_to_fields(rgb: np.ndarray) -> dict[str, Any]:
    """The ``sensor_msgs/Image`` fields for an RGB array (encoding ``rgb8``, no row padding).

    Raises:
        BadInputError: the array is not ``(H, W, 3)`` uint8.
    """
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise BadInputError(f"expected (H, W, 3) uint8 RGB, got {arr.shape} {arr.dtype}")
    h, w, _ = arr.shape
    return {"height": h, "width": w, "encoding": "rgb8", "is_bigendian": 0, "step": w * 3,
            "data": np.ascontiguousarray(arr).tobytes()}
