"""``so101_sim``: the simulated SO-101 world as a ROS 2 node.

Runs the MuJoCo world behind an emulated STS3215 bus (the real ``so101_driver`` opens ``port``, so
``use_sim`` swaps the hardware and nothing else), renders the front and wrist cameras and publishes
them like ``camera_publisher`` does, publishes ``/clock`` (simulated time; nodes with
``use_sim_time`` follow it when rendering is slower than real time) and reports the real-time factor.

Topics: ``cameras/front/image_raw``, ``cameras/front/camera_info``, ``cameras/wrist/image_raw``,
``cameras/wrist/camera_info`` (sensor QoS), ``sim/objects`` (the task's ground truth, see
:func:`objects_msg`; status QoS: a late subscriber gets the latest at once), ``/clock``, ``/diagnostics``.
Service: ``sim/reset`` (std_srvs/Trigger): start state of the next episode.
Stamps are simulated time, which starts at the wall time of the node's start. With ``swap_cameras``
the front camera's image goes out on the wrist's topics and the wrist's on the front's; with
``freeze_cameras`` each camera publishes its first frame for the whole run (fresh stamps).

Like the real arm, the simulated one is limp (and sags) until the driver switches torque on; call
``sim/reset`` once the driver is up to put it back at the start pose with the goals there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point, Pose, Quaternion, Vector3
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import ColorRGBA, Header
from std_srvs.srv import Trigger
from visualization_msgs.msg import Marker, MarkerArray

from vla_ros.bus import BusEmulator
from vla_ros.ros.image import camera_info_msg, rgb_to_msg, stamp_from_ns
from vla_ros.ros.node_main import run_node
from vla_ros.ros.objects import CUBES_NS, GRIPPER_NS, WORLD_FRAME_ID
from vla_ros.ros.params import declare_config
from vla_ros.ros.qos import SENSOR_QOS, STATUS_QOS
from vla_ros.sim.calibration import write_sim_calibration
from vla_ros.sim.config import SimNodeConfig
from vla_ros.sim.physics import MujocoPhysics, sync_goal_registers
from vla_ros.sim.runner import SimRunner
from vla_ros.sim.scene import CAMERA_NAMES, CUBE_HALF_SIZE_M
from vla_ros.sim.world import SimWorld

__all__ = ["So101SimNode", "main", "objects_msg"]

CLOCK_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
"""/clock: reliable, so best-effort (rclpy's TimeSource) and reliable subscribers both connect."""
MIN_REALTIME_FACTOR = 0.5
"""Below this real-time factor /diagnostics reports WARN: nodes on wall time will see old stamps."""
GRIPPER_MARKER_DIAMETER_M = 0.01
GRIPPER_MARKER_RGBA = np.array([1.0, 1.0, 0.0, 1.0])
IDENTITY_WXYZ = np.array([1.0, 0.0, 0.0, 0.0])


def _marker(header: Header, ns: str, marker_id: int, kind: int, text: str, position: np.ndarray,
            quat_wxyz: np.ndarray, scale_m: float, rgba: np.ndarray) -> Marker:
    w, x, y, z = (float(v) for v in quat_wxyz)
    return Marker(
        header=header, ns=ns, id=marker_id, type=kind, action=Marker.ADD, text=text,
        pose=Pose(position=Point(x=float(position[0]), y=float(position[1]), z=float(position[2])),
                  orientation=Quaternion(w=w, x=x, y=y, z=z)),
        scale=Vector3(x=scale_m, y=scale_m, z=scale_m),
        color=ColorRGBA(r=float(rgba[0]), g=float(rgba[1]), b=float(rgba[2]), a=float(rgba[3])))


def objects_msg(world: SimWorld, stamp_of: Callable[[float], Time]) -> MarkerArray:
    """The ``sim/objects`` message: the task's ground truth, read atomically from ``world``.

    One ``Marker.CUBE`` per cube (``ns="cubes"``, ``id`` = index in ``world.cube_names``, ``text`` = its
    colour name, pose = centre and orientation, scale = edge, colour = its rgba this episode) and one
    ``Marker.SPHERE`` (``ns="gripper_frame"``, ``id=0``) at the origin of ``gripper_frame_link`` (between
    the finger tips), 1 cm across. Frame :data:`WORLD_FRAME_ID`, metres; every marker is stamped with
    ``stamp_of(world.sim_time_s)``.

    Args:
        world: the simulated world.
        stamp_of: simulated seconds -> ``builtin_interfaces/Time``.
    """
    with world.lock:
        header = Header(stamp=stamp_of(world.sim_time_s), frame_id=WORLD_FRAME_ID)
        positions, quats, colours = world.cube_positions(), world.cube_orientations(), world.cube_colours()
        gripper = world.gripper_frame_position()
    markers = [_marker(header, CUBES_NS, i, Marker.CUBE, name, positions[name], quats[name],
                       2 * CUBE_HALF_SIZE_M, colours[name]) for i, name in enumerate(world.cube_names)]
    markers.append(_marker(header, GRIPPER_NS, 0, Marker.SPHERE, GRIPPER_NS, gripper,
                           IDENTITY_WXYZ, GRIPPER_MARKER_DIAMETER_M, GRIPPER_MARKER_RGBA))
    return MarkerArray(markers=markers)


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
        self._frozen: dict[str, np.ndarray] = {}
        self._intrinsics = {c: self.world.camera_intrinsics(c) for c in CAMERA_NAMES}
        self._image_pubs = {c: self.create_publisher(Image, f"cameras/{c}/image_raw", SENSOR_QOS)
                            for c in CAMERA_NAMES}
        self._info_pubs = {c: self.create_publisher(CameraInfo, f"cameras/{c}/camera_info", SENSOR_QOS)
                           for c in CAMERA_NAMES}
        self._clock_pub = self.create_publisher(ClockMsg, "/clock", CLOCK_QOS)
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._objects_pub = self.create_publisher(MarkerArray, "sim/objects", STATUS_QOS)
        self._objects_lock = threading.Lock()
        self._next_objects_s = self.world.sim_time_s
        self._publish_objects()
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
        rate = self.cfg.objects_rate_hz
        if rate > 0 and sim_time_s + 1e-9 >= self._next_objects_s:
            self._publish_objects()
            self._next_objects_s = max(self._next_objects_s + 1.0 / rate, sim_time_s)

    def _publish_objects(self) -> None:
        # one at a time, so they go out in the order they were read (a reset's is never overtaken)
        with self._objects_lock:
            self._objects_pub.publish(objects_msg(self.world, self._stamp))

    def _on_frame(self, camera: str, rgb: np.ndarray, sim_time_s: float) -> None:
        stamp = self._stamp(sim_time_s)
        if self.cfg.freeze_cameras:  # the camera's first frame for the whole run: the blind control
            rgb = self._frozen.setdefault(camera, rgb)
        if self.cfg.swap_cameras:  # the other camera's image under this camera's name, as swapped devices
            camera = {"front": "wrist", "wrist": "front"}.get(camera, camera)
        frame_id = self._frame_ids[camera]
        self._image_pubs[camera].publish(rgb_to_msg(rgb, stamp, frame_id))
        self._info_pubs[camera].publish(camera_info_msg(self._intrinsics[camera], stamp, frame_id))

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        layout = self.world.reset()
        sync_goal_registers(self.emulator, self.world)
        self._publish_objects()
        cubes = ", ".join(f"{n} at ({x:.3f}, {y:.3f})" for n, (x, y, _) in layout.cube_poses.items())
        response.success = True
        swapped = " (slots swapped)" if layout.slots_swapped else ""
        response.message = f"episode {layout.episode}: {cubes}{swapped}"
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
        """Wait (up to 4 s, inside ``ros2 launch``'s 5 s SIGINT grace) for the driver to let go of the bus
        (torque off, or 3 s without a packet: a driver shutting down beside the policy node on a loaded
        2-core machine paused more than 1.5 s before its switch-off, which then found no bus), then stop
        the simulation loop and unplug the emulated bus."""
        self.emulator.wait_released(quiet_s=3.0, timeout_s=4.0)
        self.runner.stop()
        self.emulator.close()


def main(args: list[str] | None = None) -> int:
    """Entry point of ``so101_sim``."""
    return run_node(So101SimNode, args)
