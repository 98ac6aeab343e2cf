"""The STS3215 control table: register addresses, sizes, encodings and power-on values.

Addresses and names follow Feetech's STS/SMS memory table (the names are lerobot's, from
``lerobot/motors/feetech/tables.py``, which a test checks against this table). Power-on values are
the factory defaults where the manual gives them; the dynamic registers (``Present_*``) are filled in
by the emulator from its physics before every read. Multi-byte values are little endian; some are
sign-magnitude with the sign at the bit given by ``sign_bit`` (lerobot ``STS_SMS_SERIES_ENCODINGS_TABLE``).
"""

from __future__ import annotations

from dataclasses import dataclass

from vla_ros.bus.errors import EmulatorConfigError

__all__ = [
    "FIRMWARE_VERSION",
    "MEMORY_SIZE",
    "REGISTERS",
    "STS3215_MODEL_NUMBER",
    "Register",
    "RegisterFile",
    "decode_sign_magnitude",
    "encode_sign_magnitude",
]

STS3215_MODEL_NUMBER = 777
"""Model number of the STS3215 (lerobot ``MODEL_NUMBER_TABLE["sts3215"]``)."""

FIRMWARE_VERSION = (3, 10)
"""Firmware major/minor reported by every emulated servo (lerobot only checks they are all equal)."""

MEMORY_SIZE = 256
EPROM_END = 40
"""Addresses below this are EPROM (configuration); the rest is SRAM."""


@dataclass(frozen=True)
class Register:
    """One control-table entry.

    Attributes:
        address: first byte.
        size: bytes (1 or 2).
        default: power-on value (decoded).
        writable: False for read-only registers; writes to them are ignored, as on the servo.
        sign_bit: bit index of the sign in sign-magnitude encoding, or None for unsigned.
    """

    address: int
    size: int
    default: int = 0
    writable: bool = True
    sign_bit: int | None = None


def _ro(address: int, size: int, default: int = 0, sign_bit: int | None = None) -> Register:
    return Register(address, size, default, writable=False, sign_bit=sign_bit)


REGISTERS: dict[str, Register] = {
    # EPROM
    "Firmware_Major_Version": _ro(0, 1, FIRMWARE_VERSION[0]),
    "Firmware_Minor_Version": _ro(1, 1, FIRMWARE_VERSION[1]),
    "Model_Number": _ro(3, 2, STS3215_MODEL_NUMBER),
    "ID": Register(5, 1, 1),
    "Baud_Rate": Register(6, 1, 0),
    "Return_Delay_Time": Register(7, 1, 250),
    "Response_Status_Level": Register(8, 1, 1),
    "Min_Position_Limit": Register(9, 2, 0),
    "Max_Position_Limit": Register(11, 2, 4095),
    "Max_Temperature_Limit": Register(13, 1, 70),
    "Max_Voltage_Limit": Register(14, 1, 140),
    "Min_Voltage_Limit": Register(15, 1, 40),
    "Max_Torque_Limit": Register(16, 2, 1000),
    "Phase": Register(18, 1, 12),
    "Unloading_Condition": Register(19, 1, 44),
    "LED_Alarm_Condition": Register(20, 1, 47),
    "P_Coefficient": Register(21, 1, 32),
    "D_Coefficient": Register(22, 1, 32),
    "I_Coefficient": Register(23, 1, 0),
    "Minimum_Startup_Force": Register(24, 2, 16),
    "CW_Dead_Zone": Register(26, 1, 1),
    "CCW_Dead_Zone": Register(27, 1, 1),
    "Protection_Current": Register(28, 2, 500),
    "Angular_Resolution": Register(30, 1, 1),
    "Homing_Offset": Register(31, 2, 0, sign_bit=11),
    "Operating_Mode": Register(33, 1, 0),
    "Protective_Torque": Register(34, 1, 20),
    "Protection_Time": Register(35, 1, 200),
    "Overload_Torque": Register(36, 1, 80),
    "Velocity_closed_loop_P_proportional_coefficient": Register(37, 1, 10),
    "Over_Current_Protection_Time": Register(38, 1, 200),
    "Velocity_closed_loop_I_integral_coefficient": Register(39, 1, 200),
    # SRAM
    "Torque_Enable": Register(40, 1, 0),
    "Acceleration": Register(41, 1, 0),
    "Goal_Position": Register(42, 2, 0, sign_bit=15),
    "Goal_Time": Register(44, 2, 0),
    "Goal_Velocity": Register(46, 2, 0, sign_bit=15),
    "Torque_Limit": Register(48, 2, 1000),
    "Lock": Register(55, 1, 1),
    "Present_Position": _ro(56, 2, 0, sign_bit=15),
    "Present_Velocity": _ro(58, 2, 0, sign_bit=15),
    "Present_Load": _ro(60, 2, 0, sign_bit=10),
    "Present_Voltage": _ro(62, 1, 120),
    "Present_Temperature": _ro(63, 1, 30),
    "Status": _ro(65, 1, 0),
    "Moving": _ro(66, 1, 0),
    "Present_Current": _ro(69, 2, 0),
    "Goal_Position_2": _ro(71, 2, 0),
    # Factory
    "Moving_Velocity": Register(80, 1, 1),
    "Moving_Velocity_Threshold": Register(80, 1, 1),
    "DTs": Register(81, 1, 32),
    "Velocity_Unit_factor": Register(82, 1, 50),
    "Hts": Register(83, 1, 0),
    "Maximum_Velocity_Limit": Register(84, 1, 254),
    "Maximum_Acceleration": Register(85, 1, 254),
    "Acceleration_Multiplier ": Register(86, 1, 0),
}
"""The STS3215 registers by lerobot name (``"Acceleration_Multiplier "`` keeps lerobot's trailing space)."""

