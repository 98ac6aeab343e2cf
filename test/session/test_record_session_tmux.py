"""The recording session in a real terminal: ``vla-ros launch record teleop:=leader`` inside tmux, keys
sent with ``tmux send-keys``, the screen read with ``capture-pane``.

The simulated follower (so101_sim, so101_driver) is driven by the real ``leader_teleop`` reading, with
lerobot's SOLeader, a leader arm played by the bus emulator (``sts_bus_emulator --leader``: torque off,
joints swinging on a script; it mocks the leader's hardware). Four episodes are planned; the second is
re-recorded with ←; the third is interrupted by the e-stop (space, latched in the safety supervisor,
released with Enter), recorded again and ended early with →; then Esc stops during the reset: exactly
three bags.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from leader_testlib import emulated_leader
from ros_testlib import BIN
from tmux_testlib import Pane, launch_script

EPISODE_S = 6.0
RESET_S = 4.0
TASK = "wave the arm"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed "
                                "(apt-get install -y tmux)")


def _bags(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _bag_facts(bag: Path) -> tuple[str, float, float]:
    """(task, first and last joint_states receive time in s) of one bag."""
    from rosbags.highlevel import AnyReader

    from vla_ros.convert.mapping import TASK_METADATA_KEY

    meta = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    with AnyReader([bag]) as reader:
        stamps = [t for c, t, _ in reader.messages() if c.topic.endswith("/joint_states")]
    return (meta.get("custom_data") or {}).get(TASK_METADATA_KEY, ""), stamps[0] / 1e9, stamps[-1] / 1e9


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_record_session_keys_in_tmux(tmp_path, make_probe):
    from sensor_msgs.msg import JointState

    from vla_ros.msg import SafetyStatus
    from vla_ros.ros.qos import SENSOR_QOS, STATUS_QOS

    leader = contextlib.ExitStack()
    leader_port, calib = leader.enter_context(emulated_leader(tmp_path))
    ns = f"sess{os.getpid()}"
    bags_dir = tmp_path / "bags"
    env = {k: os.environ[k] for k in ("PATH", "ROS_DOMAIN_ID", "ROS_LOCALHOST_ONLY", "MUJOCO_GL",
                                      "ROS_AUTOMATIC_DISCOVERY_RANGE", "HF_HUB_OFFLINE") if k in os.environ}
    env.update(VLA_ROS_HOME=str(tmp_path / "home"), HF_LEROBOT_CALIBRATION=str(calib), TERM="xterm")
    launch = [str(BIN / "vla-ros"), "launch", "record", "teleop:=leader", f"leader_port:={leader_port}",
              f"namespace:={ns}", "monitor:=false", f"task:={TASK}", "episodes:=4",
              f"episode_time_s:={EPISODE_S}", f"reset_time_s:={RESET_S}", "image_size:=128x96",
              f"output_dir:={bags_dir}"]
    script = launch_script(tmp_path, launch, env)
    probe = make_probe(f"/{ns}")
    states = probe.record(JointState, "joint_states", SENSOR_QOS, keep=100_000)
    safety = probe.record(SafetyStatus, "safety/status", STATUS_QOS)
    pane = Pane(f"vla_ros_test_{os.getpid()}", f"bash {script}")
    try:
        pane.wait_for("episode 1/4 | RECORDING", 420)
        pane.wait_for("episode 2/4 | RECORDING", 120)
        time.sleep(2.0)
        pane.keys("Left")
        pane.wait_for("episode 2/4 | RESETTING", 30)
        pane.wait_for("episode 2/4 | RECORDING", 60)
        pane.wait_for("episode 3/4 | RECORDING", 120)
        time.sleep(1.0)
        pane.keys("Space")  # e-stop: latched in the supervisor, the episode discarded
        pane.wait_for("episode 3/4 | PAUSED", 30)
        probe.wait_for(lambda: bool(safety) and safety[-1].estop_latched, 30, "the supervisor's e-stop")
        pane.keys("Enter")
        pane.wait_for("episode 3/4 | RESETTING", 30)
        probe.wait_for(lambda: not safety[-1].estop_latched, 30, "the e-stop released")
        pane.wait_for("episode 3/4 | RECORDING", 60)
        time.sleep(1.5)
        pane.keys("Right")
        pane.wait_for("episode 4/4 | RESETTING", 30)
        pane.keys("Escape")
        pane.wait_for("LAUNCH_EXIT=", 90)
        screen = pane.seen
    finally:
        pane.close()
        leader.close()
    log = (tmp_path / "launch.log").read_text()
    assert "LAUNCH_EXIT=0" in screen, log[-5000:]
    assert "session over: 3 episode(s) saved, 2 discarded" in log, log[-5000:]
    assert "| joints " in screen and "task 'wave the arm'" in screen, "the status line was shown"

    bags = _bags(bags_dir)
    assert len(bags) == 3, bags
    assert not any((bags_dir / ".partial").iterdir()), "the re-recorded episode left nothing behind"
    facts = [_bag_facts(b) for b in bags]
    assert all(task == TASK for task, _, _ in facts)
    durations = [end - start for _, start, end in facts]
    # Episodes 1 and 2 ran their full time (simulated seconds); episode 3 was ended by → after about
    # 1.5 wall seconds (fewer simulated seconds when the simulator runs slower than real time).
    assert abs(durations[0] - EPISODE_S) < 0.5 and abs(durations[1] - EPISODE_S) < 0.5, durations
    assert 0.2 < durations[2] < EPISODE_S - 2.0, durations

    with probe.lock:
        samples = [(m.header.stamp.sec + m.header.stamp.nanosec * 1e-9, list(m.position)) for m in states]
    t = np.array([s for s, _ in samples])
    q = np.array([p for _, p in samples])
    reset = (t > facts[0][2] + 0.3) & (t < facts[1][1] - 0.3)  # between episode 1's end and 2's start
    assert reset.sum() > 20, "joint_states during the reset"
    swing = np.ptp(q[reset, :5], axis=0)
    print(f"bag durations {np.round(durations, 2)} s; follower swing in the reset {np.round(swing, 2)} rad")
    assert np.all(swing > 0.2), f"the leader did not drive the follower during the reset: {swing} rad"
