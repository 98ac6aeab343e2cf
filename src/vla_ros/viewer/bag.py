"""``vla-ros view BAG``: a recorded bag through the same logging core as the live bridge (no ROS needed).

Topics come from the converter's mapping (``config/convert.yaml``: what the recorder records and the
dataset will hold): ``joint_states`` (measured), ``joint_commands`` (the supervisor's output, the
dataset's ``action``), each camera as ``dataset/observation.images.<name>``; and, when the bag has them
(``ros2 bag record`` of a deploy graph), ``policy/joint_commands``, ``policy/action_chunk``,
``policy/status``, ``safety/status`` and warnings and errors from ``/rosout``. Messages are replayed in
log-time order, each at its header stamp (the log time when the header has none).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from vla_ros.camera.image import compressed_to_rgb, msg_to_rgb
from vla_ros.convert.mapping import TopicMapping, load_config
from vla_ros.convert.reader import open_bag
from vla_ros.errors import VlaRosError
from vla_ros.policy.guards import image_key
from vla_ros.viewer.entities import CameraFeed
from vla_ros.viewer.errors import ViewerError
from vla_ros.viewer.logger import ViewerLogger
from vla_ros.viewer.status import LogLine, PolicyReport, SafetyReport

__all__ = ["bag_feeds", "replay_bag"]

_ROSOUT_LEVELS = {30: "WARN", 40: "ERROR", 50: "CRITICAL"}
"""rcl_interfaces/msg/Log levels worth a log entry."""


def _topics(mapping: TopicMapping) -> dict[str, str]:
    """Resolved topic -> what it is (``joints:<series>``, ``camera:<name>``, ``chunk``, ...)."""
    out = {mapping.resolve(mapping.state.topic): "joints:measured",
           mapping.resolve(mapping.action.topic): "joints:command",
           mapping.resolve("policy/joint_commands"): "joints:policy",
           mapping.resolve("policy/action_chunk"): "chunk",
           mapping.resolve("policy/status"): "policy", mapping.resolve("safety/status"): "safety",
           "/rosout": "rosout"}
    out.update({mapping.resolve(spec.topic): f"camera:{name}" for name, spec in mapping.cameras.items()})
    return out


def bag_feeds(bag: str | Path, mapping: TopicMapping | None = None) -> list[CameraFeed]:
    """The cameras of ``bag`` named by their dataset feature (``dataset/observation.images.front``).

    Raises:
        CorruptBagError: the bag cannot be opened.
        ViewerError: the bag has none of the topics the viewer shows.
    """
    mapping = mapping or load_config().mapping
    topics = _topics(mapping)
    with open_bag(bag) as reader:
        present = {c.topic for c in reader.connections}
    if not present & set(topics):
        raise ViewerError(f"bag {bag} has none of the topics the viewer shows ({sorted(topics)}); it has "
                          f"{sorted(present)}")
    return [CameraFeed(name, image_key(name), "dataset") for name, spec in mapping.cameras.items()
            if mapping.resolve(spec.topic) in present]


def replay_bag(bag: str | Path, logger: ViewerLogger, mapping: TopicMapping | None = None) -> dict[str, int]:
    """Log every message of ``bag`` the viewer shows, through ``logger``.

    Returns:
        Messages logged (or offered to a rate-limited stream) per topic.

    Raises:
        CorruptBagError: the bag cannot be read.
    """
    mapping = mapping or load_config().mapping
    topics = _topics(mapping)
    feeds = {f.camera: f for f in bag_feeds(bag, mapping)}
    counts: Counter[str] = Counter()
    with open_bag(bag) as reader:
        conns = [c for c in reader.connections if c.topic in topics]
        for conn, logtime, raw in reader.messages(connections=conns):
            msg = reader.deserialize(raw, conn.msgtype)
            header = getattr(msg, "header", None)
            stamp_ns = (int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)) if header else 0
            try:
                _log_message(logger, topics[conn.topic], msg, (stamp_ns or logtime) * 1e-9, feeds)
            except VlaRosError as err:  # one bad message is reported, the rest still shown
                logger.event(LogLine("WARN", f"{conn.topic}: not shown: {err}"), (stamp_ns or logtime) * 1e-9)
            counts[conn.topic] += 1
    logger.flush()
    return dict(counts)


def _log_message(logger: ViewerLogger, kind: str, msg: Any, stamp_s: float,
                 feeds: dict[str, CameraFeed]) -> None:
    what, _, name = kind.partition(":")
    if what == "joints":
        logger.joints(name, list(msg.name), list(msg.position), stamp_s)
    elif what == "camera":
        decode = (lambda: compressed_to_rgb(msg.format, msg.data)) if hasattr(msg, "format") else (
            lambda: msg_to_rgb(msg))
        logger.camera(feeds[name], decode, stamp_s)
    elif what == "chunk":
        actions = np.asarray(msg.actions, dtype=np.float64).reshape(int(msg.num_steps), len(msg.joint_names))
        logger.chunk(list(msg.joint_names), actions, float(msg.fps), stamp_s, int(msg.first_future_index))
    elif what == "policy":
        logger.policy(PolicyReport(msg.state_name, msg.task, float(msg.latency_last_s), int(msg.queue_depth),
                                   int(msg.chunks_done), int(msg.chunks_dropped), int(msg.dry_ticks),
                                   msg.last_error), stamp_s)
    elif what == "safety":
        clamps = dict(zip(msg.joint_names, map(int, msg.clamp_counts)))
        logger.safety(SafetyReport(msg.state_name, bool(msg.estop_latched), clamps, msg.reason), stamp_s)
    elif what == "rosout" and int(msg.level) in _ROSOUT_LEVELS:
        logger.event(LogLine(_ROSOUT_LEVELS[int(msg.level)], f"[{msg.name}] {msg.msg}"), stamp_s)
