"""The ROS 2 user's path, walked with the real tools: a colcon workspace built as the README's "A ROS 2
workspace" section says, sourced as a user sources it, and ``ros2 launch/run/topic/param/service``
from ros2cli and launch_ros (built from ../shared/ros2_tools by scripts/setup_test_tools.sh).

Here the project's venv stands in for ``/opt/ros/<distro>`` plus the venv of ``scripts/ros_venv.sh``:
it has ROS 2 Kilted's core from PyPI and lerobot, so "sourcing ROS" is ``AMENT_PREFIX_PATH`` and
``PATH``; the workspace's own ``install/setup.bash`` is sourced for real.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)
ROS2 = VENV / "bin" / "ros2"

# The `ros2` commands of the README, as the tests run them (test_readme_ros2_commands_are_tested
# checks that the README shows no other). `...` stands for the launch arguments a test adds.
README_COMMANDS = (
    "ros2 launch vla_ros deploy.launch.py",
    "ros2 launch vla_ros record.launch.py",
    "ros2 launch vla_ros view.launch.py",
    "ros2 launch vla_ros deploy.launch.py --show-args",
    "ros2 run vla_ros",
    "ros2 topic echo --once /policy/status",
    "ros2 param describe /smolvla_policy task",
    "ros2 param set /smolvla_policy task",
    "ros2 param get /smolvla_policy task",
    "ros2 service call /safety/estop std_srvs/srv/SetBool",
    "ros2 node list",
    "ros2 topic hz",
)


def require_ros2_tools() -> None:
    """Skip, saying why, when the real ROS 2 tools are not installed in this environment."""
    if not ROS2.is_file():
        pytest.skip(f"the real ros2 CLI is not in {VENV}/bin: scripts/setup_test_tools.sh installs it from "
                    "../shared/ros2_tools (absent here)")


def colcon_build(base: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``colcon build --packages-select vla_ros`` in the workspace ``base`` (whose src/vla_ros links to the
    checkout), with this interpreter as the nodes' Python, as the README says."""
    (base / "src").mkdir(parents=True, exist_ok=True)
    link = base / "src" / "vla_ros"
    if not link.exists():
        # CMake refuses exported include paths inside the source tree, and the venv may live there.
        link.symlink_to(ROOT)
    return subprocess.run(
        [str(VENV / "bin" / "colcon"), "build", "--packages-select", "vla_ros", "--event-handlers",
         "console_direct-", "--cmake-args", "-DBUILD_TESTING=OFF", f"-DPython3_EXECUTABLE={sys.executable}"],
        cwd=base, env=env, capture_output=True, text=True, timeout=900, check=False,
    )


def ros_env(home: Path) -> dict[str, str]:
    """The shell environment of a user who has sourced ROS (here: the venv) before the workspace."""
    return dict(os.environ, AMENT_PREFIX_PATH=str(VENV), CMAKE_PREFIX_PATH=str(VENV), VIRTUAL_ENV=str(VENV),
                PATH=f"{VENV / 'bin'}:{os.environ.get('PATH', '')}", VLA_ROS_HOME=str(home),
                PYTHONUNBUFFERED="1", RCUTILS_COLORIZED_OUTPUT="0")


@dataclass
class Workspace:
    """A built colcon workspace and the environment of a shell that sourced it."""

    root: Path
    env: dict[str, str]
    logs: list[IO[str]] = field(default_factory=list)
    graphs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def shell(self, command: str) -> list[str]:
        return ["bash", "-c", f"source {self.root}/install/setup.bash && {command}"]

    def run(self, command: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """Run ``command`` in the sourced shell; output captured (stderr folded into stdout)."""
        return subprocess.run(self.shell(command), cwd=self.root, env=self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)

    def start(self, command: str, log: Path) -> subprocess.Popen[bytes]:
        """Start ``command`` (exec'd by the sourced shell) in its own session, output into ``log``.

        A ``ros2 launch`` first stops any earlier graph of this workspace still running: the graphs share
        the default namespace (and the simulated arm's port), and a fixture's finalizer can be skipped
        (seen in CI: pytest-rerunfailures re-created a module fixture after a failed teardown without
        finalizing the first, whose graph then failed every later test of the session)."""
        if command.startswith("ros2 launch"):
            for proc in self.graphs:
                _stop(proc)
        out = open(log, "w")  # noqa: SIM115 - closed by close()
        self.logs.append(out)
        proc = subprocess.Popen(self.shell(f"exec {command}"), cwd=self.root, env=self.env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        if command.startswith("ros2 launch"):
            self.graphs.append(proc)
        return proc

    def close(self) -> None:
        for proc in self.graphs:
            _stop(proc)
        for out in self.logs:
            out.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT a still-running graph, then kill its session after 60 s."""
    if proc.poll() is not None:
        return
    print(f"ros2_testlib: stopping a graph left running: {proc.args[-1][-200:]}", file=sys.stderr)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def wait_for_output(proc: subprocess.Popen[bytes], log: Path, pattern: str, timeout_s: float) -> str:
    """Wait until ``log`` matches ``pattern`` (regex); fail with the log's tail if the process ends first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if re.search(pattern, text):
            return text
        assert proc.poll() is None, f"exited with {proc.returncode} before {pattern!r}:\n{text[-6000:]}"
        time.sleep(0.5)
    raise AssertionError(f"no {pattern!r} within {timeout_s:g} s:\n{log.read_text(errors='replace')[-6000:]}")


def interrupt(proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> int:
    """SIGINT to the process alone (``kill -INT``), as a supervisor or a script stops ``ros2 launch``."""
    proc.send_signal(signal.SIGINT)
    return proc.wait(timeout=timeout_s)


def ros2_until(ws: Workspace, command: str, pattern: str, timeout_s: float = 60.0) -> str:
    """Run a ``ros2`` command until its output matches ``pattern`` (discovery takes a moment)."""
    deadline = time.monotonic() + timeout_s
    out = ""
    while time.monotonic() < deadline:
        out = ws.run(command, timeout=max(10.0, deadline - time.monotonic())).stdout
        if re.search(pattern, out):
            return out
        time.sleep(1.0)
    raise AssertionError(f"`{command}` never matched {pattern!r}; last output:\n{out[-3000:]}")
