"""One evaluation episode's trace for plots: trajectories, commands, distances, a few camera frames.

ROS-agnostic (never imports rclpy): the node converts messages (joint names via
:func:`vla_ros.robot.joints.order_positions`, images via :func:`vla_ros.camera.image.msg_to_rgb`) and
feeds arrays in; :meth:`EpisodeTrace.save` writes ``episode_NNN.npz`` (:func:`trace_file_name`) with
``numpy.savez_compressed``. Keys (times are simulated seconds since the policy was enabled; positions
in radians in :data:`~vla_ros.robot.joints.JOINT_NAMES` order):

* ``episode_index`` (), ``task``, ``target_named``, ``scene_target`` () str, ``success`` () bool,
  ``start_time_s`` () simulated time of the enable, ``duration_s`` (), ``tolerance_m`` ();
* ``joint_names`` (6,) str;
* ``joint_state_time_s`` (N,), ``joint_state_position_rad`` (N, 6): measured (``joint_states``);
* ``command_time_s`` (M,), ``command_position_rad`` (M, 6): the policy's (``policy/joint_commands``);
* ``cube_names`` (C,) str, ``distance_time_s`` (K,), ``distance_m`` (K, C): gripper→cube distances;
* ``cameras`` (n,) str and per camera ``frames_<camera>`` (F, H, W, 3) uint8 RGB with
  ``frame_time_s_<camera>`` (F,).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from vla_ros.errors import BadInputError
from vla_ros.evaluate.scoring import EpisodePlan, ReachTracker
from vla_ros.robot.joints import JOINT_NAMES

__all__ = ["EpisodeTrace", "FrameSampler", "trace_file_name"]


def trace_file_name(index: int) -> str:
    """``episode_NNN.npz`` for episode ``index``."""
    return f"episode_{index:03d}.npz"


class FrameSampler:
    """Keeps about ``count`` frames evenly spaced over an episode.

    The episode ``[start_s, start_s + duration_s]`` is cut into ``count`` equal slots; the first frame
    stamped at or after a slot's middle is kept (a gap in the stream skips the slots it covers).

    Args:
        count: frames wanted (0 keeps none).
        start_s: episode start, s.
        duration_s: episode length, s.
    """

    def __init__(self, count: int, start_s: float, duration_s: float) -> None:
        self.targets_s = [start_s + duration_s * (i + 0.5) / count for i in range(count)]
        self._next = 0

    def wants(self, stamp_s: float) -> bool:
        """Whether a frame stamped ``stamp_s`` would be kept (decode only then)."""
        return self._next < len(self.targets_s) and stamp_s >= self.targets_s[self._next]

    def take(self, stamp_s: float) -> None:
        """Mark the frame stamped ``stamp_s`` as kept: move past every slot it covers."""
        while self._next < len(self.targets_s) and stamp_s >= self.targets_s[self._next]:
            self._next += 1


class _Series:
    """A time series of joint vectors, (N,) s and (N, 6) rad."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.values: list[np.ndarray] = []

    def add(self, time_s: float, positions_rad: ArrayLike, what: str) -> None:
        arr = np.asarray(positions_rad, dtype=float)
        if arr.shape != (len(JOINT_NAMES),) or not np.all(np.isfinite(arr)):
            raise BadInputError(f"{what}: expected {len(JOINT_NAMES)} finite angles (rad), got {arr!r}")
        self.times.append(float(time_s))
        self.values.append(arr)

    def arrays(self, start_s: float) -> tuple[np.ndarray, np.ndarray]:
        values = np.stack(self.values) if self.values else np.zeros((0, len(JOINT_NAMES)))
        return np.asarray(self.times, dtype=float) - start_s, values


