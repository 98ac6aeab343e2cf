"""`vla-ros launch` supervises real node processes: duration, a dying required node, clean stop."""

import io
import os
import sys

import pytest
import yaml

from vla_ros.bringup.graph import NodeSpec
from vla_ros.bringup.launcher import Supervisor, find_executable, node_command


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie counts as gone
        return f.read().split()[2] != "Z"


def test_node_command_carries_params_and_remaps(tmp_path):
    spec = NodeSpec("mon", "status_monitor", parameters={"period_s": 0.5, "cameras": ["a"]},
                    remappings=(("joint_states", "arm/joint_states"),))
    exe = find_executable(spec)
    assert exe and exe.startswith(os.path.dirname(sys.executable))
    cmd = node_command(spec, exe, "robot1", tmp_path)
    assert cmd[:2] == [exe, "--ros-args"]
    assert "__ns:=/robot1" in cmd and "__node:=mon" in cmd and "joint_states:=arm/joint_states" in cmd
    with open(cmd[cmd.index("--params-file") + 1]) as f:
        overrides = yaml.safe_load(f)
    assert overrides == {"/**": {"ros__parameters": {"period_s": 0.5, "cameras": ["a"]}}}


@pytest.mark.timeout(120)
def test_duration_stops_every_node_cleanly():
    out = io.StringIO()
    sup = Supervisor([NodeSpec("mon_a", "status_monitor", parameters={"period_s": 0.5}),
                      NodeSpec("mon_b", "status_monitor", parameters={"period_s": 0.5})], out=out)
    assert sup.run(duration_s=6.0) == 0
    log = out.getvalue()
    assert "[mon_a]" in log and "joints" in log, log  # the children's output is relayed, prefixed
    assert all(c.process.returncode is not None for c in sup.children)
    assert not any(_alive(c.process.pid) for c in sup.children)


@pytest.mark.timeout(120)
def test_a_dying_required_node_stops_the_graph():
    out = io.StringIO()
    sup = Supervisor([NodeSpec("mon", "status_monitor"),
                      NodeSpec("broken", "vla-ros", arguments=("no-such-command",))], out=out)
    assert sup.run(duration_s=60.0) == 1
    assert "required node broken exited" in out.getvalue()
    assert not any(_alive(c.process.pid) for c in sup.children)


def test_missing_optional_node_is_skipped():
    out = io.StringIO()
    sup = Supervisor([NodeSpec("rviz", "rviz2", package="rviz2", optional=True)], out=out)
    assert sup.run(duration_s=0.5) == 0
    assert "skipping rviz" in out.getvalue()
