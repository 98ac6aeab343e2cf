"""A recording made in simulation (`vla-ros launch record`, scripted teleop) converts into a dataset
that lerobot loads, with the commanded motion in it."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from vla_ros.convert.writer import safe_video_backend

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_record_in_sim_then_convert_and_load(tmp_path):
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, VLA_ROS_HOME=str(tmp_path / "home"))
    record = subprocess.run(
        [str(bin_dir / "vla-ros"), "launch", "record", f"namespace:=rec{os.getpid()}", "monitor:=false",
         "task:=wave the arm", "episodes:=2", "episode_duration_s:=4", f"output_dir:={tmp_path / 'bags'}"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert record.returncode == 0, record.stdout[-6000:]
    bags = sorted(p for p in (tmp_path / "bags").iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(bags) == 2, (bags, record.stdout[-3000:])

    # On a loaded 2-core machine the simulated streams have gaps (best-effort transport, sim slower
    # than real time): widen the tolerances and split episodes at the remaining gaps (reported).
    config = yaml.safe_load((ROOT / "config" / "convert.yaml").read_text())
    topics = config["topics"]
    for stream in [topics["state"], topics["action"], *topics["cameras"].values()]:
        stream["tolerance_s"] = 0.5
    config["on_gap"] = "split"
    (tmp_path / "convert.yaml").write_text(yaml.safe_dump(config))
    out = tmp_path / "dataset"
    convert = subprocess.run(
        [str(bin_dir / "vla-ros"), "convert", *map(str, bags), "--out", str(out), "--sim-calibration",
         "--config", str(tmp_path / "convert.yaml"),
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
