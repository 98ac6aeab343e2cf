"""``vla-ros task/estop/enable/disable/status`` against a running deploy graph (`vla-ros launch deploy` in
simulation with a tiny random-weight checkpoint, autostart off), and each command's error without one.
Real processes over real DDS; nothing is mocked."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from ros_testlib import BIN

from vla_ros.evaluate.config import DEFAULT_TASKS


def vla_ros(*args: str, timeout_s: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "vla-ros"), *args], capture_output=True, text=True, timeout=timeout_s)


@pytest.mark.parametrize("command", [["task", "reach the red cube"], ["estop"], ["estop", "--release"],
                                     ["enable"], ["disable"], ["status"]])
def test_each_command_fails_clearly_without_a_graph(command):
    out = vla_ros(*command, "--namespace", f"nograph{os.getpid()}", "--timeout-s", "0.5")
    assert out.returncode == 1
    assert f"vla-ros {command[0]}: error: no running vla_ros graph offers" in out.stderr
    assert f"namespace '/nograph{os.getpid()}'" in out.stderr


@pytest.fixture
def deploy(tmp_path_factory):
    """A fresh graph per run of the test (a rerun after a failure must not start from its e-stop)."""
    from vla_ros.policy.tiny import make_tiny_policy

    tmp = tmp_path_factory.mktemp("commands")
    ckpt = make_tiny_policy(tmp / "tiny", image_size=(72, 96), fps=15.0, chunk_size=15, tasks=DEFAULT_TASKS,
                            camera_map={"front": "camera1", "wrist": "camera2"}, seed=0)
    ns = f"cmd{os.getpid()}"
    log = (tmp / "launch.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "vla-ros"), "launch", "deploy", f"namespace:={ns}", f"policy_path:={ckpt}",
         "monitor:=false", "autostart:=false", "two_cubes:=true", "image_size:=96x72", "torch_threads:=1",
         f"task:={DEFAULT_TASKS[0]}"],
        stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, VLA_ROS_HOME=str(tmp / "home")),
        start_new_session=True)

    def logs() -> str:
        return (tmp / "launch.log").read_text()[-6000:]

    try:
        end = time.monotonic() + 240
        while time.monotonic() < end and proc.poll() is None:
            out = vla_ros("status", "--namespace", ns, "--timeout-s", "3")
            if "policy DISABLED" in out.stdout and "safety " in out.stdout:
                break
            time.sleep(1.0)
        else:
            pytest.fail(f"the deploy graph did not come up:\n{logs()}")
        yield ns, logs
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def on_graph(ns: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A command to the running graph, waiting long enough for discovery on a loaded machine (a later
    ``--timeout-s`` in ``args`` wins)."""
    return vla_ros(args[0], "--namespace", ns, "--timeout-s", "20", *args[1:])


def status(ns: str) -> str:
    out = on_graph(ns, "status")
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_commands_on_a_running_graph(deploy):
    ns, logs = deploy
    line = status(ns)
    assert f"policy DISABLED task {DEFAULT_TASKS[0]!r}" in line and "e-stop off" in line, line

    out = on_graph(ns, "task", DEFAULT_TASKS[1])
    assert out.returncode == 0 and f"smolvla_policy: task set to {DEFAULT_TASKS[1]!r}" in out.stdout, out
    assert f"task {DEFAULT_TASKS[1]!r}" in status(ns)
    out = on_graph(ns, "task", "dance the macarena")
    assert out.returncode == 1 and "smolvla_policy refused the task:" in out.stdout, out
    assert "use the exact training task" in out.stdout, "the guard's refusal is printed"
    assert f"task {DEFAULT_TASKS[1]!r}" in status(ns), "a refused task changes nothing"

    out = on_graph(ns, "estop")
    assert out.returncode == 0 and "latched" in out.stdout, out
    assert "safety ESTOP e-stop LATCHED" in status(ns)
    out = on_graph(ns, "estop")
    assert out.returncode == 0 and "already latched" in out.stdout, "the e-stop stays latched"
    out = on_graph(ns, "estop", "--release")
    assert out.returncode == 0 and "released" in out.stdout, out
    assert "e-stop off" in status(ns)

    # The simulated arm starts far from the random checkpoint's start states and this graph does not
    # reset it (autostart:=false): the policy's start-state gate refuses, and the command says why.
    out = on_graph(ns, "enable", "--timeout-s", "90")
    assert out.returncode == 1 and "start" in out.stdout and "allowed" in out.stdout, (out, logs())
    assert "policy DISABLED" in status(ns)
    out = on_graph(ns, "disable")
    assert out.returncode == 0, out
    assert "policy DISABLED" in status(ns)

    follow = subprocess.Popen([str(BIN / "vla-ros"), "status", "--follow", "--period-s", "0.5",
                               "--namespace", ns], stdout=subprocess.PIPE, text=True)
    assert follow.stdout is not None
    lines = [follow.stdout.readline() for _ in range(3)]  # one a period once connected
    follow.send_signal(signal.SIGINT)
    lines += follow.communicate(timeout=30)[0].splitlines()
    assert follow.returncode == 0 and all("policy DISABLED" in x for x in lines), lines
