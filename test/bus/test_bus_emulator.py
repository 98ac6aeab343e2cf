"""lerobot's real Feetech bus code (FeetechMotorsBus, scservo_sdk, pyserial) against the emulator."""

from __future__ import annotations

import os
import statistics
import termios
import time
from pathlib import Path

import pytest

from vla_ros.bus import BusEmulator, EmulatorConfigError, EmulatorStateError, ServoModel
from vla_ros.bus.protocol import Instruction


def _wait_for(predicate, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_lerobot_handshake_finds_six_sts3215_with_one_firmware(emulator, feetech_bus) -> None:
    bus = feetech_bus(emulator.port)
    bus.connect()  # pings every id, checks model number 777 and equal firmware versions
    assert bus.broadcast_ping() == dict.fromkeys(range(1, 7), 777)
    assert bus._read_firmware_version(bus.ids) == dict.fromkeys(range(1, 7), "3.10")


def test_configuration_writes_land_in_the_registers(emulator, feetech_bus) -> None:
    bus = feetech_bus(emulator.port)
    bus.connect()
    bus.configure_motors()
    bus.write("P_Coefficient", "gripper", 16)
    assert [emulator.register(i, "Return_Delay_Time") for i in range(1, 7)] == [0] * 6
    assert [emulator.register(i, "Acceleration") for i in range(1, 7)] == [254] * 6
    assert emulator.register(6, "P_Coefficient") == 16
    assert bus.read("Maximum_Acceleration", "wrist_roll", normalize=False) == 254


def test_present_position_is_actual_minus_homing_offset(emulator, feetech_bus) -> None:
    bus = feetech_bus(emulator.port)
    bus.connect()
    bus.write("Homing_Offset", "shoulder_pan", -300, normalize=False)
    bus.write("Homing_Offset", "elbow_flex", 500, normalize=False)
    present = bus.sync_read("Present_Position", normalize=False)
    assert present["shoulder_pan"] == 2048 + 300
    assert present["elbow_flex"] == 2048 - 500
    assert bus.read_calibration()["shoulder_pan"].homing_offset == -300


def test_changing_the_homing_offset_with_torque_on_does_not_move_the_motor(emulator, feetech_bus) -> None:
    bus = feetech_bus(emulator.port)
    bus.connect()
    bus.enable_torque()
    bus.write("Homing_Offset", "wrist_flex", 100, normalize=False)
    time.sleep(0.2)
    assert emulator.physics.present(4) == 2048
    assert bus.read("Goal_Position", "wrist_flex", normalize=False) == 2048 - 100


def test_half_turn_homing_as_lerobot_calibration_does_it(emulator, feetech_bus) -> None:
    emulator.physics.move_by_hand(2, 1500)
    bus = feetech_bus(emulator.port)
    bus.connect()
    offsets = bus.set_half_turn_homings()
    assert offsets["shoulder_lift"] == 1500 - 2047
    assert bus.sync_read("Present_Position", normalize=False)["shoulder_lift"] == 2047


def test_goal_is_tracked_with_limited_speed_and_clamped_to_position_limits(emulator, feetech_bus) -> None:
    bus = feetech_bus(emulator.port)
    bus.connect()
    bus.configure_motors()
    bus.write("Max_Position_Limit", "wrist_flex", 2500, normalize=False)
    bus.enable_torque()
    bus.sync_write("Goal_Position", {"shoulder_pan": 2600, "wrist_flex": 3500}, normalize=False)
    assert _wait_for(lambda: emulator.register(4, "Goal_Position") == 2500)  # no reply to a sync write
    seen = []
    assert _wait_for(
        lambda: seen.append(bus.read("Present_Position", "shoulder_pan", normalize=False)) or seen[-1] == 2600
    )
    assert seen == sorted(seen) and any(2048 < p < 2600 for p in seen)  # moved there, not jumped
    assert bus.read("Present_Position", "wrist_flex", normalize=False) == 2500


def test_torque_off_is_limp_and_torque_on_holds_where_the_arm_is(emulator, feetech_bus) -> None:
    bus = feetech_bus(emulator.port)
    bus.connect()
    bus.disable_torque()
    assert emulator.register(1, "Lock") == 0
    bus.write("Goal_Position", "shoulder_pan", 3000, normalize=False)
    time.sleep(0.2)
    assert bus.read("Present_Position", "shoulder_pan", normalize=False) == 2048
    emulator.physics.move_by_hand(1, 1800)  # a person moves the limp joint
    bus.enable_torque()
    time.sleep(0.2)
    assert bus.read("Present_Position", "shoulder_pan", normalize=False) == 1800
    assert emulator.physics.torque(1) and emulator.register(1, "Lock") == 1


def test_replies_arrive_within_lerobots_packet_timeout(emulator, feetech_bus) -> None:
    bus = feetech_bus(emulator.port, strict=True)
    bus.connect()
    durations, failures = [], 0
    for _ in range(200):
        t0 = time.perf_counter()
        try:
            bus.sync_read("Present_Position", normalize=False)
        except ConnectionError:
            failures += 1
        durations.append(time.perf_counter() - t0)
    timeout_s = bus.port_handler.packet_timeout / 1000 or 0.05  # ms, as patched by lerobot
    assert failures <= 10, f"{failures}/200 sync reads timed out"
    assert statistics.median(durations) < min(timeout_s, 0.05)


def test_port_can_be_closed_and_reopened(emulator, feetech_bus) -> None:
    bus = feetech_bus(emulator.port)
    for _ in range(3):
        bus.connect()
        assert bus.read("ID", "gripper", normalize=False) == 6
        bus.disconnect(disable_torque=True)


def test_injected_lost_and_corrupt_replies_fail_one_read_only(emulator, feetech_bus) -> None:
    bus = feetech_bus(emulator.port)
    bus.connect()
    emulator.inject_no_reply(1)
    with pytest.raises(ConnectionError, match="no status packet"):
        bus.sync_read("Present_Position")
    emulator.inject_bad_checksum(1, motor_id=3)
    with pytest.raises(ConnectionError, match="Incorrect status packet"):
        bus.read("Present_Position", "elbow_flex", normalize=False)
    assert bus.sync_read("Present_Position", normalize=False) == dict.fromkeys(bus.motors, 2048)
    assert emulator.faults.injected == {"no_reply": 1, "bad_checksum": 1}


def test_a_silent_motor_fails_lerobots_motor_check(emulator, feetech_bus) -> None:
    emulator.inject_no_reply(None, motor_id=3)
    bus = feetech_bus(emulator.port)
    with pytest.raises(RuntimeError, match="Missing motor IDs"):
        bus.connect()
    emulator.clear_faults()


def test_unplug_breaks_the_port_and_replug_restores_it(emulator, feetech_bus) -> None:
    bus = feetech_bus(emulator.port)
    bus.connect()
    first = emulator.pty_path
    emulator.unplug()
    assert not os.path.lexists(emulator.port) and not emulator.plugged
    with pytest.raises((OSError, termios.error, ConnectionError)):  # pyserial I/O error or failed transaction
        bus.sync_read("Present_Position")
    bus.port_handler.is_open = bus.port_handler.is_using = False
    with pytest.raises(ConnectionError, match="Could not connect"):
        bus.connect()
    new = emulator.replug()
    assert os.path.realpath(emulator.port) == new and first is not None
    bus.connect()
    assert bus.read("Model_Number", "gripper", normalize=False) == 777


def test_packets_are_counted_by_instruction_and_register(emulator, feetech_bus) -> None:
    bus = feetech_bus(emulator.port)
    bus.connect()
    before_sync_writes = emulator.packets(Instruction.SYNC_WRITE)
    bus.sync_write("Goal_Position", {"gripper": 2100, "shoulder_pan": 2000}, normalize=False)
    assert _wait_for(lambda: emulator.packets(Instruction.SYNC_WRITE) == before_sync_writes + 1)
    assert emulator.writes("Goal_Position") == 2
    assert emulator.history[-1].ids == (6, 1)


def test_lifecycle_errors(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a link")
    with pytest.raises(EmulatorConfigError, match="not a symlink"):
        BusEmulator(link=tmp_path / "file").start()
    with pytest.raises(EmulatorConfigError):
        BusEmulator(physics=ServoModel([1]), motor_ids=[1], initial_ticks={1: 5})
    with pytest.raises(EmulatorConfigError):
        BusEmulator(motor_ids=[1, 1])
    with BusEmulator(link=tmp_path / "tty") as emu:
        with pytest.raises(EmulatorStateError):
            emu.start()
        with pytest.raises(EmulatorStateError):
            emu.replug()
    assert not os.path.lexists(tmp_path / "tty")


def test_without_a_link_the_port_is_the_pty() -> None:
    with BusEmulator(motor_ids=[7], initial_ticks={7: 100}) as emu:
        assert emu.port == emu.pty_path and emu.port.startswith("/dev/")
        assert emu.register(7, "Present_Position") == 100


class _HiccupPhysics(ServoModel):
    """The default servo model, except that one position query fails (a simulator hiccup)."""

    hiccup = False

    def present(self, motor_id: int) -> int:
        if self.hiccup:
            self.hiccup = False
            raise RuntimeError("simulator hiccup")
        return super().present(motor_id)


def test_a_physics_failure_costs_one_reply_not_the_emulator(tmp_path, feetech_bus) -> None:
    physics = _HiccupPhysics(range(1, 7))
    with BusEmulator(physics, link=tmp_path / "tty") as emu:
        bus = feetech_bus(emu.port)
        bus.connect()
        physics.hiccup = True
        with pytest.raises(ConnectionError):
            bus.read("Present_Position", "gripper", normalize=False)
        assert bus.read("Present_Position", "gripper", normalize=False) == 2048



def test_wait_released_waits_for_the_client_to_turn_torque_off(emulator, feetech_bus) -> None:
    import threading

    bus = feetech_bus(emulator.port)
    bus.connect()
    bus.enable_torque()
    stop, torque_off = threading.Event(), threading.Event()

    def client() -> None:  # a driver still reading, as one stopping at the same moment as the simulator
        while not stop.is_set():
            if torque_off.is_set() and any(bus.sync_read("Torque_Enable", normalize=False).values()):
                bus.disable_torque()
            bus.sync_read("Present_Position", normalize=False)

    thread = threading.Thread(target=client)
    thread.start()
    try:
        assert not emulator.wait_released(quiet_s=0.3, timeout_s=1.0), "released while torque on and talking"
        torque_off.set()
        start = time.monotonic()
        assert emulator.wait_released(quiet_s=0.3, timeout_s=3.0)
        assert time.monotonic() - start < 2.0
    finally:
        stop.set()
        thread.join()
    bus.enable_torque()  # torque on, but nobody talks any more: quiet
    assert emulator.wait_released(quiet_s=0.3, timeout_s=3.0)
