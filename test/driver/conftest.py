"""Fixtures of the driver tests: the STS3215 emulator (it stands in for the arm's hardware), a
calibration file for it in tmp_path, and driver configurations pointing at both."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from so101_reference import OFFICIAL_LIMITS

from vla_ros.errors import ConfigError
from vla_ros.robot.calibration import calibration_path, save_calibration, sim_calibration
from vla_ros.robot.description import JointLimit

ROBOT_ID = "sim_arm"
LATE_REPLY_SLACK_MS = 250.0
"""Added to lerobot's ~50 ms packet timeout here: this shared, loaded 2-core box can stall a process for
longer (test/bus keeps lerobot's own timeout in one test, and bench/bench_driver.py runs unmodified)."""


@pytest.fixture(autouse=True)
def tolerate_late_replies(monkeypatch) -> None:
    """Widen the packet timeout of every FeetechMotorsBus built during a test (see LATE_REPLY_SLACK_MS)."""
    from lerobot.motors.feetech import feetech

    lerobots = feetech.patch_setPacketTimeout

    def relaxed(handler, packet_length: int) -> None:
        lerobots(handler, packet_length)
        handler.packet_timeout += LATE_REPLY_SLACK_MS

    monkeypatch.setattr(feetech, "patch_setPacketTimeout", relaxed)


@pytest.fixture(scope="session")
def limits() -> dict[str, JointLimit]:
    """The URDF's joint limits (the official SO-101 numbers if the URDF is not there yet)."""
    try:
        from vla_ros.robot.description import joint_limits

        return joint_limits()
    except (ConfigError, FileNotFoundError):
        return {n: JointLimit(lo, hi, 10.0, 10.0) for n, (lo, hi) in OFFICIAL_LIMITS.items()}


@pytest.fixture
def calib_dir(tmp_path: Path, limits) -> Path:
    """A calibration root holding ``robots/so_follower/sim_arm.json`` for the emulated arm."""
    root = tmp_path / "calibration"
    calib = sim_calibration({n: (lim.lower_rad, lim.upper_rad) for n, lim in limits.items()})
    save_calibration(calib, calibration_path(ROBOT_ID, root))
    return root



@pytest.fixture
def make_config(tmp_path: Path, calib_dir: Path) -> Callable[..., object]:
    """Factory of DriverConfig for the emulator's link and the test calibration (overrides as kwargs)."""
    from vla_ros.driver.config import DriverConfig

    def make(**overrides: object) -> DriverConfig:
        fields = {
            "port": str(tmp_path / "so101.tty"),
            "robot_id": ROBOT_ID,
            "calibration_dir": str(calib_dir),
            "reconnect_backoff_s": 0.1,
            "reconnect_backoff_max_s": 0.4,
            **overrides,
        }
        return DriverConfig(**fields)

    return make


def wait_for(predicate: Callable[[], object], timeout_s: float = 15.0, period_s: float = 0.02) -> bool:
    """Poll ``predicate`` until it is truthy or ``timeout_s`` passes (generous: the box is loaded)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period_s)
    return bool(predicate())


@pytest.fixture
def waiter() -> Callable[..., bool]:
    """:func:`wait_for`, as a fixture (test modules do not import conftest)."""
    return wait_for


@pytest.fixture
def robot_id() -> str:
    """The robot id of the test calibration file."""
    return ROBOT_ID
