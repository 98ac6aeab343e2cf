"""Emulated Feetech STS3215 servo bus (the SO-101's motors) on a pseudo-terminal.

ROS-agnostic core: never imports rclpy (nor lerobot). lerobot's own Feetech code
(``FeetechMotorsBus`` over scservo_sdk and pyserial) talks to :class:`BusEmulator` exactly as to the
real arm, so simulation and hardware share the whole driver path. Motion comes from a
:class:`MotorPhysics`: the built-in :class:`ServoModel` or the MuJoCo simulator.
"""

from vla_ros.bus.emulator import BusEmulator, PacketRecord
from vla_ros.bus.errors import EmulatorConfigError, EmulatorStateError, PacketError
from vla_ros.bus.faults import Fault, FaultInjector
from vla_ros.bus.physics import MotorPhysics
from vla_ros.bus.servo import ServoModel

__all__ = [
    "BusEmulator",
    "EmulatorConfigError",
    "EmulatorStateError",
    "Fault",
    "FaultInjector",
    "MotorPhysics",
    "PacketError",
    "PacketRecord",
    "ServoModel",
]
