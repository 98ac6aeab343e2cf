"""The operator's recording session under ``ros2 launch vla_ros record.launch.py teleop:=leader``, in a real
terminal (tmux): the sourced workspace's launch file, the keys read from the terminal ``ros2 launch`` runs
in, and Ctrl-C pressed in it, which reaches ``ros2 launch`` and every node at once (one process group).

The leader arm is the bus emulator playing one (``sts_bus_emulator --leader``: it mocks the leader's
hardware); lerobot's SOLeader reads it in ``leader_teleop``. Episode 1 is ended early with →; Ctrl-C in
episode 2 with ``on_stop:=discard`` must leave exactly one bag and nothing half-written, whichever of the
session and the recorder stops first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

import pytest
import yaml
from leader_testlib import emulated_leader
from ros2_testlib import Workspace
from tmux_testlib import Pane, launch_script

from vla_ros.record.bag import PARTIAL_DIR

TASK = "wave the arm"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed "
                                "(apt-get install -y tmux)")


def _script(workspace: Workspace, tmp_path: Path, launch: list[str], calib: Path) -> Path:
    names = ("PATH", "AMENT_PREFIX_PATH", "CMAKE_PREFIX_PATH", "VIRTUAL_ENV", "ROS_DOMAIN_ID",
             "ROS_LOCALHOST_ONLY", "ROS_AUTOMATIC_DISCOVERY_RANGE", "MUJOCO_GL", "HF_HUB_OFFLINE",
             "VLA_ROS_HOME")
    env = {k: workspace.env[k] for k in names if k in workspace.env}
    env.update(HF_LEROBOT_CALIBRATION=str(calib), TERM="xterm", PYTHONUNBUFFERED="1")
    return launch_script(tmp_path, launch, env, preamble=f"cd {workspace.root} && source install/setup.bash")


def _bags(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "metadata.yaml").is_file())


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_ctrl_c_in_an_episode_under_ros2_launch_discards_it_and_keeps_the_saved_one(
        workspace: Workspace, tmp_path: Path) -> None:
    leader = contextlib.ExitStack()
    port, calib = leader.enter_context(emulated_leader(tmp_path))
    bags = tmp_path / "bags"
    launch = ["ros2", "launch", "vla_ros", "record.launch.py", "teleop:=leader", f"leader_port:={port}",
              "monitor:=false", f"task:={TASK}", "episodes:=3", "episode_time_s:=20", "reset_time_s:=2",
              "on_stop:=discard", "image_size:=128x96", f"output_dir:={bags}"]
    pane = Pane(f"vla_ros_ros2_{os.getpid()}", f"bash {_script(workspace, tmp_path, launch, calib)}")
    try:
        pane.wait_for("episode 1/3 | RECORDING", 420)
        time.sleep(2.0)
        pane.keys("Right")
        pane.wait_for("episode 2/3 | RECORDING", 120)
        time.sleep(2.0)
        pane.keys("C-c")
        pane.wait_for("LAUNCH_EXIT=", 120)
        screen = pane.seen
    finally:
        pane.close()
        leader.close()
    log = (tmp_path / "launch.log").read_text()
    assert "| joints " in screen and f"task '{TASK}'" in screen, "the status line was shown in the terminal"
    saved = _bags(bags)
    assert len(saved) == 1, (saved, log[-5000:])
    meta = yaml.safe_load((saved[0] / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert meta["message_count"] > 0
    partial = bags / PARTIAL_DIR
    assert not partial.exists() or not any(partial.iterdir()), "the interrupted episode left nothing behind"
    assert not [p for p in bags.iterdir() if p.is_dir() and p.name != PARTIAL_DIR and p not in saved], (
        "no half-written bag", list(bags.iterdir()))
    assert "torque off" in log, log[-3000:]
    assert "failed to terminate" not in log, "every node stopped within ros2 launch's SIGINT grace"
