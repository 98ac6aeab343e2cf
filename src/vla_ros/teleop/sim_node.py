"""``sim_teleop``: unattended scripted demonstrations in simulation.

For each episode: ``sim/reset`` (new randomisation), settle, ``record/start``, play a scripted motion on
``joint_commands`` at ``rate_hz``, ``record/stop``. The node exits when all episodes are done, which
ends ``vla-ros record`` normally. Timing follows the node's clock (simulated time under
``use_sim_time``, as the recorder's stamps).

Modes (parameter ``mode``):

* ``random``: smooth moves through random waypoints and back (:mod:`vla_ros.teleop.script`), recorded
  with the recorder's own ``task``;
* ``reach``: the scripted IK expert (:mod:`vla_ros.teleop.expert`) reaches the cube named by episode
  ``i``'s target ``targets[i % len(targets)]``. After the reset it waits for ``sim/objects``
  (visualization_msgs/MarkerArray, ground truth from ``so101_sim``): the newest message stamped after
  the reset request, at least ``settle_s`` after it, gives the cube (``ns="cubes"``, ``text`` = colour).
  It plans from the current ``joint_states``, then sets the recorder's ``task`` parameter to
  ``task_template`` formatted with the target, through ``<recorder_node>/set_parameters``
  (rcl_interfaces/SetParameters, what ``ros2 param set`` calls), and starts the recording only once
  that call reports success, so every bag carries the task that was performed. The episode ends when
  the reach (including its hold) is done, or after ``episode_duration_s``.

An attempt that fails (cube out of reach, no ``sim/objects``, the recorder refusing the task) records
nothing; the episode is retried after a new reset, and after ``max_attempts`` failures in a row the
node gives up and exits. Services that are not running are skipped with a warning (without the
recorder, the motion is played and nothing is recorded; in ``reach`` mode nothing is recorded unless
the task was set).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rcl_interfaces.srv import SetParameters
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_srvs.srv import Trigger
from visualization_msgs.msg import MarkerArray

from vla_ros.config import param, range_problems
from vla_ros.errors import BadInputError, ConfigError
from vla_ros.paths import urdf_file
from vla_ros.robot.description import joint_limits
from vla_ros.robot.joints import JOINT_NAMES, order_positions
from vla_ros.robot.kinematics import KinematicTree
from vla_ros.ros.node_main import run_node
from vla_ros.ros.objects import parse_objects
from vla_ros.ros.params import declare_config
from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS, STATUS_QOS
from vla_ros.teleop.expert import DEFAULT_HOVER_M, DEFAULT_TASK_TEMPLATE, plan_reach, reach_task
from vla_ros.teleop.script import ScriptedEpisode, plan_episode

__all__ = ["SimTeleop", "SimTeleopConfig", "main"]

SERVICE_TIMEOUT_S = 10.0
"""A service call without a response after this long (node clock) is given up."""
OBJECT_FRAMES = ("base_link", "world")
"""Frames of ``sim/objects`` the expert plans in: the simulator's world frame is ``base_link``."""


@dataclass
class SimTeleopConfig:
    """Parameters of ``sim_teleop``.

    Raises:
        ConfigError: naming every field out of range, an empty target list or a bad task template.
    """

    mode: str = field(default="random", metadata=param(
        "'random': smooth moves through random waypoints; 'reach': the IK expert reaches the cube named by "
        "each episode's target and sets the recorder's task", choices=("random", "reach")))
    episodes: int = field(default=1, metadata=param("Episodes to perform.", range=(1, 10000)))
    episode_duration_s: float = field(default=10.0, metadata=param(
        "Longest recording per episode, seconds (a longer motion is cut; 'reach' ends when the reach "
        "and its hold are done).", range=(1.0, 3600.0)))
    rate_hz: float = field(default=30.0, metadata=param("Command rate, Hz.", range=(1.0, 500.0)))
    settle_s: float = field(default=1.0, metadata=param("Wait after a reset, seconds.", range=(0.0, 60.0)))
    seed: int = field(default=0, metadata=param("Seed of the random motions.", range=(0, 2**31 - 1)))
    spread_rad: float = field(default=0.5, metadata=param("'random': half-width of the waypoint box, rad.",
                                                          range=(0.0, 2.0)))
    max_velocity_rad_s: float = field(default=0.8, metadata=param("Joint speed limit, rad/s.",
                                                                  range=(0.05, 5.0)))
    targets: list[str] = field(default_factory=lambda: ["red", "blue"], metadata=param(
        "'reach': cube colours; episode i reaches targets[i % len(targets)], so episodes are balanced"))
    task_template: str = field(default=DEFAULT_TASK_TEMPLATE, metadata=param(
        "'reach': the recorder's task per episode; {target} is replaced by the colour"))
    recorder_node: str = field(default="bag_recorder", metadata=param(
        "'reach': node whose 'task' parameter is set before each recording (relative names resolve in "
        "this node's namespace)"))
    hover_m: float = field(default=DEFAULT_HOVER_M, metadata=param(
        "'reach': height of the pre-reach pose above the reach pose, m", range=(0.01, 0.2)))
    hold_s: float = field(default=1.0, metadata=param(
        "'reach': time held at the cube at the end of the episode, seconds", range=(0.0, 30.0)))
    objects_timeout_s: float = field(default=15.0, metadata=param(
        "'reach': longest wait for sim/objects after a reset, seconds", range=(0.5, 600.0)))
    max_attempts: int = field(default=3, metadata=param(
        "Failed attempts in a row (cube out of reach, no sim/objects, task refused) before giving up",
        range=(1, 100)))

    def __post_init__(self) -> None:
        problems = range_problems(self)
        self.targets = [str(t) for t in self.targets]
        if not self.targets:
            problems.append("targets must name at least one cube colour")
        for target in self.targets or ["red"]:
            try:
                reach_task(target, self.task_template)
            except BadInputError as err:
                problems.append(f"targets/task_template: {err}")
        if not self.recorder_node.strip():
            problems.append("recorder_node must not be empty")
        if problems:
            raise ConfigError("; ".join(dict.fromkeys(problems)))

    def target(self, episode: int) -> tuple[str, str]:
        """``(colour, task string)`` of episode ``episode`` (0-based)."""
        colour = self.targets[episode % len(self.targets)]
        return colour, reach_task(colour, self.task_template)


