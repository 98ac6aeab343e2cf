"""Fixtures of the teleop tests: vla_ros executables as child processes and a probe node over real DDS."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent


class NodeProcess:
    """A vla_ros executable run as a child process (``--ros-args`` parameters), output to a log."""

    def __init__(self, executable: str, log: Path, namespace: str, **params: Any) -> None:
        args = [str(BIN / executable), "--ros-args", "-r", f"__ns:={namespace}"]
        for key, value in params.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            args += ["-p", f"{key}:={text}"]
        self.name = executable
        self.log = log
        self._out = log.open("w")
        self.proc = subprocess.Popen(args, stdout=self._out, stderr=subprocess.STDOUT, env=os.environ.copy())

    def output(self) -> str:
        return self.log.read_text()

    def stop(self, timeout_s: float = 20.0) -> int | None:
        """Ctrl-C the node (if still running) and wait for it; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._out.close()
        return self.proc.returncode


class Probe:
    """A test node in a private rclpy context, spun in a background thread."""

    def __init__(self, name: str, namespace: str) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        self.rclpy = rclpy
        self.ctx = rclpy.Context()
        rclpy.init(context=self.ctx)
        self.node = rclpy.create_node(name, namespace=namespace, context=self.ctx)
        self.executor = SingleThreadedExecutor(context=self.ctx)
        self.executor.add_node(self.node)
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while self.ctx.ok():
            try:
                self.executor.spin_once(timeout_sec=0.05)
            except Exception:  # context shut down under us
                return

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
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            with self.lock:
                if predicate():
                    return
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        self.rclpy.try_shutdown(context=self.ctx)
        self._thread.join(5)


@pytest.fixture
def start_node(tmp_path: Path) -> Iterator[Callable[..., NodeProcess]]:
    """Factory ``start_node(executable, namespace, **params)`` of NodeProcesses logging to
    ``tmp_path/<executable>.log``; all are stopped (Ctrl-C), last first, after the test."""
    started: list[NodeProcess] = []

    def start(executable: str, namespace: str, **params: Any) -> NodeProcess:
        started.append(NodeProcess(executable, tmp_path / f"{executable}.log", namespace, **params))
        return started[-1]

    start.started = started  # type: ignore[attr-defined]
    yield start
    for proc in reversed(started):
        proc.stop()


@pytest.fixture
def probe_factory() -> Iterator[Callable[[str], Probe]]:
    """Factory of probe nodes in a namespace, closed after the test."""
    probes: list[Probe] = []

    def make(namespace: str) -> Probe:
        probes.append(Probe(f"teleop_probe_{os.getpid()}_{len(probes)}", namespace))
        return probes[-1]

    yield make
    for probe in probes:
        probe.close()
