"""A node's command input that only its configured source can drive, and the start check of a sole topic.

:class:`CommandSourceGate` creates a node's command subscription and applies
:class:`vla_ros.command_source.guard.SourceGuard` to it: each message is admitted by the publisher gid
rclpy attaches to it (``MessageInfo["publisher_gid"]``, Kilted's rclpy; older ones give none and fall
back to the graph alone, see the guard), and the graph (``get_publishers_info_by_topic`` on the
subscription's resolved topic) is checked at start, every :data:`CHECK_PERIOD_S` and at once when a
message comes from a publisher the guard does not know. Every change is logged and published on
``/diagnostics`` as ``<node>: command source``, again every :data:`REPORT_PERIOD_S`: ERROR naming the
intruders while holding; WARN while holding only for a publisher the graph has not named yet (for a
few milliseconds at start the source's own endpoint can be listed before its node name). The
callbacks run in the given callback group.

:func:`wait_sole_publisher` is the driver's start check: nobody else may publish its ``joint_states``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.callback_groups import CallbackGroup
from rclpy.node import Node
from rclpy.qos import QoSProfile
from rclpy.subscription import Subscription

from vla_ros.command_source.guard import (
    GID_SIZE,
    Publisher,
    SourceGuard,
    SourceStatus,
    Verdict,
    check_sole_publisher,
    resolve_node_name,
)

__all__ = ["CHECK_PERIOD_S", "REPORT_PERIOD_S", "CommandSourceGate", "graph_publishers",
           "wait_sole_publisher"]

CHECK_PERIOD_S = 0.1
"""Period of the graph check. The per-message gid check makes this the delay of *reporting* an intruder
(and of holding when the middleware gives no gid), not a window for its messages."""
REPORT_PERIOD_S = 1.0
"""Period of the ``/diagnostics`` report between changes."""
_UNKNOWN = ("_NODE_NAME_UNKNOWN_", "_NODE_NAMESPACE_UNKNOWN_")
_ERROR, _WARN = DiagnosticStatus.ERROR, DiagnosticStatus.WARN


def graph_publishers(node: Node, topic: str) -> list[Publisher]:
    """Every publisher of the fully qualified ``topic`` the node's graph cache lists now."""
    publishers = []
    for info in node.get_publishers_info_by_topic(topic):
        known = info.node_name not in _UNKNOWN and info.node_namespace not in _UNKNOWN
        name = f"{info.node_namespace.rstrip('/')}/{info.node_name}" if known else ""
        publishers.append(Publisher(name, bytes(info.endpoint_gid)[:GID_SIZE]))
    return publishers


def _message_gid(info: Any) -> bytes | None:
    gid = info.get("publisher_gid") if isinstance(info, dict) else None
    return bytes(gid["data"])[:GID_SIZE] if gid else None


class CommandSourceGate:
    """The command subscription of ``node``, passing only messages of ``source`` to ``callback``.

    Args:
        node: the node.
        msg_type, topic, qos: the subscription (``topic`` relative or absolute, remappings apply).
        source: the allowed node, relative to the node's namespace or absolute.
        callback: called with each admitted message.
        on_change: called with the new status whenever it changes (e.g. to hold at once).
        callback_group: for the subscription and the timers.

    Raises:
        ConfigError: ``source`` is not a node name.
    """

    def __init__(self, node: Node, msg_type: Any, topic: str, qos: QoSProfile, source: str,
                 callback: Callable[[Any], None], *,
                 on_change: Callable[[SourceStatus], None] | None = None,
                 callback_group: CallbackGroup | None = None) -> None:
        self._node = node
        self._callback = callback
        self._on_change = on_change
        fqn = resolve_node_name(source, node.get_namespace())
        # message-info callbacks: rclpy from Iron on; Humble's gets the message only (graph check alone)
        with_info = hasattr(Subscription, "CallbackType")
        on_message = self._on_message if with_info else (lambda msg: self._on_message(msg, None))
        self._sub = node.create_subscription(msg_type, topic, on_message, qos, callback_group=callback_group)
        self.guard = SourceGuard(self._sub.topic_name, fqn)
        self._diag = node.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._timers = [node.create_timer(CHECK_PERIOD_S, self.check, callback_group=callback_group),
                        node.create_timer(REPORT_PERIOD_S, self.report, callback_group=callback_group)]
        self.check()
        self.report()

    @property
    def status(self) -> SourceStatus:
        """The guard's current status."""
        return self.guard.status

    def check(self) -> None:
        """Read the graph now; log, report and call ``on_change`` if the status changed."""
        old = self.guard.update(graph_publishers(self._node, self.guard.status.topic))
        if old is None:
            return
        new = self.guard.status
        logger = self._node.get_logger()
        if new.holding and new.identified:
            logger.error(new.message)
        elif new.holding:
            logger.warning(new.message)
        elif old.holding:
            logger.info(f"resuming: {new.message}")
        else:
            logger.info(new.message)
        self.report()
        if self._on_change is not None:
            self._on_change(new)

    def report(self) -> None:
        """Publish the status on ``/diagnostics``."""
        status = self.guard.status
        values = {"topic": status.topic, "source": status.source, "intruders": ", ".join(status.intruders),
                  **{k: str(v) for k, v in self.guard.counts.items()}}
        level = _ERROR if status.identified else _WARN if status.holding else DiagnosticStatus.OK
        diag = DiagnosticStatus(level=level,
                                name=f"{self._node.get_fully_qualified_name()}: command source",
                                message=status.message, hardware_id=status.topic,
                                values=[KeyValue(key=k, value=v) for k, v in values.items()])
        array = DiagnosticArray(status=[diag])
        array.header.stamp = self._node.get_clock().now().to_msg()
        self._diag.publish(array)

    def close(self) -> None:
        """Stop the timers."""
        for timer in self._timers:
            timer.cancel()

    def _on_message(self, msg: Any, info: Any) -> None:
        verdict = self.guard.admit(_message_gid(info))
        if verdict is Verdict.ACCEPT:
            self._callback(msg)
        elif verdict is Verdict.UNVERIFIED:
            self.check()


def wait_sole_publisher(node: Node, topic: str, wait_s: float, poll_s: float = 0.05) -> None:
    """Watch the graph for ``wait_s`` (discovery) and refuse if anyone else publishes ``topic``.

    Args:
        node: the node that publishes ``topic`` (its own publisher may already exist).
        topic: fully qualified topic name (e.g. a publisher's ``topic_name``).
        wait_s: how long to watch, seconds (DDS discovery of the running nodes).

    Raises:
        SharedTopicError: another node publishes it (see
            :func:`vla_ros.command_source.guard.check_sole_publisher`).
    """
    end = time.monotonic() + wait_s
    own = node.get_fully_qualified_name()
    while True:
        check_sole_publisher(topic, graph_publishers(node, topic), own)
        if time.monotonic() >= end:
            return
        time.sleep(poll_s)
