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
    assert checks["trained_success"] and checks["follows_instruction"] and checks["camera_swap_caught"]
    assert checks["uses_vision"] and checks["other_cube_low"]
    assert checks["baseline_low"] is False, "the baseline reached a cube in 1 of 4 episodes (> 10 %)"
    # configured (the default conditions) but without results: missed, never silently skipped
    assert checks["blind_control_fails"] is False and checks["language_blind_control_fails"] is False
    assert report["measures"]["follows_instruction_rate"] == 1.0 and report["measures"]["vision_drop"] == 1.0
    assert report["thresholds"]["trained_success_min"] == 0.8
    assert report["total_s"] == 400.0
    write_report(report, paths)
    assert json.loads((tmp_path / "report.json").read_text())["checks"] == checks
    for png in ("episode.png", "success.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    text = format_report(report)
    assert "refused before the arm moved" in text and "'reach the red cube': 100% (2)" in text


SWAP_REFUSAL = ("camera check: front looks like training's observation.images.camera2 (wrist): 0.91 vs "
                "0.33 for observation.images.camera1 (front); wrist looks like training's "
                "observation.images.camera1 (front): 0.88 vs 0.30 for observation.images.camera2 (wrist) — "
                "devices swapped? (margin 0.58 per camera > 0.15) (camera_check:=refuse)")


def _write_refusals(out, refusal=lambda plan: SWAP_REFUSAL, planned=4):
    """Episodes as ``sim_evaluator`` records them when every ``policy/enable`` attempt is refused: the
    episode is never played (no ground-truth sample, no trace); ``refusal(plan)`` None plays it."""
    results = EvaluationResults(planned_episodes=planned)
    for plan in plan_episodes(TASKS, ["red", "blue"], 2):
        message = refusal(plan)
        if message is None:
            tracker = ReachTracker(plan.target_named)
            tracker.update(0.0, np.array([0.1, 0.0, 0.15]), CUBES)
            episode = EpisodeResult.from_plan(plan, enable_attempts=1)
            episode.score(tracker, 0.0)
        else:
            episode = EpisodeResult.from_plan(plan, refused=True, refusal=message, enable_attempts=2,
                                              earlier_refusals=[message])
        results.episodes.append(episode)
    results.save(out)


def _physical(tmp_path, **kwargs):
    paths = RunPaths(tmp_path)
    _write_refusals(paths.eval_dir("cameras_swapped_physically"), **kwargs)
    cfg = ClosedLoopConfig(output_dir=str(tmp_path), conditions=["cameras_swapped_physically"])
    return paths, build_report(cfg, paths, {}, {})


def test_camera_check_refusals_at_every_enable_count_as_refused_before_moving(tmp_path):
    paths, report = _physical(tmp_path)
    cond = report["conditions"]["cameras_swapped_physically"]
    assert cond["status"] == "refused_by_guard" and cond["refused_at"] == "enable"
    assert cond["episodes"] == 4 and cond["refusals"] == [SWAP_REFUSAL] * 4
    assert report["checks"]["physical_camera_swap_caught"] is True
    assert report["checks"]["camera_swap_caught"] is None
    write_report(report, paths)
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["checks"]["physical_camera_swap_caught"] is True
    assert (tmp_path / "success.png").read_bytes()[:4] == b"\x89PNG"
    text = format_report(report)
    assert "cameras_swapped_physically" in text
    assert "refused before the arm moved (at enable, 4 of 4 episodes): camera check: front looks like" in text
    assert "physical_camera_swap_caught=True" in text


@pytest.mark.parametrize("refusal, planned, status", [
    (lambda plan: None, 4, "evaluated"),  # the policy ran every episode
    (lambda plan: None if plan.index == 2 else SWAP_REFUSAL, 4, "evaluated"),  # one episode ran
    (lambda plan: SWAP_REFUSAL, 6, "incomplete"),  # two planned episodes missing
    (lambda plan: "start state refused: shoulder_lift 0.9 rad from the mean", 4, "refused_by_guard"),
])
def test_physical_swap_not_caught_when_the_policy_ran_or_another_guard_refused(tmp_path, refusal, planned,
                                                                                status):
    _, report = _physical(tmp_path, refusal=refusal, planned=planned)
    assert report["conditions"]["cameras_swapped_physically"]["status"] == status
    assert report["checks"]["physical_camera_swap_caught"] is False
    assert report["offline"] is None and "offline" not in format_report(report)  # the stage did not run


@pytest.mark.parametrize("refused, code", [(True, 0), (False, 1)])
def test_the_run_fails_unless_the_physical_swap_was_refused(tmp_path, capsys, refused, code):
    from vla_ros.closed_loop.cli import main

    _write_refusals(RunPaths(tmp_path).eval_dir("cameras_swapped_physically"),
                    refusal=(lambda plan: SWAP_REFUSAL) if refused else (lambda plan: None))
    argv = ["--output-dir", str(tmp_path), "--from-stage", "report",
            "--conditions", "cameras_swapped_physically"]
    assert main(argv) == code
    out = capsys.readouterr().out
    assert ("was not refused before the arm moved" in out) == (not refused)
    checks = json.loads((tmp_path / "report.json").read_text())["checks"]
    assert checks["physical_camera_swap_caught"] is refused


def test_a_policy_that_ignores_the_instruction_fails_the_check(tmp_path):
    _, report = _run(tmp_path, exchanged_follows=False)
    assert report["checks"]["follows_instruction"] is False
    assert report["measures"]["follows_instruction_rate"] == 0.0


@pytest.mark.parametrize("policy_checks, code", [("fail", 1), ("report", 0)])
def test_the_controls_fail_their_checks_and_a_missed_policy_check_fails_the_run(tmp_path, capsys,
                                                                                 policy_checks, code):
    from vla_ros.closed_loop.cli import main

    paths, _ = _run(tmp_path)
    # nameless instructions: the policy reaches the same cube whichever it is given
    _write_results(paths.eval_dir("language_blind"), reach=lambda p: p.scene_target)
    _write_results(paths.eval_dir("language_blind_exchanged"), reach=lambda p: p.scene_target, exchange=True)
    _write_results(paths.eval_dir("blind"), reach=lambda p: "red")  # frozen images: always the same cube
    argv = ["--output-dir", str(tmp_path), "--from-stage", "report", "--policy-checks", policy_checks,
            "--conditions", "trained", "instructions_exchanged", "cameras_swapped", "blind", "language_blind",
            "language_blind_exchanged", "random_baseline"]
    assert main(argv) == code
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["checks"]["language_blind_control_fails"] and report["checks"]["blind_control_fails"]
    assert report["measures"]["language_blind_follows_rate"] == 0.0
    assert report["measures"]["blind_success_min_rate"] == 0.0 and report["measures"]["vision_drop"] == 0.5
    assert report["checks"]["uses_vision"] and report["checks"]["trained_success"]
    assert "check(s) missed: baseline_low" in out if code else "missed" not in out


def test_missing_results_are_reported_not_hidden(tmp_path):
    report = build_report(ClosedLoopConfig(output_dir=str(tmp_path)), RunPaths(tmp_path), {}, {})
    assert report["conditions"]["trained"]["status"] == "failed"
    assert report["checks"]["trained_success"] is False and report["checks"]["camera_swap_caught"] is False
    assert report["checks"]["physical_camera_swap_caught"] is False


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
