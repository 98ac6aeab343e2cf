"""The operator-scored evaluation session in a real terminal (tmux): ``vla-ros launch deploy
eval_scoring:=operator evaluate:=2 record_eval:=true`` on the simulated arm with a tiny random-weight
checkpoint, scored by the test's keys; results.json has the scores, and the evaluation bags convert to a
dataset lerobot loads. Real processes, real DDS; nothing is mocked."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from ros_testlib import BIN
from tmux_testlib import Pane, launch_script

from vla_ros.evaluate.config import DEFAULT_TASKS
from vla_ros.evaluate.scoring import EvaluationResults

ROOT = Path(__file__).resolve().parents[2]
TASK = DEFAULT_TASKS[0]

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed "
                                "(apt-get install -y tmux)")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_eval_session_scored_by_keys_and_recorded(tmp_path):
    from vla_ros.policy.tiny import make_tiny_policy

    ckpt = make_tiny_policy(tmp_path / "tiny", image_size=(72, 96), fps=15.0, chunk_size=15,
                            tasks=DEFAULT_TASKS, camera_map={"front": "camera1", "wrist": "camera2"}, seed=0)
    ns = f"evs{os.getpid()}"
    out = tmp_path / "evaluation"
    env = {k: os.environ[k] for k in ("PATH", "ROS_DOMAIN_ID", "ROS_LOCALHOST_ONLY", "MUJOCO_GL",
                                      "ROS_AUTOMATIC_DISCOVERY_RANGE", "HF_HUB_OFFLINE") if k in os.environ}
    env.update(VLA_ROS_HOME=str(tmp_path / "home"), TERM="xterm")
    launch = [str(BIN / "vla-ros"), "launch", "deploy", f"namespace:={ns}", f"policy_path:={ckpt}",
              "monitor:=false", "two_cubes:=true", "image_size:=96x72", "torch_threads:=1", f"task:={TASK}",
              "evaluate:=2", "eval_scoring:=operator", "record_eval:=true", "eval_episode_duration_s:=3",
              "eval_reset_time_s:=1", f"eval_output:={out}"]
    pane = Pane(f"vla_ros_eval_{os.getpid()}", f"bash {launch_script(tmp_path, launch, env)}")
    try:
        pane.wait_for("episode 1/2 | RECORDING", 300)
        pane.wait_for("episode 1/2 | SCORING", 120)
        pane.keys("s")
        pane.wait_for("episode 2/2 | RECORDING", 180)
        pane.keys("Right")
        pane.wait_for("episode 2/2 | SCORING", 60)
        pane.keys("r")  # redo: this run's bag is deleted, the episode is run again
        pane.wait_for("Redo the episode", 30)
        _wait_second_scoring(pane)
        pane.keys("f")
        pane.wait_for("LAUNCH_EXIT=", 120)
        screen = pane.seen
    finally:
        pane.close()
    log = (tmp_path / "launch.log").read_text()
    assert "LAUNCH_EXIT=0" in screen, log[-5000:]
    assert "| successes " in screen and "s success  f failure  r redo" in screen, "the status line was shown"

    results = EvaluationResults.load(out)
    assert results.complete and results.config["scoring"] == "operator", results
    assert [(e.task, e.success) for e in results.episodes] == [(TASK, True), (TASK, False)]
    doc = yaml.safe_load((out / "results.json").read_text())
    assert doc["summary"]["per_task"][TASK]["success_rate"] == 0.5
    bags = sorted(p for p in (out / "bags").iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(bags) == 2 and sorted(results.episode_files.values()) == [str(b) for b in bags], bags
    chunks = []
    for bag in bags:
        meta = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
        counts = {t["topic_metadata"]["name"]: t["message_count"] for t in meta["topics_with_message_count"]}
        chunks.append(counts.get(f"/{ns}/policy/action_chunk"))
    assert None not in chunks, "each evaluation bag records the policy's action chunks"
    print(f"action chunks per evaluation bag: {chunks}")

    config = yaml.safe_load((ROOT / "config" / "convert.yaml").read_text())
    topics = config["topics"]
    for stream in [topics["state"], topics["action"], *topics["cameras"].values()]:
        stream["tolerance_s"] = 0.5  # the loaded 2-core machine leaves gaps in the simulated streams
    config["on_gap"] = "split"
    (tmp_path / "convert.yaml").write_text(yaml.safe_dump(config))
    dataset = tmp_path / "dataset"
    convert = subprocess.run(
        [str(BIN / "vla-ros"), "convert", *map(str, bags), "--out", str(dataset), "--sim-calibration",
         "--config", str(tmp_path / "convert.yaml"), "--namespace", ns, "--no-progress"],
        env=dict(os.environ, VLA_ROS_HOME=str(tmp_path / "home")), capture_output=True, text=True,
        timeout=600)
    assert convert.returncode == 0, convert.stdout[-4000:] + convert.stderr[-4000:]

    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    from vla_ros.convert.writer import safe_video_backend

    ds = LeRobotDataset("local/eval_episodes", root=dataset, video_backend=safe_video_backend())
    assert ds.meta.total_episodes >= 2 and ds.meta.tasks.index.tolist() == [TASK]
    assert ds[len(ds) // 2]["observation.images.front"].shape[0] == 3


def _wait_second_scoring(pane: Pane) -> None:
    """After the redo: the reset, the run again, then scoring again (looked for after the prompt)."""
    end = time.monotonic() + 240
    while time.monotonic() < end:
        text = pane.screen()
        tail = text[text.rfind("Redo the episode"):]
        if "episode 2/2 | SCORING" in tail:
            return
        time.sleep(0.3)
    raise AssertionError(f"episode 2 was not run again:\n{pane.screen()[-4000:]}")
