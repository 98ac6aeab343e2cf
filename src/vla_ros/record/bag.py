"""One ROS 2 bag per episode, written with rosbags (no ROS install needed); ROS-agnostic.

Messages arrive already serialized (CDR, as rclpy hands them to a ``raw=True`` subscription and as
``ros2 bag record`` stores them), so recording costs one copy per message. The message definitions and
type hashes in the bag come from rosbags' typestore for the running ROS distro.

Layout: a recording is written to ``<output_dir>/.partial/<name>/`` and renamed to
``<output_dir>/<name>/`` when it stops (a discarded or crashed one never appears in ``output_dir``).
The task string goes into the bag's ``custom_data`` under
:data:`vla_ros.convert.mapping.TASK_METADATA_KEY`, where the converter reads it back.
"""

from __future__ import annotations

import abc
import datetime
import os
import shutil
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rosbags.rosbag2 import StoragePlugin, Writer, WriterError
from rosbags.typesys import Stores, TypesysError, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from vla_ros.config import check_range, param
from vla_ros.convert.mapping import JOINT_MSGTYPE, TASK_METADATA_KEY, TopicMapping, camera_msgtype
from vla_ros.errors import ConfigError
from vla_ros.paths import share_dir
from vla_ros.record.errors import RecorderError

__all__ = ["ON_SHUTDOWN", "EpisodeBagWriter", "EpisodeRecorder", "RecorderConfig", "message_definition",
           "parse_extra_topics", "recorded_topics", "register_types", "typestore_for"]

_STORES = {"humble": Stores.ROS2_HUMBLE, "iron": Stores.ROS2_IRON, "jazzy": Stores.ROS2_JAZZY,
           "kilted": Stores.ROS2_KILTED}
_STORAGE = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}
PARTIAL_DIR = ".partial"


ON_SHUTDOWN = ("save", "discard")
"""What may happen to an episode being recorded when the recording stops (the recorder's ``on_shutdown``,
the recording session's ``on_stop``)."""


@dataclass(frozen=True)
class RecorderConfig:
    """Parameters of the ``bag_recorder`` node."""

    output_dir: str = field(
        default="~/vla_ros/bags", metadata=param("directory the episode bags are written to", read_only=True)
    )
    task: str = field(default="", metadata=param("task (language instruction) stored in each bag's metadata"))
    mapping_file: str = field(
        default="",
        metadata=param("converter config whose topics are recorded ('' = installed config/convert.yaml)",
                       read_only=True),
    )
    autostart: bool = field(default=False, metadata=param("start an episode as soon as the node is up"))
    episode_duration_s: float = field(
        default=0.0, metadata=param("stop (and save) an episode after this long, s; 0 = until record/stop",
                                    range=(0.0, 86400.0)),
    )
    storage: str = field(default="mcap", metadata=param("bag storage format", choices=tuple(_STORAGE),
                                                        read_only=True))
    prefix: str = field(default="episode", metadata=param("bag name prefix", read_only=True))
    backend: str = field(
        default="auto",
        metadata=param("what writes the bags: 'ros2bag' (a ROS install's ros2 bag record), 'rosbags' (this "
                       "node, no ROS install needed) or 'auto' (ros2bag when the ros2 CLI is on PATH)",
                       choices=("auto", "ros2bag", "rosbags"), read_only=True),
    )
    recorder_ready_timeout_s: float = field(
        default=10.0, metadata=param("ros2bag backend: longest wait for ros2 bag record to subscribe every "
                                     "topic before record/start answers (else the episode is refused), s",
                                     range=(0.1, 120.0)),
    )
    status_period_s: float = field(
        default=1.0, metadata=param("period of record/status while idle or recording, s", range=(0.05, 60.0)),
    )
    extra_topics: list[str] = field(
        default_factory=list,
        metadata=param("more topics to record besides the converter's, 'topic=package/msg/Type' (e.g. "
                       "policy/action_chunk=vla_ros/msg/ActionChunk)", read_only=True),
    )
    on_shutdown: str = field(
        default="save",
        metadata=param("what a shutdown (Ctrl-C) does with an episode being recorded: 'save' or 'discard' "
                       "(the recording session's on_stop; under ros2 launch every node gets the Ctrl-C at "
                       "once, so the recorder may stop before the session has ended the episode)",
                       choices=ON_SHUTDOWN),
    )

    def __post_init__(self) -> None:
        check_range(self)
        parse_extra_topics(self.extra_topics)


def parse_extra_topics(items: list[str]) -> dict[str, str]:
    """``{topic: message type}`` from ``topic=package/msg/Type`` items.

    Raises:
        ConfigError: naming every malformed item.
    """
    topics, bad = {}, []
    for item in items:
        topic, sep, msgtype = item.partition("=")
        if not (sep and topic.strip() and msgtype.count("/") == 2 and "/msg/" in msgtype):
            bad.append(item)
        else:
            topics[topic.strip()] = msgtype.strip()
    if bad:
        raise ConfigError(f"extra_topics {bad} must be 'topic=package/msg/Type'")
    return topics


