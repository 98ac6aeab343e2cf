"""A kinematic model of STS3215 position servos: speed- and acceleration-limited goal tracking.

Each motor moves towards its goal along a trapezoidal velocity profile (accelerate at
``acceleration_ticks_s2``, cruise at ``max_speed_ticks_s``, decelerate to stop on the goal), which is
what the servo's position loop does with its ``Acceleration`` register set (lerobot writes 254, i.e.
25 400 ticks/s², ``Acceleration`` unit 100 ticks/s² per the STS manual). With torque off the motor is
limp: it stops where it is and can be moved by hand (:meth:`ServoModel.move_by_hand`). No gravity,
load or compliance is modelled (the MuJoCo physics does that).

The state is advanced lazily to the clock's "now" on every call, so no thread is needed.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from vla_ros.bus.errors import EmulatorConfigError

__all__ = ["DEFAULT_ACCELERATION_TICKS_S2", "DEFAULT_MAX_SPEED_TICKS_S", "MAX_TICK", "ServoModel"]

MAX_TICK = 4095
"""Largest encoder reading of the 12-bit STS3215 encoder."""

DEFAULT_MAX_SPEED_TICKS_S = 3000.0
"""No-load speed, ticks/s: about 0.2 s per 60 degrees (STS3215 datasheet, 12 V: 0.222 s/60°), ~4.6 rad/s."""

DEFAULT_ACCELERATION_TICKS_S2 = 25400.0
"""Acceleration register 254 (what lerobot's ``configure_motors`` writes) x 100 ticks/s² per unit."""

_MAX_STEP_S = 0.001


@dataclass
class _Motor:
    position: float
    velocity: float = 0.0
    goal: float = 0.0
    torque: bool = False


class ServoModel:
    """Speed/acceleration-limited position tracking for a set of motors (implements ``MotorPhysics``).

    Thread-safe. Positions are actual encoder ticks, clamped to ``0..MAX_TICK``.

    Args:
        motor_ids: the motors.
        initial_ticks: starting position per motor (default 2048, mid-turn).
        max_speed_ticks_s: cruise speed, ticks/s (> 0).
        acceleration_ticks_s2: acceleration and deceleration, ticks/s² (> 0).
        clock: monotonic time source in seconds (injectable for tests).

    Raises:
        EmulatorConfigError: a non-positive speed or acceleration, or an initial position outside 0..4095.
    """

    def __init__(
        self,
        motor_ids: Iterable[int],
        initial_ticks: Mapping[int, int] | None = None,
        *,
        max_speed_ticks_s: float = DEFAULT_MAX_SPEED_TICKS_S,
        acceleration_ticks_s2: float = DEFAULT_ACCELERATION_TICKS_S2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (max_speed_ticks_s > 0 and acceleration_ticks_s2 > 0):
            raise EmulatorConfigError(
                f"max_speed_ticks_s={max_speed_ticks_s} and acceleration_ticks_s2={acceleration_ticks_s2} "
                "must be > 0"
            )
        initial = dict(initial_ticks or {})
        bad = {i: t for i, t in initial.items() if not 0 <= t <= MAX_TICK}
        if bad:
            raise EmulatorConfigError(f"initial_ticks outside 0..{MAX_TICK}: {bad}")
        self.max_speed_ticks_s = float(max_speed_ticks_s)
        self.acceleration_ticks_s2 = float(acceleration_ticks_s2)
        self._clock = clock
        self._lock = threading.Lock()
        self._t = clock()
        self._motors = {}
        for motor_id in motor_ids:
            start = float(initial.get(motor_id, 2048))
            self._motors[motor_id] = _Motor(position=start, goal=start)

    # MotorPhysics
    def set_goal(self, motor_id: int, ticks: int) -> None:
        """Set the goal, actual ticks (clamped to 0..4095)."""
        with self._lock:
            self._advance()
            self._motors[motor_id].goal = float(min(max(ticks, 0), MAX_TICK))

    def set_torque(self, motor_id: int, enabled: bool) -> None:
        """Torque on: track the goal. Torque off: stop dead and go limp."""
        with self._lock:
            self._advance()
            motor = self._motors[motor_id]
            motor.torque = bool(enabled)
            motor.velocity = 0.0

    def present(self, motor_id: int) -> int:
        """Actual position now, ticks."""
        with self._lock:
            self._advance()
            return round(self._motors[motor_id].position)

    # Extras for tests and tools
    def velocity(self, motor_id: int) -> float:
        """Velocity now, ticks/s."""
        with self._lock:
            self._advance()
            return self._motors[motor_id].velocity

    def torque(self, motor_id: int) -> bool:
        """Whether the motor's torque is on."""
        with self._lock:
            return self._motors[motor_id].torque

    def goal(self, motor_id: int) -> int:
        """The goal, actual ticks."""
        with self._lock:
            return round(self._motors[motor_id].goal)

    def move_by_hand(self, motor_id: int, ticks: int) -> None:
        """Put a limp motor at ``ticks`` (a person moving the joint). Ignored while torque is on."""
        with self._lock:
            self._advance()
            motor = self._motors[motor_id]
            if not motor.torque:
                motor.position = float(min(max(ticks, 0), MAX_TICK))

    def _advance(self) -> None:
        now = self._clock()
        dt = now - self._t
        self._t = now
        if dt <= 0:
            return
        steps = max(1, math.ceil(dt / _MAX_STEP_S))
        step = dt / steps
        for motor in self._motors.values():
            if motor.torque:
                for _ in range(steps):
                    if not self._step(motor, step):
                        break

    def _step(self, motor: _Motor, dt: float) -> bool:
        """Integrate one motor over ``dt``; False once it rests on its goal."""
        error = motor.goal - motor.position
        accel = self.acceleration_ticks_s2
        if abs(error) < 0.5 and abs(motor.velocity) <= accel * dt:
            motor.position, motor.velocity = motor.goal, 0.0
            return False
        # fastest speed from which braking at ``accel`` still stops on the goal: v*dt + v²/2a <= |error|
        stop_speed = accel * (math.sqrt(dt * dt + 2.0 * abs(error) / accel) - dt)
        target_v = math.copysign(min(stop_speed, self.max_speed_ticks_s), error)
        dv = min(max(target_v - motor.velocity, -accel * dt), accel * dt)
        motor.velocity += dv
        position = min(max(motor.position + motor.velocity * dt, 0.0), float(MAX_TICK))
        if (motor.goal - position) * error <= 0:  # would cross the goal: land on it (speed is ~a*dt here)
            motor.position, motor.velocity = motor.goal, 0.0
            return False
        motor.position = position
        return True
