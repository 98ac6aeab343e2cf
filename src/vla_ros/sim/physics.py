"""MuJoCo behind the STS3215 bus emulator: :class:`MujocoPhysics` implements ``MotorPhysics``.

The emulator (``vla_ros.bus``) answers the driver's packets and calls this object for motion: goal
writes become the simulated servos' goals, ``Present_Position`` reads come from the MuJoCo joints.
Actual ticks and angles are related as in the simulated arm's calibration
(:func:`vla_ros.robot.calibration.sim_calibration`): ``ticks = 2048 + angle_rad * 4095 / (2 pi)``.
"""

from __future__ import annotations

import math

from vla_ros.bus.emulator import BusEmulator
from vla_ros.bus.servo import MAX_TICK
from vla_ros.robot.calibration import MAX_RESOLUTION
from vla_ros.robot.joints import MOTOR_IDS
from vla_ros.sim.world import SimWorld

__all__ = ["MID_TICK", "MujocoPhysics", "angle_to_ticks", "sync_goal_registers", "ticks_to_angle"]

MID_TICK = MAX_RESOLUTION // 2
"""Actual tick of angle 0 (2048, mid-turn)."""
_TICKS_PER_RAD = (MAX_RESOLUTION - 1) / (2 * math.pi)


def ticks_to_angle(ticks: float) -> float:
    """Joint angle (rad) of an actual encoder position (ticks)."""
    return (ticks - MID_TICK) / _TICKS_PER_RAD


def angle_to_ticks(angle_rad: float) -> int:
    """Actual encoder position (ticks, rounded, clamped to 0..4095) of a joint angle (rad)."""
    return min(max(round(MID_TICK + angle_rad * _TICKS_PER_RAD), 0), MAX_TICK)


class MujocoPhysics:
    """The bus emulator's ``MotorPhysics`` backed by a :class:`SimWorld` (thread-safe).

    Motor ids are the SO-101's (1..6, :data:`vla_ros.robot.joints.MOTOR_IDS`).

    Raises:
        KeyError: from every method, for a motor id that is not on the arm.
    """

    def __init__(self, world: SimWorld) -> None:
        self.world = world
        self._index = {motor_id: i for i, motor_id in enumerate(MOTOR_IDS.values())}

    @property
    def motor_ids(self) -> list[int]:
        """The simulated motors' bus ids."""
        return list(self._index)

    def set_goal(self, motor_id: int, ticks: int) -> None:
        """Set the goal of motor ``motor_id``, actual ticks (the joint limits clamp it)."""
        self.world.set_goal(self._index[motor_id], ticks_to_angle(ticks))

    def set_torque(self, motor_id: int, enabled: bool) -> None:
        """Torque on (follow the goal) or off (limp)."""
        self.world.set_torque(self._index[motor_id], enabled)

    def present(self, motor_id: int) -> int:
        """The joint's present position, actual ticks."""
        return angle_to_ticks(float(self.world.joint_positions()[self._index[motor_id]]))

    def velocity(self, motor_id: int) -> float:
        """The joint's present velocity, ticks/s (the emulator's ``Present_Velocity``)."""
        return float(self.world.joint_velocities()[self._index[motor_id]]) * _TICKS_PER_RAD


def sync_goal_registers(emulator: BusEmulator, world: SimWorld) -> None:
    """Make the emulated servos' ``Goal_Position`` registers hold the world's goals (after a reset).

    Written as the host would write them (``Homing_Offset`` applied, position limits clamp), so the
    registers, the physics goals and the driver's next read agree.
    """
    goals = world.goals()
    for i, motor_id in enumerate(MOTOR_IDS.values()):
        offset = emulator.register(motor_id, "Homing_Offset")
        emulator.set_register(motor_id, "Goal_Position", (angle_to_ticks(goals[i]) - offset) % MAX_RESOLUTION)
