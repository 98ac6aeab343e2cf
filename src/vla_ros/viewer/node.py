"""``rerun_bridge``: the live viewer of a running graph (``viewer:=rerun``), a thin adapter over
:class:`~vla_ros.viewer.logger.ViewerLogger`.

Subscribes (relative to the namespace) ``cameras/<name>/image_raw``, ``joint_states``,
``policy/joint_commands``, ``joint_commands``, ``policy/action_chunk``, ``policy/status``,
``safety/status``, ``sim/objects`` and ``/rosout`` (warnings and errors of this namespace's nodes).
Cameras are named by the policy input they feed: the bridge reads ``camera_map`` and ``policy_path``
from the ``policy_node``'s parameters (service calls, retried until the policy is up) and shows each
camera as ``policy/<feature>``; with ``policy_node:=''`` (record graph) as
``dataset/observation.images.<name>``.
Serves the web viewer (its URL is logged at start) and/or saves to ``save_path``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from rcl_interfaces.msg import Log, ParameterType
from rclpy.node import Node
from rclpy.parameter_client import AsyncParameterClient
from rclpy.qos import QoSProfile
from sensor_msgs.msg import Image, JointState
from visualization_msgs.msg import MarkerArray

from vla_ros.camera.image import msg_to_rgb
from vla_ros.errors import VlaRosError
from vla_ros.msg import ActionChunk, PolicyStatus, SafetyStatus
from vla_ros.ros.image import stamp_to_s
from vla_ros.ros.node_main import run_node
from vla_ros.ros.objects import CUBES_NS, parse_objects
from vla_ros.ros.params import declare_config
from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS, STATUS_QOS
from vla_ros.viewer.config import BridgeConfig, LoggerConfig
from vla_ros.viewer.entities import CameraFeed
from vla_ros.viewer.feeds import dataset_feeds, policy_feeds
from vla_ros.viewer.session import require_rerun
from vla_ros.viewer.status import LogLine, PolicyReport, SafetyReport

__all__ = ["RerunBridge", "main"]

_LEVELS = {Log.WARN: "WARN", Log.ERROR: "ERROR", Log.FATAL: "CRITICAL"}
_CUBE_HALF_SIZE_M = 0.0125
"""Half the edge of a cube whose marker has no scale (``vla_ros.sim.scene.CUBE_HALF_SIZE_M``, not imported:
it pulls in MuJoCo); ``sim/objects`` markers carry the edge as their scale."""


class RerunBridge(Node):
    """Logs the graph's topics to rerun (see the module docstring).

    Raises:
        RerunMissingError: rerun-sdk is not installed.
        ViewerError: a port is taken or the save file's directory does not exist.
    """

    def __init__(self, **node_kwargs: Any) -> None:
        super().__init__("rerun_bridge", **node_kwargs)
        require_rerun()
        from vla_ros.viewer.layout import blueprint
        from vla_ros.viewer.logger import ViewerLogger
        from vla_ros.viewer.session import open_session

        self.cfg = declare_config(self, BridgeConfig)
        self.log_cfg = declare_config(self, LoggerConfig)
        self._blueprint = blueprint
        self.session = open_session(blueprint([]), serve=self.cfg.serve, web_port=self.cfg.web_port,
                                    grpc_port=self.cfg.grpc, save_path=self.cfg.save_path,
                                    memory_limit=self.cfg.memory_limit,
                                    recording_name=self.get_fully_qualified_name())
        self.logger = ViewerLogger(self.session.streams, self.log_cfg)
        self.logger.log_static()
        if self.session.url:
            self.get_logger().info(f"rerun viewer: {self.session.url}")
        if self.session.save_path:
            self.get_logger().info(f"rerun recording: {self.session.save_path}")
        self._feeds: list[CameraFeed] = []
        self._pending_lines: list[LogLine] = []
        self._sim_time = bool(self.get_parameter("use_sim_time").value)
        self._subscribe()
        if self.cfg.policy_node:
            self._params = AsyncParameterClient(self, self.cfg.policy_node)
            self._asking = False
            self._feed_timer = self.create_timer(1.0, self._ask_policy)
        else:
            self._use_feeds(dataset_feeds({c: f"cameras/{c}/image_raw" for c in self.cfg.cameras}))
        self.create_timer(max(self.log_cfg.flush_period_s, 0.05), self._flush)

    # ----------------------------------------------------------------- setup
    def _subscribe(self) -> None:
        self._joints("joint_states", "measured", SENSOR_QOS)
        self._joints("policy/joint_commands", "policy", COMMAND_QOS)
        self._joints("joint_commands", "command", COMMAND_QOS)
        self.create_subscription(ActionChunk, "policy/action_chunk", self._on_chunk, STATUS_QOS)
        self.create_subscription(PolicyStatus, "policy/status", self._on_policy, STATUS_QOS)
        self.create_subscription(SafetyStatus, "safety/status", self._on_safety, STATUS_QOS)
        self.create_subscription(MarkerArray, "sim/objects", self._on_objects, STATUS_QOS)
        self.create_subscription(Log, "/rosout", self._on_rosout, QoSProfile(depth=100))

    def _joints(self, topic: str, series: str, qos: Any) -> None:
        def on_msg(msg: JointState) -> None:
            if (stamp := self._stamp(msg.header)) is not None:
                self._guard(topic, lambda: self.logger.joints(series, list(msg.name), list(msg.position),
                                                              stamp))

        self.create_subscription(JointState, topic, on_msg, qos)

    def _ask_policy(self) -> None:
        if self._asking or not self._params.services_are_ready():
            return
        self._asking = True
        self._params.get_parameters(["camera_map", "policy_path"], callback=self._on_policy_params)

    def _on_policy_params(self, future: Any) -> None:
        self._asking = False
        values = future.result().values if future.result() is not None else []
        if len(values) != 2 or any(v.type == ParameterType.PARAMETER_NOT_SET for v in values):
            return  # the policy has not declared its parameters yet: ask again at the next tick
        try:
            feeds = policy_feeds(list(values[0].string_array_value), values[1].string_value, self.cfg.cameras)
        except VlaRosError as err:
            self.get_logger().error(f"cannot name the cameras from {self.cfg.policy_node}: {err}")
            feeds = dataset_feeds({c: f"cameras/{c}/image_raw" for c in self.cfg.cameras})
        self._feed_timer.cancel()
        self._use_feeds(feeds)

    def _use_feeds(self, feeds: list[CameraFeed]) -> None:
        self._feeds = feeds
        self.logger.log_static(feeds)
        for stream in self.session.streams:
            stream.send_blueprint(self._blueprint(feeds))
        self.get_logger().info("cameras: " + ", ".join(feed.label for feed in feeds))
        for feed in feeds:
            self.create_subscription(Image, f"cameras/{feed.camera}/image_raw", self._image_callback(feed),
                                     SENSOR_QOS)

    def close(self) -> None:
        """Send what is queued and close the recording (called by ``run_node``)."""
        self.logger.flush()
        self.session.close()

    # ----------------------------------------------------------------- callbacks
    def _now(self) -> float | None:
        """The node's clock: simulated time with ``use_sim_time`` (None before ``/clock`` has arrived: a
        wall-clock stamp among simulated ones would put the data 56 years away and the plots' window,
        which follows the latest time, would show nothing else), wall time otherwise."""
        now = self.get_clock().now().nanoseconds * 1e-9
        if now > 0:
            return now
        return None if self._sim_time else time.time()

    def _stamp(self, header: Any) -> float | None:
        """The message's header stamp, else :meth:`_now` (None: not loggable yet)."""
        stamp = stamp_to_s(header.stamp)
        return stamp if stamp > 0 else self._now()

    def _guard(self, what: str, log: Any) -> None:
        try:
            log()
        except VlaRosError as err:
            self.get_logger().warning(f"{what}: not shown: {err}", throttle_duration_sec=5.0)

    def _image_callback(self, feed: CameraFeed) -> Any:
        def on_image(msg: Image) -> None:
            if (stamp := self._stamp(msg.header)) is not None:
                self._guard(f"cameras/{feed.camera}/image_raw",
                            lambda: self.logger.camera(feed, lambda: msg_to_rgb(msg), stamp))

        return on_image

    def _on_chunk(self, msg: ActionChunk) -> None:
        names, steps = list(msg.joint_names), int(msg.num_steps)
        actions = np.asarray(msg.actions, dtype=np.float64)
        if not names or not steps or actions.size != steps * len(names):
            self.get_logger().warning("malformed action chunk; not shown", throttle_duration_sec=5.0)
            return
        if (stamp := self._stamp(msg.header)) is not None:
            self._guard("policy/action_chunk", lambda: self.logger.chunk(
                names, actions.reshape(steps, len(names)), float(msg.fps), stamp,
                int(msg.first_future_index)))

    def _on_policy(self, msg: PolicyStatus) -> None:
        if (stamp := self._stamp(msg.header)) is None:
            return
        self.logger.policy(PolicyReport(
            state=msg.state_name, task=msg.task, latency_s=float(msg.latency_last_s),
            queue_depth=int(msg.queue_depth), chunks_done=int(msg.chunks_done),
            chunks_dropped=int(msg.chunks_dropped), dry_ticks=int(msg.dry_ticks), last_error=msg.last_error,
        ), stamp)

    def _on_safety(self, msg: SafetyStatus) -> None:
        if (stamp := self._stamp(msg.header)) is None:
            return
        self.logger.safety(SafetyReport(
            state=msg.state_name, estop=bool(msg.estop_latched),
            clamps=dict(zip(msg.joint_names, (int(c) for c in msg.clamp_counts))), reason=msg.reason,
        ), stamp)

    def _on_objects(self, msg: MarkerArray) -> None:
        objects = parse_objects(msg)
        stamp = None if objects is None else objects.stamp_s or self._stamp(msg.markers[0].header)
        if objects is None or stamp is None:
            return
        cube = next((m for m in msg.markers if m.ns == CUBES_NS), None)
        half = float(cube.scale.x) / 2 if cube is not None and cube.scale.x > 0 else _CUBE_HALF_SIZE_M
        self.logger.objects(objects.cubes, stamp, half)

    def _on_rosout(self, msg: Log) -> None:
        level = _LEVELS.get(int(msg.level))
        ns = self.get_namespace().strip("/").replace("/", ".")
        if level is None or (ns and not msg.name.startswith(ns + ".")) or msg.name.endswith("rerun_bridge"):
            return
        # rosout stamps are wall time; the timeline is this node's clock: lines from before /clock are
        # held (the last 100) and logged at its first time
        self._pending_lines.append(LogLine(level, f"[{msg.name.rsplit('.', 1)[-1]}] {msg.msg}"))
        del self._pending_lines[:-100]
        self._log_lines()

    def _log_lines(self) -> None:
        if self._pending_lines and (now := self._now()) is not None:
            for line in self._pending_lines:
                self.logger.event(line, now)
            self._pending_lines.clear()

    def _flush(self) -> None:
        self._log_lines()
        self.logger.flush()


def main(args: list[str] | None = None) -> int:
    """Entry point of ``rerun_bridge``."""
    return run_node(RerunBridge, args)
