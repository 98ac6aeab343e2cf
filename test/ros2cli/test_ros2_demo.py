"""`ros2 launch vla_ros deploy.launch.py demo:=true` from a colcon install, as a newcomer runs it: the
policy the closed loop shipped (``policies/so101_reach_cubes``, installed into the share by CMake), the
simulator in the scene named in its report and at its image size, episodes one after another, one line
each, at least one reaching the named cube, and `duration:=` ending the graph cleanly with the
evaluator's success per instruction and the monitor's rate summary."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ros2_testlib import Workspace, ros2_until, wait_for_output

from vla_ros.bringup.demo import image_size_of
from vla_ros.closed_loop.shipped import SHIPPED_REPORT
from vla_ros.paths import shipped_policy_dir

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

EPISODE = re.compile(r'episode (\d+): "(reach the (?:red|blue) cube)": (success|failure|error)')


def test_demo_runs_the_shipped_policy_in_its_scene_reaches_and_stops_cleanly(
        workspace: Workspace, tmp_path: Path) -> None:
    scene = json.loads((shipped_policy_dir() / SHIPPED_REPORT).read_text())["config"]
    width = image_size_of(shipped_policy_dir()).split("x")[0]
    log = tmp_path / "demo.log"
    proc = workspace.start(f"ros2 launch vla_ros deploy.launch.py demo:=true duration:=120 "
                           f"eval_output:={tmp_path / 'demo'}", log)
    try:
        wait_for_output(proc, log, r"\[sim_evaluator\].*graph ready", timeout_s=400)
        for name, value in (("cube_layout", f"String value is: {scene['cube_layout']}"),
                            ("swap_slots", f"Boolean value is: {scene['swap_slots']}"),
                            ("image_width", f"Integer value is: {width}")):
            ros2_until(workspace, f"ros2 param get /so101_sim {name}", re.escape(value), timeout_s=60)
        wait_for_output(proc, log, r"overall \d+/\d+", timeout_s=400)
        assert proc.wait(timeout=120) == 0, log.read_text(errors="replace")[-5000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text(errors="replace")
    assert f"share/vla_ros/policies/{shipped_policy_dir().name}" in text, text[:5000]  # the installed copy
    episodes = EPISODE.findall(text)
    assert {task for _, task, _ in episodes} == {"reach the red cube", "reach the blue cube"}, text[-5000:]
    assert [int(n) for n, _, _ in episodes] == list(range(1, len(episodes) + 1)), episodes
    assert "success" in [outcome for _, _, outcome in episodes], episodes
    assert re.search(r"summary over [\d.]+ s after the first chunk", text), text[-3000:]
    assert "stopped; torque off" in text and "escalating to" not in text, text[-5000:]
