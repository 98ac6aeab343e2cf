"""The rest of the ROS 2 user's path: rosdep, the venv step, `ros2 launch` of the record and view
graphs, `ros2 run` of every executable, `--show-args`, and the README's `ros2` commands."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import IMAGE_SIZE
from ros2_testlib import README_COMMANDS, ROOT, VENV, Workspace
from ros_testlib import relaxed_convert_config

from vla_ros.bringup.graph import GRAPHS

SHARED = ROOT.parent / "shared"
ROSDEP_CHECK = SHARED / "rosdistro" / "rosdep_check.sh"


def test_every_rosdep_key_resolves_on_humble_jazzy_and_kilted(tmp_path: Path) -> None:
    if not ROSDEP_CHECK.is_file():
        pytest.skip(f"{ROSDEP_CHECK} is absent (../shared not beside the checkout)")
    if shutil.which("rosdep", path=str(VENV / "bin")) is None:
        pytest.skip("rosdep is not installed (the dev extra of setup.py installs it)")
    src = tmp_path / "src" / "vla_ros"
    src.mkdir(parents=True)
    shutil.copy(ROOT / "package.xml", src)  # what `rosdep install --from-paths src` reads
    env = dict(os.environ, PATH=f"{VENV / 'bin'}:{os.environ['PATH']}")
    check = subprocess.run(["bash", str(ROSDEP_CHECK), str(tmp_path / "src")], env=env, capture_output=True,
                           text=True, timeout=300, check=False)
    out = check.stdout + check.stderr
    assert check.returncode == 0, out
    assert out.count("== ") == 3, out
    # Nothing beside the venv step's torch/opencv, and nothing pip-installed into the system Python.
    assert "python3-torch" not in out and "python3-opencv" not in out, out
    assert "pip" not in out, out
    for distro in ("humble", "jazzy", "kilted"):
        assert f"ros-{distro}-rclpy" in out and f"ros-{distro}-launch-ros" in out, out


def _names_in_help(text: str) -> set[str]:
    return set(re.findall(r"^\s+'(\w+)':$", text, flags=re.MULTILINE))


@pytest.mark.parametrize("graph", sorted(GRAPHS))
def test_show_args_lists_the_arguments_of_vla_ros_launch(workspace: Workspace, graph: str) -> None:
    shown = workspace.run(f"ros2 launch vla_ros {graph}.launch.py --show-args", timeout=120).stdout
    help_text = subprocess.run([str(VENV / "bin" / "vla-ros"), "launch", "--help"], capture_output=True,
                               text=True, check=True).stdout
    section = help_text.split(f"\n{graph}:\n")[1].split("\n\n")[0]
    ours = {line.split(":=")[0].strip() for line in section.splitlines() if ":=" in line}
    assert {"namespace", "duration"} <= ours, section
    assert _names_in_help(shown) == ours, shown


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_record_launch_with_the_simulated_expert_records_what_convert_turns_into_a_dataset(
        workspace: Workspace, tmp_path: Path) -> None:
    height, width = IMAGE_SIZE
    log = tmp_path / "record.log"
    bags = tmp_path / "bags"
    proc = workspace.start(f"ros2 launch vla_ros record.launch.py teleop:=expert two_cubes:=true episodes:=2 "
                           f"episode_duration_s:=3 output_dir:={bags} image_size:={width}x{height}", log)
    code = proc.wait(timeout=600)
    text = log.read_text()
    assert code == 0, text[-5000:]
    episodes = sorted(p for p in bags.iterdir() if (p / "metadata.yaml").is_file())
    assert len(episodes) == 2, (list(bags.iterdir()), text[-3000:])
    out = tmp_path / "dataset"
    config = relaxed_convert_config(tmp_path)
    convert = subprocess.run([str(VENV / "bin" / "vla-ros"), "convert", *map(str, episodes), "--out",
                              str(out), "--sim-calibration", "--config", str(config)],
                             capture_output=True, text=True, timeout=600, check=False)
    assert convert.returncode == 0, convert.stdout[-2000:] + convert.stderr[-3000:]
    info = json.loads((out / "meta" / "info.json").read_text())
    assert info["total_episodes"] == 2 and info["total_frames"] > 0, info


def test_view_launch_starts_what_exists_and_names_what_it_skips(workspace: Workspace, tmp_path: Path) -> None:
    log = tmp_path / "view.log"
    proc = workspace.start("ros2 launch vla_ros view.launch.py duration:=8", log)
    code = proc.wait(timeout=120)
    text = log.read_text()
    assert code == 0, text
    assert "skipping robot_state_publisher" in text and "skipping rviz" in text, text
    assert re.search(r"\[chunk_markers-\d+\]: process started", text), text


def _executables() -> list[str]:
    lines = (ROOT / "resource" / "executables.txt").read_text().splitlines()
    return [line.split("=")[0].strip() for line in lines if line.strip() and not line.startswith("#")]


def _wait_until_up_or_gone(proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 60.0) -> None:
    """Until the process has exited, or has logged a line and run 3 s more (imports of torch and lerobot
    take many seconds on a loaded machine; Ctrl-C in the middle of an import is another test)."""
    deadline = time.monotonic() + timeout_s
    while proc.poll() is None and time.monotonic() < deadline:
        if re.search(r"\[(INFO|WARN|ERROR|FATAL)\]|^\S", log.read_text(errors="replace"), re.MULTILINE):
            time.sleep(3.0)
            return
        time.sleep(0.5)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_ros2_run_starts_every_executable_or_refuses_clearly(workspace: Workspace, tmp_path: Path) -> None:
    """Each executable, run bare: it comes up (then stops on Ctrl-C), or refuses with a message and a
    non-zero status (no arm, no checkpoint); never a traceback."""
    problems, outcomes = [], {}
    for batch in (_executables()[i:i + 4] for i in range(0, len(_executables()), 4)):
        procs = {exe: workspace.start(f"ros2 run vla_ros {exe}", tmp_path / f"{exe}.log") for exe in batch}
        for exe, proc in procs.items():
            _wait_until_up_or_gone(proc, tmp_path / f"{exe}.log")
        for exe, proc in procs.items():
            running = proc.poll() is None
            if running:
                os.killpg(proc.pid, signal.SIGINT)
            try:
                code = proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                code = proc.wait()
                problems.append(f"{exe}: did not stop on SIGINT")
            text = (tmp_path / f"{exe}.log").read_text(errors="replace")
            outcomes[exe] = ("ran" if running else f"refused ({code})", text.strip().splitlines()[-1:])
            if "Traceback" in text:
                problems.append(f"{exe}: traceback:\n{text[-2000:]}")
            elif not running and (code == 0 or not text.strip()):
                problems.append(f"{exe}: exited by itself with {code} and output {text[-500:]!r}")
    print(json.dumps(outcomes, indent=1))
    assert not problems, "\n\n".join(problems)


def test_readme_ros2_commands_are_the_ones_the_tests_run() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", readme, flags=re.DOTALL)
    commands = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()
                if line.strip().startswith("ros2 ")]
    assert commands, "the README shows no ros2 command"
    untested = [c for c in commands if not any(c.startswith(t) for t in README_COMMANDS)]
    assert not untested, f"README ros2 commands no test runs: {untested}"


LAUNCH_CHECK = r"""
import sys
from vla_ros.bringup import ros_launch
from vla_ros.bringup.graph import GRAPHS, build_graph
for graph in GRAPHS:
    ros_launch.generate_launch_description(graph)
    for spec in build_graph(graph, {}):
        ros_launch._node_action(spec, "")
venv_only = sorted(m for m in ("torch", "lerobot", "mujoco", "cv2", "transformers", "rosbags")
                   if m in sys.modules)
print("loaded:", venv_only)
sys.exit(1 if venv_only else 0)
"""


def test_launch_files_import_nothing_that_only_the_venv_has() -> None:
    """`ros2 launch` runs the launch files in the ROS install's own Python, which has no lerobot, torch or
    mujoco (scripts/ros_venv.sh puts them in the nodes' venv)."""
    pytest.importorskip("launch_ros", reason="launch_ros is not installed (scripts/setup_test_tools.sh)")
    check = subprocess.run([sys.executable, "-c", LAUNCH_CHECK], capture_output=True, text=True, timeout=120,
                           check=False, env=dict(os.environ, AMENT_PREFIX_PATH=str(VENV)))
    assert check.returncode == 0, check.stdout + check.stderr[-3000:]
