"""A short-lived connection to a running graph over DDS, for the operator's commands.

It uses the same interfaces ``ros2 param set`` and ``ros2 service call`` use (``<node>/set_parameters``,
std_srvs services) and reads the latched status topics, so it needs rclpy (the pip install has it) but
no ``ros2`` CLI. A private rclpy context and node; discovery as the graphs' (``--network``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from vla_ros.bringup.network import apply_environment, discovery
from vla_ros.session.errors import SessionError

__all__ = ["OTHERS_GRACE_S", "GraphClient", "GraphNotFoundError"]

OTHERS_GRACE_S = 2.0
"""How long :meth:`GraphClient.watch` waits, once one topic has delivered, for the others whose publisher
it has not discovered yet, s."""


class GraphNotFoundError(SessionError):
    """No running graph answers in this namespace and domain."""


class GraphClient:
    """One rclpy node in ``namespace`` that calls the graph's services and reads its status topics.

    Args:
        namespace: the graph's namespace ('' = the root), as given to ``vla-ros launch``.
        network: ``localhost`` or ``subnet`` (:mod:`vla_ros.bringup.network`), as the graph's.
        timeout_s: longest wait for discovery and for each answer, s.
    """

    def __init__(self, namespace: str = "", network: str = "localhost", timeout_s: float = 5.0) -> None:
        env = apply_environment(os.environ, discovery(network).env)
        for name in set(os.environ) - set(env):
            del os.environ[name]
        os.environ.update(env)
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        self.rclpy = rclpy
        self.namespace = "/" + namespace.strip("/")
        self.timeout_s = timeout_s
        self.ctx = rclpy.Context()
        rclpy.init(args=[], context=self.ctx)
        self.node = rclpy.create_node(f"vla_ros_cli_{os.getpid()}", namespace=self.namespace,
                                      context=self.ctx, start_parameter_services=False)
        self.executor = SingleThreadedExecutor(context=self.ctx)
        self.executor.add_node(self.node)

    def where(self) -> str:
        """Namespace and domain, for messages."""
        return f"namespace {self.namespace!r}, ROS_DOMAIN_ID={os.environ.get('ROS_DOMAIN_ID', '0') or '0'}"

    def spin(self, seconds: float) -> None:
        """Process callbacks for ``seconds``."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.executor.spin_once(timeout_sec=min(0.05, max(0.0, end - time.monotonic())))

    def ready_services(self, srv_type: Any, names: list[str], wait_s: float | None = None) -> list[Any]:
        """Clients of those of ``names`` that are available: waits up to ``wait_s`` (default
        ``timeout_s``) for the first, then briefly for the others (empty list: none)."""
        clients = [self.node.create_client(srv_type, name) for name in names]
        end = time.monotonic() + (self.timeout_s if wait_s is None else wait_s)
        while time.monotonic() < end and not any(c.service_is_ready() for c in clients):
            self.spin(0.05)
        if any(c.service_is_ready() for c in clients):
            self.spin(0.3)
        return [c for c in clients if c.service_is_ready()]

    def call(self, client: Any, request: Any) -> Any:
        """The response of one call.

        Raises:
            SessionError: no answer within ``timeout_s``.
        """
        future = client.call_async(request)
        self.executor.spin_until_future_complete(future, timeout_sec=self.timeout_s)
        if not future.done() or future.result() is None:
            raise SessionError(f"{client.srv_name} did not answer within {self.timeout_s} s")
        return future.result()

    def service(self, srv_type: Any, name: str, request: Any) -> Any:
        """Call service ``name`` (relative to the namespace) of the running graph.

        Raises:
            GraphNotFoundError: nothing offers it within ``timeout_s``.
            SessionError: no answer.
        """
        ready = self.ready_services(srv_type, [name])
        if not ready:
            raise GraphNotFoundError(self.missing(f"service {self._resolve(name)}"))
        return self.call(ready[0], request)

    def missing(self, what: str) -> str:
        """The message for a graph that is not there."""
        return (f"no running vla_ros graph offers {what} ({self.where()}, waited {self.timeout_s:g} s); "
                "start one with `vla-ros launch deploy|record ...`, or give its --namespace")

    def _resolve(self, name: str) -> str:
        return name if name.startswith("/") else f"{self.namespace.rstrip('/')}/{name}"

    def watch(self, topics: dict[str, tuple[Any, str]], qos: Any, wait_s: float,
              enough: Callable[[set[str]], bool] = bool) -> dict[str, Any]:
        """Subscribe ``topics`` (``{label: (type, topic)}``) for good; the returned dict holds the latest
        message of each, kept up to date while the client spins. Waits up to ``wait_s`` until the labels
        delivered are ``enough`` (default: any); then, within ``wait_s``, for every other topic that has
        a publisher, and :data:`OTHERS_GRACE_S` for those that have none yet (a graph need not publish
        them all: a deploy graph has no ``record/status``). Latched topics deliver as soon as their
        publisher is discovered (each node of a graph is discovered on its own)."""
        box: dict[str, Any] = {}
        for label, (msg_type, topic) in topics.items():
            self.node.create_subscription(msg_type, topic, lambda m, k=label: box.__setitem__(k, m), qos)
        end = time.monotonic() + wait_s
        while time.monotonic() < end and not enough(set(box)):
            self.spin(0.05)
        grace_end = min(end, time.monotonic() + OTHERS_GRACE_S)

        def waiting() -> bool:
            pending = [topic for label, (_, topic) in topics.items() if label not in box]
            return bool(pending) and (time.monotonic() < grace_end or any(
                self.node.count_publishers(self._resolve(topic)) for topic in pending))

        while time.monotonic() < end and waiting():
            self.spin(0.05)
        return box

    def set_string_parameter(self, nodes: list[str], name: str, value: str) -> list[tuple[str, bool, str]]:
        """Set parameter ``name`` of those of ``nodes`` that run (``<node>/set_parameters``, as
        ``ros2 param set``); ``(node, successful, reason)`` for each.

        Raises:
            GraphNotFoundError: none of them runs.
        """
        from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
        from rcl_interfaces.srv import SetParameters

        clients = self.ready_services(SetParameters, [f"{n}/set_parameters" for n in nodes])
        if not clients:
            raise GraphNotFoundError(self.missing(f"a {' or '.join(nodes)} node"))
        parameter = Parameter(name=name, value=ParameterValue(type=ParameterType.PARAMETER_STRING,
                                                              string_value=value))
        answers = []
        for client in clients:
            result = self.call(client, SetParameters.Request(parameters=[parameter])).results[0]
            answers.append((client.srv_name.rsplit("/", 2)[-2], bool(result.successful), str(result.reason)))
        return answers

    def set_bool(self, service: str, value: bool) -> tuple[bool, str]:
        """Call a std_srvs/SetBool service; ``(success, message)`` (errors as :meth:`service`)."""
        from std_srvs.srv import SetBool

        response = self.service(SetBool, service, SetBool.Request(data=value))
        return bool(response.success), str(response.message)

    def watch_status(self) -> dict[str, Any]:
        """:meth:`watch` the latched ``policy/status``, ``safety/status`` and ``record/status``
        (keys ``policy``, ``safety``, ``record``); waits up to ``timeout_s`` for the safety supervisor's
        (every graph has one) and the policy's or the recorder's."""
        from std_msgs.msg import String

        from vla_ros.msg import PolicyStatus, SafetyStatus
        from vla_ros.ros.qos import STATUS_QOS

        topics = {"policy": (PolicyStatus, "policy/status"), "safety": (SafetyStatus, "safety/status"),
                  "record": (String, "record/status")}
        return self.watch(topics, STATUS_QOS, self.timeout_s,
                          enough=lambda got: "safety" in got and bool(got & {"policy", "record"}))

    def follow(self, seconds: float) -> bool:
        """Spin for ``seconds``; False once Ctrl-C has shut the client down."""
        from rclpy.executors import ExternalShutdownException

        try:
            self.spin(seconds)
        except (KeyboardInterrupt, ExternalShutdownException):
            return False
        return True

    def close(self) -> None:
        """Destroy the node and shut the context down."""
        self.executor.shutdown()
        self.node.destroy_node()
        self.rclpy.try_shutdown(context=self.ctx)

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
