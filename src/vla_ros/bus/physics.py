"""The interface between the bus emulator and whatever moves the motors.

The emulator owns the registers and the protocol; a :class:`MotorPhysics` owns the motion. The
emulator's own :class:`vla_ros.bus.servo.ServoModel` implements it, and so does the MuJoCo simulator.
Positions are *actual* encoder ticks (0..4095, STS3215 12-bit encoder): the emulator applies the
motor's ``Homing_Offset`` between these and the ``Present_Position``/``Goal_Position`` registers.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["MotorPhysics"]


@runtime_checkable
class MotorPhysics(Protocol):
    """What the emulator asks of whatever moves the motors: its own servo model, or MuJoCo."""

    def set_goal(self, motor_id: int, ticks: int) -> None:
        """Set the goal of motor ``motor_id``, in actual-position ticks 0..4095."""
        ...

    def set_torque(self, motor_id: int, enabled: bool) -> None:
        """Switch the motor's torque on (track the goal) or off (limp)."""
        ...

    def present(self, motor_id: int) -> int:
        """The motor's actual position, ticks 0..4095."""
        ...
