"""Camera frames for the viewer: downscaled and JPEG-compressed (OpenCV), so a viewer costs little."""

from __future__ import annotations

import cv2
import numpy as np

from vla_ros.errors import BadInputError

__all__ = ["downscale", "encode_jpeg"]


def downscale(rgb: np.ndarray, max_width_px: int) -> np.ndarray:
    """Shrink ``(H, W, 3)`` uint8 to at most ``max_width_px`` wide, keeping the aspect (``INTER_AREA``).

    Raises:
        BadInputError: not an ``(H, W, 3)`` uint8 array, or ``max_width_px`` < 1.
    """
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8 or max_width_px < 1:
        raise BadInputError(f"expected (H, W, 3) uint8 and max_width_px >= 1, got {arr.shape} {arr.dtype}, "
                            f"{max_width_px}")
    h, w = arr.shape[:2]
    if w <= max_width_px:
        return arr
    size = (max_width_px, max(1, round(h * max_width_px / w)))
    return cv2.resize(arr, size, interpolation=cv2.INTER_AREA)


def encode_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    """JPEG bytes of ``(H, W, 3)`` uint8 RGB at ``quality`` (1-100).

    Raises:
        BadInputError: OpenCV cannot encode the array.
    """
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise BadInputError(f"cannot JPEG-encode a {np.shape(rgb)} image")
    return bytes(buf.tobytes())
