"""The reach policy shipped in the share (``policies/so101_reach_cubes``, issue #17): whole, within the
size limit, read by the policy node's own checks (files, SmolVLA config, bundled VLM, contract, tasks),
its weights loading into lerobot's SmolVLA, and what its closed-loop report says it is. That it reaches
the named cube in simulation is tested through ``ros2 launch`` (``test/ros2cli/test_ros2_demo.py``)."""

from __future__ import annotations

import json

import pytest

from vla_ros.bringup.demo import image_size_of
from vla_ros.closed_loop.ship import MAX_SHIPPED_BYTES, REPORT_FILES
from vla_ros.closed_loop.shipped import SHIPPED_REPORT, trained_scene
from vla_ros.evaluate.config import DEFAULT_TASKS
from vla_ros.paths import shipped_policy_dir
from vla_ros.policy.checkpoint import inspect_checkpoint, load_policy
from vla_ros.policy.guards import check_task

SHIPPED = shipped_policy_dir()


def test_the_shipped_policy_is_whole_and_small() -> None:
    files = [p for p in SHIPPED.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"model.safetensors", "config.json", SHIPPED_REPORT, *REPORT_FILES.values()} <= names, names
    assert sum(p.stat().st_size for p in files) <= MAX_SHIPPED_BYTES


def test_the_shipped_policy_passes_its_own_checks_and_loads() -> None:
    info = inspect_checkpoint(SHIPPED)
    assert info.vlm_dir == str(SHIPPED / "vlm"), info.vlm_dir  # bundled: nothing to download
    assert sorted(info.tasks) == sorted(DEFAULT_TASKS), info.tasks_source
    assert all(check_task(task, info.tasks) is None for task in DEFAULT_TASKS)
    assert info.fps == 30 and info.state_dim == info.action_dim == 6
    loaded = load_policy(info)
    assert sum(p.numel() for p in loaded.policy.parameters()) > 0


def test_the_shipped_report_names_the_scene_and_image_size_it_was_trained_at() -> None:
    report = json.loads((SHIPPED / SHIPPED_REPORT).read_text())
    assert report["config"]["image_size"] == image_size_of(SHIPPED)
    assert trained_scene(SHIPPED) == {"cube_layout": report["config"]["cube_layout"],
                                      "swap_slots": str(report["config"]["swap_slots"]).lower()}
    trained = report["conditions"]["trained"]["per_task"]
    assert set(trained) == set(DEFAULT_TASKS)
    assert min(t["success_rate"] for t in trained.values()) > 0, trained
    # shipped by --ship-to, so every check passed, in the scene where only words and image together tell
    # which cube is named (colours swapping slots, two recordings: words first, then the image)
    assert report["config"]["swap_slots"] and report["config"]["image_stage_episodes"] > 0, report["config"]
    assert report["checks"] and all(report["checks"].values()), report["checks"]


@pytest.mark.parametrize("task", DEFAULT_TASKS)
def test_the_shipped_policy_refuses_a_reworded_task(task: str) -> None:
    from vla_ros.policy.errors import TaskRefusedError

    with pytest.raises(TaskRefusedError, match="closest training task"):
        check_task(task.replace("reach", "touch"), inspect_checkpoint(SHIPPED).tasks)
