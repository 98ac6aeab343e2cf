"""Fixtures of the camera tests: generated lossless videos and an in-process ROS bench."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest


def write_video(path: Path, width: int, height: int, count: int, fps: float = 30.0) -> list[np.ndarray]:
    """Write ``count`` random-noise frames to a lossless FFV1 video; returns them as RGB.

    The top-left 8x8 block of frame i is grey level 10 * i, so any decoded frame names its index.
    """
    rng = np.random.default_rng(len(path.name))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), fps, (width, height))
    assert writer.isOpened(), "OpenCV cannot write FFV1"
    frames = []
    for i in range(count):
        rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        rgb[:8, :8] = 10 * i
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        frames.append(rgb)
    writer.release()
    return frames


def frame_index(rgb: np.ndarray) -> int:
    """The index a frame of :func:`write_video` carries."""
    return round(float(rgb[:8, :8].mean()) / 10)


@pytest.fixture
def index_of() -> Callable[[np.ndarray], int]:
    """:func:`frame_index`, for the tests."""
    return frame_index


@pytest.fixture
def video(tmp_path: Path) -> tuple[Path, list[np.ndarray]]:
    """A 320x240, 20-frame lossless video and its frames (RGB)."""
    path = tmp_path / "scene.avi"
    return path, write_video(path, 320, 240, 20)


class RosBench:
    """A private rclpy context spinning nodes in a background thread, in a unique namespace."""

    def __init__(self) -> None:
        import rclpy
        from rclpy.executors import MultiThreadedExecutor

        self.rclpy = rclpy
        self.ctx = rclpy.Context()
        rclpy.init(context=self.ctx)
        self.namespace = f"/camtest_{uuid.uuid4().hex[:8]}"
        self.executor = MultiThreadedExecutor(num_threads=2, context=self.ctx)
        self.node = rclpy.create_node("camera_probe", namespace=self.namespace, context=self.ctx)
        self.executor.add_node(self.node)
        self.nodes: list[Any] = [self.node]
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
        """Build a node with ``factory(namespace=..., context=..., parameter_overrides=...)`` and spin it."""
        from rclpy.parameter import Parameter

        node = factory(namespace=self.namespace, context=self.ctx,
                       parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
        self.executor.add_node(node)
        self.nodes.append(node)
        return node

    def record(self, msg_type: Any, topic: str, qos: Any) -> list[Any]:
        box: list[Any] = []

        def on_msg(msg: Any) -> None:
            with self.lock:
                box.append(msg)

        self.node.create_subscription(msg_type, topic, on_msg, qos)
        return box

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            with self.lock:
                if predicate():
                    return
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")

    def close(self) -> None:
        for node in reversed(self.nodes):
            close = getattr(node, "close", None)
            if close is not None:
                close()
        self.executor.shutdown()
        for node in self.nodes:
            node.destroy_node()
        self.rclpy.try_shutdown(context=self.ctx)
        self._thread.join(5)


@pytest.fixture
def ros() -> Iterator[RosBench]:
    bench = RosBench()
    yield bench
    bench.close()
