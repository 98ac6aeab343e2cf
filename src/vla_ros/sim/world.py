"""The simulated world: MuJoCo model and state, servo goals, episodes, and task queries.

:class:`SimWorld` is thread-safe: the bus emulator's thread sets goals and reads positions while the
simulation thread steps and renders (every public method takes ``lock``; hold it yourself to read
``data`` consistently). Servo goals are followed the way an STS3215 follows them: the position
actuator's setpoint moves towards the goal at most at the servo's no-load speed
(:data:`SERVO_MAX_SPEED_RAD_S`); torque off makes the joint limp (no actuator force).

Angles in radians in :data:`JOINT_NAMES` order, positions in metres in the world frame (origin on
the table top under ``base_link``, z up; it coincides with ``base_link``). Task success is
:func:`vla_ros.sim.task.reached`.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

import mujoco
import numpy as np

from vla_ros.bus.servo import DEFAULT_MAX_SPEED_TICKS_S
from vla_ros.camera.intrinsics import CameraIntrinsics
from vla_ros.errors import ConfigError
from vla_ros.robot.calibration import MAX_RESOLUTION
from vla_ros.robot.description import joint_limits
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.sim.config import SimConfig
from vla_ros.sim.errors import UnknownCubeError
from vla_ros.sim.randomization import EpisodeLayout, sample_layout
from vla_ros.sim.scene import CUBE_HALF_SIZE_M, CUBE_NAMES, build_model
from vla_ros.sim.task import SUCCESS_TOLERANCE_M, reached

__all__ = ["SERVO_MAX_SPEED_RAD_S", "SUCCESS_TOLERANCE_M", "SimWorld"]

SERVO_MAX_SPEED_RAD_S = DEFAULT_MAX_SPEED_TICKS_S * 2 * math.pi / (MAX_RESOLUTION - 1)
"""STS3215 no-load speed (the bus emulator's servo model), about 4.6 rad/s."""



class SimWorld:
    """The SO-101 on a table with cube(s) and a bin, stepped by MuJoCo.

    The servos start with torque on, holding the start pose; under the bus emulator (which switches
    torque off at power-up, as an STS3215 is) the arm is limp until the driver enables torque.

    Args:
        cfg: simulator configuration.
        urdf: the arm's URDF (default: the project's).

    Raises:
        ConfigError: the start pose is outside the joint limits.
        SimError: the model cannot be built.
    """

    def __init__(self, cfg: SimConfig, urdf: str | Path | None = None) -> None:
        self.cfg = cfg
        self.model = build_model(cfg, urdf)
        self.data = mujoco.MjData(self.model)
        self.lock = threading.RLock()
        limits = joint_limits(urdf)
        self._lower = np.array([limits[n].lower_rad for n in JOINT_NAMES])
        self._upper = np.array([limits[n].upper_rad for n in JOINT_NAMES])
        self.start_pose_rad = np.array(cfg.start_pose_rad, dtype=float)
        self._check_start_pose()
        self._qadr = np.array([self.model.joint(n).qposadr[0] for n in JOINT_NAMES])
        self._dadr = np.array([self.model.joint(n).dofadr[0] for n in JOINT_NAMES])
        self._act = np.array([self.model.actuator(n).id for n in JOINT_NAMES])
        self._gain = self.model.actuator_gainprm[self._act, 0].copy()
        self._bias = self.model.actuator_biasprm[self._act, 1:3].copy()
        self.cube_names: tuple[str, ...] = CUBE_NAMES[: 2 if cfg.two_cubes else 1]
        self._goal = self.start_pose_rad.copy()
        self._torque = np.ones(len(JOINT_NAMES), dtype=bool)
        self._steps = 0
        self.episode = -1
        self.layout: EpisodeLayout | None = None
        self.reset()

    def _check_start_pose(self) -> None:
        bad = [f"{n}={v:.3f} not in [{lo:.3f}, {hi:.3f}]" for n, v, lo, hi
               in zip(JOINT_NAMES, self.start_pose_rad, self._lower, self._upper) if not lo <= v <= hi]
        if bad:
            raise ConfigError("start_pose_rad outside the joint limits: " + "; ".join(bad))

    # --- episodes ---------------------------------------------------------------------------
    def reset(self, episode: int | None = None) -> EpisodeLayout:
        """Restore the start state: arm at rest at the start pose with goals there (torque states are
        the bus's and stay as they are), cubes, colours and lights of the episode's scene (``episode //
        scene_repeats``).

        Args:
            episode: the episode to lay out (default: the next one). Simulated time keeps running.

        Returns:
            The episode's layout.
        """
        with self.lock:
            self.episode = self.episode + 1 if episode is None else int(episode)
            layout = sample_layout(self.cfg.seed, self.episode // self.cfg.scene_repeats, self.cube_names,
                                   self.cfg.cube_layout, self.cfg.cube_jitter_m, self.cfg.swap_slots,
                                   self.cfg.swap_probability)
            mujoco.mj_resetData(self.model, self.data)
            self.data.qpos[self._qadr] = self.start_pose_rad
            self.data.ctrl[self._act] = self.start_pose_rad
            self._goal = self.start_pose_rad.copy()
            self._apply_layout(layout)
            mujoco.mj_forward(self.model, self.data)
            self.layout = layout
            return layout

    def _apply_layout(self, layout: EpisodeLayout) -> None:
        m = self.model
        for name, (x, y, yaw) in layout.cube_poses.items():
            adr = m.joint(f"cube_{name}").qposadr[0]
            self.data.qpos[adr:adr + 7] = [x, y, CUBE_HALF_SIZE_M, math.cos(yaw / 2), 0, 0, math.sin(yaw / 2)]
            m.geom(f"cube_{name}").rgba = layout.cube_rgba[name]
        m.geom("table").rgba = layout.table_rgba
        key = m.light("key").id
        m.light_diffuse[key] = [layout.key_light_diffuse] * 3
        m.light_dir[key] = layout.key_light_dir
        m.vis.headlight.ambient[:] = [layout.ambient] * 3

    # --- stepping ---------------------------------------------------------------------------
    @property
    def sim_time_s(self) -> float:
        """Simulated seconds since construction (monotonic; not reset by :meth:`reset`)."""
        return self._steps * self.model.opt.timestep

    def step(self, n: int = 1) -> None:
        """Advance ``n`` physics steps, moving each servo setpoint towards its goal at servo speed."""
        max_delta = SERVO_MAX_SPEED_RAD_S * self.model.opt.timestep
        with self.lock:
            for _ in range(n):
                ctrl = self.data.ctrl[self._act]
                self.data.ctrl[self._act] = ctrl + np.clip(self._goal - ctrl, -max_delta, max_delta)
                mujoco.mj_step(self.model, self.data)
            self._steps += n

    # --- servos -----------------------------------------------------------------------------
    def set_goal(self, joint: int, angle_rad: float) -> None:
        """Goal of joint ``joint`` (index in JOINT_NAMES), rad, clamped to the joint limits."""
        with self.lock:
            self._goal[joint] = min(max(float(angle_rad), self._lower[joint]), self._upper[joint])

    def set_torque(self, joint: int, enabled: bool) -> None:
        """Torque on: follow the goal from where the joint is. Off: limp (no actuator force)."""
        with self.lock:
            act = self._act[joint]
            if enabled and not self._torque[joint]:
                self.data.ctrl[act] = self.data.qpos[self._qadr[joint]]
            self.model.actuator_gainprm[act, 0] = self._gain[joint] if enabled else 0.0
            self.model.actuator_biasprm[act, 1:3] = self._bias[joint] if enabled else 0.0
            self._torque[joint] = bool(enabled)

    def torque(self) -> np.ndarray:
        """Torque state per joint, (6,) bool."""
        with self.lock:
            return self._torque.copy()

    def goals(self) -> np.ndarray:
        """Goal per joint, (6,) rad."""
        with self.lock:
            return self._goal.copy()

    def joint_positions(self) -> np.ndarray:
        """Joint angles, (6,) float64 rad."""
        with self.lock:
            return self.data.qpos[self._qadr].copy()

    def joint_velocities(self) -> np.ndarray:
        """Joint velocities, (6,) float64 rad/s."""
        with self.lock:
            return self.data.qvel[self._dadr].copy()

    def set_joint_positions(self, angles_rad: np.ndarray) -> None:
        """Teleport the arm (joints at rest, goals = the new angles). For tests and tools."""
        with self.lock:
            angles = np.clip(np.asarray(angles_rad, dtype=float), self._lower, self._upper)
            self.data.qpos[self._qadr] = angles
            self.data.qvel[self._dadr] = 0.0
            self.data.ctrl[self._act] = angles
            self._goal = angles.copy()
            mujoco.mj_forward(self.model, self.data)

    def camera_intrinsics(self, camera: str) -> CameraIntrinsics:
        """Pinhole intrinsics of ``camera`` at the configured image size (MuJoCo ``fovy`` is vertical).

        Raises:
            KeyError: no camera of that name.
        """
        fovy = float(self.model.camera(camera).fovy[0])
        return CameraIntrinsics.from_fov(self.cfg.image_width, self.cfg.image_height, fovy_deg=fovy)

    # --- task queries -----------------------------------------------------------------------
    def gripper_frame_position(self) -> np.ndarray:
        """Position of ``gripper_frame_link`` (between the finger tips), (3,) m, world frame."""
        with self.lock:
            return self.data.body("gripper_frame_link").xpos.copy()

    def cube_positions(self) -> dict[str, np.ndarray]:
        """Centre of each cube, ``{colour: (3,) m}``, world frame."""
        with self.lock:
            return {n: self.data.body(f"cube_{n}").xpos.copy() for n in self.cube_names}

    def cube_orientations(self) -> dict[str, np.ndarray]:
        """Orientation of each cube, ``{colour: (4,) unit quaternion (w, x, y, z)}``, world frame."""
        with self.lock:
            return {n: self.data.body(f"cube_{n}").xquat.copy() for n in self.cube_names}

    def cube_colours(self) -> dict[str, np.ndarray]:
        """Rendered colour of each cube this episode, ``{colour: (4,) rgba 0..1}``."""
        with self.lock:
            return {n: self.model.geom(f"cube_{n}").rgba.copy() for n in self.cube_names}

    def success(self, target: str, tolerance_m: float = SUCCESS_TOLERANCE_M) -> bool:
        """Whether the gripper frame is within ``tolerance_m`` of the centre of cube ``target``
        (:func:`vla_ros.sim.task.reached`).

        Raises:
            UnknownCubeError: no cube of that colour in the scene.
        """
        with self.lock:
            cubes = self.cube_positions()
            gripper = self.gripper_frame_position()
        if target not in cubes:
            raise UnknownCubeError(f"no {target!r} cube in the scene; cubes: {list(cubes)}")
        return reached(gripper, cubes[target], tolerance_m)
