"""`ros2 launch vla_ros deploy.launch.py` in simulation, operated with `ros2 topic/param/service` as the
README shows: every node up, every stream flowing, our messages decoded, the task guard and the
e-stop reached through the standard tools; then Ctrl-C stops it cleanly."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import IMAGE_SIZE, TASKS
from ros2_testlib import Workspace, interrupt, ros2_until, wait_for_output
from sensor_msgs.msg import JointState

from vla_ros.ros.qos import SENSOR_QOS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

NODES = ("/so101_sim", "/so101_driver", "/safety_supervisor", "/smolvla_policy", "/status_monitor")
STREAMS = ("/joint_states", "/cameras/front/image_raw", "/cameras/wrist/image_raw", "/policy/joint_commands",
           "/joint_commands")


@dataclass
class Deploy:
    ws: Workspace
    log: Path
    proc: object


@pytest.fixture(scope="module")
def deploy(workspace: Workspace, reach_policy: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deploy]:
    log = tmp_path_factory.mktemp("deploy") / "launch.log"
    height, width = IMAGE_SIZE
    proc = workspace.start(f"ros2 launch vla_ros deploy.launch.py policy_path:={reach_policy} "
                           f"image_size:={width}x{height} task:='{TASKS[0]}'", log)
    try:
        wait_for_output(proc, log, r"\[smolvla_policy\].*enabled", timeout_s=400)
        yield Deploy(workspace, log, proc)
    finally:
        if proc.poll() is None:
            code = interrupt(proc, timeout_s=90)
            text = log.read_text()
            assert code == 0, text[-5000:]
            assert "escalating to" not in text, text[-5000:]
            assert "stopped; torque off" in text, text[-5000:]


def test_every_node_is_up_and_every_stream_flows(deploy: Deploy) -> None:
    deadline, nodes = time.monotonic() + 60, set()
    while not set(NODES) <= nodes and time.monotonic() < deadline:
        nodes = set(deploy.ws.run("ros2 node list --no-daemon --spin-time 3").stdout.split())
    assert set(NODES) <= nodes, f"missing nodes: {set(NODES) - nodes}"
    for topic in STREAMS:
        out = ros2_until(deploy.ws, f"ros2 topic echo --once --no-arr {topic}", r"header:", timeout_s=60)
        assert "stamp:" in out, out
    hz = deploy.ws.run("timeout -s INT 8 ros2 topic hz /joint_commands", timeout=30).stdout
    assert "average rate" in hz, hz


def test_policy_status_decodes_as_policy_status_running(deploy: Deploy) -> None:
    out = ros2_until(deploy.ws, "ros2 topic echo --once /policy/status", r"state_name: RUNNING", timeout_s=90)
    assert f"task: {TASKS[0]}" in out, out
    assert "latency_mean_s:" in out and "queue_depth:" in out, out


def test_param_describe_shows_the_task_description(deploy: Deploy) -> None:
    out = deploy.ws.run("ros2 param describe /smolvla_policy task").stdout
    assert "Parameter name: task" in out and "Type: string" in out, out
    assert "Description:" in out and len(out.split("Description:")[1].split("\n")[0].strip()) > 10, out


def test_param_set_accepts_a_training_task_and_refuses_another(deploy: Deploy) -> None:
    ok = deploy.ws.run(f"ros2 param set /smolvla_policy task '{TASKS[1]}'").stdout
    assert "Set parameter successful" in ok, ok
    ros2_until(deploy.ws, "ros2 topic echo --once /policy/status", f"task: {TASKS[1]}", timeout_s=30)

    refused = deploy.ws.run("ros2 param set /smolvla_policy task 'reach the bleu cube'").stdout
    assert "Setting parameter failed" in refused, refused
    assert TASKS[1] in refused and "closest" in refused.lower(), refused
    kept = deploy.ws.run("ros2 param get /smolvla_policy task").stdout
    assert TASKS[1] in kept, kept
    ros2_until(deploy.ws, "ros2 topic echo --once /policy/status", f"task: {TASKS[1]}", timeout_s=30)


def _motion_rad(make_probe, seconds: float) -> float:
    """Largest joint travel seen on joint_states over ``seconds``."""
    probe = make_probe("")
    states = probe.record(JointState, "joint_states", SENSOR_QOS, keep=10_000)
    probe.wait_for(lambda: len(states) > 5, 30, "joint_states")
    start = len(states)
    time.sleep(seconds)
    positions = np.array([list(m.position) for m in states[start:]])
    probe.close()
    return float(np.ptp(positions, axis=0).max())


def test_estop_service_latches_and_only_an_explicit_release_clears_it(deploy: Deploy, make_probe) -> None:
    ws = deploy.ws
    out = ws.run('ros2 service call /safety/estop std_srvs/srv/SetBool "{data: true}"').stdout
    assert "success=True" in out, out
    ros2_until(ws, "ros2 topic echo --once /safety/status", r"state_name: ESTOP", timeout_s=30)
    time.sleep(1.0)  # the servos settle on the held pose
    moved = _motion_rad(make_probe, 4.0)
    assert moved < 0.02, f"the arm moved {moved:.3f} rad during the e-stop"
    # Still latched: the policy keeps commanding, nothing but the release clears it.
    ros2_until(ws, "ros2 topic echo --once /safety/status", r"estop_latched: true", timeout_s=10)

    out = ws.run('ros2 service call /safety/estop std_srvs/srv/SetBool "{data: false}"').stdout
    assert "success=True" in out, out
    status = ros2_until(ws, "ros2 topic echo --once /safety/status", r"estop_latched: false", timeout_s=30)
    assert "state_name: ESTOP" not in status, status
