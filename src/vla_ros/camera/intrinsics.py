"""Pinhole camera intrinsics, as ``sensor_msgs/CameraInfo`` wants them (ROS-agnostic).

Pixel coordinates follow ROS (``sensor_msgs/CameraInfo`` docs): the centre of the top-left pixel
is (0, 0), so the principal point of an ideal centred camera is ((W - 1) / 2, (H - 1) / 2).
Distortion is none (``plumb_bob`` with zero coefficients) unless calibrated values are given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vla_ros.errors import ConfigError

__all__ = ["CameraIntrinsics"]


@dataclass(frozen=True)
class CameraIntrinsics:
    """Image size (px) and pinhole parameters (px) of a camera, plus plumb-bob distortion.

    Raises:
        ConfigError: a non-positive size or focal length.
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    distortion: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        problems = [f"{n}={getattr(self, n)!r} must be > 0" for n in ("width", "height", "fx", "fy")
                    if not getattr(self, n) > 0]
        if problems:
            raise ConfigError("camera intrinsics: " + "; ".join(problems))

    @classmethod
    def from_fov(cls, width: int, height: int, *, fovy_deg: float | None = None,
                 fovx_deg: float | None = None) -> CameraIntrinsics:
        """An ideal centred camera with square pixels, from one field of view (degrees).

        Raises:
            ConfigError: neither or both fields of view given, or one outside (0, 180).
        """
        if (fovy_deg is None) == (fovx_deg is None):
            raise ConfigError("give exactly one of fovy_deg and fovx_deg")
        fov, size = (fovy_deg, height) if fovy_deg is not None else (fovx_deg, width)
        if not 0 < float(fov) < 180:  # type: ignore[arg-type]
            raise ConfigError(f"field of view {fov} degrees is outside (0, 180)")
        focal = (size / 2) / math.tan(math.radians(float(fov)) / 2)  # type: ignore[arg-type]
        return cls(width, height, focal, focal, (width - 1) / 2, (height - 1) / 2)

    @property
    def k(self) -> list[float]:
        """Row-major 3x3 camera matrix ``K``."""
        return [self.fx, 0.0, self.cx, 0.0, self.fy, self.cy, 0.0, 0.0, 1.0]

    @property
    def p(self) -> list[float]:
        """Row-major 3x4 projection matrix ``P`` of a monocular camera (no baseline)."""
        return [self.fx, 0.0, self.cx, 0.0, 0.0, self.fy, self.cy, 0.0, 0.0, 0.0, 1.0, 0.0]