def message_definition(msgtype: str) -> Path:
    """The ``.msg`` file of ``msgtype`` (``package/msg/Type``): in the package's share directory (ament
    index, this environment's ``share``, or the vla_ros source tree).

    Raises:
        RecorderError: no such file.
    """
    package, _, name = msgtype.partition("/msg/")
    roots = [Path(sys.prefix) / "share" / package]
    if package == "vla_ros":
        roots.insert(0, share_dir())
    try:
        from ament_index_python.packages import get_package_share_directory

        roots.append(Path(get_package_share_directory(package)))
    except (ImportError, LookupError, ValueError, OSError):  # OSError: no AMENT_PREFIX_PATH (pip path)
        pass
    for root in roots:
        if (root / "msg" / f"{name}.msg").is_file():
            return root / "msg" / f"{name}.msg"
    raise RecorderError(f"no message definition for {msgtype} in {[str(r / 'msg') for r in roots]}")


def register_types(typestore: Typestore, msgtypes: list[str]) -> None:
    """Add the message types the typestore lacks (a package's own messages) from their ``.msg`` files.

    Raises:
        RecorderError: a definition is missing or does not parse.
    """
    for msgtype in msgtypes:
        if msgtype in typestore.fielddefs:
            continue
        try:
            typestore.register(get_types_from_msg(message_definition(msgtype).read_text(), msgtype))
        except (ValueError, KeyError, TypesysError) as err:
            raise RecorderError(f"cannot read the definition of {msgtype}: {err}") from err


def typestore_for(distro: str | None = None) -> Typestore:
    """rosbags' typestore for a ROS 2 distro (default ``$ROS_DISTRO``; unknown → rosbags' latest)."""
    name = (distro if distro is not None else os.environ.get("ROS_DISTRO", "")).lower()
    return get_typestore(_STORES.get(name, Stores.LATEST))


def recorded_topics(mapping: TopicMapping) -> dict[str, str]:
    """``{topic as configured: message type}`` the recorder subscribes: state and action
    (``sensor_msgs/msg/JointState``) and the cameras (Image, or CompressedImage for ``.../compressed``).

    The episode-marker topic is not recorded: the recorder makes one bag per episode.
    """
    topics = {mapping.state.topic: JOINT_MSGTYPE, mapping.action.topic: JOINT_MSGTYPE}
    topics.update({spec.topic: camera_msgtype(spec.topic) for spec in mapping.cameras.values()})
    return topics


class EpisodeRecorder(abc.ABC):
    """One bag per episode: what the two backends (:class:`EpisodeBagWriter`, rosbags in this process;
    :class:`vla_ros.record.ros2bag.Ros2BagEpisodes`, ``ros2 bag record``) share.

    A bag is written to ``<output_dir>/.partial/<name>/`` and moved to ``<output_dir>/<name>/`` when
    saved, ``<name> = <prefix>_<YYYYmmdd_HHMMSS>_<n>``.

    Attributes:
        output_dir: where finished bags go.
        storage: ``mcap`` or ``sqlite3``.
        prefix: bag name prefix.
        counts: ``{topic: messages}`` of the current or last episode (empty when the backend does not
            count them).
        saved: paths of the bags saved so far.

    Raises:
        RecorderError: unknown storage.
    """

    def __init__(self, output_dir: str | Path, storage: str, prefix: str) -> None:
        if storage not in _STORAGE:
            raise RecorderError(f"unknown storage {storage!r}, expected one of {list(_STORAGE)}")
        self.output_dir = Path(output_dir).expanduser()
        self.storage = storage
        self.prefix = prefix
        self.counts: dict[str, int] = {}
        self.saved: list[Path] = []
        self._name = ""

    @property
    def recording(self) -> bool:
        """Whether an episode is being recorded."""
        return bool(self._name)

    @property
    def name(self) -> str:
        """Name of the bag being recorded ("" when idle)."""
        return self._name

    @abc.abstractmethod
    def start(self, task: str, custom_data: Mapping[str, str] | None = None) -> Path:
        """Start an episode with ``task`` (and more ``custom_data``) in the bag's metadata; returns the
        path the bag will have once saved."""

    @abc.abstractmethod
    def write(self, topic: str, time_ns: int, data: bytes | memoryview) -> bool:
        """Append one serialized message; False when not recording here."""

    @abc.abstractmethod
    def stop(self) -> Path:
        """Save the episode's bag into ``output_dir``; returns its path."""

    @abc.abstractmethod
    def discard(self) -> Path:
        """Delete the episode's bag; returns the path it would have had."""

    def total_messages(self) -> int:
        """Messages counted in the current (or last) episode."""
        return sum(self.counts.values())

    def _save(self, name: str, finish: Callable[[Path], None],
              errors: tuple[type[BaseException], ...] = ()) -> Path:
        """Run ``finish(partial bag path)``, then move the bag into ``output_dir``; returns its path.

        Raises:
            RecorderError: ``finish`` raised one of ``errors`` or the move failed (the bag stays in
                ``.partial``).
        """
        partial, final = self.output_dir / PARTIAL_DIR / name, self.output_dir / name
        try:
            finish(partial)
            partial.rename(final)
        except (OSError, *errors) as err:
            raise RecorderError(f"cannot save bag {final}: {err} (left in {partial})") from err
        self.saved.append(final)
        return final

    def _delete(self, name: str) -> Path:
        """Delete an episode's partial bag; returns the path it would have had once saved."""
        shutil.rmtree(self.output_dir / PARTIAL_DIR / name, ignore_errors=True)
        return self.output_dir / name

    def _new_partial(self, task: str) -> Path:
        """The ``.partial`` path of a new episode's bag, under a name free in both directories (the
        parent is created, the bag directory is not).

        Raises:
            RecorderError: no task, already recording, or a thousand episodes started in one second.
        """
        if not task.strip():
            raise RecorderError("no task: set the 'task' parameter before starting an episode")
        if self._name:
            raise RecorderError(f"already recording {self._name}")
        stamp = datetime.datetime.now().strftime("%Y%m%d_%H%M%S")
        for n in range(1000):
            name = f"{self.prefix}_{stamp}_{n:03d}"
            if not (self.output_dir / name).exists() and not (self.output_dir / PARTIAL_DIR / name).exists():
                (self.output_dir / PARTIAL_DIR).mkdir(parents=True, exist_ok=True)
                return self.output_dir / PARTIAL_DIR / name
        raise RecorderError(f"no free bag name for {stamp} in {self.output_dir}")


