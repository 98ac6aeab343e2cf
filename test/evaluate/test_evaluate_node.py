"""``sim_evaluator`` over real DDS against the real deploy graph in simulation (nothing mocked: the
simulated arm is the MuJoCo world behind the emulated servo bus; the policy is a tiny random-weight
SmolVLA, which is not expected to succeed: these tests check the evaluation's mechanics)."""

import math
import os
import time
from pathlib import Path

import numpy as np
import pytest
from ros_testlib import NodeProcess

from vla_ros.evaluate.config import DEFAULT_TASKS
from vla_ros.evaluate.scoring import SCHEMA, EvaluationResults

pytestmark = pytest.mark.timeout(400)

EPISODE_S = 3.0


def _run(graph, name, **params):
    """Run a sim_evaluator in the graph's namespace until it exits; returns (status, output, out dir)."""
    out = graph["tmp"] / name
    node = NodeProcess("sim_evaluator", graph["tmp"] / f"{name}.log", graph["namespace"], output_dir=str(out),
                       **params)
    status = node.wait(300)
    node.stop()
    assert status is not None, f"{name} did not finish:\n{node.output()[-5000:]}\n{graph['logs']()}"
    return status, node.output(), out


def test_episodes_against_the_deploy_graph(deploy_graph):
    status, output, out = _run(deploy_graph, "run", episodes_per_task=2, episode_duration_s=EPISODE_S,
                               record_episode=0, frames_per_camera=6, startup_timeout_s=180.0)
    assert status == 0, output[-5000:] + "\n" + deploy_graph["logs"]()
    assert "episode 4/4 reach the blue cube:" in output, output[-3000:]

    results = EvaluationResults.load(out / "results.json")
    assert results.complete and results.planned_episodes == 4
    assert results.checkpoint_id and str(deploy_graph["checkpoint"].name) in results.checkpoint_id
    episodes = results.episodes
    assert [e.task for e in episodes] == [*DEFAULT_TASKS, *DEFAULT_TASKS]
    assert [e.target_named for e in episodes] == ["red", "blue", "red", "blue"]
    for e in episodes:
        assert not e.refused and not e.error, e
        assert e.policy_task == e.task, "the policy did not take the task"  # reported on policy/status
        assert e.samples >= 0.5 * EPISODE_S * 10 and e.duration_s >= EPISODE_S, e
        distances = [e.min_distance_named_m, e.final_distance_named_m, e.min_distance_other_m,
                     e.final_distance_other_m]
        assert all(d is not None and math.isfinite(d) and 0 <= d < 1.0 for d in distances), e
        assert set(e.min_distance_m) == {"red", "blue"}
        assert e.success == (e.min_distance_named_m <= 0.02)
        assert e.reset_message.startswith("episode "), e.reset_message
    assert len({e.reset_message for e in episodes}) == 4  # one simulator reset per episode
    doc_summary = results.to_json()["summary"]["per_task"]
    assert set(doc_summary) == set(DEFAULT_TASKS) and all(s["episodes"] == 2 for s in doc_summary.values())

    assert results.episode_files == {0: "episode_000.npz"}
    with np.load(out / "episode_000.npz", allow_pickle=False) as npz:
        data = {k: npz[k] for k in npz.files}
    assert str(data["task"]) == DEFAULT_TASKS[0]
    for key in ("joint_state", "command"):
        times, positions = data[f"{key}_time_s"], data[f"{key}_position_rad"]
        assert len(times) >= 5 and positions.shape == (len(times), 6), key
        assert times.min() >= 0 and times.max() <= EPISODE_S + 0.01 and np.all(np.isfinite(positions)), key
    assert data["distance_m"].shape[1] == 2 and len(data["distance_time_s"]) == episodes[0].samples
    for cam in ("front", "wrist"):
        frames = data[f"frames_{cam}"]
        assert 3 <= len(frames) <= 6 and frames.shape[1:] == (72, 96, 3) and frames.dtype == np.uint8, cam
        assert frames.std() > 1.0, f"{cam} frames are blank"
        assert np.all(np.diff(data[f"frame_time_s_{cam}"]) > 0)
    assert "policy" in deploy_graph["nodes"] and deploy_graph["nodes"]["policy"].proc.poll() is None


def test_exchanged_instructions_are_given_and_scored_as_given(deploy_graph):
    status, output, out = _run(deploy_graph, "exchanged", episodes_per_task=1, exchange_tasks=True,
                               episode_duration_s=1.0, record_episode=-1)
    assert status == 0, output[-5000:] + "\n" + deploy_graph["logs"]()
    episodes = EvaluationResults.load(out).episodes
    assert [(e.scene_target, e.target_named, e.task) for e in episodes] == [
        ("red", "blue", "reach the blue cube"), ("blue", "red", "reach the red cube")]
    for e in episodes:
        assert e.exchanged and e.policy_task == e.task and e.samples > 0 and not e.refused, e


def test_a_task_the_policy_refuses_stops_the_run_with_the_reason(deploy_graph):
    status, output, out = _run(deploy_graph, "refused", episodes_per_task=1, tasks=["reach the green cube"],
                               targets=["green"], episode_duration_s=1.0, record_episode=-1)
    assert status == 1, output[-3000:]
    results = EvaluationResults.load(out)
    assert not results.complete and results.episodes == []
    assert "refused the task 'reach the green cube'" in results.run_error, results.run_error
    assert "evaluation stopped" in output


def test_a_broken_graph_fails_loudly_naming_what_is_missing(tmp_path):
    params_file = Path(__file__).resolve().parents[2] / "config" / "sim_evaluator.yaml"
    node = NodeProcess("sim_evaluator", tmp_path / "alone.log", f"/nothing_here_{os.getpid()}",
                       "--params-file", str(params_file), output_dir=str(tmp_path / "out"),
                       startup_timeout_s=3.0)
    status = node.wait(120)
    node.stop()
    output = node.output()
    assert status == 1, output
    assert "still missing" in output and "service policy/enable" in output and "topic sim/objects" in output
    assert "20 episodes of 20 s" in output  # the shipped parameter file was read
    doc = (tmp_path / "out" / "results.json").read_text()
    assert SCHEMA in doc and "still missing" in doc


def test_continuous_episodes_alternate_until_stopped_then_summarise(deploy_graph):
    out = deploy_graph["tmp"] / "continuous"
    node = NodeProcess("sim_evaluator", deploy_graph["tmp"] / "continuous.log", deploy_graph["namespace"],
                       output_dir=str(out), continuous=True, episodes_per_task=1, episode_duration_s=1.0,
                       record_episode=-1)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and 'episode 3: "' not in node.output():
        assert node.proc.poll() is None, node.output()[-5000:]
        time.sleep(0.5)
    status = node.stop(60)
    output = node.output()
    assert status == 0, output[-5000:]
    lines = [line.split("]: ", 1)[-1] for line in output.splitlines() if ']: episode ' in line]
    assert [line.split(":")[0] for line in lines[:3]] == ["episode 1", "episode 2", "episode 3"], lines
    assert [line.split('"')[1] for line in lines[:3]] == [*DEFAULT_TASKS, DEFAULT_TASKS[0]], lines
    assert all(" cm" in line and (": success (" in line or ": failure (" in line) for line in lines), lines
    results = EvaluationResults.load(out)
    assert len(results.episodes) >= 3 and not results.run_error, results.run_error
    assert "overall " in output
