"""Errors of the STS3215 bus emulator."""

from __future__ import annotations

from vla_ros.errors import BadInputError, ConfigError, VlaRosError

__all__ = ["EmulatorConfigError", "EmulatorStateError", "PacketError"]


class PacketError(BadInputError):
    """A byte string is not a valid Feetech protocol packet (bad header, length or checksum)."""


class EmulatorConfigError(ConfigError):
    """The emulator was configured with invalid motor ids, initial positions or link path."""


class EmulatorStateError(VlaRosError, RuntimeError):
    """An emulator operation does not fit its state (started twice, replug while plugged in...)."""
