"""A leader arm for the bus emulator: joints that follow a scripted trajectory, torque off.

An SO-101 leader is a follower without torque, moved by the operator's hand: lerobot's ``SOLeader``
only reads ``Present_Position`` (and switches torque off at connect). :class:`ScriptedLeader` is that
hand: each motor follows ``centre + amplitude * sin(2 pi t / period + phase)`` in actual ticks, whatever
the host writes (goals and torque are recorded, never followed). Behind a :class:`BusEmulator` it lets
``leader_teleop`` and lerobot's leader code run unchanged without hardware.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from vla_ros.bus.errors import EmulatorConfigError
from vla_ros.bus.servo import MAX_TICK

__all__ = ["LeaderMotion", "ScriptedLeader"]


@dataclass(frozen=True)
class LeaderMotion:
    """The scripted motion of one leader joint, actual encoder ticks.

    Attributes:
        centre_ticks: mid position, 0..4095 (2048 is 0 rad in the simulated calibration).
        amplitude_ticks: half the swing, >= 0 (4095 / 2 pi ticks per radian, ~652).
        period_s: duration of one swing, s (> 0).
        phase_rad: phase offset, rad.

    Raises:
        EmulatorConfigError: the motion leaves 0..4095 or the period is not positive.
    """

    centre_ticks: float = 2048.0
    amplitude_ticks: float = 0.0
    period_s: float = 4.0
    phase_rad: float = 0.0

    def __post_init__(self) -> None:
        lo, hi = self.centre_ticks - self.amplitude_ticks, self.centre_ticks + self.amplitude_ticks
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 <= lo <= hi <= MAX_TICK):
            raise EmulatorConfigError(f"leader motion {self} leaves the encoder range 0..{MAX_TICK}")
        if not (math.isfinite(self.period_s) and self.period_s > 0):
            raise EmulatorConfigError(f"leader motion period_s must be > 0, got {self.period_s}")

    def ticks(self, t_s: float) -> float:
        """Position at ``t_s`` seconds after the start, ticks."""
        return self.centre_ticks + self.amplitude_ticks * math.sin(2 * math.pi * t_s / self.period_s
                                                                   + self.phase_rad)


class ScriptedLeader:
    """Leader-arm physics (implements ``MotorPhysics``): positions from the clock, writes ignored.

    Args:
        motions: ``{motor id: LeaderMotion}``.
        clock: monotonic time source, s (injectable for tests).

    Attributes:
        torque_writes: ``(motor id, enabled)`` of every torque switch the host made, in order.
    """

    def __init__(self, motions: Mapping[int, LeaderMotion],
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not motions:
            raise EmulatorConfigError("a leader needs at least one motor")
        self.motions = dict(motions)
        self.clock = clock
        self.start_s = clock()
        self.torque_writes: list[tuple[int, bool]] = []
        self._lock = threading.Lock()

    @classmethod
    def swinging(cls, motor_ids: Iterable[int] = (1, 2, 3, 4, 5, 6), amplitude_ticks: float = 200.0,
                 period_s: float = 4.0, centre_ticks: float = 2048.0) -> ScriptedLeader:
        """Every motor swinging about ``centre_ticks`` with the same amplitude and period, phases spread
        over a quarter turn so the joints do not move in lockstep."""
        ids = list(motor_ids)
        return cls({i: LeaderMotion(centre_ticks, amplitude_ticks, period_s, k * math.pi / (2 * len(ids)))
                    for k, i in enumerate(ids)})

    def present(self, motor_id: int) -> int:
        """Actual position of ``motor_id`` now, ticks 0..4095."""
        return round(self.motions[motor_id].ticks(self.clock() - self.start_s))

    def velocity(self, motor_id: int) -> float:
        """Speed of ``motor_id`` now, ticks/s."""
        m = self.motions[motor_id]
        t = self.clock() - self.start_s
        return m.amplitude_ticks * 2 * math.pi / m.period_s * math.cos(2 * math.pi * t / m.period_s
                                                                        + m.phase_rad)

    def set_goal(self, motor_id: int, ticks: int) -> None:
        """Ignored: a leader is moved by the hand, not by goals."""

    def set_torque(self, motor_id: int, enabled: bool) -> None:
        """Recorded in :attr:`torque_writes`; the scripted hand keeps moving the joint either way."""
        with self._lock:
            self.torque_writes.append((motor_id, bool(enabled)))
