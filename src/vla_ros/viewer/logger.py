"""The logging core: plain arrays and strings in, rerun entities out (no ROS).

One :class:`ViewerLogger` writes to one or more rerun recording streams (a served one and a saved
one carry the same data). Every call takes the data's own time stamp (seconds: simulated from 0, or
UNIX time), which becomes the :data:`~vla_ros.viewer.entities.TIMELINE`; streams are rate-limited
per stream in that time (:class:`~vla_ros.viewer.config.LoggerConfig`). Joint values are logged in
degrees, positions in metres in ``base_link``.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import rerun as rr

from vla_ros.robot.description import joint_limits
from vla_ros.robot.joints import JOINT_NAMES, order_positions
from vla_ros.robot.kinematics import KinematicTree
from vla_ros.viewer.config import LoggerConfig
from vla_ros.viewer.entities import (
    ARM,
    CHUNK_PATH,
    CUBES,
    GRIPPER,
    JOINT_SERIES,
    LOG,
    TIMELINE,
    CameraFeed,
    joint_entity,
    status_entity,
)
from vla_ros.viewer.images import downscale, encode_jpeg
from vla_ros.viewer.status import LogLine, PolicyReport, SafetyReport

__all__ = ["TIP_LINK", "ViewerLogger"]

TIP_LINK = "gripper_frame_link"
"""The URDF link whose path the 3D view draws (the gripper frame, as ``chunk_markers`` does for RViz)."""

_WALL_CLOCK_S = 1e9
"""Stamps above this are UNIX time (a real arm, a bag); below, simulated seconds from 0."""

_SERIES_STYLE = {
    "measured": ((40, 110, 220), "measured"),
    "policy": ((240, 140, 20), "policy"),
    "command": ((30, 170, 60), "supervisor"),
}
_CUBE_COLOURS = {"red": (220, 40, 40), "blue": (40, 80, 230)}


class ViewerLogger:
    """Logs the deploy/record story to rerun.

    Args:
        streams: the recording streams to write to (same data to each).
        config: rates and image encoding.
        urdf: the robot model (default: the project's ``urdf/so101.urdf``): drawn in 3D, its joint
            limits plotted with each joint, its forward kinematics used for the chunk's gripper path.

    Raises:
        ConfigError: the URDF cannot be read.
    """

    def __init__(self, streams: Sequence[rr.RecordingStream], config: LoggerConfig | None = None,
                 urdf: str | Path | None = None) -> None:
        from vla_ros.paths import urdf_file

        self.streams = list(streams)
        self.cfg = config or LoggerConfig()
        self.urdf = Path(urdf) if urdf is not None else urdf_file()
        self.tree = KinematicTree(self.urdf)
        self.limits = joint_limits(self.urdf)
        self._robot = ET.parse(self.urdf).getroot().get("name", "robot")
        self._links = {joint: self._link_entity(joint) for joint in JOINT_NAMES}
        self._last: dict[str, float] = {}
        self._wall: bool | None = None
        self._policy: PolicyReport | None = None
        self._safety: SafetyReport | None = None
        self._columns: dict[tuple[str, str], tuple[list[float], list[np.ndarray]]] = {}
        self._first_buffered: float | None = None

    # ----------------------------------------------------------------- plumbing
    def _link_entity(self, joint: str) -> str:
        """The URDF loader's entity of ``joint``'s child link: ``arm/<robot>/<root>/<joint>/<link>...``."""
        chain = self.tree.chain(self.tree.joints[joint].child)
        root = chain[0].parent
        parts = [ARM, self._robot, root]
        for j in chain:
            parts += [j.name, j.child]
        return "/".join(parts)

    def _due(self, key: str, stamp_s: float, rate_hz: float) -> bool:
        """At most ``rate_hz`` per ``key`` (10 % early counts as on time: 30 Hz data at 30 Hz keeps all)."""
        last = self._last.get(key)
        if last is not None and 0.0 <= stamp_s - last < 0.9 / rate_hz:
            return False
        self._last[key] = stamp_s
        return True

    def _time(self, stamp_s: float) -> None:
        if self._wall is None:
            self._wall = stamp_s > _WALL_CLOCK_S
        for stream in self.streams:
            if self._wall:
                stream.set_time(TIMELINE, timestamp=stamp_s)
            else:
                stream.set_time(TIMELINE, duration=stamp_s)

    def _column(self, stamps_s: np.ndarray) -> rr.TimeColumn:
        if self._wall is None:
            self._wall = bool(stamps_s[0] > _WALL_CLOCK_S)
        if self._wall:
            return rr.TimeColumn(TIMELINE, timestamp=stamps_s)
        return rr.TimeColumn(TIMELINE, duration=stamps_s)

    def _buffer(self, path: str, kind: str, stamp_s: float, value: np.ndarray | float) -> None:
        """Queue one sample of a scalar (``kind`` "scalars") or rotation ("quaternion", xyzw) column."""
        times, values = self._columns.setdefault((path, kind), ([], []))
        times.append(stamp_s)
        values.append(np.asarray(value, dtype=np.float64))
        if self._first_buffered is None:
            self._first_buffered = stamp_s
        elif not 0.0 <= stamp_s - self._first_buffered < self.cfg.flush_period_s:
            self.flush()

    def flush(self) -> None:
        """Send the queued samples, one ``send_columns`` per entity (rr.log per sample costs ~20x more)."""
        columns, self._columns, self._first_buffered = self._columns, {}, None
        for (path, kind), (times, values) in columns.items():
            index = [self._column(np.asarray(times))]
            if kind == "scalars":
                data = rr.Scalars.columns(scalars=np.stack(values))
            else:
                data = rr.Transform3D.columns(quaternion=np.stack(values))
            for stream in self.streams:
                stream.send_columns(path, indexes=index, columns=data)

    def _log(self, path: str, *archetypes: object, static: bool = False) -> None:
        for stream in self.streams:
            stream.log(path, *archetypes, static=static)  # type: ignore[arg-type]

    # ----------------------------------------------------------------- static
    def log_static(self, feeds: Sequence[CameraFeed] = ()) -> None:
        """The arm model (rerun's URDF loader), series names and colours, and the camera sources."""
        self._log("/", rr.ViewCoordinates.RIGHT_HAND_Z_UP, static=True)
        for stream in self.streams:
            stream.log_file_from_path(self.urdf, entity_path_prefix=ARM, static=True)
        for joint in JOINT_NAMES:
            for series, (colour, name) in _SERIES_STYLE.items():
                self._log(joint_entity(joint, series), rr.SeriesLines(colors=[colour], names=[name]),
                          static=True)
            self._log(joint_entity(joint, "chunk"), rr.SeriesPoints(colors=[(240, 140, 20)], names=["chunk"],
                                                                   marker_sizes=[1.5]), static=True)
            self._log(joint_entity(joint, "limits"), rr.SeriesLines(colors=[(150, 150, 150)] * 2,
                                                                    names=["lower limit", "upper limit"]),
                      static=True)
        for feed in feeds:
            self._log(feed.entity, rr.AnyValues(source_camera=feed.camera,
                                                topic=f"cameras/{feed.camera}/image_raw"), static=True)

    # ----------------------------------------------------------------- streams
    def camera(self, feed: CameraFeed, rgb: np.ndarray | Callable[[], np.ndarray], stamp_s: float) -> bool:
        """Log one frame of ``feed`` if it is due: downscaled, JPEG.

        Args:
            feed: the camera and the input it feeds.
            rgb: ``(H, W, 3)`` uint8, or a function decoding it (called only when the frame is due).
            stamp_s: the frame's capture time, seconds.

        Returns:
            Whether the frame was logged.

        Raises:
            BadInputError: not an ``(H, W, 3)`` uint8 image.
        """
        if not self._due(feed.entity, stamp_s, self.cfg.image_rate_hz):
            return False
        frame = rgb() if callable(rgb) else rgb
        jpeg = encode_jpeg(downscale(frame, self.cfg.image_max_width_px), self.cfg.jpeg_quality)
        self._time(stamp_s)
        self._log(feed.entity, rr.EncodedImage(contents=jpeg, media_type="image/jpeg"))
        return True

    def joints(self, series: str, names: Sequence[str], positions_rad: Sequence[float],
               stamp_s: float) -> bool:
        """Log one joint vector (radians, any subset of the URDF joints) as degrees, if it is due.

        ``series`` ``measured`` also moves the 3D arm (at ``arm_rate_hz``) and plots the URDF limits.

        Returns:
            Whether it was logged.

        Raises:
            BadInputError: unknown or duplicate names, NaN or inf
                (:func:`vla_ros.robot.joints.order_positions`).
            ValueError: unknown series.
        """
        values = order_positions(list(names), list(positions_rad), allow_subset=True)
        if series not in JOINT_SERIES:
            raise ValueError(f"unknown joint series {series!r}, expected one of {JOINT_SERIES}")
        if not self._due(f"joints/{series}", stamp_s, self.cfg.joint_rate_hz):
            return False
        for joint, rad in values.items():
            self._buffer(joint_entity(joint, series), "scalars", stamp_s, math.degrees(rad))
        if series == "measured":
            if self._due("joints/limits", stamp_s, 1.0):
                for joint in values:
                    lim = self.limits[joint]
                    self._buffer(joint_entity(joint, "limits"), "scalars", stamp_s,
                                 np.degrees([lim.lower_rad, lim.upper_rad]))
            if self._due("arm", stamp_s, self.cfg.arm_rate_hz):
                self._arm(values, stamp_s)
        return True

    def _arm(self, values: Mapping[str, float], stamp_s: float) -> None:
        """The URDF model's links at ``values`` (rotations about each joint's axis), and the gripper frame."""
        for joint, rad in values.items():
            axis = self.tree.joints[joint].axis
            self._buffer(self._links[joint], "quaternion", stamp_s,
                         np.append(axis * math.sin(rad / 2), math.cos(rad / 2)))
        tip = self.tree.link_pose(TIP_LINK, values)[:3, 3]
        self._time(stamp_s)
        self._log(GRIPPER, rr.Points3D([tip], radii=[0.006], colors=[(40, 110, 220)]))

    def chunk(self, names: Sequence[str], actions_rad: np.ndarray, fps: float, stamp_s: float,
              first_future: int = 0) -> None:
        """Log the action chunk being executed: each joint's future, and the gripper frame's path in 3D.

        Args:
            names: the chunk's columns (URDF joint names).
            actions_rad: ``(T, J)`` joint positions, radians; action ``i`` is for ``stamp_s + i / fps``.
            fps: the chunk's rate, Hz.
            stamp_s: capture time of the observation the chunk was predicted from, seconds.
            first_future: the first action still in the future when the chunk was queued.

        Raises:
            BadInputError: shape, names or values do not fit (NaN, inf, unknown joints).
        """
        from vla_ros.errors import BadInputError

        actions = np.asarray(actions_rad, dtype=np.float64)
        shape_ok = actions.ndim == 2 and actions.shape[1] == len(names)
        if not shape_ok or not fps > 0 or not np.all(np.isfinite(actions)):
            raise BadInputError(f"action chunk: expected finite (T, {len(names)}) radians and fps > 0, "
                                f"got {actions.shape}, fps {fps}")
        order_positions(list(names), actions[0].tolist() if len(actions) else [0.0] * len(names),
                        allow_subset=True)
        future = actions[min(first_future, len(actions)):]
        if not len(future):
            return
        times = self._column(stamp_s + (np.arange(len(future)) + min(first_future, len(actions))) / fps)
        for k, joint in enumerate(names):
            for stream in self.streams:
                stream.send_columns(joint_entity(joint, "chunk"), indexes=[times],
                                    columns=rr.Scalars.columns(scalars=np.degrees(future[:, k])))
        path = np.array([self.tree.link_pose(TIP_LINK, dict(zip(names, row)))[:3, 3] for row in future])
        self._time(stamp_s)
        self._log(CHUNK_PATH, rr.LineStrips3D([path], colors=[(240, 140, 20)], radii=[0.002]),
                  rr.Points3D(path, radii=[0.003], colors=[(240, 140, 20)]))

    def objects(self, cubes: Mapping[str, np.ndarray], stamp_s: float, half_size_m: float) -> None:
        """Log the simulator's cubes (centres ``(3,)`` m in ``base_link``, by colour name) as boxes."""
        if not cubes or not self._due("cubes", stamp_s, self.cfg.arm_rate_hz):
            return
        self._time(stamp_s)
        names = list(cubes)
        self._log(CUBES, rr.Boxes3D(centers=[np.asarray(cubes[n], dtype=float) for n in names],
                                    half_sizes=[[half_size_m] * 3] * len(names),
                                    colors=[_CUBE_COLOURS.get(n, (200, 200, 200)) for n in names],
                                    labels=names, fill_mode="solid"))

    # ----------------------------------------------------------------- status and events
    def policy(self, report: PolicyReport, stamp_s: float) -> None:
        """Log a policy status: its figures as series, its changes as text."""
        self._report("policy", report, report.changes(self._policy), stamp_s)
        self._policy = report

    def safety(self, report: SafetyReport, stamp_s: float) -> None:
        """Log a safety status: clamps and e-stop as series, state changes (refusals, e-stops) as text."""
        self._report("safety", report, report.changes(self._safety), stamp_s)
        self._safety = report

    def _report(self, source: str, report: PolicyReport | SafetyReport, lines: list[LogLine],
                stamp_s: float) -> None:
        for name, value in report.figures().items():
            self._buffer(status_entity(source, name), "scalars", stamp_s, value)
        self._time(stamp_s)
        for line in lines:
            self._log(LOG, rr.TextLog(line.text, level=line.level))

    def event(self, line: LogLine, stamp_s: float) -> None:
        """Log one text entry (a node's warning, a guard's refusal) at its time."""
        self._time(stamp_s)
        self._log(LOG, rr.TextLog(line.text, level=line.level))
