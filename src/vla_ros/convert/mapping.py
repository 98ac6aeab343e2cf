"""What the converter reads from a bag and how: topics, tolerances, rate, units (``config/convert.yaml``).

The recorder (:mod:`vla_ros.record`) subscribes exactly these topics, and ``record.launch.py`` passes
:func:`topics_to_record` to ``ros2 bag record``, so the recorder and the converter cannot drift.

Dataset keys follow LeRobot (``observation.state``, ``action``, ``observation.images.<camera>``) with the
camera names the policy node's ``camera_map`` uses. Joint vectors are in :data:`JOINT_NAMES` order.

Units: by default LeRobot SO-101 units (degrees with 0 at mid-range, gripper 0-100; lerobot 0.4.4
``motors/motors_bus.py:_normalize``) under lerobot's names ``<joint>.pos``, so converted datasets mix with
lerobot-recorded ones. With ``units: rad`` the values are REP-103 radians and the names are
``<joint>.pos_rad``: a distinct name (rather than ``.pos`` plus a note in ``info.json``) keeps lerobot
from merging radian and degree datasets (``aggregate_datasets`` requires equal features) and tells
training which units a checkpoint expects (:func:`units_of_feature_names`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vla_ros.config import check_range, param
from vla_ros.errors import ConfigError
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.robot.units import Units

__all__ = [
    "CAMERA_MSGTYPES",
    "GAP_POLICIES",
    "JOINT_MSGTYPE",
    "STAMP_SOURCES",
    "TASK_METADATA_KEY",
    "ConvertConfig",
    "StreamSpec",
    "TopicMapping",
    "camera_msgtype",
    "feature_names",
    "load_config",
    "topics_to_record",
    "units_of_feature_names",
]

TASK_METADATA_KEY = "task"
"""Key of the task string in a bag's ``custom_data`` (``metadata.yaml``; rosbags ``Writer.set_custom_data``,
``ros2 bag record --custom-data task=...``)."""

JOINT_MSGTYPE = "sensor_msgs/msg/JointState"
CAMERA_MSGTYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
STAMP_SOURCES = ("header", "receive")
GAP_POLICIES = ("error", "split")
_UNIT_SUFFIX = {Units.LEROBOT: ".pos", Units.RADIANS: ".pos_rad"}
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class StreamSpec:
    """One input stream.

    Attributes:
        topic: topic name; relative names are resolved against :attr:`TopicMapping.namespace`.
        tolerance_s: for observations (state, images) the largest age of the latest sample at or before
            a tick; for the action the largest delay of the first command at or after it. Seconds.
    """

    topic: str
    tolerance_s: float


def _default_cameras() -> dict[str, StreamSpec]:
    return {name: StreamSpec(f"cameras/{name}/image_raw", 0.1) for name in ("front", "wrist")}


@dataclass(frozen=True)
class TopicMapping:
    """Which topic feeds which dataset key.

    Attributes:
        state: ``observation.state`` from ``sensor_msgs/JointState`` positions (radians).
        action: ``action`` from the commanded positions (``sensor_msgs/JointState``, radians): by default
            ``joint_commands``, the safety-supervised stream the driver executes; the teleop nodes
            publish there too while recording demonstrations.
        cameras: ``observation.images.<name>`` from ``sensor_msgs/Image`` or ``CompressedImage``.
        namespace: namespace the relative topics live in ("" = root), as recorded in the bag.
        episode_topic: optional marker topic that splits a bag into episodes ("" = one bag, one
            episode); see :mod:`vla_ros.convert.episodes`.
    """

    state: StreamSpec = StreamSpec("joint_states", 0.05)
    action: StreamSpec = StreamSpec("joint_commands", 0.1)
    cameras: dict[str, StreamSpec] = field(default_factory=_default_cameras)
    namespace: str = ""
    episode_topic: str = ""

    def resolve(self, topic: str) -> str:
        """The fully qualified name of ``topic`` (as stored in a bag): ``/<namespace>/<topic>``."""
        if topic.startswith("/"):
            return topic
        ns = self.namespace.strip("/")
        return f"/{ns}/{topic}" if ns else f"/{topic}"

    def streams(self) -> dict[str, StreamSpec]:
        """``{dataset key: stream}``: state, action, then cameras in config order."""
        out = {"observation.state": self.state, "action": self.action}
        out.update({f"observation.images.{name}": spec for name, spec in self.cameras.items()})
        return out

    def problems(self) -> list[str]:
        """Every problem of this mapping (empty when valid)."""
        found = []
        for key, spec in self.streams().items():
            if not spec.topic.strip("/"):
                found.append(f"{key}: empty topic")
            if not spec.tolerance_s > 0:
                found.append(f"{key}: tolerance_s={spec.tolerance_s!r} must be > 0")
        for name in self.cameras:
            if not _NAME_RE.match(name):
                found.append(f"camera name {name!r} must be a letter followed by letters, digits or _")
        topics = [self.resolve(s.topic) for s in self.streams().values()]
        dups = sorted({t for t in topics if topics.count(t) > 1})
        if dups:
            found.append(f"topics used for two dataset keys: {dups}")
        return found


@dataclass(frozen=True)
class ConvertConfig:
    """Everything ``vla-ros convert`` needs besides the bags and the output directory.

    The defaults are those of ``config/convert.yaml``. Calibration (for LeRobot units) comes from, in
    order: ``calibration`` (a lerobot calibration file), ``robot_id`` (+ ``calibration_dir``), or
    ``sim_calibration`` (the simulated arm's, from the URDF limits).
    """

    mapping: TopicMapping = field(default_factory=TopicMapping)
    fps: int = field(default=30, metadata=param("dataset frame rate, Hz (grid spacing)", range=(1, 1000)))
    stamps: str = field(
        default="header",
        metadata=param("time source: message header stamps or bag receive times", choices=STAMP_SOURCES),
    )
    units: str = field(
        default=Units.LEROBOT,
        metadata=param("joint units in the dataset: LeRobot (deg, gripper 0-100) or rad", choices=Units.ALL),
    )
    robot_type: str = field(default="so101_follower", metadata=param("robot_type written to info.json"))
    task: str = field(default="", metadata=param("task for every episode; '' = from each bag's metadata"))
    on_gap: str = field(
        default="error",
        metadata=param("ticks outside tolerance: fail the bag, or split the episode around them",
                       choices=GAP_POLICIES),
    )
    min_episode_s: float = field(
        default=0.5, metadata=param("shorter episodes are skipped (and reported), s", range=(0, 1e6)),
    )
    vcodec: str = field(
        default="libsvtav1",
        metadata=param("video codec, one of lerobot's (checked by writer.check_vcodec when converting)"),
    )
    image_writer_threads: int = field(
        default=4, metadata=param("image-writer threads per camera (lerobot AsyncImageWriter)", range=(0, 64))
    )
    image_writer_processes: int = field(
        default=0, metadata=param("image-writer processes (0 = threads only)", range=(0, 64))
    )
    calibration: str = field(default="", metadata=param("lerobot calibration file (for LeRobot units)"))
    robot_id: str = field(default="", metadata=param("robot id whose calibration to use"))
    calibration_dir: str = field(default="", metadata=param("calibration root ('' = lerobot's)"))
    sim_calibration: bool = field(default=False, metadata=param("use the simulated arm's calibration"))

    def __post_init__(self) -> None:
        problems = self.mapping.problems()
        try:
            check_range(self)
        except ConfigError as err:
            problems.append(str(err).partition(": ")[2])
        if problems:
            raise ConfigError("convert config: " + "; ".join(problems))


def feature_names(units: str) -> list[str]:
    """Names of the ``observation.state``/``action`` entries for ``units``, in JOINT_NAMES order."""
    if units not in _UNIT_SUFFIX:
        raise ConfigError(f"unknown units {units!r}, expected one of {list(_UNIT_SUFFIX)}")
    return [f"{name}{_UNIT_SUFFIX[units]}" for name in JOINT_NAMES]


def units_of_feature_names(names: Sequence[str]) -> str:
    """The units of a dataset whose state/action names are ``names`` (inverse of :func:`feature_names`).

    Raises:
        ConfigError: the names are neither the LeRobot nor the radian names of the SO-101 joints.
    """
    for units in _UNIT_SUFFIX:
        if list(names) == feature_names(units):
            return units
    raise ConfigError(f"state/action names {list(names)} are not SO-101 names in any known units")


def camera_msgtype(topic: str) -> str:
    """The message type the recorder subscribes for a camera topic: ``.../compressed`` → CompressedImage
    (image_transport's naming), anything else → Image."""
    return CAMERA_MSGTYPES[1] if topic.rstrip("/").endswith("/compressed") else CAMERA_MSGTYPES[0]


def topics_to_record(mapping: TopicMapping, *, absolute: bool = True) -> list[str]:
    """The topics a bag needs for the converter: state, action, cameras, episode markers (if any).

    Args:
        mapping: the topic mapping (e.g. ``load_config().mapping``).
        absolute: fully qualified names (``/joint_states``, with the mapping's namespace), as
            ``ros2 bag record`` takes them; else the names as configured.
    """
    topics = [s.topic for s in mapping.streams().values()]
    if mapping.episode_topic:
        topics.append(mapping.episode_topic)
    return [mapping.resolve(t) if absolute else t for t in topics]


def _stream(value: Any, where: str, default_tol: float) -> StreamSpec:
    if isinstance(value, str):
        return StreamSpec(value, default_tol)
    if not isinstance(value, Mapping) or "topic" not in value:
        raise ConfigError(f"{where}: expected a topic or {{topic: ..., tolerance_s: ...}}, got {value!r}")
    unknown = set(value) - {"topic", "tolerance_s"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)} (expected topic, tolerance_s)")
    try:
        return StreamSpec(str(value["topic"]), float(value.get("tolerance_s", default_tol)))
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: {err}") from err


def _mapping(raw: Mapping[str, Any]) -> TopicMapping:
    default = TopicMapping()
    unknown = set(raw) - {"state", "action", "cameras", "namespace", "episode_topic"}
    if unknown:
        raise ConfigError(f"topics: unknown keys {sorted(unknown)}")
    cameras = raw.get("cameras", None)
    if cameras is None:
        cams = default.cameras
    elif isinstance(cameras, Mapping):
        cams = {str(k): _stream(v, f"topics.cameras.{k}", 0.1) for k, v in cameras.items()}
    else:
        raise ConfigError(f"topics.cameras: expected a mapping name → topic, got {cameras!r}")
    return TopicMapping(
        state=_stream(raw["state"], "topics.state", 0.05) if "state" in raw else default.state,
        action=_stream(raw["action"], "topics.action", 0.1) if "action" in raw else default.action,
        cameras=cams,
        namespace=str(raw.get("namespace", "") or ""),
        episode_topic=str(raw.get("episode_topic", "") or ""),
    )


def load_config(path: str | Path | None = None, **overrides: Any) -> ConvertConfig:
    """Read a converter config (YAML) and apply ``overrides`` (CLI flags, API arguments).

    Args:
        path: the YAML file; None = the installed ``config/convert.yaml`` (or the defaults if absent).
        overrides: ConvertConfig fields to replace; ``mapping`` may be a TopicMapping.

    Raises:
        ConfigError: the file is unreadable, has unknown keys, or a value is invalid (all listed).
    """
    raw: dict[str, Any] = {}
    if path is None:
        from vla_ros.paths import config_file

        try:
            path = config_file("convert.yaml")
        except FileNotFoundError:
            path = None
    if path is not None:
        try:
            raw = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"cannot read converter config {path}: {err}") from err
        if not isinstance(raw, dict):
            raise ConfigError(f"converter config {path}: expected a mapping at the top level")
    names = {f.name for f in dataclasses.fields(ConvertConfig)} - {"mapping"}
    unknown = set(raw) - names - {"topics"}
    if unknown:
        raise ConfigError(f"converter config {path}: unknown keys {sorted(unknown)}")
    values = {k: v for k, v in raw.items() if k in names}
    values["mapping"] = _mapping(raw.get("topics") or {})
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return ConvertConfig(**values)
    except TypeError as err:
        raise ConfigError(f"converter config {path}: {err}") from err
