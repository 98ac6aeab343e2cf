"""The simulator writes the simulated arm's calibration for the driver, and never clobbers another."""

import json

import pytest

from vla_ros.errors import CalibrationError
from vla_ros.robot.calibration import load_calibration, sim_calibration
from vla_ros.robot.description import joint_limits
from vla_ros.sim.calibration import write_sim_calibration


def test_writes_the_sim_calibration_once_and_refuses_to_overwrite_a_real_one(tmp_path):
    path = write_sim_calibration("simbot", tmp_path)
    assert path == tmp_path / "robots" / "so_follower" / "simbot.json"
    limits = {n: (lim.lower_rad, lim.upper_rad) for n, lim in joint_limits().items()}
    assert load_calibration(path) == sim_calibration(limits)
    mtime = path.stat().st_mtime_ns
    assert write_sim_calibration("simbot", tmp_path) == path and path.stat().st_mtime_ns == mtime

    real = json.loads(path.read_text())
    real["elbow_flex"]["homing_offset"] = 137  # a calibrated physical arm under the same id
    path.write_text(json.dumps(real))
    with pytest.raises(CalibrationError, match="not overwriting"):
        write_sim_calibration("simbot", tmp_path)
    assert json.loads(path.read_text())["elbow_flex"]["homing_offset"] == 137