def _stamp_ns(msg: MarkerArray) -> int:
    return max((m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in msg.markers), default=-1)


def cube_position(msg: MarkerArray, colour: str) -> np.ndarray:
    """Centre of the ``colour`` cube in a ``sim/objects`` message, (3,) m, ``base_link`` frame.

    Raises:
        BadInputError: no such cube, or the marker is in a frame the expert cannot plan in.
    """
    objects = parse_objects(msg)
    cubes = objects.cubes if objects else {}
    if colour not in cubes:
        raise BadInputError(f"sim/objects has no {colour!r} cube; cubes: {sorted(cubes)}")
    if objects.frame_id not in OBJECT_FRAMES:
        raise BadInputError(f"sim/objects is in frame {objects.frame_id!r}, expected one of "
                            f"{list(OBJECT_FRAMES)}")
    return cubes[colour]


class SimTeleop(Node):
    """Timer-driven episode loop; service calls are asynchronous, the executor never blocks."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("sim_teleop", **kwargs)
        self.cfg = declare_config(self, SimTeleopConfig)
        self.limits = joint_limits()
        self.tree = KinematicTree(urdf_file())
        self.rng = np.random.default_rng(self.cfg.seed)
        self.state: np.ndarray | None = None
        self.objects: MarkerArray | None = None
        self.objects_before_ns = -1
        self.episode = 0
        self.failures = 0
        self.finished, self.exit_status = False, 0  # run_node ends the process when finished
        self.task = ""
        self.recording = False
        self.phase = "wait_state"
        self.phase_start_ns = self._now_ns()
        self.script: ScriptedEpisode | None = None
        self.pending: Any = None
        self.pub = self.create_publisher(JointState, "joint_commands", COMMAND_QOS)
        self.create_subscription(JointState, "joint_states", self._on_state, SENSOR_QOS)
        self.create_subscription(MarkerArray, "sim/objects", self._on_objects, STATUS_QOS)
        self.trigger_clients = {name: self.create_client(Trigger, name)
                                for name in ("sim/reset", "record/start", "record/stop")}
        self.param_client = self.create_client(SetParameters, f"{self.cfg.recorder_node}/set_parameters")
        self.create_timer(1.0 / self.cfg.rate_hz, self._tick)
        self.get_logger().info(f"mode {self.cfg.mode}: {self.cfg.episodes} episode(s)")

    # --- inputs -----------------------------------------------------------------------------
    def _on_state(self, msg: JointState) -> None:
        try:
            self.state = np.array(list(order_positions(msg.name, msg.position).values()))
        except ValueError as err:
            self.get_logger().warning(f"ignoring joint_states: {err}", throttle_duration_sec=5.0)

    def _on_objects(self, msg: MarkerArray) -> None:
        if self.objects is None or _stamp_ns(msg) >= _stamp_ns(self.objects):
            self.objects = msg

    # --- phases -----------------------------------------------------------------------------
    def _now_ns(self) -> int:
        return self.get_clock().now().nanoseconds

    def _enter(self, phase: str) -> None:
        self.phase, self.phase_start_ns = phase, self._now_ns()

    def _call(self, name: str, next_phase: str) -> None:
        client = self.trigger_clients[name]
        if client.service_is_ready():
            self.pending = client.call_async(Trigger.Request())
        else:
            self.get_logger().warning(f"service {name} not available; skipping it")
            self.pending = None
        if name == "record/start":
            self.recording = self.pending is not None
        self._enter(next_phase)

    def _tick(self) -> None:
        elapsed = (self._now_ns() - self.phase_start_ns) / 1e9
        if self.pending is not None:
            if not self.pending.done() and elapsed < SERVICE_TIMEOUT_S:
                return
            if self.phase == "set_task":
                self._after_set_task()
                return
            self._check_trigger(self.pending)
            self.pending = None
            self._enter(self.phase)  # a phase starts once its service call has returned
            elapsed = 0.0
        if self.phase == "wait_state" and self.state is not None and elapsed > 2.0:
            self.objects_before_ns = _stamp_ns(self.objects) if self.objects is not None else -1
            self._call("sim/reset", "settle")
        elif self.phase == "settle" and elapsed >= self.cfg.settle_s and self.state is not None:
            self._settled(elapsed)
        elif self.phase == "play":
            self._play(elapsed)
        elif self.phase == "done":
            self.get_logger().info(f"all {self.cfg.episodes} episodes done")
            self.finished = True

    def _check_trigger(self, future: Any) -> None:
        response = future.result() if future.done() else None
        if response is None:
            self.get_logger().warning(f"no response from a service within {SERVICE_TIMEOUT_S} s "
                                      f"(before phase {self.phase!r})")
        elif not response.success:
            self.get_logger().warning(f"service call failed (before phase {self.phase!r}): "
                                      f"{response.message}")

    def _settled(self, elapsed: float) -> None:
        if self.cfg.mode == "random":
            self.script = plan_episode(self.state, self.limits, self.rng, spread_rad=self.cfg.spread_rad,
                                       max_velocity_rad_s=self.cfg.max_velocity_rad_s)
            self.get_logger().info(f"episode {self.episode + 1}/{self.cfg.episodes}: "
                                   f"{self.script.duration_s:.1f} s of motion")
            self._call("record/start", "play")
            return
        fresh = self.objects is not None and _stamp_ns(self.objects) > self.objects_before_ns
        if fresh:
            self._start_reach()
        elif elapsed > self.cfg.objects_timeout_s:
            self._fail(f"no sim/objects after the reset within {self.cfg.objects_timeout_s} s "
                       "(is so101_sim publishing it?)")

    def _start_reach(self) -> None:
        assert self.objects is not None and self.state is not None
        colour, self.task = self.cfg.target(self.episode)
        try:
            cube = cube_position(self.objects, colour)
            self.script = plan_reach(self.state, cube, self.limits, self.tree,
                                     max_velocity_rad_s=self.cfg.max_velocity_rad_s,
                                     hover_m=self.cfg.hover_m, hold_s=self.cfg.hold_s)
        except BadInputError as err:
            self._fail(f"cannot plan {self.task!r}: {err}")
            return
        self.get_logger().info(
            f"episode {self.episode + 1}/{self.cfg.episodes}: task {self.task!r}, {colour} cube at "
            f"{np.round(cube, 3).tolist()} m, {self.script.duration_s:.1f} s of motion")
        if not self.param_client.service_is_ready():
            self.get_logger().warning(f"service {self.param_client.srv_name} not available (is the recorder "
                                      "running?); playing the episode without recording it")
            self.recording = False
            self._enter("play")
            return
        request = SetParameters.Request(
            parameters=[Parameter("task", Parameter.Type.STRING, self.task).to_parameter_msg()])
        self.pending = self.param_client.call_async(request)
        self._enter("set_task")

    def _after_set_task(self) -> None:
        future, self.pending = self.pending, None
        result = future.result() if future is not None and future.done() else None
        if result is None or len(result.results) != 1 or not result.results[0].successful:
            reason = "no response" if result is None else (result.results[0].reason if result.results
                                                           else "empty response")
            self._fail(f"the recorder did not take task {self.task!r} ({reason}); not recording")
            return
        self.get_logger().info(f"recorder task set to {self.task!r}")
        self._call("record/start", "play")

    def _fail(self, why: str) -> None:
        self.failures += 1
        self.get_logger().error(f"episode {self.episode + 1}, attempt {self.failures}: {why}")
        if self.failures >= self.cfg.max_attempts:
            self.get_logger().fatal(f"giving up after {self.failures} failed attempts in a row")
            self.exit_status, self.finished = 1, True
        else:
            self._enter("wait_state")

    def _play(self, elapsed: float) -> None:
        assert self.script is not None
        position = self.script.position(elapsed)  # held at the end; cut if longer than the episode
        msg = JointState(name=list(JOINT_NAMES), position=position.tolist())
        msg.header.stamp = self.get_clock().now().to_msg()
        self.pub.publish(msg)
        end_s = self.cfg.episode_duration_s
        if self.cfg.mode == "reach":
            end_s = min(end_s, self.script.duration_s)
        if elapsed >= end_s:
            self.episode += 1
            self.failures = 0
            next_phase = "done" if self.episode >= self.cfg.episodes else "wait_state"
            if self.recording:
                self._call("record/stop", next_phase)
            else:
                self._enter(next_phase)


def main(args: list[str] | None = None) -> int:
    """Entry point of ``sim_teleop``."""
    return run_node(SimTeleop, args)
