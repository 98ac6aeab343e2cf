"""The ``rerun_bridge`` in a simulated-time graph before ``/clock`` arrives (real rclpy, a real .rrd read
back with rerun.dataframe): unstamped data is not put on the timeline at wall time (it would sit 56 years
from the simulated data and the joint plots' window, which follows the latest time, would show nothing),
and warnings logged before the clock are kept and shown at its first time."""

from __future__ import annotations

import os
import time

import pytest
from builtin_interfaces.msg import Time
from rcl_interfaces.msg import Log
from ros_testlib import Probe
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState

from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.ros.qos import SENSOR_QOS

EARLY_WARNING = "refusing to start: no calibration (early)"


def _joint_state(stamp_s: float) -> JointState:
    msg = JointState(name=list(JOINT_NAMES), position=[0.1] * len(JOINT_NAMES))
    msg.header.stamp = Time(sec=int(stamp_s), nanosec=round(stamp_s % 1 * 1e9))
    return msg


def _wait_matched(publisher, what: str) -> None:
    end = time.monotonic() + 30
    while publisher.get_subscription_count() < 1:
        assert time.monotonic() < end, f"the bridge never subscribed {what}"
        time.sleep(0.05)


@pytest.mark.timeout(180)
def test_nothing_goes_on_the_timeline_at_wall_time_before_the_clock(tmp_path):
    pytest.importorskip("rerun")
    ns = f"clk{os.getpid()}"
    probe = Probe(f"clock_probe_{os.getpid()}", ns)
    try:
        _run(probe, ns, tmp_path / "early.rrd")
    finally:
        probe.close()
    _check(tmp_path / "early.rrd")


def _run(probe: Probe, ns: str, rrd) -> None:
    from vla_ros.viewer.node import RerunBridge

    bridge = probe.add(RerunBridge, use_sim_time=True, serve=False, save_path=str(rrd), policy_node="")
    rosout = probe.node.create_publisher(Log, "/rosout", 100)
    joints = probe.node.create_publisher(JointState, "joint_states", SENSOR_QOS)
    clock = probe.node.create_publisher(Clock, "/clock", 10)
    for publisher, what in ((rosout, "/rosout"), (joints, "joint_states"), (clock, "/clock")):
        _wait_matched(publisher, what)

    rosout.publish(Log(level=Log.WARN, name=f"{ns}.smolvla_policy", msg=EARLY_WARNING))
    for _ in range(5):
        joints.publish(_joint_state(0.0))  # unstamped, before any clock: not loggable yet
        time.sleep(0.1)
    time.sleep(0.5)
    end = time.monotonic() + 30
    while bridge.get_clock().now().nanoseconds == 0:
        clock.publish(Clock(clock=Time(sec=5)))
        assert time.monotonic() < end, "the bridge's clock never took /clock"
        time.sleep(0.05)
    stamps = [5.0 + 0.1 * i for i in range(6)]
    for stamp in stamps:
        joints.publish(_joint_state(stamp))
        time.sleep(0.1)
    time.sleep(1.0)


def _check(rrd) -> None:
    import rerun.dataframe as rdf

    stamps = [5.0 + 0.1 * i for i in range(6)]
    rec = rdf.load_recording(rrd)
    table = rec.view(index="ros_time", contents="/joints/shoulder_lift/measured").select().read_all()
    assert str(table.schema.field("ros_time").type).startswith("duration"), (
        f"the timeline is {table.schema.field('ros_time').type}: something went on it at wall time")
    times = [t.total_seconds() for t, v in zip(table.column("ros_time").to_pylist(),
                                                next(table.column(c) for c in table.column_names
                                                     if c.endswith("Scalars:scalars")).to_pylist())
             if v is not None]
    assert times == pytest.approx(stamps, abs=1e-3), "only the stamped states, at their simulated times"
    log = rec.view(index="ros_time", contents="/log").select().read_all()
    texts = [(t.total_seconds(), v[0]) for t, v in zip(log.column("ros_time").to_pylist(),
                                                        next(log.column(c) for c in log.column_names
                                                             if c.endswith("TextLog:text")).to_pylist())
             if v is not None]
    early = [t for t, text in texts if EARLY_WARNING in text]
    assert early and 5.0 <= early[0] < 7.0, texts
