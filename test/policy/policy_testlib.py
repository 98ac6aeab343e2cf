"""Constants and helpers shared by the policy tests (a uniquely named module, imported by the tests)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from vla_ros.camera.image import rgb_to_fields
from vla_ros.policy.pipeline import ObservationSnapshot
from vla_ros.robot.joints import JOINT_NAMES

TASKS = ("pick up the red cube and place it in the bowl", "push the blue block to the left")
FPS = 15.0
CHUNK = 20
CAMERA_MAP = {"front": "camera1", "wrist": "camera2"}
"""Dataset camera -> policy camera of the tiny checkpoint (a rename in its pre-processor)."""
IMAGE_KEYS = ("observation.images.camera1", "observation.images.camera2")
HOME_RAD = (0.1, -0.2, 0.3, -0.4, 0.5, 0.2)


def image_msg(h: int = 48, w: int = 64, value: int = 100, encoding: str = "rgb8") -> SimpleNamespace:
    """A ``sensor_msgs/Image``-like object (what the pipeline decodes), filled with ``value``."""
    fields = rgb_to_fields(np.full((h, w, 3), value, np.uint8))
    fields["encoding"] = encoding
    return SimpleNamespace(**fields)


def snapshot(t: float, *, images: dict | None = None, image_t: float | None = None,
             names: tuple = JOINT_NAMES, positions: tuple = HOME_RAD) -> ObservationSnapshot:
    """An observation captured at ``t`` (images at ``image_t``, default ``t``)."""
    images = images if images is not None else {k: image_msg() for k in IMAGE_KEYS}
    stamp = t if image_t is None else image_t
    return ObservationSnapshot(list(names), list(positions), t, images, {k: stamp for k in images})
