"""The packet codec against scservo_sdk, the host side lerobot uses (byte-for-byte)."""

from __future__ import annotations

import pytest
import scservo_sdk as scs

from vla_ros.bus.errors import PacketError
from vla_ros.bus.protocol import (
    BROADCAST_ID,
    Instruction,
    Packet,
    PacketParser,
    checksum,
    encode_instruction,
    encode_status,
)


class _CapturePort:
    """Stands in for scservo_sdk's PortHandler: records what the SDK writes, replays what it reads."""

    def __init__(self, incoming: bytes = b"") -> None:
        self.is_using = False
        self.written = b""
        self.incoming = bytearray(incoming)
        self.tx_time_per_byte = 0.01

    def clearPort(self) -> None:  # noqa: N802 (SDK interface)
        pass

    def writePort(self, packet: list[int]) -> int:  # noqa: N802
        self.written += bytes(packet)
        return len(packet)

    def readPort(self, length: int) -> bytes:  # noqa: N802
        out = bytes(self.incoming[:length])
        del self.incoming[:length]
        return out

    def setPacketTimeout(self, n: int) -> None:  # noqa: N802
        pass

    def isPacketTimeout(self) -> bool:  # noqa: N802
        return True


def _sdk_bytes(send) -> bytes:
    port = _CapturePort()
    send(scs.PacketHandler(0), port)
    return port.written


@pytest.mark.parametrize(
    ("send", "expected"),
    [
        (lambda ph, p: ph.txPacket(p, [0, 0, 3, 2, scs.INST_PING, 0]), Packet(3, Instruction.PING, b"")),
        (lambda ph, p: ph.readTx(p, 1, 56, 2), Packet(1, Instruction.READ, bytes([56, 2]))),
        (
            lambda ph, p: ph.write2ByteTxOnly(p, 6, 42, 3000),
            Packet(6, Instruction.WRITE, bytes([42, 3000 & 0xFF, 3000 >> 8])),
        ),
        (
            lambda ph, p: ph.syncReadTx(p, 56, 2, [1, 2, 3], 3),
            Packet(BROADCAST_ID, Instruction.SYNC_READ, bytes([56, 2, 1, 2, 3])),
        ),
        (
            lambda ph, p: ph.syncWriteTxOnly(p, 42, 2, [1, 0x10, 0x08, 2, 0x00, 0x08], 6),
            Packet(BROADCAST_ID, Instruction.SYNC_WRITE, bytes([42, 2, 1, 0x10, 0x08, 2, 0x00, 0x08])),
        ),
    ],
)
def test_parser_decodes_what_the_sdk_sends_and_encoder_matches_it(send, expected: Packet) -> None:
    wire = _sdk_bytes(send)
    assert list(PacketParser().feed(wire)) == [expected]
    assert encode_instruction(expected.motor_id, expected.instruction, expected.params) == wire


def test_status_packets_are_accepted_by_the_sdk() -> None:
    reply = encode_status(4, 0, (777).to_bytes(2, "little"))
    port = _CapturePort(reply)
    data, result, error = scs.PacketHandler(0).readRx(port, 4, 2)
    assert (result, error) == (scs.COMM_SUCCESS, 0)
    assert scs.SCS_MAKEWORD(data[0], data[1]) == 777


def test_sdk_rejects_a_status_packet_with_a_flipped_checksum() -> None:
    reply = bytearray(encode_status(4, 0, b"\x01\x02"))
    reply[-1] ^= 0xFF
    _, result, _ = scs.PacketHandler(0).readRx(_CapturePort(bytes(reply)), 4, 2)
    assert result == scs.COMM_RX_CORRUPT


def test_checksum_is_inverted_byte_sum() -> None:
    # PING id 1 from the Feetech manual: FF FF 01 02 01 FB
    assert checksum([1, 2, 1]) == 0xFB
    assert encode_instruction(1, Instruction.PING) == bytes.fromhex("ffff010201fb")


def test_parser_handles_split_frames_garbage_and_bad_checksums() -> None:
    good = encode_instruction(2, Instruction.READ, [56, 2])
    bad = bytearray(encode_instruction(3, Instruction.READ, [56, 2]))
    bad[-1] ^= 1
    stream = b"\x00\x13\xff" + bytes(bad) + good + good[:3]
    parser = PacketParser()
    packets = []
    for byte in stream:  # byte by byte: every split point
        packets.extend(parser.feed(bytes([byte])))
    packets.extend(parser.feed(good[3:]))
    assert packets == [Packet(2, Instruction.READ, bytes([56, 2]))] * 2
    assert parser.bad_checksums == 1
    assert parser.discarded_bytes >= 2


def test_parser_resets_partial_frame() -> None:
    good = encode_instruction(1, Instruction.PING)
    parser = PacketParser()
    assert list(parser.feed(good[:4])) == []
    parser.reset()
    assert list(parser.feed(good)) == [Packet(1, Instruction.PING, b"")]


def test_encoding_rejects_oversized_packets_and_bad_ids() -> None:
    with pytest.raises(PacketError):
        encode_instruction(1, Instruction.WRITE, bytes(300))
    with pytest.raises(PacketError):
        encode_status(0xFF)
