"""So101Arm: lerobot's SOFollower on the emulated bus, with the user's calibration file, in radians."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from vla_ros.bus.protocol import Instruction
from vla_ros.driver.arm import So101Arm
from vla_ros.errors import CalibrationError
from vla_ros.robot.calibration import calibration_path
from vla_ros.robot.joints import JOINT_NAMES, MOTOR_IDS

TICKS_PER_RAD = 4095 / (2 * math.pi)


@pytest.fixture
def no_prompt(monkeypatch):
    """Any interactive prompt fails the test: the driver must never ask."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the driver prompted for input")

    monkeypatch.setattr("builtins.input", refuse)


ROBOT_ID = "sim_arm"  # the id of the calibration file conftest writes (also the `robot_id` fixture)


def _arm(emulator, calib_dir, **kwargs) -> So101Arm:
    return So101Arm(emulator.port, ROBOT_ID, calib_dir, **kwargs)


def test_missing_or_invalid_calibration_refuses_with_a_how_to(tmp_path, calib_dir) -> None:
    with pytest.raises(CalibrationError, match="vla-ros calibrate"):
        So101Arm("/dev/null", "nobody", tmp_path / "empty")
    path = calibration_path(ROBOT_ID, calib_dir)
    data = json.loads(path.read_text())
    del data["gripper"]
    path.write_text(json.dumps(data))
    with pytest.raises(CalibrationError, match="missing motors"):
        So101Arm("/dev/null", ROBOT_ID, calib_dir)


def test_connect_writes_the_files_calibration_without_prompting(emulator, calib_dir, no_prompt) -> None:
    arm = _arm(emulator, calib_dir)
    assert emulator.register(1, "Min_Position_Limit") == 0  # factory values: differ from the file
    arm.connect()
    assert arm.wrote_calibration
    for name, cal in arm.calibration.items():
        motor_id = MOTOR_IDS[name]
        assert emulator.register(motor_id, "Min_Position_Limit") == cal.range_min
        assert emulator.register(motor_id, "Max_Position_Limit") == cal.range_max
        assert emulator.register(motor_id, "Homing_Offset") == cal.homing_offset
    assert emulator.register(1, "Acceleration") == 254  # lerobot's configure() ran
    assert emulator.register(6, "Max_Torque_Limit") == 500
    arm.close()

    again = _arm(emulator, calib_dir)
    writes = emulator.writes("Min_Position_Limit")
    again.connect()  # the motors now match the file: nothing to write
    assert not again.wrote_calibration and emulator.writes("Min_Position_Limit") == writes
    again.close()


def test_read_gives_radians_of_the_actual_positions(emulator, calib_dir) -> None:
    arm = _arm(emulator, calib_dir)
    arm.connect()
    arm.set_torque(False)
    targets = [0.5, -0.3, 1.0, -1.2, 2.0, 0.7]
    for name, angle in zip(JOINT_NAMES, targets):
        emulator.physics.move_by_hand(MOTOR_IDS[name], round(2048 + angle * TICKS_PER_RAD))
    positions = arm.read()
    assert positions.shape == (6,) and positions.dtype == np.float64
    np.testing.assert_allclose(positions, targets, atol=2 / TICKS_PER_RAD)
    arm.close()


def test_write_sends_only_the_given_joints_in_one_sync_write(emulator, calib_dir, waiter) -> None:
    arm = _arm(emulator, calib_dir)
    arm.connect()
    arm.set_torque(True)
    sync_writes = emulator.packets(Instruction.SYNC_WRITE)
    sent = arm.write({"gripper": 1.0, "shoulder_pan": -0.5})
    assert set(sent) == {"gripper.pos", "shoulder_pan.pos"}
    assert waiter(lambda: emulator.packets(Instruction.SYNC_WRITE) == sync_writes + 1)
    assert set(emulator.history[-1].ids) == {1, 6}
    assert abs(emulator.register(1, "Goal_Position") - (2048 - 0.5 * TICKS_PER_RAD)) <= 1.5
    assert emulator.register(2, "Goal_Position") == 2048
    assert waiter(lambda: abs(arm.read()[0] + 0.5) < 0.01)
    arm.close()


def test_max_relative_target_caps_the_step_as_lerobot_does(emulator, calib_dir, waiter) -> None:
    arm = _arm(emulator, calib_dir, max_relative_target=10.0)
    arm.connect()
    arm.set_torque(True)
    sent = arm.write({"elbow_flex": 1.0})  # 57 degrees asked, 10 allowed
    assert sent["elbow_flex.pos"] == pytest.approx(10.0, abs=0.1)
    expected = 2048 + math.radians(10) * TICKS_PER_RAD
    assert waiter(lambda: abs(emulator.register(3, "Goal_Position") - expected) <= 1.5)
    arm.close()


def test_torque_off_is_limp_and_on_holds_without_a_jump(emulator, calib_dir) -> None:
    arm = _arm(emulator, calib_dir)
    arm.connect()
    arm.set_torque(False)
    assert [emulator.register(i, "Torque_Enable") for i in range(1, 7)] == [0] * 6
    emulator.physics.move_by_hand(2, 2500)
    arm.set_torque(True)
    assert [emulator.register(i, "Torque_Enable") for i in range(1, 7)] == [1] * 6
    assert emulator.register(2, "Goal_Position") == 2500
    assert arm.torque_enabled
    arm.close()


@pytest.mark.parametrize("enabled", [False, True])
def test_a_lost_reply_during_a_torque_switch_is_retried(emulator, calib_dir, enabled) -> None:
    arm = _arm(emulator, calib_dir)
    arm.connect()
    arm.set_torque(not enabled)
    emulator.inject_no_reply(1, motor_id=1)
    with pytest.raises(ConnectionError):
        arm.set_torque(enabled, retries=0)
    emulator.inject_no_reply(1, motor_id=1)
    arm.set_torque(enabled, retries=1)
    assert [emulator.register(i, "Torque_Enable") for i in range(1, 7)] == [int(enabled)] * 6
    assert arm.torque_enabled == enabled
    arm.close()


@pytest.mark.parametrize("disable", [True, False])
def test_close_leaves_torque_as_configured(emulator, calib_dir, disable) -> None:
    arm = _arm(emulator, calib_dir, disable_torque_on_exit=disable)
    arm.connect()
    arm.set_torque(True)
    arm.close()
    assert not arm.connected
    expected = 0 if disable else 1
    assert [emulator.register(i, "Torque_Enable") for i in range(1, 7)] == [expected] * 6


def test_connect_failure_leaves_the_port_closed(tmp_path, calib_dir) -> None:
    arm = So101Arm(str(tmp_path / "absent.tty"), ROBOT_ID, calib_dir)
    with pytest.raises(ConnectionError):
        arm.connect()
    assert not arm.connected
