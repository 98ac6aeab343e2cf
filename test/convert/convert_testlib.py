"""Bags, messages and datasets the converter tests build (imported by the test modules).

Synthetic bags are written with rosbags' own Writer and hold known trajectories so every converted
value can be checked against its source: joint position ``j`` of message ``i`` is
``q(t) = 0.3 sin(2π·0.5·t + j) + 0.05 j`` (rad) at its stamp, commands use ``q(t) + 0.1``, and every
image of camera ``c`` is one flat colour that encodes the message index (:func:`frame_colour`), so the
frame a tick used can be identified after video coding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from vla_ros.robot.joints import JOINT_NAMES

TS = get_typestore(Stores.ROS2_JAZZY)
NS = 1_000_000_000
T0 = 1_700_000_000 * NS
SHARED = Path(__file__).resolve().parents[3] / "shared"


def trajectory(t_ns: np.ndarray | int, offset: float = 0.0) -> np.ndarray:
    """Joint positions (rad), ``(..., 6)``, at times ``t_ns``."""
    t = (np.asarray(t_ns, dtype=np.int64) - T0) / NS
    j = np.arange(6)
    return 0.3 * np.sin(2 * np.pi * 0.5 * t[..., None] + j) + 0.05 * j + offset


def frame_colour(index: int, camera: int = 0) -> np.ndarray:
    """The RGB colour of image ``index`` of camera ``camera``: neighbours differ by >= 40 per channel."""
    return np.array(
        [(index * 40 + camera * 20) % 256, (index * 70 + 30) % 256, (index * 110 + 60) % 256], dtype=np.uint8
    )


def stamp_msg(t_ns: int) -> Any:
    return TS.types["builtin_interfaces/msg/Time"](sec=int(t_ns // NS), nanosec=int(t_ns % NS))


def header(t_ns: int, frame: str = "") -> Any:
    return TS.types["std_msgs/msg/Header"](stamp=stamp_msg(t_ns), frame_id=frame)


def joint_state(t_ns: int, positions: Sequence[float], names: Sequence[str] = JOINT_NAMES) -> Any:
    return TS.types["sensor_msgs/msg/JointState"](
        header=header(t_ns),
        name=list(names),
        position=np.asarray(positions, dtype=np.float64),
        velocity=np.zeros(0),
        effort=np.zeros(0),
    )


def image(
    t_ns: int,
    rgb: np.ndarray,
    encoding: str = "rgb8",
    step: int | None = None,
    data: np.ndarray | None = None,
) -> Any:
    h, w, _ = rgb.shape
    return TS.types["sensor_msgs/msg/Image"](
        header=header(t_ns, "cam"),
        height=h,
        width=w,
        encoding=encoding,
        is_bigendian=0,
        step=w * 3 if step is None else step,
        data=np.ascontiguousarray(rgb).reshape(-1) if data is None else data,
    )


def compressed(t_ns: int, rgb: np.ndarray) -> Any:
    import cv2

    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return TS.types["sensor_msgs/msg/CompressedImage"](
        header=header(t_ns, "cam"), format="png", data=buf.reshape(-1)
    )


@dataclass
class BagSpec:
    """Messages to write: ``(topic, msgtype, log time ns, message)``; written in log-time order."""

    messages: list[tuple[str, str, int, Any]] = field(default_factory=list)
    custom: dict[str, str] = field(default_factory=dict)
    declared: dict[str, str] = field(default_factory=dict)
    """Topics (→ type) to register even if they get no message."""

    def add(self, topic: str, msgtype: str, log_ns: int, msg: Any) -> None:
        self.messages.append((topic, msgtype, int(log_ns), msg))

    def joints(self, topic: str, stamps: Sequence[int], offset: float = 0.0, log_delay_ns: int = 0) -> None:
        for t in stamps:
            self.add(
                topic, "sensor_msgs/msg/JointState", t + log_delay_ns, joint_state(t, trajectory(t, offset))
            )

    def camera(
        self,
        topic: str,
        stamps: Sequence[int],
        camera: int = 0,
        shape: tuple[int, int] = (48, 64),
        kind: str = "raw",
        log_delay_ns: int = 0,
    ) -> None:
        for i, t in enumerate(stamps):
            rgb = np.empty((*shape, 3), dtype=np.uint8)
            rgb[:] = frame_colour(i, camera)
            if kind == "raw":
                self.add(topic, "sensor_msgs/msg/Image", t + log_delay_ns, image(t, rgb))
            else:
                self.add(topic, "sensor_msgs/msg/CompressedImage", t + log_delay_ns, compressed(t, rgb))

    def write(self, path: Path, storage: str = "mcap", version: int = 9) -> Path:
        plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
        with Writer(path, version=version, storage_plugin=plugin) as writer:
            for key, value in self.custom.items():
                writer.set_custom_data(key, value)
            conns = {t: writer.add_connection(t, m, typestore=TS) for t, m in self.declared.items()}
            for topic, msgtype, _, _ in self.messages:
                if topic not in conns:
                    conns[topic] = writer.add_connection(topic, msgtype, typestore=TS)
            for topic, msgtype, log_ns, msg in sorted(self.messages, key=lambda m: m[2]):
                writer.write(conns[topic], log_ns, TS.serialize_cdr(msg, msgtype))
        return path


def regular(start_ns: int, rate_hz: float, duration_s: float) -> list[int]:
    """Stamps at ``rate_hz`` from ``start_ns`` for ``duration_s``."""
    n = math.floor(duration_s * rate_hz) + 1
    return [start_ns + round(i * NS / rate_hz) for i in range(n)]


def standard_bag(
    seconds: float = 1.0,
    task: str | None = "pick the cube",
    cameras: Sequence[str] = ("front",),
    joint_hz: float = 100.0,
    camera_hz: float = 30.0,
    start_ns: int = T0,
) -> BagSpec:
    """A clean bag: joint_states and joint_commands at ``joint_hz``, cameras at ``camera_hz``."""
    spec = BagSpec()
    spec.joints("/joint_states", regular(start_ns, joint_hz, seconds))
    spec.joints("/joint_commands", regular(start_ns + 3_000_000, joint_hz, seconds), offset=0.1)
    for c, name in enumerate(cameras):
        spec.camera(f"/cameras/{name}/image_raw", regular(start_ns + 1_000_000, camera_hz, seconds), camera=c)
    if task is not None:
        spec.custom["task"] = task
    return spec


def load_dataset(root: Path) -> Any:
    """Open a dataset with lerobot's LeRobotDataset (PyAV decoding)."""
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    from vla_ros.convert.writer import safe_video_backend

    return LeRobotDataset(f"local/{root.name}", root=root, video_backend=safe_video_backend())