class EpisodeBagWriter(EpisodeRecorder):
    """Writes serialized messages into one bag per episode; thread-safe.

    Args:
        output_dir: where finished bags go (created if needed).
        topics: ``{fully qualified topic: message type}`` to record.
        storage: ``mcap`` or ``sqlite3``.
        typestore: message definitions (default: :func:`typestore_for`).
        prefix: bag names are ``<prefix>_<YYYYmmdd_HHMMSS>_<n>``.
    """

    def __init__(self, output_dir: str | Path, topics: Mapping[str, str], *, storage: str = "mcap",
                 typestore: Typestore | None = None, prefix: str = "episode") -> None:
        super().__init__(output_dir, storage, prefix)
        self.topics = dict(topics)
        self.typestore = typestore or typestore_for()
        register_types(self.typestore, sorted(set(self.topics.values())))
        self._lock = threading.Lock()
        self._writer: Writer | None = None
        self._connections: dict[str, object] = {}

    def start(self, task: str, custom_data: Mapping[str, str] | None = None) -> Path:
        """Open a new bag; returns the path it will have once stopped.

        Raises:
            RecorderError: already recording, no task, or the bag cannot be created.
        """
        with self._lock:
            path = self._new_partial(task)
            name = path.name
            writer = Writer(path, version=Writer.VERSION_LATEST, storage_plugin=_STORAGE[self.storage])
            try:
                for key, value in {**(custom_data or {}), TASK_METADATA_KEY: task}.items():
                    writer.set_custom_data(key, value)
                writer.open()
                self._connections = {
                    topic: writer.add_connection(topic, msgtype, typestore=self.typestore)
                    for topic, msgtype in self.topics.items()
                }
            except (WriterError, OSError, KeyError) as err:
                shutil.rmtree(path, ignore_errors=True)
                raise RecorderError(f"cannot create bag {path}: {err}") from err
            self._writer, self._name = writer, name
            self.counts = dict.fromkeys(self.topics, 0)
        return self.output_dir / name

    def write(self, topic: str, time_ns: int, data: bytes | memoryview) -> bool:
        """Append one serialized message (receive time ``time_ns``); False when not recording."""
        with self._lock:
            if self._writer is None:
                return False
            self._writer.write(self._connections[topic], int(time_ns), data)  # type: ignore[arg-type]
            self.counts[topic] += 1
            return True

    def stop(self) -> Path:
        """Close the bag and move it into ``output_dir``; returns its path.

        Raises:
            RecorderError: not recording, or the bag cannot be closed.
        """
        with self._lock:
            writer, name = self._take()
            return self._save(name, lambda _: writer.close(), (WriterError,))

    def discard(self) -> Path:
        """Abort the bag and delete it; returns the path it would have had.

        Raises:
            RecorderError: not recording.
        """
        with self._lock:
            writer, name = self._take()
            writer.abort()
            return self._delete(name)

    def _take(self) -> tuple[Writer, str]:
        if self._writer is None:
            raise RecorderError("not recording")
        writer, name = self._writer, self._name
        self._writer, self._name, self._connections = None, "", {}
        return writer, name

