"""The closed loop's report from real ``sim_evaluator`` results files (written with the evaluator's own
classes from scored trackers), its checks, table and figures."""

import json

import numpy as np
import pytest

from vla_ros.closed_loop.config import ClosedLoopConfig
from vla_ros.closed_loop.report import build_report, format_report, guard_message, write_report
from vla_ros.closed_loop.stages import RunPaths
from vla_ros.errors import ConfigError
from vla_ros.evaluate.scoring import EpisodeResult, EvaluationResults, ReachTracker, plan_episodes
from vla_ros.evaluate.trace import EpisodeTrace

TASKS = ["reach the red cube", "reach the blue cube"]
CUBES = {"red": np.array([0.23, 0.03, 0.0125]), "blue": np.array([0.23, -0.10, 0.0125])}


def _write_results(out, *, reach, exchange=False, trace=False):
    """Evaluation episodes whose gripper ends at ``reach(plan)`` ('red', 'blue' or None: in between)."""
    results = EvaluationResults(planned_episodes=4)
    for plan in plan_episodes(TASKS, ["red", "blue"], 2, exchange_tasks=exchange):
        tracker = ReachTracker(plan.target_named)
        goal = reach(plan)
        end = CUBES[goal] + [0, 0, 0.005] if goal else np.array([0.15, 0.0, 0.1])
        for t in np.linspace(0.0, 4.0, 9):
            tracker.update(t, np.array([0.1, 0.0, 0.15]) + (end - [0.1, 0.0, 0.15]) * t / 4, CUBES)
        episode = EpisodeResult.from_plan(plan)
        episode.score(tracker, 0.0)
        results.episodes.append(episode)
        if trace and plan.index == 0:
            rec = EpisodeTrace(plan, 0.0, 4.0, ["front", "wrist"], 4)
            for t in np.linspace(0, 4, 20):
                rec.add_joint_state(t, np.full(6, t / 10))
                rec.add_command(t, np.full(6, t / 10 + 0.01))
                for cam in ("front", "wrist"):
                    if rec.wants_frame(cam, t):
                        rec.add_frame(cam, t, np.full((12, 16, 3), int(t * 50), np.uint8))
            results.episode_files[plan.index] = rec.save(out, tracker).name
    results.save(out)


def _run(tmp_path, exchanged_follows=True):
    paths = RunPaths(tmp_path)
    _write_results(paths.eval_dir("trained"), reach=lambda p: p.target_named, trace=True)
    follows = (lambda p: p.target_named) if exchanged_follows else (lambda p: p.scene_target)
    _write_results(paths.eval_dir("instructions_exchanged"), reach=follows, exchange=True)
    _write_results(paths.eval_dir("cameras_swapped_allowed"), reach=lambda p: None)
    _write_results(paths.eval_dir("random_baseline"), reach=lambda p: None if p.index else "red")
    log = paths.logs / "evaluate_cameras_swapped.log"
    log.parent.mkdir(parents=True)
    log.write_text("[smolvla_policy] [FATAL] refusing to start: camera_map disagrees with the cameras the "
                   "policy was trained on: front feeds observation.images.camera2\n")
    guards = {"cameras_swapped": guard_message(log)}
    return paths, build_report(ClosedLoopConfig(output_dir=str(tmp_path)), paths,
                               {"record": 100.0, "train": 300.0}, guards)


def test_report_measures_each_condition_and_passes_the_checks(tmp_path):
    paths, report = _run(tmp_path)
    conds = report["conditions"]
    assert conds["trained"]["per_task"]["reach the red cube"]["success_rate"] == 1.0
    assert conds["random_baseline"]["success_rate"] == 0.25
    assert conds["cameras_swapped"]["status"] == "refused_by_guard"
    assert conds["cameras_swapped_allowed"]["success_rate"] == 0.0
    checks = report["checks"]
    assert checks["above_baseline"] and checks["follows_instruction"] and checks["camera_swap_caught"]
    assert checks["instruction_flips"] == 4
    assert report["total_s"] == 400.0
    write_report(report, paths)
    assert json.loads((tmp_path / "report.json").read_text())["checks"] == checks
    for png in ("episode.png", "success.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    text = format_report(report)
    assert "refused before the arm moved" in text and "'reach the red cube': 100% (2)" in text


def test_a_policy_that_ignores_the_instruction_fails_the_check(tmp_path):
    _, report = _run(tmp_path, exchanged_follows=False)
    assert not report["checks"]["follows_instruction"] and report["checks"]["instruction_flips"] == 0


def test_missing_results_are_reported_not_hidden(tmp_path):
    report = build_report(ClosedLoopConfig(output_dir=str(tmp_path)), RunPaths(tmp_path), {}, {})
    assert report["conditions"]["trained"]["status"] == "failed"
    assert not report["checks"]["above_baseline"] and report["checks"]["camera_swap_caught"] is False


def test_guard_message_needs_the_refusal(tmp_path):
    log = tmp_path / "x.log"
    log.write_text("refusing to start: no calibration\n")
    assert guard_message(log) == "" and guard_message(tmp_path / "absent.log") == ""


@pytest.mark.parametrize("kwargs, fragment", [
    ({"image_size": "128"}, "WIDTHxHEIGHT"), ({"steps": 0}, "steps"),
    ({"cube_layout": "grid"}, "cube_layout")])
def test_config_refuses_bad_values(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        ClosedLoopConfig(**kwargs)


def test_every_condition_name_is_defined_once():
    from vla_ros.closed_loop.config import CONDITION_NAMES
    from vla_ros.closed_loop.stages import CONDITIONS

    assert tuple(c.name for c in CONDITIONS) == CONDITION_NAMES
