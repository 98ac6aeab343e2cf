"""An emulated SO-101 leader arm for the recording-session tests: ``sts_bus_emulator --leader`` (torque
off, joints swinging on a script; it stands in for the leader's hardware) and its lerobot calibration."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from vla_ros.robot.calibration import LEADER_TYPE_DIR, calibration_path, save_calibration, sim_calibration
from vla_ros.robot.description import joint_limits

__all__ = ["emulated_leader"]


@contextlib.contextmanager
def emulated_leader(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """Start the leader emulator; yields ``(port, calibration root)`` (``HF_LEROBOT_CALIBRATION``), stops it
    after the block."""
    calib = tmp_path / "calibration"
    limits = {n: (lim.lower_rad, lim.upper_rad) for n, lim in joint_limits().items()}
    save_calibration(sim_calibration(limits), calibration_path("leader", calib, LEADER_TYPE_DIR))
    port = tmp_path / "leader.tty"
    emulator = subprocess.Popen([str(Path(sys.executable).parent / "sts_bus_emulator"), "--leader", "--link",
                                 str(port), "--leader-amplitude-ticks", "200", "--leader-period-s", "3"],
                                stdout=subprocess.PIPE, text=True)
    try:
        assert emulator.stdout is not None and emulator.stdout.readline().strip()
        yield port, calib
    finally:
        emulator.terminate()
        emulator.wait(10)
