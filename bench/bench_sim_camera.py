"""Benchmark: camera publisher rate and latency at 640x480@30, simulator render time and real-time factor.

Run: ``python bench/bench_sim_camera.py`` (about a minute). Prints figures; asserts nothing.

* camera_publisher reads a generated 640x480 video at 30 fps (no camera needed) over real DDS:
  publish rate seen by a subscriber, capture-to-publish latency (frame stamp to ``publish()`` returned)
  and capture-to-receive latency (frame stamp to the subscriber's callback);
* so101_sim's loop (no ROS): render time per 640x480 camera frame, physics time per clock tick, and
  the real-time factor with both cameras at 30 fps, paced to wall time and unpaced.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("ROS_LOCALHOST_ONLY", "1")
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("ROS_DOMAIN_ID", str(os.getpid() % 100 + 1))

import cv2
import numpy as np

WIDTH, HEIGHT, FPS = 640, 480, 30.0
CAMERA_SECONDS = 10.0
SIM_SECONDS = 12.0


def _write_video(path: Path, frames: int = 60) -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    for i in range(frames):
        writer.write(np.roll(base, 8 * i, axis=1))
    writer.release()


def _percentiles(values_ms: list[float]) -> str:
    if not values_ms:
        return "n/a"
    p50, p95, p99 = np.percentile(values_ms, [50, 95, 99])
    return f"median {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms"


def bench_camera_publisher() -> None:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter
    from sensor_msgs.msg import Image

    from vla_ros.camera.capture import Frame
    from vla_ros.camera.node import CameraPublisherNode
    from vla_ros.ros.qos import SENSOR_QOS

    publish_ms: list[float] = []

    class TimedPublisher(CameraPublisherNode):
        def _on_frame(self, frame: Frame) -> None:
            super()._on_frame(frame)
            publish_ms.append((self.get_clock().now().nanoseconds - frame.stamp_ns) / 1e6)

    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "bench.avi"
        _write_video(video)
        ctx = rclpy.Context()
        rclpy.init(context=ctx)
        probe = rclpy.create_node("bench_camera_probe", context=ctx)
        receive_ms: list[float] = []
        arrivals: list[float] = []

        def on_image(msg: Image) -> None:
            now = probe.get_clock().now().nanoseconds
            stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
            receive_ms.append((now - stamp) / 1e6)
            arrivals.append(time.monotonic())

        probe.create_subscription(Image, "cameras/bench/image_raw", on_image, SENSOR_QOS)
        params = {"name": "bench", "device": str(video), "width": WIDTH, "height": HEIGHT, "fps": FPS}
        overrides = [Parameter(k, value=v) for k, v in params.items()]
        node = TimedPublisher(context=ctx, parameter_overrides=overrides)
        executor = SingleThreadedExecutor(context=ctx)
        executor.add_node(probe)
        executor.add_node(node)
        spinner = threading.Thread(target=executor.spin, daemon=True)
        spinner.start()
        time.sleep(CAMERA_SECONDS)
        node.close()
        executor.shutdown()
        node.destroy_node()
        probe.destroy_node()
        rclpy.try_shutdown(context=ctx)
    steady = [t for t in arrivals if t >= arrivals[0] + 1.0] if arrivals else []
    rate = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 else float("nan")
    print(f"camera_publisher {WIDTH}x{HEIGHT}@{FPS:g} from a video file, {CAMERA_SECONDS:g} s:")
    print(f"  publish rate at the subscriber: {rate:.1f} Hz ({len(arrivals)} frames received)")
    print(f"  capture -> publish() returned:   {_percentiles(publish_ms[30:])}")
    print(f"  capture -> subscriber callback:  {_percentiles(receive_ms[30:])}")


def bench_simulator() -> None:
    from vla_ros.sim.config import SimConfig
    from vla_ros.sim.runner import SimRunner
    from vla_ros.sim.world import SimWorld

    for realtime in (True, False):
        cfg = SimConfig(image_width=WIDTH, image_height=HEIGHT, camera_fps=FPS, realtime=realtime,
                        two_cubes=True)
        world = SimWorld(cfg)
        runner = SimRunner(world, lambda camera, rgb, t: None)
        runner.start()
        wall0, sim0 = time.monotonic(), world.sim_time_s
        time.sleep(SIM_SECONDS / 2)
        runner.stop()
        wall, sim = time.monotonic() - wall0, world.sim_time_s - sim0
        stats = runner.stats()
        mode = "paced to wall time" if realtime else "unpaced (as fast as it can)"
        print(f"so101_sim, 2 cameras {WIDTH}x{HEIGHT}@{FPS:g} fps of sim time, {mode}:")
        print(f"  render time per camera frame: {stats.render_ms:.1f} ms ({stats.frames} frames)")
        print(f"  physics per 10 ms clock tick: {stats.step_ms:.2f} ms ({cfg.steps_per_tick} MuJoCo steps)")
        print(f"  real-time factor: {sim / wall:.2f} overall, {stats.real_time_factor:.2f} last 2 s")
        print(f"  camera frames per wall second: {stats.frames / 2 / wall:.1f} per camera")


def main() -> int:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, MUJOCO_GL={os.environ['MUJOCO_GL']}")
    bench_camera_publisher()
    bench_simulator()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
