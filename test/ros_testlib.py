"""Helpers shared by the tests that run vla_ros nodes as child processes and watch them over real DDS.

Importable from any test module (``from ros_testlib import NodeProcess, Probe``): pytest puts this
directory on ``sys.path`` for the root ``conftest.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["BIN", "NodeProcess", "Probe", "RoguePublisher"]

BIN = Path(sys.executable).parent


class NodeProcess:
    """A vla_ros executable as a child process with extra ``--ros-args`` words and ``-p name:=value``
    parameters, output to a log."""

    def __init__(self, executable: str, log: Path, namespace: str, *ros_args: str, **params: Any) -> None:
        args = [str(BIN / executable), "--ros-args", "-r", f"__ns:={namespace}", *ros_args]
        for key, value in params.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            args += ["-p", f"{key}:={text}"]
        self.name = executable
        self.log = log
        self._out = log.open("w")
        env = dict(os.environ, PYTHONUNBUFFERED="1", RCUTILS_COLORIZED_OUTPUT="0")
        self.proc = subprocess.Popen(args, stdout=self._out, stderr=subprocess.STDOUT, env=env)

    def output(self) -> str:
        return self.log.read_text()

    def wait(self, timeout_s: float) -> int | None:
        """Wait for the process to exit by itself; its status, or None if it is still running."""
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout_s: float = 20.0) -> int:
        """Ctrl-C the node (if still running) and wait for it; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            if self.wait(timeout_s) is None:
                self.proc.kill()
                self.proc.wait(5)
        self._out.close()
        return self.proc.returncode


class Probe:
    """A test node in a private rclpy context, spun in a background thread with the nodes under test
    given to :meth:`add` (one SingleThreadedExecutor, as ``run_node`` spins a node)."""

    def __init__(self, name: str, namespace: str) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        self.rclpy = rclpy
        self.namespace = namespace
        self.ctx = rclpy.Context()
        rclpy.init(context=self.ctx)
        self.node = rclpy.create_node(name, namespace=namespace, context=self.ctx)
        self.executor = SingleThreadedExecutor(context=self.ctx)
        self.executor.add_node(self.node)
        self.nodes: list[Any] = []
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while self.ctx.ok():
            try:
                self.executor.spin_once(timeout_sec=0.05)
            except Exception:  # context shut down under us
                return

    def add(self, factory: Callable[..., Any], **params: Any) -> Any:
        """Build a node under test with ``factory(namespace=..., context=..., parameter_overrides=...)``
        and spin it here; :meth:`close` closes (``close()`` if it has one) and destroys it."""
        from rclpy.parameter import Parameter

        node = factory(namespace=self.namespace, context=self.ctx,
                       parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
        self.executor.add_node(node)
        self.nodes.append(node)
        return node

    def record(self, msg_type: Any, topic: str, qos: Any, keep: int = 50) -> list[Any]:
        """Subscribe and keep the last ``keep`` messages in the returned list."""
        box: list[Any] = []

        def on_msg(msg: Any) -> None:
            with self.lock:
                box.append(msg)
                del box[:-keep]

        self.node.create_subscription(msg_type, topic, on_msg, qos)
        return box

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Poll ``predicate`` (under the probe's lock) until true; AssertionError after ``timeout_s``."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            with self.lock:
                if predicate():
                    return
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")

    def call(self, srv_type: Any, name: str, request: Any, timeout_s: float = 30.0) -> Any:
        """Call a service and wait for the answer (AssertionError if there is none in time)."""
        client = self.node.create_client(srv_type, name)
        assert client.wait_for_service(timeout_sec=timeout_s), f"service {name} not available"
        future = client.call_async(request)
        end = time.monotonic() + timeout_s
        while not future.done() and time.monotonic() < end:
            time.sleep(0.02)
        assert future.done(), f"{name}: no response within {timeout_s} s"
        return future.result()

    def close(self) -> None:
        for node in reversed(self.nodes):
            close = getattr(node, "close", None)
            if close is not None:
                close()
        self.executor.shutdown()
        for node in [*self.nodes, self.node]:
            node.destroy_node()
        self.rclpy.try_shutdown(context=self.ctx)
        self._thread.join(5)


class RoguePublisher:
    """A stranger on a command topic: publishes one far ``sensor_msgs/JointState`` pose at ``rate_hz``
    from its own thread, from its very first moment (no wait for discovery), like a second user's script.
    :meth:`stop` ends the thread and destroys the node (which is in no executor)."""

    def __init__(self, node: Any, topic: str, positions: Any, rate_hz: float = 30.0) -> None:
        from sensor_msgs.msg import JointState

        from vla_ros.robot.joints import JOINT_NAMES
        from vla_ros.ros.qos import COMMAND_QOS

        self.node = node
        self.sent = 0
        self._pub = node.create_publisher(JointState, topic, COMMAND_QOS)
        self._msg = JointState(name=list(JOINT_NAMES), position=[float(p) for p in positions])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(1.0 / rate_hz,), daemon=True)
        self._thread.start()

    def _run(self, period_s: float) -> None:
        while not self._stop.is_set():
            self._pub.publish(self._msg)
            self.sent += 1
            self._stop.wait(period_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.node.destroy_node()


def relaxed_convert_config(tmp_path: Path) -> Path:
    """config/convert.yaml with 0.5 s tolerances and episodes split at gaps: on a loaded 2-core machine the
    simulated streams have gaps (best-effort transport, sim slower than real time), which the converter
    reports and would otherwise refuse."""
    import yaml

    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "config" / "convert.yaml").read_text())
    topics = config["topics"]
    for stream in [topics["state"], topics["action"], *topics["cameras"].values()]:
        stream["tolerance_s"] = 0.5
    config["on_gap"] = "split"
    path = tmp_path / "convert.yaml"
    path.write_text(yaml.safe_dump(config))
    return path
