"""Episode traces (episode_NNN.npz) and the evaluator's configuration."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import yaml

from vla_ros.errors import BadInputError, ConfigError
from vla_ros.evaluate.config import DEFAULT_TASKS, SimEvaluatorConfig
from vla_ros.evaluate.scoring import EpisodePlan, ReachTracker
from vla_ros.evaluate.trace import EpisodeTrace, FrameSampler, trace_file_name
from vla_ros.robot.joints import JOINT_NAMES


def test_frame_sampler_keeps_evenly_spaced_frames_and_skips_gaps():
    sampler = FrameSampler(4, start_s=100.0, duration_s=8.0)  # slot middles at 101, 103, 105, 107
    kept = []
    for t in np.arange(100.0, 108.0, 1 / 30):
        if sampler.wants(t):
            sampler.take(t)
            kept.append(t)
    np.testing.assert_allclose(kept, [101, 103, 105, 107], atol=1 / 30)

    gappy = FrameSampler(4, 100.0, 8.0)
    kept = [t for t in (100.5, 101.2, 105.5, 106.0, 107.5) if gappy.wants(t) and gappy.take(t) is None]
    assert kept == [101.2, 105.5, 107.5]  # 105.5 covers the slots at 103 and 105
    assert not FrameSampler(0, 0.0, 1.0).wants(0.5)


def _trace(frames=3):
    plan = EpisodePlan(2, "reach the blue cube", "blue", "red")
    return EpisodeTrace(plan, start_s=50.0, duration_s=3.0, cameras=["front", "wrist"],
                        frames_per_camera=frames)


def test_trace_roundtrip_through_npz(tmp_path):
    trace = _trace()
    rng = np.random.default_rng(0)
    for i in range(30):
        t = 50.0 + i * 0.1
        trace.add_joint_state(t, np.full(6, 0.01 * i))
        if i % 2:
            trace.add_command(t, np.full(6, -0.01 * i))
        for cam in ("front", "wrist"):
            if trace.wants_frame(cam, t):
                trace.add_frame(cam, t, rng.integers(0, 255, (72, 96, 3), dtype=np.uint8))
    tracker = ReachTracker("blue")
    red, blue = np.array([0.2, 0.05, 0.01]), np.array([0.2, -0.05, 0.01])
    for i in range(5):
        gripper = blue + np.array([0.0, 0.0, 0.11 - 0.025 * i])
        tracker.update(50.0 + i * 0.5, gripper, {"red": red, "blue": blue})

    path = trace.save(tmp_path, tracker)
    assert path.name == trace_file_name(2) == "episode_002.npz"
    with np.load(path, allow_pickle=False) as npz:
        data = {k: npz[k] for k in npz.files}
    assert str(data["task"]) == "reach the blue cube" and str(data["scene_target"]) == "red"
    assert bool(data["success"]) and float(data["start_time_s"]) == 50.0
    assert list(data["joint_names"]) == list(JOINT_NAMES)
    assert data["joint_state_position_rad"].shape == (30, 6) and data["command_position_rad"].shape == (15, 6)
    np.testing.assert_allclose(data["joint_state_time_s"][:3], [0.0, 0.1, 0.2])
    assert list(data["cube_names"]) == ["red", "blue"] and data["distance_m"].shape == (5, 2)
    np.testing.assert_allclose(data["distance_m"][-1, 1], 0.01)
    assert list(data["cameras"]) == ["front", "wrist"]
    for cam in ("front", "wrist"):
        assert data[f"frames_{cam}"].shape == (3, 72, 96, 3) and data[f"frames_{cam}"].dtype == np.uint8
        np.testing.assert_allclose(data[f"frame_time_s_{cam}"], [0.5, 1.5, 2.5], atol=0.11)


def test_trace_rejects_bad_samples(tmp_path):
    trace = _trace()
    with pytest.raises(BadInputError, match="6 finite"):
        trace.add_joint_state(50.0, [0.0] * 5)
    with pytest.raises(BadInputError, match="policy/joint_commands"):
        trace.add_command(50.0, [np.inf] * 6)
    with pytest.raises(BadInputError, match="unknown camera"):
        trace.add_frame("top", 51.0, np.zeros((4, 4, 3), np.uint8))
    trace.add_frame("front", 50.5, np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(BadInputError, match="like the first one"):
        trace.add_frame("front", 51.5, np.zeros((5, 4, 3), np.uint8))
    with pytest.raises(BadInputError, match="uint8"):
        trace.add_frame("wrist", 50.5, np.zeros((4, 4, 3), np.float32))
    assert trace.frame_count("front") == 1 and trace.frame_count("wrist") == 0
    with np.load(trace.save(tmp_path), allow_pickle=False) as npz:
        assert npz["joint_state_position_rad"].shape == (0, 6) and npz["frames_wrist"].shape[0] == 0
        assert not bool(npz["success"]) and npz["distance_m"].size == 0


def test_config_defaults_and_every_problem_reported():
    cfg = SimEvaluatorConfig()
    assert cfg.tasks == list(DEFAULT_TASKS) == ["reach the red cube", "reach the blue cube"]
    assert cfg.targets == ["red", "blue"] and cfg.total_episodes == 20
    with pytest.raises(ConfigError) as err:
        SimEvaluatorConfig(episodes_per_task=2, tasks=["reach the red cube"], record_episode=7,
                           episode_duration_s=0.0, output_dir="", cameras=["front", "front"])
    text = str(err.value)
    for part in ("episode_duration_s=0.0", "same length", "record_episode=7", "output_dir must not be empty",
                 "cameras"):
        assert part in text, text
    assert SimEvaluatorConfig(record_episode=-1, exchange_tasks=True).record_episode == -1


def test_parameter_file_lists_every_parameter_at_its_default():
    path = Path(__file__).resolve().parents[2] / "config" / "sim_evaluator.yaml"
    params = yaml.safe_load(path.read_text())["/**"]["ros__parameters"]
    assert params == dataclasses.asdict(SimEvaluatorConfig())
