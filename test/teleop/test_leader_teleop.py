"""``leader_teleop`` reads an SO-101 leader arm with lerobot's own SOLeader and publishes its pose.

The leader's hardware is mocked by the STS3215 emulator playing a leader arm
(:class:`vla_ros.bus.leader.ScriptedLeader`: torque off, joints swinging on a known script); the node,
lerobot's Feetech code and the DDS traffic are real.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
import pytest

from vla_ros.bus import BusEmulator
from vla_ros.bus.leader import LeaderMotion, ScriptedLeader
from vla_ros.robot.calibration import LEADER_TYPE_DIR, calibration_path, save_calibration, sim_calibration
from vla_ros.robot.description import joint_limits
from vla_ros.robot.joints import JOINT_NAMES

TICKS_PER_RAD = 4095 / (2 * math.pi)
AMPLITUDE_TICKS = 150.0
PERIOD_S = 3.0


def _calibrations(root) -> None:
    """The simulated arm's calibration (tick 2048 = 0 rad) as both the leader's and the follower's."""
    calib = sim_calibration({n: (lim.lower_rad, lim.upper_rad) for n, lim in joint_limits().items()})
    save_calibration(calib, calibration_path("follower", root))
    save_calibration(calib, calibration_path("leader", root, LEADER_TYPE_DIR))


def test_scripted_leader_moves_by_script_and_ignores_goals():
    now = [0.0]
    leader = ScriptedLeader({1: LeaderMotion(2048, 100, 4.0)}, clock=lambda: now[0])
    leader.set_goal(1, 3000)
    leader.set_torque(1, True)
    now[0] = 1.0
    assert leader.present(1) == 2148 and leader.torque_writes == [(1, True)]
    with pytest.raises(ValueError, match="encoder range"):
        LeaderMotion(4000, 200)


@pytest.mark.slow
def test_leader_teleop_publishes_the_leader_pose(tmp_path, make_probe, start_node):
    from sensor_msgs.msg import JointState

    from vla_ros.ros.qos import COMMAND_QOS

    root = tmp_path / "calibration"
    _calibrations(root)
    leader = ScriptedLeader.swinging(amplitude_ticks=AMPLITUDE_TICKS, period_s=PERIOD_S)
    ns = f"/leader{os.getpid()}"
    with BusEmulator(leader, link=tmp_path / "leader.tty") as emu:
        probe = make_probe(ns)
        commands = probe.record(JointState, "joint_commands", COMMAND_QOS, keep=1000)
        node = start_node("leader_teleop", ns, port=str(emu.port), robot_id="leader", follower_id="follower",
                          calibration_dir=str(root), leader_calibration_dir=str(root), rate_hz=30.0)
        probe.wait_for(lambda: len(commands) >= 5, 120, "joint_commands from leader_teleop")
        t0 = time.monotonic()
        probe.wait_for(lambda: time.monotonic() - t0 > PERIOD_S * 1.2, PERIOD_S * 2, "a full swing")
        with probe.lock:
            msgs = list(commands)
        assert emu.register(1, "Torque_Enable") == 0, "SOLeader leaves a leader's torque off"
        assert (1, False) in leader.torque_writes
        now_ticks = [leader.present(i) for i in range(1, 7)]
    assert node.proc.poll() is None, node.output()[-3000:]
    assert list(msgs[-1].name) == list(JOINT_NAMES)
    q = np.array([m.position for m in msgs])
    swing_rad = 2 * AMPLITUDE_TICKS / TICKS_PER_RAD
    arm = np.ptp(q[:, :5], axis=0)
    assert np.all(arm > 0.6 * swing_rad) and np.all(arm < 1.1 * swing_rad), (arm, swing_rad)
    assert np.abs(q[:, :5]).max() < 1.05 * AMPLITUDE_TICKS / TICKS_PER_RAD
    latest = (np.array(now_ticks[:5]) - 2048) / TICKS_PER_RAD
    # The newest command lags the leader by one read (~1/30 s) and the DDS hop: at most ~0.1 rad here.
    assert np.abs(q[-1, :5] - latest).max() < 0.15, (q[-1], latest)
