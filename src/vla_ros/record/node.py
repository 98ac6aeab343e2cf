"""``bag_recorder``: records the converter's topics into one MCAP bag per episode.

Recorded topics (from the converter's mapping config, so recorder and converter cannot drift):
``joint_states``, ``joint_commands``, ``cameras/<name>/image_raw`` (``.../compressed`` as
CompressedImage). With ``backend: ros2bag`` (the default where the ``ros2`` CLI exists) each episode is
a ``ros2 bag record`` child process (:mod:`vla_ros.record.ros2bag`); with ``rosbags`` (no ROS install)
the node subscribes them itself, serialized, and writes them as received (``joint_states`` and cameras
SENSOR_QOS, ``joint_commands`` COMMAND_QOS). ``extra_topics`` adds more (``topic=package/msg/Type``,
SENSOR_QOS; e.g. the evaluation session's ``policy/action_chunk``); the converter ignores them.

Services (std_srvs/Trigger): ``record/start`` (new episode with the current ``task``),
``record/stop`` (save it), ``record/discard`` (delete it). The response message carries the bag path.

Publishes ``record/status`` (std_msgs/String, STATUS_QOS): a JSON object
``{"state": "idle"|"recording", "task", "bag", "elapsed_s", "messages": {topic: count}, "saved",
"last_saved", "output_dir"}``, on every change and every ``status_period_s``.

With ``autostart`` an episode starts when the node comes up; with ``episode_duration_s > 0`` it is
stopped and saved after that long, so scripted demonstrations run unattended. On shutdown a running
episode is saved, or discarded with ``on_shutdown: discard``.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from rcl_interfaces.msg import SetParametersResult
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from sensor_msgs.msg import CompressedImage, Image, JointState
from std_msgs.msg import String
from std_srvs.srv import Trigger

from vla_ros.convert.mapping import TopicMapping, load_config
from vla_ros.errors import ConfigError
from vla_ros.record.bag import (
    EpisodeBagWriter,
    EpisodeRecorder,
    RecorderConfig,
    parse_extra_topics,
    recorded_topics,
)
from vla_ros.record.errors import RecorderError
from vla_ros.record.ros2bag import ROS2BAG_NODE_NAME, Ros2BagEpisodes, resolve_backend
from vla_ros.ros.node_main import run_node
from vla_ros.ros.params import declare_config
from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS, STATUS_QOS

__all__ = ["BagRecorderNode", "main"]

_TYPES = {"sensor_msgs/msg/JointState": JointState, "sensor_msgs/msg/Image": Image,
          "sensor_msgs/msg/CompressedImage": CompressedImage}


def _message_class(msgtype: str) -> Any:
    """The rclpy message class of ``package/msg/Type``.

    Raises:
        ConfigError: no such message (an ``extra_topics`` type not installed).
    """
    if msgtype in _TYPES:
        return _TYPES[msgtype]
    package, _, name = msgtype.partition("/msg/")
    try:
        return getattr(importlib.import_module(f"{package}.msg"), name)
    except (ImportError, AttributeError) as err:
        raise ConfigError(f"extra_topics: message type {msgtype} is not installed ({err})") from err


class BagRecorderNode(Node):
    """The ``bag_recorder`` node (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("bag_recorder", **kwargs)
        self.cfg = declare_config(self, RecorderConfig)
        self._task = self.cfg.task
        mapping = load_config(self.cfg.mapping_file or None).mapping
        self._resolved: dict[str, str] = {}
        self.backend = resolve_backend(self.cfg.backend)
        self._topics = {**recorded_topics(mapping), **parse_extra_topics(self.cfg.extra_topics)}
        if self.backend == "ros2bag":
            topics = [self.resolve_topic_name(topic) for topic in self._topics]
            use_sim_time = bool(self.get_parameter("use_sim_time").value)
            self.writer: EpisodeRecorder = Ros2BagEpisodes(
                self.cfg.output_dir, topics, storage=self.cfg.storage, prefix=self.cfg.prefix,
                use_sim_time=use_sim_time, subscribed=self._recorder_subscribed,
                ready_timeout_s=self.cfg.recorder_ready_timeout_s)
        else:
            self.writer = EpisodeBagWriter(self.cfg.output_dir, self._subscribe(mapping),
                                           storage=self.cfg.storage, prefix=self.cfg.prefix)
        self._started_ns = 0
        self._last_error = ""
        self._status_pub = self.create_publisher(String, "record/status", STATUS_QOS)
        services = MutuallyExclusiveCallbackGroup()
        self.create_service(Trigger, "record/start", self._on_start, callback_group=services)
        self.create_service(Trigger, "record/stop", self._on_stop, callback_group=services)
        self.create_service(Trigger, "record/discard", self._on_discard, callback_group=services)
        self.create_timer(min(self.cfg.status_period_s, 0.1), self._tick, callback_group=services)
        self._next_status_ns = 0
        self.add_on_set_parameters_callback(self._on_parameters)
        self.get_logger().info(f"recording {sorted(self.writer.topics)} into {self.writer.output_dir} "
                               f"with {self.backend}")
        if self.cfg.autostart:
            self._start()
        self._publish_status()

    def _subscribe(self, mapping: TopicMapping) -> dict[str, str]:
        """Subscribe the recorded topics as serialized messages; ``{resolved topic: message type}``."""
        group = MutuallyExclusiveCallbackGroup()
        topics: dict[str, str] = {}
        for topic, msgtype in self._topics.items():
            qos = COMMAND_QOS if topic == mapping.action.topic else SENSOR_QOS
            sub = self.create_subscription(_message_class(msgtype), topic, self._callback(topic), qos,
                                           raw=True, callback_group=group)
            self._resolved[topic] = sub.topic_name
            topics[sub.topic_name] = msgtype
        return topics

    def _callback(self, topic: str) -> Any:
        def on_message(data: bytes) -> None:
            self.writer.write(self._resolved[topic], self.get_clock().now().nanoseconds, data)

        return on_message

    def _on_parameters(self, params: list[Any]) -> SetParametersResult:
        for p in params:
            if p.name == "task":
                self._task = str(p.value)
        return SetParametersResult(successful=True)

    def _start(self) -> tuple[bool, str]:
        try:
            path = self.writer.start(self._task, {"recorded_by": "vla_ros bag_recorder"})
        except RecorderError as err:
            self._last_error = str(err)
            self.get_logger().error(f"cannot start an episode: {err}")
            return False, str(err)
        self._started_ns = self.get_clock().now().nanoseconds
        self.get_logger().info(f"recording episode {path.name} (task {self._task!r})")
        self._publish_status()
        return True, str(path)

    def _recorder_subscribed(self, topic: str) -> bool:
        """Whether ``ros2 bag record``'s node subscribes ``topic`` (ROS graph)."""
        infos = self.get_subscriptions_info_by_topic(topic)
        return any(info.node_name == ROS2BAG_NODE_NAME for info in infos)

    def _finish(self, discard: bool, publish: bool = True) -> tuple[bool, str]:
        try:
            path = self.writer.discard() if discard else self.writer.stop()
        except RecorderError as err:
            self._last_error = str(err)
            return False, str(err)
        self.get_logger().info(f"{'discarded' if discard else 'saved'} episode {path}")
        self._started_ns = 0
        if publish:
            self._publish_status()
        return True, str(path)

    def _respond(self, response: Trigger.Response, result: tuple[bool, str]) -> Trigger.Response:
        response.success, response.message = result
        return response

    def _on_start(self, _req: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        return self._respond(response, self._start())

    def _on_stop(self, _req: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        return self._respond(response, self._finish(discard=False))

    def _on_discard(self, _req: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        return self._respond(response, self._finish(discard=True))

    def _elapsed_s(self) -> float:
        if not self.writer.recording or not self._started_ns:
            return 0.0
        return (self.get_clock().now().nanoseconds - self._started_ns) / 1e9

    def _tick(self) -> None:
        duration = self.cfg.episode_duration_s
        if duration > 0 and self.writer.recording and self._elapsed_s() >= duration:
            self._finish(discard=False)
        if self.get_clock().now().nanoseconds >= self._next_status_ns:
            self._publish_status()

    def status(self) -> dict[str, Any]:
        """The recorder's state, as published on ``record/status``."""
        return {
            "state": "recording" if self.writer.recording else "idle",
            "task": self._task,
            "bag": self.writer.name,
            "elapsed_s": round(self._elapsed_s(), 3),
            "messages": dict(self.writer.counts),
            "saved": len(self.writer.saved),
            "last_saved": str(self.writer.saved[-1]) if self.writer.saved else "",
            "output_dir": str(Path(self.writer.output_dir)),
            "error": self._last_error,
        }

    def _publish_status(self) -> None:
        self._status_pub.publish(String(data=json.dumps(self.status())))
        self._next_status_ns = self.get_clock().now().nanoseconds + int(self.cfg.status_period_s * 1e9)

    def close(self) -> None:
        """Save or discard (``on_shutdown``) a running episode (called by run_node on shutdown)."""
        if self.writer.recording:
            discard = self.cfg.on_shutdown == "discard"
            ok, message = self._finish(discard=discard, publish=False)
            if not ok:
                self.get_logger().error(f"could not {'discard' if discard else 'save'} the running episode: "
                                        f"{message}")


def main(args: list[str] | None = None) -> int:
    """Entry point of ``bag_recorder``."""
    return run_node(BagRecorderNode, args)
