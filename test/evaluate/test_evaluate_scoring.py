"""The evaluation's scoring core: episode plan, reach tracking, records, summaries, results.json."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from vla_ros.errors import BadInputError, ConfigError
from vla_ros.evaluate.scoring import (
    RESULTS_FILE,
    SCHEMA,
    EpisodePlan,
    EpisodeResult,
    EvaluationResults,
    ReachTracker,
    plan_episodes,
    summarize,
)
from vla_ros.sim.task import SUCCESS_TOLERANCE_M

TASKS = ["reach the red cube", "reach the blue cube"]
TARGETS = ["red", "blue"]
RED = np.array([0.20, 0.05, 0.0125])
BLUE = np.array([0.20, -0.08, 0.0125])


def at(base, dx=0.0, dz=0.0):
    """A point offset from ``base`` along x and z, m."""
    return base + np.array([dx, 0.0, dz])


def test_plan_interleaves_the_targets():
    plans = plan_episodes(TASKS, TARGETS, 3)
    assert [p.index for p in plans] == list(range(6))
    assert [p.target_named for p in plans] == ["red", "blue"] * 3
    assert [p.task for p in plans] == TASKS * 3
    assert all(p.scene_target == p.target_named and not p.exchanged for p in plans)


def test_exchanged_plan_gives_the_other_instruction_and_scores_against_it():
    plans = plan_episodes(TASKS, TARGETS, 2, exchange_tasks=True)
    assert [p.scene_target for p in plans] == ["red", "blue", "red", "blue"]
    assert [p.target_named for p in plans] == ["blue", "red", "blue", "red"]
    assert [p.task for p in plans] == ["reach the blue cube", "reach the red cube"] * 2
    assert all(p.exchanged for p in plans)


def test_plan_reports_every_problem_at_once():
    with pytest.raises(ConfigError) as err:
        plan_episodes(["a", "a", "b"], ["red", ""], 0)
    text = str(err.value)
    for part in ("same length", "empty name", "twice", "episodes_per_task=0"):
        assert part in text, text
    with pytest.raises(ConfigError, match="exchange_tasks needs at least two targets"):
        plan_episodes(["reach the red cube"], ["red"], 1, exchange_tasks=True)


@pytest.mark.parametrize(("offset_m", "expect"), [
    (0.0, True),
    (SUCCESS_TOLERANCE_M * 0.999, True),
    (SUCCESS_TOLERANCE_M * 1.001, False),
    (0.10, False),
])
def test_success_follows_the_shared_two_centimetre_rule(offset_m, expect):
    tracker = ReachTracker("red")
    tracker.update(1.0, at(RED, dz=offset_m), {"red": RED, "blue": BLUE})
    assert tracker.success is expect
    assert tracker.min_distance_m()["red"] == pytest.approx(offset_m)


def test_tracker_keeps_min_final_first_reach_and_the_other_cube():
    tracker = ReachTracker("blue")
    path = [(10.0, at(RED, dz=0.15)), (10.5, at(RED, dz=0.01)), (11.0, at(BLUE, dz=0.05)),
            (11.5, at(BLUE, dx=0.005)), (12.0, at(BLUE, dz=0.03))]
    for t, gripper in path:
        tracker.update(t, gripper, {"red": RED, "blue": BLUE})
    assert tracker.samples == 5 and tracker.success
    assert tracker.reached == {"red": True, "blue": True}
    assert tracker.first_reach_s == {"red": 10.5, "blue": 11.5}
    assert tracker.min_distance_m()["blue"] == pytest.approx(0.005)
    assert tracker.final_distance_m()["blue"] == pytest.approx(0.03)
    assert tracker.others() == ["red"]
    times, series = tracker.series()
    np.testing.assert_allclose(times, [t for t, _ in path])
    assert series["red"].shape == (5,) and series["red"].min() == pytest.approx(0.01)

    result = EpisodeResult.from_plan(EpisodePlan(3, "reach the blue cube", "blue", "blue"))
    result.score(tracker, start_s=10.0)
    assert result.success and result.other_reached
    assert result.time_to_success_s == pytest.approx(1.5)
    assert result.min_distance_named_m == pytest.approx(0.005)
    assert result.final_distance_named_m == pytest.approx(0.03)
    assert result.min_distance_other_m == pytest.approx(0.01)
    assert result.final_distance_other_m == pytest.approx(np.linalg.norm(at(BLUE, dz=0.03) - RED))
    assert result.outcome().startswith("success (min 0.005 m to blue, 0.010 m to red; reached another cube")


def test_tracker_rejects_bad_samples_without_recording_them():
    tracker = ReachTracker("red")
    with pytest.raises(BadInputError, match="no 'red' cube"):
        tracker.update(0.0, RED, {"blue": BLUE})
    with pytest.raises(BadInputError, match="gripper"):
        tracker.update(0.0, [0.0, math.nan, 0.0], {"red": RED})
    with pytest.raises(BadInputError, match="cube 'blue'"):
        tracker.update(0.0, RED, {"red": RED, "blue": [1.0, 2.0]})
    assert tracker.samples == 0 and not tracker.success and tracker.min_distance_m() == {}
    tracker.update(0.0, RED, {"red": RED, "blue": BLUE})
    with pytest.raises(BadInputError, match="cubes changed"):
        tracker.update(0.1, RED, {"red": RED})
    assert tracker.samples == 1


def _episode(index, task, target, success, other=False, refused=False, min_named=0.05):
    result = EpisodeResult(index, task, target, target, success=success, other_reached=other, refused=refused)
    if not refused:
        result.min_distance_named_m = min_named
        result.samples = 10
    else:
        result.refusal = "start state refused: shoulder_pan out of range"
    return result


def test_summary_per_instruction_counts_refusals_as_failures():
    episodes = [_episode(0, TASKS[0], "red", True, min_named=0.01),
                _episode(1, TASKS[1], "blue", False, other=True, min_named=0.09),
                _episode(2, TASKS[0], "red", False, refused=True),
                _episode(3, TASKS[1], "blue", True, min_named=0.015)]
    per_task, overall = summarize(episodes)
    assert list(per_task) == TASKS
    red, blue = per_task[TASKS[0]], per_task[TASKS[1]]
    assert (red.target, red.episodes, red.successes, red.refusals) == ("red", 2, 1, 1)
    assert red.success_rate == 0.5 and red.mean_min_distance_named_m == pytest.approx(0.01)
    assert (blue.successes, blue.other_reached, blue.other_reached_rate) == (1, 1, 0.5)
    assert blue.mean_min_distance_named_m == pytest.approx(0.0525)
    assert (overall.episodes, overall.successes, overall.success_rate) == (4, 2, 0.5)
    assert episodes[2].outcome() == "refused: start state refused: shoulder_pan out of range"


def test_results_json_roundtrip_is_strict_json(tmp_path):
    plan = plan_episodes(TASKS, TARGETS, 1)
    tracker = ReachTracker("red")
    tracker.update(5.0, at(RED, dz=0.01), {"red": RED, "blue": BLUE})
    scored = EpisodeResult.from_plan(plan[0], reset_message="episode 1: red at (0.2, 0.05)")
    scored.score(tracker, 4.0)
    refused = EpisodeResult.from_plan(plan[1], refused=True, refusal="camera guard")
    results = EvaluationResults(config={"episodes_per_task": 1, "tasks": TASKS}, episodes=[scored, refused],
                                planned_episodes=2, checkpoint_id="/ckpt", wall_s=12.5,
                                started_at="2025-01-01T00:00:00+00:00", episode_files={0: "episode_000.npz"})
    path = results.save(tmp_path / "out")
    assert path == tmp_path / "out" / RESULTS_FILE
    doc = json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert doc["schema"] == SCHEMA and doc["complete"] is True and doc["run_error"] == ""
    assert doc["summary"]["per_task"][TASKS[0]]["success_rate"] == 1.0
    assert doc["summary"]["per_task"][TASKS[1]]["refusals"] == 1
    assert doc["episodes"][1]["min_distance_named_m"] is None
    assert doc["episodes"][0]["time_to_success_s"] == pytest.approx(1.0)
    assert doc["episode_files"] == {"0": "episode_000.npz"}

    back = EvaluationResults.load(tmp_path / "out")
    assert back == results
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_incomplete_and_malformed_results(tmp_path):
    results = EvaluationResults(planned_episodes=4, run_error="smolvla_policy refused the task 'x'")
    assert not results.complete and results.to_json()["complete"] is False
    (tmp_path / "a.json").write_text("{not json")
    with pytest.raises(BadInputError, match="not JSON"):
        EvaluationResults.load(tmp_path / "a.json")
    (tmp_path / "b.json").write_text(json.dumps({"schema": "other/1"}))
    with pytest.raises(BadInputError, match=SCHEMA):
        EvaluationResults.load(tmp_path / "b.json")
    doc = results.to_json()
    doc["episodes"] = [{"index": 0, "task": "t", "target_named": "red", "scene_target": "red", "colour": 1}]
    with pytest.raises(BadInputError, match="unknown fields"):
        EvaluationResults.from_json(doc)


def test_core_modules_leave_rclpy_out():
    code = ("import sys, vla_ros.evaluate.scoring, vla_ros.evaluate.trace, vla_ros.evaluate.config\n"
            "sys.exit(1 if 'rclpy' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
