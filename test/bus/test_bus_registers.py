"""The emulator's STS3215 control table agrees with lerobot's and behaves like servo memory."""

from __future__ import annotations

import pytest

from vla_ros.bus.registers import (
    REGISTERS,
    STS3215_MODEL_NUMBER,
    RegisterFile,
    decode_sign_magnitude,
    encode_sign_magnitude,
)


def test_every_register_lerobot_knows_has_the_same_address_size_and_sign_encoding() -> None:
    from lerobot.motors.feetech.tables import (
        MODEL_ENCODING_TABLE,
        MODEL_NUMBER_TABLE,
        STS_SMS_SERIES_CONTROL_TABLE,
    )

    mismatches = {
        name: (addr_size, (REGISTERS[name].address, REGISTERS[name].size) if name in REGISTERS else None)
        for name, addr_size in STS_SMS_SERIES_CONTROL_TABLE.items()
        if name not in REGISTERS or (REGISTERS[name].address, REGISTERS[name].size) != addr_size
    }
    assert mismatches == {}
    signs = {n: b for n, b in MODEL_ENCODING_TABLE["sts3215"].items() if n in REGISTERS}
    assert signs == {n: REGISTERS[n].sign_bit for n in signs}
    assert MODEL_NUMBER_TABLE["sts3215"] == STS3215_MODEL_NUMBER


def test_power_on_memory_reports_model_firmware_and_id() -> None:
    regs = RegisterFile(4)
    assert regs.read(3, 2) == (777).to_bytes(2, "little")
    assert regs.get("ID") == 4
    assert regs.get("Torque_Enable") == 0
    assert (regs.get("Min_Position_Limit"), regs.get("Max_Position_Limit")) == (0, 4095)
    assert regs.read(254, 4) == bytes(4)  # past the end: zeros, no error


@pytest.mark.parametrize(("value", "bit"), [(0, 11), (5, 11), (-5, 11), (2047, 11), (-2047, 11), (-1000, 15)])
def test_sign_magnitude_matches_lerobot(value: int, bit: int) -> None:
    from lerobot.motors.encoding_utils import decode_sign_magnitude as lr_decode
    from lerobot.motors.encoding_utils import encode_sign_magnitude as lr_encode

    assert encode_sign_magnitude(value, bit) == lr_encode(value, bit)
    assert decode_sign_magnitude(lr_encode(value, bit), bit) == value
    assert lr_decode(encode_sign_magnitude(value, bit), bit) == value


def test_signed_registers_round_trip_and_raw_bytes_are_sign_magnitude() -> None:
    regs = RegisterFile(1)
    regs.set("Homing_Offset", -300)
    assert regs.get("Homing_Offset") == -300
    assert int.from_bytes(regs.read(31, 2), "little") == (1 << 11) | 300


def test_writes_skip_read_only_bytes_and_report_touched_registers() -> None:
    regs = RegisterFile(1)
    touched = regs.write(40, bytes([1, 254, 0x00, 0x08]))  # Torque_Enable, Acceleration, Goal_Position
    assert touched == ["Torque_Enable", "Acceleration", "Goal_Position"]
    assert regs.get("Goal_Position") == 2048
    assert regs.write(3, (1234).to_bytes(2, "little")) == []  # Model_Number is read-only
    assert regs.get("Model_Number") == 777
