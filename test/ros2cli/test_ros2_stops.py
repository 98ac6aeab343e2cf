"""Clean stops, as users stop graphs: SIGINT to `ros2 launch` on a loaded machine (every node exits
within launch's SIGINT grace, torque off), and `vla-ros launch` killed outright (nothing survives it,
and the next launch finds the simulator's port free)."""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import IMAGE_SIZE, TASKS
from ros2_testlib import VENV, Workspace, interrupt, wait_for_output

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _args(policy: Path) -> list[str]:
    height, width = IMAGE_SIZE
    return [f"policy_path:={policy}", f"image_size:={width}x{height}", f"task:={TASKS[0]}"]


def test_sigint_stops_ros2_launch_within_the_grace_on_a_loaded_machine(
        workspace: Workspace, reach_policy: Path, tmp_path: Path) -> None:
    log = tmp_path / "launch.log"
    proc = workspace.start(f"ros2 launch vla_ros deploy.launch.py {shlex.join(_args(reach_policy))}", log)
    burners = []
    try:
        wait_for_output(proc, log, r"\[smolvla_policy\].*enabled", timeout_s=400)
        time.sleep(3.0)  # inference running
        burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(1)]
        time.sleep(2.0)
        start = time.monotonic()
        code = interrupt(proc, timeout_s=120)
        took = time.monotonic() - start
    finally:
        for burner in burners:
            burner.kill()
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    print(f"ros2 launch stopped in {took:.1f} s with a competing process spinning a core")
    assert code == 0, text[-5000:]
    assert "escalating to" not in text, text[-5000:]
    assert "stopped; torque off" in text, text[-5000:]
    for node in ("so101_sim", "so101_driver", "safety_supervisor", "smolvla_policy", "status_monitor"):
        assert re.search(rf"\[{node}-\d+\]: process has finished cleanly", text), text[-5000:]
    assert "could not disconnect cleanly" not in text, text[-5000:]


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _alive(procs: list[psutil.Process]) -> list[str]:
    alive = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{p.pid} {' '.join(p.cmdline()[:3])}")
        except psutil.NoSuchProcess:
            pass
    return alive


def _vla_ros_launch(reach_policy: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(VENV / "bin" / "vla-ros"), "launch", "deploy", *_args(reach_policy),
                             "monitor:=false"], stdout=open(log, "w"), stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)


def test_killing_vla_ros_launch_leaves_no_process_and_frees_the_port(
        workspace: Workspace, reach_policy: Path, tmp_path: Path) -> None:
    first_log = tmp_path / "first.log"
    launcher = _vla_ros_launch(reach_policy, workspace.env, first_log)
    try:
        wait_for_output(launcher, first_log, r"\[smolvla_policy\].*enabled", timeout_s=400)
        children = _descendants(launcher.pid)
        assert len(children) >= 5, [c.cmdline()[:2] for c in children]
        launcher.send_signal(signal.SIGKILL)
        launcher.wait(timeout=10)
        deadline = time.monotonic() + 10.0
        while _alive(children) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = _alive(children)
    finally:
        for child in _descendants(launcher.pid) if launcher.poll() is None else []:
            child.kill()
    assert not left, f"processes left 10 s after the launcher was killed: {left}"

    second_log = tmp_path / "second.log"
    again = _vla_ros_launch(reach_policy, workspace.env, second_log)
    try:
        text = wait_for_output(again, second_log, r"\[so101_driver\].*connected to", timeout_s=300)
        assert "exists and is not a symlink" not in text
    finally:
        again.send_signal(signal.SIGINT)
        code = again.wait(timeout=60)
    assert code == 0, second_log.read_text()[-5000:]
