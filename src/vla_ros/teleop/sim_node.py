"""``sim_teleop``: unattended scripted demonstrations in simulation.

For each episode: ``sim/reset`` (new randomisation), settle, ``record/start``, play a scripted motion
(:mod:`vla_ros.teleop.script`) on ``joint_commands`` at ``rate_hz``, ``record/stop``. Services that are
not running are skipped with a warning. The node exits when all episodes are done, which ends
``vla-ros record`` normally.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_srvs.srv import Trigger

from vla_ros.config import check_range, param
from vla_ros.robot.description import joint_limits
from vla_ros.robot.joints import JOINT_NAMES, order_positions
from vla_ros.ros.node_main import run_node
from vla_ros.ros.params import declare_config
from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS
from vla_ros.teleop.script import ScriptedEpisode, plan_episode

__all__ = ["SimTeleop", "SimTeleopConfig", "main"]


@dataclass
class SimTeleopConfig:
    episodes: int = field(default=1, metadata=param("Episodes to perform.", range=(1, 10000)))
    episode_duration_s: float = field(default=10.0, metadata=param(
        "Recording time per episode, seconds (a longer motion is cut).", range=(1.0, 3600.0)))
    rate_hz: float = field(default=30.0, metadata=param("Command rate, Hz.", range=(1.0, 500.0)))
    settle_s: float = field(default=1.0, metadata=param("Wait after a reset, seconds.", range=(0.0, 60.0)))
    seed: int = field(default=0, metadata=param("Seed of the scripted motions.", range=(0, 2**31 - 1)))
    spread_rad: float = field(default=0.5, metadata=param("Half-width of the waypoint box, rad.",
                                                          range=(0.0, 2.0)))
    max_velocity_rad_s: float = field(default=0.8, metadata=param("Joint speed limit, rad/s.",
                                                                  range=(0.05, 5.0)))

    def __post_init__(self) -> None:
        check_range(self)


class SimTeleop(Node):
    """Timer-driven episode loop; service calls are asynchronous, the executor never blocks."""

    def __init__(self) -> None:
        super().__init__("sim_teleop")
        self.cfg = declare_config(self, SimTeleopConfig)
        self.limits = joint_limits()
        self.rng = np.random.default_rng(self.cfg.seed)
        self.state: np.ndarray | None = None
        self.episode = 0
        self.phase = "wait_state"
        self.phase_start = time.monotonic()
        self.script: ScriptedEpisode | None = None
        self.pending = None
        self.pub = self.create_publisher(JointState, "joint_commands", COMMAND_QOS)
        self.create_subscription(JointState, "joint_states", self._on_state, SENSOR_QOS)
        self.trigger_clients = {name: self.create_client(Trigger, name)
                        for name in ("sim/reset", "record/start", "record/stop")}
        self.create_timer(1.0 / self.cfg.rate_hz, self._tick)

    def _on_state(self, msg: JointState) -> None:
        try:
            self.state = np.array(list(order_positions(msg.name, msg.position).values()))
        except ValueError as err:
            self.get_logger().warning(f"ignoring joint_states: {err}", throttle_duration_sec=5.0)

    def _call(self, name: str, next_phase: str) -> None:
        client = self.trigger_clients[name]
        if client.service_is_ready():
            self.pending = client.call_async(Trigger.Request())
        else:
            self.get_logger().warning(f"service {name} not available; skipping it")
            self.pending = None
        self._enter(next_phase)

    def _enter(self, phase: str) -> None:
        self.phase, self.phase_start = phase, time.monotonic()

    def _tick(self) -> None:
        elapsed = time.monotonic() - self.phase_start
        if self.pending is not None and not self.pending.done() and elapsed < 10.0:
            return
        self.pending = None
        if self.phase == "wait_state" and self.state is not None and elapsed > 2.0:
            self._call("sim/reset", "settle")
        elif self.phase == "settle" and elapsed >= self.cfg.settle_s and self.state is not None:
            self.script = plan_episode(self.state, self.limits, self.rng, spread_rad=self.cfg.spread_rad,
                                       max_velocity_rad_s=self.cfg.max_velocity_rad_s)
            self.get_logger().info(f"episode {self.episode + 1}/{self.cfg.episodes}: "
                                   f"{self.script.duration_s:.1f} s of motion")
            self._call("record/start", "play")
        elif self.phase == "play":
            self._play(elapsed)
        elif self.phase == "done":
            self.get_logger().info(f"all {self.cfg.episodes} episodes done")
            self.context.try_shutdown()

    def _play(self, elapsed: float) -> None:
        assert self.script is not None
        position = self.script.position(elapsed)  # held at the end; cut if longer than the episode
        msg = JointState(name=list(JOINT_NAMES), position=position.tolist())
        msg.header.stamp = self.get_clock().now().to_msg()
        self.pub.publish(msg)
        if elapsed >= self.cfg.episode_duration_s:
            self.episode += 1
            self._call("record/stop", "done" if self.episode >= self.cfg.episodes else "wait_state")


def main(args: list[str] | None = None) -> int:
    """Entry point of ``sim_teleop``."""
    return run_node(SimTeleop, args)
