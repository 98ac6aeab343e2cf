"""Offscreen rendering of the simulator's cameras (MuJoCo ``Renderer``; ``MUJOCO_GL=egl`` headless).

An OpenGL context belongs to the thread that made it: build the :class:`CameraRenderer` in the thread
that renders, and close it there.
"""

from __future__ import annotations

import mujoco
import numpy as np

from vla_ros.sim.errors import SimError
from vla_ros.sim.scene import COLLISION_GROUP
from vla_ros.sim.world import SimWorld

__all__ = ["CameraRenderer"]


class CameraRenderer:
    """Renders the named cameras of a world into RGB arrays of one size.

    Args:
        world: the world to draw (its lock is held while the scene is read).
        width, height: image size in pixels.

    Raises:
        SimError: no OpenGL context could be made (no EGL/OSMesa; set ``MUJOCO_GL``).
    """

    def __init__(self, world: SimWorld, width: int, height: int) -> None:
        self.world = world
        self.width, self.height = width, height
        try:
            self._renderer = mujoco.Renderer(world.model, height, width)
        except Exception as err:  # GL back-ends raise assorted errors
            raise SimError(f"cannot render offscreen ({type(err).__name__}: {err}); "
                           "set MUJOCO_GL=egl (GPU/EGL) or MUJOCO_GL=osmesa (software)") from err
        self._option = mujoco.MjvOption()
        self._option.geomgroup[COLLISION_GROUP] = 0

    def render(self, camera: str) -> np.ndarray:
        """The current view of ``camera``: (height, width, 3) uint8 RGB, a new array.

        Raises:
            SimError: no camera of that name.
        """
        try:
            cam_id = self.world.model.camera(camera).id
        except KeyError as err:
            raise SimError(f"no camera {camera!r} in the simulated world") from err
        with self.world.lock:
            self._renderer.update_scene(self.world.data, camera=cam_id, scene_option=self._option)
        return self._renderer.render().copy()

    def close(self) -> None:
        """Free the GL context (call from the rendering thread)."""
        self._renderer.close()
