"""Fixtures of the converter tests: a calibration file and the shared edge-case bags (the synthetic
bags and messages are built by :mod:`convert_testlib`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from convert_testlib import SHARED
from so101_reference import OFFICIAL_LIMITS

from vla_ros.robot.calibration import save_calibration, sim_calibration


@pytest.fixture
def calibration_file(tmp_path: Path) -> Path:
    """The simulated arm's lerobot calibration (official URDF limits), as a file."""
    return save_calibration(sim_calibration(OFFICIAL_LIMITS), tmp_path / "calib" / "sim.json")


@pytest.fixture
def shared_bags() -> Path:
    path = SHARED / "data" / "rosbags_rs_test_bags"
    if not path.is_dir():
        pytest.skip("shared edge-case bags not available")
    return path