_READ_ONLY = frozenset(
    a for r in REGISTERS.values() if not r.writable for a in range(r.address, r.address + r.size)
)


def encode_sign_magnitude(value: int, sign_bit: int) -> int:
    """Sign-magnitude encoding (sign at ``sign_bit``), as the STS firmware stores signed registers."""
    magnitude = min(abs(int(value)), (1 << sign_bit) - 1)
    return (1 << sign_bit) | magnitude if value < 0 else magnitude


def decode_sign_magnitude(raw: int, sign_bit: int) -> int:
    """Inverse of :func:`encode_sign_magnitude`."""
    magnitude = raw & ((1 << sign_bit) - 1)
    return -magnitude if raw >> sign_bit & 1 else magnitude


class RegisterFile:
    """The memory of one servo: 256 bytes, initialised with the power-on values.

    Not thread-safe; the emulator serialises access.
    """

    def __init__(self, motor_id: int) -> None:
        if not 0 <= motor_id <= 252:
            raise EmulatorConfigError(f"servo id must be in 0..252, got {motor_id}")
        self._mem = bytearray(MEMORY_SIZE)
        for name, reg in REGISTERS.items():
            self.set(name, reg.default)
        self.set("ID", motor_id)

    def read(self, address: int, length: int) -> bytes:
        """Raw bytes ``[address, address + length)`` (zeros past the end of memory)."""
        data = bytes(self._mem[address : address + length])
        return data + bytes(length - len(data))

    def write(self, address: int, data: bytes) -> list[str]:
        """Store ``data`` from ``address``, skipping read-only bytes; returns the registers touched."""
        for i, byte in enumerate(data):
            addr = address + i
            if addr < MEMORY_SIZE and addr not in _READ_ONLY:
                self._mem[addr] = byte
        end = address + len(data)
        return [
            n for n, r in REGISTERS.items() if r.writable and r.address < end and address < r.address + r.size
        ]

    def get(self, name: str) -> int:
        """Decoded value of register ``name``."""
        reg = REGISTERS[name]
        raw = int.from_bytes(self._mem[reg.address : reg.address + reg.size], "little")
        return decode_sign_magnitude(raw, reg.sign_bit) if reg.sign_bit is not None else raw

    def set(self, name: str, value: int) -> None:
        """Store the decoded ``value`` in register ``name`` (read-only registers included)."""
        reg = REGISTERS[name]
        raw = encode_sign_magnitude(value, reg.sign_bit) if reg.sign_bit is not None else int(value)
        raw &= (1 << (8 * reg.size)) - 1
        self._mem[reg.address : reg.address + reg.size] = raw.to_bytes(reg.size, "little")