class EpisodeTrace:
    """Collects one episode's trace (see the module docstring for the saved keys).

    Args:
        plan: the episode.
        start_s: simulated time of the enable, s (times are saved relative to it).
        duration_s: episode length, s of simulated time.
        cameras: camera names (``cameras/<name>/image_raw``).
        frames_per_camera: frames kept per camera, evenly spaced (:class:`FrameSampler`).
    """

    def __init__(self, plan: EpisodePlan, start_s: float, duration_s: float, cameras: Sequence[str],
                 frames_per_camera: int) -> None:
        self.plan = plan
        self.start_s = float(start_s)
        self.duration_s = float(duration_s)
        self.cameras = list(cameras)
        self.joint_states = _Series()
        self.commands = _Series()
        self._samplers = {c: FrameSampler(frames_per_camera, start_s, duration_s) for c in self.cameras}
        self._frames: dict[str, list[np.ndarray]] = {c: [] for c in self.cameras}
        self._frame_times: dict[str, list[float]] = {c: [] for c in self.cameras}

    def add_joint_state(self, stamp_s: float, positions_rad: ArrayLike) -> None:
        """A measured joint state, (6,) rad in JOINT_NAMES order.

        Raises:
            BadInputError: not 6 finite values (nothing recorded).
        """
        self.joint_states.add(stamp_s, positions_rad, "joint_states")

    def add_command(self, stamp_s: float, positions_rad: ArrayLike) -> None:
        """A policy command, (6,) rad in JOINT_NAMES order.

        Raises:
            BadInputError: not 6 finite values (nothing recorded).
        """
        self.commands.add(stamp_s, positions_rad, "policy/joint_commands")

    def wants_frame(self, camera: str, stamp_s: float) -> bool:
        """Whether a frame of ``camera`` stamped ``stamp_s`` is to be kept (decode it only then)."""
        sampler = self._samplers.get(camera)
        return sampler is not None and sampler.wants(stamp_s)

    def add_frame(self, camera: str, stamp_s: float, rgb: np.ndarray) -> None:
        """Keep a frame (call when :meth:`wants_frame` said so).

        Raises:
            BadInputError: unknown camera, or not an (H, W, 3) uint8 image of the size of the
                camera's earlier frames.
        """
        if camera not in self._samplers:
            raise BadInputError(f"unknown camera {camera!r}; recording {self.cameras}")
        arr = np.asarray(rgb)
        kept = self._frames[camera]
        bad_shape = arr.ndim != 3 or arr.shape[2] != 3 or bool(kept and kept[0].shape != arr.shape)
        if bad_shape or arr.dtype != np.uint8:
            raise BadInputError(f"{camera} frame: expected (H, W, 3) uint8 like the first one, got "
                                f"{arr.shape} {arr.dtype}")
        self._samplers[camera].take(stamp_s)
        kept.append(arr.copy())
        self._frame_times[camera].append(float(stamp_s) - self.start_s)

    def frame_count(self, camera: str) -> int:
        """Frames kept so far for ``camera``."""
        return len(self._frames.get(camera, []))

    def save(self, output_dir: str | Path, tracker: ReachTracker | None = None) -> Path:
        """Write ``<output_dir>/episode_NNN.npz``.

        Args:
            output_dir: directory (created if needed).
            tracker: the episode's distances and success (None: none recorded).

        Returns:
            The file's path.
        """
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        js_t, js = self.joint_states.arrays(self.start_s)
        cmd_t, cmd = self.commands.arrays(self.start_s)
        cubes: list[str] = []
        dist_t, dist = np.zeros(0), np.zeros((0, 0))
        if tracker is not None and tracker.samples:
            times, series = tracker.series()
            cubes = list(series)
            dist_t, dist = times - self.start_s, np.stack([series[c] for c in cubes], axis=1)
        plan = self.plan
        arrays: dict[str, np.ndarray] = {
            "episode_index": np.asarray(plan.index), "task": np.asarray(plan.task),
            "target_named": np.asarray(plan.target_named), "scene_target": np.asarray(plan.scene_target),
            "success": np.asarray(bool(tracker and tracker.success)),
            "start_time_s": np.asarray(self.start_s), "duration_s": np.asarray(self.duration_s),
            "tolerance_m": np.asarray(tracker.tolerance_m if tracker else np.nan),
            "joint_names": np.asarray(JOINT_NAMES),
            "joint_state_time_s": js_t, "joint_state_position_rad": js,
            "command_time_s": cmd_t, "command_position_rad": cmd,
            "cube_names": np.asarray(cubes, dtype=str), "distance_time_s": dist_t, "distance_m": dist,
            "cameras": np.asarray(self.cameras, dtype=str),
        }
        for cam in self.cameras:
            frames = self._frames[cam]
            arrays[f"frames_{cam}"] = np.stack(frames) if frames else np.zeros((0, 0, 0, 3), np.uint8)
            arrays[f"frame_time_s_{cam}"] = np.asarray(self._frame_times[cam], dtype=float)
        path = out / trace_file_name(self.plan.index)
        np.savez_compressed(path, **arrays)
        return path
