"""Fixtures of the simulator tests: node processes and a ROS probe over real DDS."""

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
        self.log = log
        self._out = log.open("w")
        self.proc = subprocess.Popen(args, stdout=self._out, stderr=subprocess.STDOUT, env=os.environ.copy())

    def output(self) -> str:
        return self.log.read_text()

    def stop(self, timeout_s: float = 20.0) -> int:
        """Ctrl-C the node and wait for it; returns its exit status."""
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
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")

    def call(self, srv_type: Any, name: str, request: Any, timeout_s: float = 30.0) -> Any:
        client = self.node.create_client(srv_type, name)
        assert client.wait_for_service(timeout_sec=timeout_s), f"service {name} not available"
        future = client.call_async(request)
        end = time.monotonic() + timeout_s
        while not future.done() and time.monotonic() < end:
            time.sleep(0.02)
        assert future.done(), f"{name}: no response within {timeout_s} s"
        return future.result()

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        self.rclpy.try_shutdown(context=self.ctx)
        self._thread.join(5)


@pytest.fixture(scope="module")
def sim_graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``so101_sim`` (320x240 cameras at 10 fps, two cubes) and ``so101_driver`` on its bus, as child
    processes in a fresh namespace, plus a probe node; the driver is the unmodified real one."""
    tmp = tmp_path_factory.mktemp("sim_graph")
    namespace = f"/simtest_{os.getpid()}"
    calib = tmp / "calibration"
    sim = NodeProcess("so101_sim", tmp / "sim.log", namespace, port=str(tmp / "bus"),
                      calibration_dir=str(calib), robot_id="simbot", image_width=320, image_height=240,
                      camera_fps=10.0, two_cubes=True, seed=11)
    driver = None
    probe = Probe("sim_probe", namespace)
    try:
        # the driver refuses to start without a calibration: start it once the simulator wrote one
        # (it retries the port itself until the emulated bus is up)
        calib_file = calib / "robots" / "so_follower" / "simbot.json"
        deadline = time.monotonic() + 90
        while not calib_file.exists() and time.monotonic() < deadline and sim.proc.poll() is None:
            time.sleep(0.1)
        assert calib_file.exists(), "the simulator wrote no calibration:\n" + sim.output()
        driver = NodeProcess("so101_driver", tmp / "driver.log", namespace, port=str(tmp / "bus"),
                             calibration_dir=str(calib), robot_id="simbot", publish_rate_hz=50.0,
                             reconnect_backoff_s=0.2, reconnect_backoff_max_s=1.0)
        yield {"sim": sim, "driver": driver, "probe": probe, "namespace": namespace, "calibration": calib}
    finally:
        probe.close()
        if driver is not None:
            driver.stop()
        sim.stop()


@pytest.fixture
def make_probe() -> Iterator[Callable[[str], Probe]]:
    """Factory of probe nodes in a namespace (each in its own context), closed after the test."""
    probes: list[Probe] = []

    def make(namespace: str) -> Probe:
        probes.append(Probe(f"probe_{os.getpid()}_{len(probes)}", namespace))
        return probes[-1]

    yield make
    for probe in probes:
        probe.close()
