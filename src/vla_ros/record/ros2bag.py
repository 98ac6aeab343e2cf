"""One bag per episode written by a ROS install's own ``ros2 bag record``; ROS-agnostic.

Each episode runs ``ros2 bag record -s <storage> -o <output_dir>/.partial/<name> [--use-sim-time]
<topics>`` as a child process; stopping sends it SIGINT (as Ctrl-C does), waits for rosbag2 to close
the bag, writes the task into the bag's ``custom_data`` (``metadata.yaml``, where rosbags and the
converter read it; ``ros2 bag record --custom-data`` does not exist on Humble, so one way serves every
distro) and moves the bag into ``output_dir``. Discarding stops the process and deletes the bag. The
layout and names are those of :class:`vla_ros.record.bag.EpisodeBagWriter`, so the two are
interchangeable behind the ``bag_recorder`` node.

CLI: rosbag2's ``ros2bag/verb/record.py``; ``--topics`` replaced the positional topic list in Jazzy
(ros2/rosbag2#1632), so Humble and Iron get positional topics.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import yaml

from vla_ros.convert.mapping import TASK_METADATA_KEY
from vla_ros.record.bag import PARTIAL_DIR, EpisodeRecorder
from vla_ros.record.errors import RecorderError

__all__ = ["ROS2BAG_NODE_NAME", "Ros2BagEpisodes", "record_command", "resolve_backend"]

ROS2BAG_NODE_NAME = "rosbag2_recorder"
"""Name of the node ``ros2 bag record`` subscribes with (rosbag2_transport's ``Recorder``)."""
_POSITIONAL_TOPICS = ("humble", "iron")
_STOP_TIMEOUT_S = 30.0


def resolve_backend(backend: str) -> str:
    """``ros2bag`` or ``rosbags`` for a ``backend`` parameter.

    ``auto`` is ``ros2bag`` where ``ros2 bag`` exists: the ``ros2`` CLI on PATH and its ``bag`` verb
    (the ``ros2bag`` package) importable. ros2cli alone (pip-installed launch tools) is not enough.
    """
    if backend == "auto":
        has_bag_verb = importlib.util.find_spec("ros2bag") is not None
        return "ros2bag" if shutil.which("ros2") and has_bag_verb else "rosbags"
    return backend


def record_command(path: Path, topics: Sequence[str], *, storage: str = "mcap", use_sim_time: bool = False,
                   distro: str | None = None, ros2: str = "ros2") -> list[str]:
    """The ``ros2 bag record`` command line that records ``topics`` into the new bag ``path``.

    Args:
        path: bag directory to create (must not exist yet).
        topics: fully qualified topic names.
        storage: rosbag2 storage plugin (``mcap`` or ``sqlite3``).
        use_sim_time: stamp messages on ``/clock`` (the simulated graph).
        distro: ROS distro (default ``$ROS_DISTRO``); picks positional topics or ``--topics``.
        ros2: the ``ros2`` executable.
    """
    distro = (distro if distro is not None else os.environ.get("ROS_DISTRO", "")).lower()
    command = [ros2, "bag", "record", "-s", storage, "-o", str(path)]
    if use_sim_time:
        command.append("--use-sim-time")
    command += list(topics) if distro in _POSITIONAL_TOPICS else ["--topics", *topics]
    return command


class Ros2BagEpisodes(EpisodeRecorder):
    """Episodes recorded by ``ros2 bag record`` child processes; not thread-safe (one node's services).

    Args:
        output_dir: where finished bags go (created if needed).
        topics: fully qualified topics to record (rosbag2 adapts to each publisher's QoS).
        storage: ``mcap`` or ``sqlite3``.
        prefix: bag names are ``<prefix>_<YYYYmmdd_HHMMSS>_<n>``.
        use_sim_time: record with ``--use-sim-time``.
        ros2: the ``ros2`` executable (found on PATH by default).
        subscribed: ``subscribed(topic)`` tells whether the recorder (:data:`ROS2BAG_NODE_NAME`) has
            subscribed ``topic`` (a ROS graph query); given, :meth:`start` returns only once every
            topic is, so an episode does not lose its first second to discovery.
        ready_timeout_s: longest wait for those subscriptions.
    """

    def __init__(self, output_dir: str | Path, topics: Sequence[str], *, storage: str = "mcap",
                 prefix: str = "episode", use_sim_time: bool = False, ros2: str = "ros2",
                 subscribed: Callable[[str], bool] | None = None, ready_timeout_s: float = 10.0) -> None:
        super().__init__(output_dir, storage, prefix)
        self.topics = list(topics)
        self.use_sim_time = use_sim_time
        self.ros2 = ros2
        self.subscribed = subscribed
        self.ready_timeout_s = ready_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._custom: dict[str, str] = {}

    def start(self, task: str, custom_data: Mapping[str, str] | None = None) -> Path:
        """Start ``ros2 bag record`` for a new episode; returns the path the bag will have once stopped.

        Raises:
            RecorderError: already recording, no task, ``ros2`` cannot be started, or the recorder did
                not subscribe every topic within ``ready_timeout_s`` (the episode is then deleted).
        """
        partial = self._new_partial(task)
        command = record_command(partial, self.topics, storage=self.storage, use_sim_time=self.use_sim_time,
                                 ros2=self.ros2)
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as err:
            raise RecorderError(f"cannot run {' '.join(command[:3])}: {err}") from err
        self._name = partial.name
        self._custom = {**(custom_data or {}), TASK_METADATA_KEY: task}
        missing = self._wait_subscribed()
        if missing:
            self.discard()
            raise RecorderError(f"ros2 bag record did not subscribe {missing} within "
                                f"{self.ready_timeout_s} s (recorder_ready_timeout_s)")
        return self.output_dir / partial.name

    def _wait_subscribed(self) -> list[str]:
        """Poll :attr:`subscribed` until every topic is subscribed; the topics still missing at the end."""
        if self.subscribed is None:
            return []
        deadline = time.monotonic() + self.ready_timeout_s
        while True:
            missing = [t for t in self.topics if not self.subscribed(t)]
            if not missing or time.monotonic() > deadline:
                return missing
            time.sleep(0.05)

    def write(self, topic: str, time_ns: int, data: bytes | memoryview) -> bool:
        """Messages go to ``ros2 bag record`` directly (``counts`` stays empty): always False."""
        return False

    def stop(self) -> Path:
        """Stop the recorder, store the task in the bag and move it into ``output_dir``; returns its path.

        Raises:
            RecorderError: not recording, ``ros2 bag record`` failed or left no bag (the episode stays
                in ``.partial``).
        """
        name, custom, code = self._end()
        partial = self.output_dir / PARTIAL_DIR / name
        if not (partial / "metadata.yaml").is_file():
            raise RecorderError(f"ros2 bag record (exit status {code}) left no bag in {partial}")
        return self._save(name, lambda bag: _add_custom_data(bag / "metadata.yaml", custom),
                          (yaml.YAMLError, KeyError, TypeError))

    def discard(self) -> Path:
        """Stop the recorder and delete the bag; returns the path it would have had.

        Raises:
            RecorderError: not recording.
        """
        name, _, _ = self._end()
        return self._delete(name)

    def _end(self) -> tuple[str, dict[str, str], int]:
        if self._process is None:
            raise RecorderError("not recording")
        process, name, custom = self._process, self._name, self._custom
        self._process, self._name, self._custom = None, "", {}
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        return name, custom, code


def _add_custom_data(metadata_file: Path, custom: Mapping[str, str]) -> None:
    """Merge ``custom`` into ``rosbag2_bagfile_information.custom_data`` of a bag's metadata.yaml."""
    metadata = yaml.safe_load(metadata_file.read_text())
    info = metadata["rosbag2_bagfile_information"]
    info["custom_data"] = {**(info.get("custom_data") or {}), **custom}
    metadata_file.write_text(yaml.safe_dump(metadata, sort_keys=False))
