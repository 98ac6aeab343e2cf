"""The ``so101_driver`` executable and ``vla-ros calibrate`` (lerobot's interactive calibration)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from vla_ros.driver.arm import So101Arm
from vla_ros.driver.calibrate import main as calibrate_main
from vla_ros.robot.calibration import calibration_path, load_calibration


def test_executable_refuses_to_start_without_calibration_and_says_how_to_make_one(tmp_path) -> None:
    script = Path(sys.executable).parent / "so101_driver"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "vla_ros.driver.node"]
    params = ["robot_id:=nobody", f"calibration_dir:={tmp_path}", "port:=/dev/null"]
    args = ["--ros-args", *(arg for p in params for arg in ("-p", p))]
    out = subprocess.run([*command, *args], capture_output=True, text=True, timeout=180)
    text = out.stdout + out.stderr
    assert out.returncode == 1, text
    assert "refusing to start" in text and "vla-ros calibrate" in text
    assert str(calibration_path("nobody", tmp_path)) in text


@pytest.fixture
def fake_stdin(monkeypatch):
    """A pipe as stdin, so the test presses ENTER for lerobot's prompts (the operator's part)."""
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "r")
    monkeypatch.setattr(sys, "stdin", stdin)
    yield lambda: os.write(write_fd, b"\n")
    os.close(write_fd)
    stdin.close()


def test_calibrate_runs_lerobots_procedure_and_the_driver_can_use_the_file(
    tmp_path, emulator, fake_stdin, waiter
) -> None:
    # the arm rests mid-range; the operator moves each joint by hand through its range
    mid = {1: 2000, 2: 2100, 3: 1900, 4: 2050, 5: 3000, 6: 2200}
    for motor_id, ticks in mid.items():
        emulator.physics.move_by_hand(motor_id, ticks)
    result = {}
    argv = ["--port", emulator.port, "--robot-id", "cal", "--calibration-dir", str(tmp_path)]
    worker = threading.Thread(target=lambda: result.setdefault("status", calibrate_main(argv)))
    worker.start()
    # lerobot's configure() then calibrate() each set Operating_Mode on the six motors, with torque off
    assert waiter(lambda: emulator.writes("Operating_Mode") >= 12)
    assert emulator.register(1, "Torque_Enable") == 0
    fake_stdin()  # "move to the middle of the range and press ENTER"
    assert waiter(lambda: emulator.writes("Homing_Offset") >= 6 + 6)  # reset, then half-turn homings
    for motor_id in range(1, 6):
        for ticks in (mid[motor_id] - 400, mid[motor_id] + 300):
            emulator.physics.move_by_hand(motor_id, ticks)
            reads = emulator.packets()
            assert waiter(lambda r=reads: emulator.packets() > r + 5)  # lerobot saw it
    emulator.physics.move_by_hand(6, mid[6] + 500)
    reads = emulator.packets()
    assert waiter(lambda: emulator.packets() > reads + 5)
    fake_stdin()  # "press ENTER to stop recording"
    worker.join(timeout=60)
    assert result.get("status") == 0
    calib = load_calibration(calibration_path("cal", tmp_path))
    assert calib["shoulder_pan"].homing_offset == mid[1] - 2047
    assert (calib["shoulder_pan"].range_min, calib["shoulder_pan"].range_max) == (2047 - 400, 2047 + 300)
    assert (calib["wrist_roll"].range_min, calib["wrist_roll"].range_max) == (0, 4095)
    assert calib["gripper"].range_max == 2047 + 500
    assert emulator.register(1, "Min_Position_Limit") == 2047 - 400  # written to the motors too
    arm = So101Arm(emulator.port, "cal", tmp_path)
    arm.connect()
    assert not arm.wrote_calibration  # the motors already hold this calibration
    present = (mid[5] + 300) - (mid[5] - 2047)  # wrist_roll left at its last position, offset applied
    assert arm.read()[4] == pytest.approx(math.radians((present - 2047.5) * 360 / 4095), abs=1e-6)
    arm.close()


def test_calibrate_reports_an_unreachable_arm(tmp_path, capsys) -> None:
    args = ["--port", str(tmp_path / "none.tty"), "--robot-id", "x", "--calibration-dir", str(tmp_path)]
    assert calibrate_main(args) == 1
    assert "cannot connect" in capsys.readouterr().err
