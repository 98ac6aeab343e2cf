"""A recording made in simulation (`vla-ros launch record`, scripted teleop) converts into a dataset
that lerobot loads, with the commanded motion in it; the teleop goes through the safety supervisor,
which limits its jumps (the scripted motion is asked to go faster than the supervisor allows)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ros_testlib import relaxed_convert_config
from sensor_msgs.msg import JointState

from vla_ros.convert.writer import safe_video_backend
from vla_ros.msg import SafetyStatus
from vla_ros.ros.qos import COMMAND_QOS, STATUS_QOS

ROOT = Path(__file__).resolve().parents[2]
TELEOP_SPEED = 4.0
"""rad/s of the scripted motions, above the supervisor's 1.5 rad/s (config/safety_supervisor.yaml)."""


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_record_in_sim_then_convert_and_load(tmp_path, make_probe):
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, VLA_ROS_HOME=str(tmp_path / "home"))
    probe = make_probe(f"/rec{os.getpid()}")
    safety = probe.record(SafetyStatus, "safety/status", STATUS_QOS, keep=5)
    teleop = probe.record(JointState, "policy/joint_commands", COMMAND_QOS, keep=100000)
    record = subprocess.run(
        [str(bin_dir / "vla-ros"), "launch", "record", f"namespace:=rec{os.getpid()}", "monitor:=false",
         "task:=wave the arm", "episodes:=2", "episode_duration_s:=4", f"output_dir:={tmp_path / 'bags'}",
         f"teleop_max_velocity:={TELEOP_SPEED}"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert record.returncode == 0, record.stdout[-6000:]
    # The teleop published into the supervisor, which clamped its speed (counted in safety/status).
    with probe.lock:
        assert teleop and safety, "no teleop commands or safety/status seen"
        stamps = np.array([m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for m in teleop])
        positions = np.array([m.position for m in teleop])
        clamps = np.array(safety[-1].clamp_counts)
    steps = np.diff(stamps) > 0
    speed = np.abs(np.diff(positions, axis=0))[steps] / np.diff(stamps)[steps][:, None]
    assert speed[:, :5].max() > 2.0, "the teleop never went faster than the supervisor's 1.5 rad/s"
    assert clamps[:5].sum() > 10, f"the supervisor clamped nothing: {clamps}"
    bags = sorted(p for p in (tmp_path / "bags").iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(bags) == 2, (bags, record.stdout[-3000:])

    out = tmp_path / "dataset"
    convert = subprocess.run(
        [str(bin_dir / "vla-ros"), "convert", *map(str, bags), "--out", str(out), "--sim-calibration",
         "--config", str(relaxed_convert_config(tmp_path)),
         "--namespace", f"rec{os.getpid()}", "--no-progress"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert convert.returncode == 0, convert.stdout[-4000:] + convert.stderr[-4000:]

    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    ds = LeRobotDataset("local/sim_record", root=out, video_backend=safe_video_backend())
    assert ds.meta.total_episodes >= 2 and ds.fps == 30
    assert ds.meta.tasks.index.tolist() == ["wave the arm"]
    assert set(ds.meta.camera_keys) == {"observation.images.front", "observation.images.wrist"}
    frame = ds[len(ds) // 2]
    assert frame["observation.images.front"].shape[0] == 3 and frame["observation.images.front"].std() > 0.01
    actions = np.stack([ds[i]["action"].numpy() for i in range(0, len(ds), 5)])
    states = np.stack([ds[i]["observation.state"].numpy() for i in range(0, len(ds), 5)])
    assert np.ptp(actions[:, :5], axis=0).max() > 5.0, "the scripted motion is missing (degrees)"
    assert np.abs(actions - states)[:, :5].mean() < 10.0, "the arm did not follow the commands"
