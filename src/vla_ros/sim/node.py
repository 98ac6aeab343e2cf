"""``so101_sim``: the simulated SO-101 world as a ROS 2 node.

Runs the MuJoCo world behind an emulated STS3215 bus (the real ``so101_driver`` opens ``port``, so
``use_sim`` swaps the hardware and nothing else), renders the front and wrist cameras and publishes
them like ``camera_publisher`` does, publishes ``/clock`` (simulated time; nodes with
``use_sim_time`` follow it when rendering is slower than real time) and reports the real-time factor.

Topics: ``cameras/front/image_raw``, ``cameras/front/camera_info``, ``cameras/wrist/image_raw``,
``cameras/wrist/camera_info`` (sensor QoS), ``/clock``, ``/diagnostics``.
Service: ``sim/reset`` (std_srvs/Trigger): start state of the next episode.
Stamps are simulated time, which starts at the wall time of the node's start.

Like the real arm, the simulated one is limp (and sags) until the driver switches torque on; call
``sim/reset`` once the driver is up to put it back at the start pose with the goals there.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import CameraInfo, Image
from std_srvs.srv import Trigger

from vla_ros.bus import BusEmulator
from vla_ros.ros.image import camera_info_msg, rgb_to_msg, stamp_from_ns
from vla_ros.ros.node_main import run_node
from vla_ros.ros.params import declare_config
from vla_ros.ros.qos import SENSOR_QOS
from vla_ros.sim.calibration import write_sim_calibration
from vla_ros.sim.config import SimNodeConfig
from vla_ros.sim.physics import MujocoPhysics, sync_goal_registers
from vla_ros.sim.runner import SimRunner
from vla_ros.sim.scene import CAMERA_NAMES
from vla_ros.sim.world import SimWorld

__all__ = ["So101SimNode", "main"]

CLOCK_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
"""/clock: reliable, so best-effort (rclpy's TimeSource) and reliable subscribers both connect."""
MIN_REALTIME_FACTOR = 0.5
"""Below this real-time factor /diagnostics reports WARN: nodes on wall time will see old stamps."""


class So101SimNode(Node):
    """The simulator node (see the module docstring).

    Args:
        node_name: ROS node name.
        kwargs: passed to :class:`rclpy.node.Node` (``namespace``, ``parameter_overrides``, ``context``).

    Raises:
        ConfigError: invalid parameters (or a start pose outside the joint limits).
        CalibrationError: a different calibration exists for ``robot_id``.
        SimError: the world cannot be built or rendered.
    """

    def __init__(self, node_name: str = "so101_sim", **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self.cfg = declare_config(self, SimNodeConfig)
        self.world = SimWorld(self.cfg)
        calib = write_sim_calibration(self.cfg.robot_id, self.cfg.calibration_dir)
        self.get_logger().info(f"simulated arm calibration: {calib}")
        self._epoch_ns = time.time_ns()
        self._frame_ids = {"front": self.cfg.front_frame_id, "wrist": self.cfg.wrist_frame_id}
        self._intrinsics = {c: self.world.camera_intrinsics(c) for c in CAMERA_NAMES}
        self._image_pubs = {c: self.create_publisher(Image, f"cameras/{c}/image_raw", SENSOR_QOS)
                            for c in CAMERA_NAMES}
        self._info_pubs = {c: self.create_publisher(CameraInfo, f"cameras/{c}/camera_info", SENSOR_QOS)
                           for c in CAMERA_NAMES}
        self._clock_pub = self.create_publisher(ClockMsg, "/clock", CLOCK_QOS)
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.runner = SimRunner(self.world, self._on_frame, self._on_tick)
        self.runner.start()
        try:
            self.emulator = BusEmulator(physics=MujocoPhysics(self.world), link=self.cfg.port)
            pty = self.emulator.start()
        except BaseException:
            self.runner.stop()
            raise
        self.get_logger().info(f"emulated STS3215 bus at {self.cfg.port} -> {pty}")
        self.create_service(Trigger, "sim/reset", self._on_reset)
        self._wall = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(self.cfg.diagnostics_period_s, self._report, clock=self._wall)
        self.get_logger().info(
            f"simulating {len(self.world.cube_names)} cube(s), seed {self.cfg.seed}, cameras "
            f"{self.cfg.image_width}x{self.cfg.image_height}@{self.cfg.camera_fps:g} fps, "
            f"realtime={self.cfg.realtime}")

    def _stamp(self, sim_time_s: float) -> Time:
        return stamp_from_ns(self._epoch_ns + round(sim_time_s * 1e9))

    def _on_tick(self, sim_time_s: float) -> None:
        self._clock_pub.publish(ClockMsg(clock=self._stamp(sim_time_s)))

    def _on_frame(self, camera: str, rgb: np.ndarray, sim_time_s: float) -> None:
        stamp = self._stamp(sim_time_s)
        frame_id = self._frame_ids[camera]
        self._image_pubs[camera].publish(rgb_to_msg(rgb, stamp, frame_id))
        self._info_pubs[camera].publish(camera_info_msg(self._intrinsics[camera], stamp, frame_id))

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        layout = self.world.reset()
        sync_goal_registers(self.emulator, self.world)
        cubes = ", ".join(f"{n} at ({x:.3f}, {y:.3f})" for n, (x, y, _) in layout.cube_poses.items())
        response.success = True
        response.message = f"episode {layout.episode}: {cubes}"
        self.get_logger().info(f"reset: {response.message}")
        return response

    def _report(self) -> None:
        stats = self.runner.stats()
        rtf = stats.real_time_factor
        status = DiagnosticStatus(name="so101_sim: simulation", hardware_id="mujoco")
        if stats.error is not None:
            status.level, status.message = DiagnosticStatus.ERROR, stats.error
        elif self.cfg.realtime and rtf < MIN_REALTIME_FACTOR:
            status.level = DiagnosticStatus.WARN
            status.message = f"real-time factor {rtf:.2f}: run the stack with use_sim_time"
        else:
            status.level, status.message = DiagnosticStatus.OK, f"real-time factor {rtf:.2f}"
        values = {"real_time_factor": f"{rtf:.3f}", "sim_time_s": f"{stats.sim_time_s:.3f}",
                  "render_ms_per_frame": f"{stats.render_ms:.2f}",
                  "physics_ms_per_tick": f"{stats.step_ms:.3f}",
                  "frames": str(stats.frames), "episode": str(self.world.episode)}
        status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(msg)
        if stats.error is not None:
            self.get_logger().error(stats.error, throttle_duration_sec=10.0)
        else:
            self.get_logger().info(status.message, throttle_duration_sec=10.0)

    def close(self) -> None:
        """Stop the simulation loop and unplug the emulated bus."""
        self.runner.stop()
        self.emulator.close()


def main(args: list[str] | None = None) -> int:
    """Entry point of ``so101_sim``."""
    return run_node(So101SimNode, args)
