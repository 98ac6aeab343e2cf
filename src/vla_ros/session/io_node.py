"""Blocking calls of the graph's services from a session's own thread, and topic-rate meters.

The session loop runs on a thread of its own and waits for each answer, while the node's executor
keeps spinning on the main thread (``run_node``); the answers complete rclpy futures there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from rclpy.node import Node
from sensor_msgs.msg import Image, JointState
from std_srvs.srv import SetBool, Trigger

from vla_ros.bringup.rates import RateMeter
from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS
from vla_ros.session.errors import SessionError

__all__ = ["RateBoard", "ServiceCaller"]


class ServiceCaller:
    """Calls services of ``node`` and waits for the answer (never from the executor's thread).

    Args:
        node: the session node.
        timeout_s: longest wait for a service to appear and for its answer, wall seconds.
    """

    def __init__(self, node: Node, timeout_s: float = 30.0) -> None:
        self.node = node
        self.timeout_s = timeout_s
        self._clients: dict[tuple[Any, str], Any] = {}

    def call(self, srv_type: Any, name: str, request: Any, wait_s: float | None = None) -> Any:
        """The response of service ``name`` (relative names resolve in the node's namespace).

        Raises:
            SessionError: the service is not there within ``wait_s`` (default ``timeout_s``), or does
                not answer within ``timeout_s``.
        """
        key = (srv_type, name)
        if key not in self._clients:
            self._clients[key] = self.node.create_client(srv_type, name)
        client = self._clients[key]
        if not client.wait_for_service(timeout_sec=self.timeout_s if wait_s is None else wait_s):
            raise SessionError(f"service {client.srv_name} is not available (is the graph running?)")
        done = threading.Event()
        future = client.call_async(request)
        future.add_done_callback(lambda _: done.set())
        if not done.wait(self.timeout_s):
            client.remove_pending_request(future)
            raise SessionError(f"service {client.srv_name} did not answer within {self.timeout_s} s")
        return future.result()

    def trigger(self, name: str) -> str:
        """Call a std_srvs/Trigger service; its message.

        Raises:
            SessionError: not available, no answer, or ``success`` false (with its message).
        """
        response = self.call(Trigger, name, Trigger.Request())
        if not response.success:
            raise SessionError(f"{name}: {response.message}")
        return str(response.message)

    def set_bool(self, name: str, value: bool, wait_s: float | None = None) -> str:
        """Call a std_srvs/SetBool service; its message (SessionError as :meth:`trigger`)."""
        response = self.call(SetBool, name, SetBool.Request(data=value), wait_s)
        if not response.success:
            raise SessionError(f"{name}({value}): {response.message}")
        return str(response.message)


class RateBoard:
    """Message rates of the topics the operator watches: ``joint_states``, ``joint_commands`` and the
    cameras' ``image_raw`` (wall clock, 2 s window)."""

    def __init__(self, node: Node, cameras: Sequence[str]) -> None:
        self._lock = threading.Lock()
        self.meters: dict[str, RateMeter] = {}
        self._count(node, "joints", JointState, "joint_states", SENSOR_QOS)
        self._count(node, "cmd", JointState, "joint_commands", COMMAND_QOS)
        for cam in cameras:
            self._count(node, cam, Image, f"cameras/{cam}/image_raw", SENSOR_QOS)

    def _count(self, node: Node, label: str, msg_type: Any, topic: str, qos: Any) -> None:
        meter = self.meters[label] = RateMeter()

        def on_msg(_: Any) -> None:
            with self._lock:
                meter.tick(time.monotonic())

        node.create_subscription(msg_type, topic, on_msg, qos, raw=True)  # counted, never decoded

    def flowing(self, label: str) -> bool:
        """Whether ``label``'s topic has delivered messages in the last window."""
        with self._lock:
            return self.meters[label].rate_hz(time.monotonic()) > 0

    def rates_hz(self) -> dict[str, float]:
        """``{label: Hz}`` now."""
        now = time.monotonic()
        with self._lock:
            return {label: meter.rate_hz(now) for label, meter in self.meters.items()}
