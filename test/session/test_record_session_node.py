"""``record_session`` with the real ``bag_recorder`` over real DDS, without a terminal (the episodes run on
their timers) and without the simulator: the test publishes ``joint_states``. Ctrl-C (SIGINT, as the
launcher sends it) in the middle of an episode saves or discards it as ``on_stop`` says; no half bag."""

from __future__ import annotations

import json
import os
import signal

import pytest
from ros_testlib import NodeProcess


@pytest.mark.slow
@pytest.mark.parametrize(("on_stop", "bags"), [("discard", 0), ("save", 1)])
def test_ctrl_c_mid_episode(tmp_path, make_probe, on_stop, bags):
    from sensor_msgs.msg import JointState
    from std_msgs.msg import String

    from vla_ros.robot.joints import JOINT_NAMES
    from vla_ros.ros.qos import SENSOR_QOS, STATUS_QOS

    ns = f"/rs{os.getpid()}{on_stop}"
    probe = make_probe(ns)
    pub = probe.node.create_publisher(JointState, "joint_states", SENSOR_QOS)

    def publish() -> None:
        msg = JointState(name=list(JOINT_NAMES), position=[0.0] * 6)
        msg.header.stamp = probe.node.get_clock().now().to_msg()
        pub.publish(msg)

    probe.node.create_timer(0.02, publish)
    status = probe.record(String, "record/status", STATUS_QOS, keep=500)
    out = tmp_path / "bags"
    recorder = NodeProcess("bag_recorder", tmp_path / "recorder.log", ns, output_dir=str(out), task="wave",
                           backend="rosbags")
    session = NodeProcess("record_session", tmp_path / "session.log", ns, episodes=2, episode_time_s=60.0,
                          reset_time_s=1.0, on_stop=on_stop, terminal="''", speech=False)
    try:
        probe.wait_for(lambda: any(json.loads(m.data)["state"] == "recording" for m in status), 90,
                       "an episode recording")
        probe.wait_for(lambda: any(sum(json.loads(m.data)["messages"].values()) > 10 for m in status), 30,
                       "messages in the episode")
        session.proc.send_signal(signal.SIGINT)
        assert session.wait(30) == 0, session.output()[-3000:]
    finally:
        session.stop()
        recorder.stop()
    finished = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(finished) == bags, session.output()[-3000:]
    assert not list((out / ".partial").iterdir()), "never a half bag"
    saved, discarded = (1, 0) if on_stop == "save" else (0, 1)
    assert f"session over: {saved} episode(s) saved, {discarded} discarded" in session.output()
