"""Packet codec of the Feetech SCS/STS serial protocol (protocol 0, the one the STS3215 speaks).

Frame layout (Feetech STS manual, "communication protocol"; ``scservo_sdk/protocol_packet_handler.py``)::

    0xFF 0xFF ID LENGTH INSTRUCTION|ERROR PARAM... CHECKSUM

``LENGTH`` counts the bytes after itself (instruction or error, parameters, checksum) and
``CHECKSUM = ~(ID + LENGTH + ... + last param) & 0xFF``. Instructions are sent by the host; each servo
answers a non-broadcast instruction with a *status* packet whose fourth byte is an error bitmask.

This module is the device side used by the emulator only; the host side is scservo_sdk, via lerobot.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum

from vla_ros.bus.errors import PacketError

__all__ = [
    "BROADCAST_ID",
    "HEADER",
    "Instruction",
    "Packet",
    "PacketParser",
    "checksum",
    "encode_instruction",
    "encode_status",
]

HEADER = b"\xff\xff"
BROADCAST_ID = 0xFE
"""Instructions to this id go to every servo; only PING and SYNC_READ are answered (one reply per servo)."""

_MAX_LENGTH = 250
"""Largest LENGTH the SDK accepts (``TXPACKET_MAX_LEN``/``RXPACKET_MAX_LEN`` in scservo_sdk)."""


class Instruction(IntEnum):
    """Instruction codes (``scservo_sdk/scservo_def.py``)."""

    PING = 0x01
    READ = 0x02
    WRITE = 0x03
    REG_WRITE = 0x04
    ACTION = 0x05
    SYNC_READ = 0x82
    SYNC_WRITE = 0x83


@dataclass(frozen=True)
class Packet:
    """One decoded instruction packet.

    Attributes:
        motor_id: destination id (``BROADCAST_ID`` for broadcast).
        instruction: the instruction code (an :class:`Instruction` value, or an unknown int).
        params: parameter bytes.
    """

    motor_id: int
    instruction: int
    params: bytes


def checksum(body: Sequence[int] | bytes) -> int:
    """Feetech checksum of ``body`` (the bytes from ID to the last parameter)."""
    return ~sum(body) & 0xFF


def _frame(motor_id: int, code: int, params: bytes | Sequence[int]) -> bytes:
    params = bytes(params)
    length = len(params) + 2
    if not 0 <= motor_id <= 0xFE or length > _MAX_LENGTH:
        raise PacketError(f"cannot frame id={motor_id} with {len(params)} parameter bytes")
    body = bytes([motor_id, length, code]) + params
    return HEADER + body + bytes([checksum(body)])


def encode_instruction(motor_id: int, instruction: int, params: bytes | Sequence[int] = b"") -> bytes:
    """Frame an instruction packet (host side; used by tests and tools)."""
    return _frame(motor_id, int(instruction), params)


def encode_status(motor_id: int, error: int = 0, params: bytes | Sequence[int] = b"") -> bytes:
    """Frame a status (reply) packet of servo ``motor_id`` with error bitmask ``error``."""
    return _frame(motor_id, error & 0x7F, params)


class PacketParser:
    """Incremental decoder of an instruction byte stream.

    Feed it whatever arrives on the wire; it yields complete packets, resynchronises on the next
    ``0xFF 0xFF`` after garbage, and drops (and counts) frames with a bad checksum, as a servo does.

    Attributes:
        bad_checksums: number of frames dropped for a wrong checksum.
        discarded_bytes: number of bytes skipped while looking for a header.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.bad_checksums = 0
        self.discarded_bytes = 0

    def reset(self) -> None:
        """Forget any partial frame (the port was closed or reopened)."""
        self._buf.clear()

    def feed(self, data: bytes) -> Iterator[Packet]:
        """Add ``data`` and yield every packet it completes."""
        self._buf.extend(data)
        while True:
            packet = self._next()
            if packet is None:
                return
            if isinstance(packet, Packet):
                yield packet

    def _next(self) -> Packet | bool | None:
        """One step: a packet, True (dropped a frame or garbage, keep going) or None (need more bytes)."""
        buf = self._buf
        start = buf.find(HEADER)
        if start < 0:
            keep = 1 if buf.endswith(b"\xff") else 0
            self.discarded_bytes += len(buf) - keep
            del buf[: len(buf) - keep]
            return None
        if start:
            self.discarded_bytes += start
            del buf[:start]
        if len(buf) < 4:
            return None
        motor_id, length = buf[2], buf[3]
        if motor_id == 0xFF or length < 2 or length > _MAX_LENGTH:
            self.discarded_bytes += 1
            del buf[:1]
            return True
        end = 4 + length
        if len(buf) < end:
            return None
        frame = bytes(buf[:end])
        del buf[:end]
        if frame[-1] != checksum(frame[2:-1]):
            self.bad_checksums += 1
            return True
        return Packet(motor_id=motor_id, instruction=frame[4], params=frame[5:-1])
