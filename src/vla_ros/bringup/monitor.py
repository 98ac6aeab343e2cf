"""``status_monitor``: a compact live summary of the running graph, one line per period.

    [  12s] joints 99Hz | cams front 15Hz wrist 15Hz | policy RUNNING 30Hz lat 0.42s q 7 |
            safety PASSING out 30Hz clamps 3 | q[deg] -1 12 30 45 0 3

Subscribes (all relative to the namespace): ``joint_states``, ``cameras/<name>/image_raw`` for each
name in ``cameras``, ``policy/joint_commands``, ``joint_commands``, ``policy/status``, ``safety/status``.

When the graph stops it logs a summary from the policy's first RUNNING status (its first chunk) on: the
policy's command rate while RUNNING and each camera's rate, with their share of ``policy_fps`` and
``camera_fps`` (wall-clock seconds).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rclpy.node import Node
from sensor_msgs.msg import Image, JointState

from vla_ros.bringup.rates import GatedRate, RateMeter
from vla_ros.config import check_range, param
from vla_ros.msg import PolicyStatus, SafetyStatus
from vla_ros.ros.node_main import run_node
from vla_ros.ros.params import declare_config
from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS, STATUS_QOS

__all__ = ["MonitorConfig", "StatusMonitor", "main"]


@dataclass
class MonitorConfig:
    period_s: float = field(default=1.0, metadata=param("Seconds between summary lines.", range=(0.1, 60.0)))
    cameras: list[str] = field(default_factory=lambda: ["front", "wrist"],
                               metadata=param("Camera names whose image_raw rates are shown."))
    camera_fps: float = field(default=0.0, metadata=param(
        "Camera frame rate the final summary compares with, Hz (0: not compared)", range=(0.0, 1000.0)))
    policy_fps: float = field(default=0.0, metadata=param(
        "Policy control rate the final summary compares with, Hz (0: not compared)", range=(0.0, 1000.0)))

    def __post_init__(self) -> None:
        check_range(self)


class StatusMonitor(Node):
    """Prints rates, policy latency and queue depth, safety state and clamps, and the arm state."""

    def __init__(self) -> None:
        super().__init__("status_monitor")
        self.cfg = declare_config(self, MonitorConfig)
        self.start = time.monotonic()
        self.meters: dict[str, RateMeter] = {}
        self.joints: JointState | None = None
        self.policy: PolicyStatus | None = None
        self.safety: SafetyStatus | None = None
        self.running = GatedRate()
        self.since_first_chunk = {cam: GatedRate() for cam in self.cfg.cameras}
        self._first_chunk_s: float | None = None
        self._count("joints", JointState, "joint_states", SENSOR_QOS, keep="joints")
        for cam in self.cfg.cameras:
            self._count(cam, Image, f"cameras/{cam}/image_raw", SENSOR_QOS)
        self._count("policy_out", JointState, "policy/joint_commands", COMMAND_QOS, gated=self.running)
        self._count("safe_out", JointState, "joint_commands", COMMAND_QOS)
        self._count("policy_status", PolicyStatus, "policy/status", STATUS_QOS, keep="policy",
                    then=self._gate)
        self._count("safety_status", SafetyStatus, "safety/status", STATUS_QOS, keep="safety")
        self.create_timer(self.cfg.period_s, self._print)

    def _count(self, key: str, msg_type: type, topic: str, qos: object, keep: str | None = None,
               gated: GatedRate | None = None, then: Callable[[Any], None] | None = None) -> None:
        meter = self.meters.setdefault(key, RateMeter())
        gated = gated or self.since_first_chunk.get(key)

        def on_msg(msg: object) -> None:
            now = time.monotonic()
            meter.tick(now)
            if gated is not None:
                gated.tick(now)
            if keep:
                setattr(self, keep, msg)
            if then is not None:
                then(msg)

        self.create_subscription(msg_type, topic, on_msg, qos)

    def _gate(self, msg: PolicyStatus) -> None:
        now, running = time.monotonic(), msg.state == PolicyStatus.STATE_RUNNING
        self.running.gate(now, running)
        if running and self._first_chunk_s is None:
            self._first_chunk_s = now
            for rate in self.since_first_chunk.values():
                rate.gate(now, True)

    def summary(self) -> str:
        """The final summary line (rates from the policy's first RUNNING status on)."""
        if self._first_chunk_s is None:
            return "summary: the policy never ran"
        now = time.monotonic()
        parts = [_share("policy", self.running.rate_hz(now), self.cfg.policy_fps) + " while running"]
        parts += [_share(cam, rate.rate_hz(now), self.cfg.camera_fps)
                  for cam, rate in self.since_first_chunk.items()]
        return (f"summary over {now - self._first_chunk_s:.0f} s after the first chunk "
                f"({self.running.open_s:.0f} s running): " + ", ".join(parts))

    def close(self) -> None:
        """Log :meth:`summary` (called by ``run_node`` when the graph stops)."""
        self.get_logger().info(self.summary())

    def _hz(self, key: str, now: float) -> str:
        return f"{self.meters[key].rate_hz(now):.0f}Hz"

    def _print(self) -> None:
        now = time.monotonic()
        cams = " ".join(f"{c} {self._hz(c, now)}" for c in self.cfg.cameras)
        parts = [f"[{now - self.start:5.0f}s] joints {self._hz('joints', now)}", f"cams {cams}"]
        if self.policy is not None:
            p = self.policy
            parts.append(f"policy {p.state_name} {self._hz('policy_out', now)} lat {p.latency_last_s:.2f}s "
                         f"q {p.queue_depth}" + (f" ({p.last_error})" if p.last_error else ""))
        else:
            parts.append("policy -")
        if self.safety is not None:
            s = self.safety
            parts.append(f"safety {s.state_name} out {self._hz('safe_out', now)} clamps "
                         f"{sum(s.clamp_counts)}" + (f" ({s.reason})" if s.reason else ""))
        else:
            parts.append("safety -")
        if self.joints is not None:
            parts.append("q[deg] " + " ".join(f"{math.degrees(v):.0f}" for v in self.joints.position))
        self.get_logger().info(" | ".join(parts))


def _share(name: str, hz: float, target: float) -> str:
    return f"{name} {hz:.1f} Hz" + (f" ({100 * hz / target:.0f} % of {target:g})" if target > 0 else "")


def main(args: list[str] | None = None) -> int:
    """Entry point of ``status_monitor``."""
    return run_node(StatusMonitor, args)
