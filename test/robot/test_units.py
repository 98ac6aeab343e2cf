"""Radians <-> LeRobot units: round trips, and agreement with lerobot's own normalisation on the bus.

The bus is the STS3215 emulator (it stands in for the arm's hardware); the normalisation is lerobot's
real ``FeetechMotorsBus._normalize``/``_unnormalize`` as the SO follower configures it.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest
from so101_reference import OFFICIAL_LIMITS

from vla_ros.bus import BusEmulator
from vla_ros.errors import CalibrationError, ConfigError
from vla_ros.robot.calibration import calibration_path, save_calibration, sim_calibration
from vla_ros.robot.joints import JOINT_NAMES, LEROBOT_FEATURE_NAMES, MOTOR_IDS
from vla_ros.robot.units import GRIPPER_CLOSED_RAD, UnitConverter, Units

TICKS_PER_RAD = 4095 / (2 * math.pi)


def _limits() -> dict[str, tuple[float, float]]:
    try:
        from vla_ros.robot.description import joint_limits

        return {n: (lim.lower_rad, lim.upper_rad) for n, lim in joint_limits().items()}
    except (ConfigError, FileNotFoundError):
        return OFFICIAL_LIMITS


@pytest.fixture(scope="module")
def calibration():
    return sim_calibration(_limits())


@pytest.fixture(scope="module")
def converter(calibration) -> UnitConverter:
    return UnitConverter.from_calibration(calibration)


def _random_radians(rng: np.random.Generator, n: int) -> np.ndarray:
    lows, highs = zip(*(_limits()[name] for name in JOINT_NAMES))
    return rng.uniform(lows, highs, size=(n, len(JOINT_NAMES)))


def test_radians_to_lerobot_and_back_is_identity_for_batches(converter) -> None:
    rad = _random_radians(np.random.default_rng(0), 500).reshape(50, 10, 6)
    lr = converter.to_lerobot(rad)
    assert lr.shape == rad.shape
    np.testing.assert_allclose(converter.to_ros(lr), rad, atol=1e-12)
    np.testing.assert_allclose(converter.convert(rad, Units.RADIANS, Units.LEROBOT), lr)
    np.testing.assert_allclose(converter.convert(lr, Units.LEROBOT, Units.LEROBOT), lr)


def test_known_values(converter, calibration) -> None:
    rad = np.array([math.pi / 2, -math.pi / 4, 0.0, 0.1, -1.0, GRIPPER_CLOSED_RAD])
    lr = converter.to_lerobot(rad)
    np.testing.assert_allclose(lr[:5], [90.0, -45.0, 0.0, math.degrees(0.1), math.degrees(-1.0)])
    assert lr[5] == pytest.approx(0.0)
    grip = calibration["gripper"]
    span = (grip.range_max - grip.range_min) * 2 * math.pi / 4095
    assert converter.to_ros(np.array([0, 0, 0, 0, 0, 100.0]))[5] == pytest.approx(GRIPPER_CLOSED_RAD + span)


def test_input_is_not_modified_and_bad_shapes_or_units_are_rejected(converter) -> None:
    rad = np.zeros(6)
    converter.to_lerobot(rad)
    assert not rad.any()
    with pytest.raises(ValueError, match="joint vectors"):
        converter.to_lerobot(np.zeros(5))
    with pytest.raises(ValueError, match="unknown units"):
        converter.convert(rad, "degrees", Units.RADIANS)
    with pytest.raises(CalibrationError):
        UnitConverter.from_calibration({})
    with pytest.raises(CalibrationError):
        UnitConverter(gripper_span_rad=0.0)


@pytest.fixture
def so_follower(tmp_path: Path, calibration, monkeypatch):
    """lerobot's SOFollower on the emulator, motors at known ticks, with the simulated arm's calibration."""
    from lerobot.motors.feetech import feetech
    from lerobot.robots.so_follower import SOFollower, SOFollowerRobotConfig

    lerobots = feetech.patch_setPacketTimeout

    def relaxed(handler, packet_length: int) -> None:  # this loaded box can be late by > 50 ms
        lerobots(handler, packet_length)
        handler.packet_timeout += 250.0

    monkeypatch.setattr(feetech, "patch_setPacketTimeout", relaxed)

    limits = _limits()
    rng = np.random.default_rng(1)
    ticks = {}
    for name, motor_id in MOTOR_IDS.items():
        lo, hi = (round(2048 + v * TICKS_PER_RAD) for v in limits[name])
        ticks[motor_id] = int(rng.integers(lo + 5, hi - 5))
    path = save_calibration(calibration, calibration_path("units", tmp_path))
    emu = BusEmulator(initial_ticks=ticks, link=tmp_path / "tty")
    emu.start()
    robot = SOFollower(SOFollowerRobotConfig(port=emu.port, id="units", calibration_dir=path.parent))
    robot.bus.connect()
    robot.bus.write_calibration(robot.calibration)
    yield robot, emu, ticks
    robot.bus.disconnect(disable_torque=False)
    emu.close()


def test_lerobot_normalised_ticks_become_the_simulated_arms_angles_and_back(so_follower, converter) -> None:
    robot, _emu, ticks = so_follower
    obs = robot.get_observation()  # raw ticks -> lerobot units, by lerobot (_normalize)
    lerobot_units = np.array([obs[key] for key in LEROBOT_FEATURE_NAMES])
    rad = converter.to_ros(lerobot_units)
    expected = np.array([(ticks[MOTOR_IDS[n]] - 2048) / TICKS_PER_RAD for n in JOINT_NAMES])
    # sim calibration: tick = 2048 + angle * 4095/2pi; the gripper's 0 % sits < 1 tick from -10 deg
    np.testing.assert_allclose(rad[:5], expected[:5], atol=1e-9)
    assert abs(rad[5] - expected[5]) < 1 / TICKS_PER_RAD

    back = converter.to_lerobot(rad)  # radians -> lerobot units -> ticks, by lerobot (_unnormalize)
    ids = {robot.bus.motors[n].id: float(back[i]) for i, n in enumerate(JOINT_NAMES)}
    raw = robot.bus._unnormalize(ids)
    assert all(abs(raw[i] - ticks[i]) <= 1 for i in ticks), (raw, ticks)  # lerobot truncates with int()


def test_a_radian_goal_reaches_the_goal_register_in_ticks(so_follower, converter) -> None:
    robot, emu, _ticks = so_follower
    robot.bus.enable_torque()
    goal_rad = np.array([0.3, -0.2, 0.5, -0.4, 1.0, 0.8])
    lr = converter.to_lerobot(goal_rad)
    robot.send_action({key: float(lr[i]) for i, key in enumerate(LEROBOT_FEATURE_NAMES)})
    expected = {MOTOR_IDS[n]: 2048 + goal_rad[i] * TICKS_PER_RAD for i, n in enumerate(JOINT_NAMES)}

    def goals_error() -> float:
        return max(abs(emu.register(i, "Goal_Position") - t) for i, t in expected.items())

    deadline = time.monotonic() + 10.0  # a sync write has no reply: wait for the emulator to apply it
    while goals_error() > 1.5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert goals_error() <= 1.5
