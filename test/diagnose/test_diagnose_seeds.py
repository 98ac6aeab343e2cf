"""Each seed failure, reproduced alone in small synthetic data, is the first finding ``diagnose``
ranks, with the right joint or camera and the numbers computed here independently; a deployment drawn
from the training distribution gives nothing above ``info``.

Training data: :func:`conftest.train_dataset` (lerobot dataset). Deployments: bags written with the
recorder's rosbags writer and read through the converter, or datasets written with lerobot.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TRAIN_EPISODES
from diagnose_testlib import FPS, HOME, TRAIN_TASK, episodes, write_bags, write_dataset

from vla_ros.diagnose import diagnose
from vla_ros.robot.joints import JOINT_NAMES


def above_info(result) -> list:
    return [f for f in result.findings if f.severity != "info"]


def test_deployment_from_training_distribution_is_clean(train_dataset, tmp_path, sim_config):
    deploy = [write_dataset(tmp_path / "deploy", episodes(1, 2)),
              *write_bags(tmp_path / "bags", episodes(3, 2))]
    result = diagnose(train_dataset, deploy, config=sim_config, progress=False)
    assert above_info(result) == [], [f.message for f in above_info(result)]
    assert len(result.deploy.episodes) == 4
    assert {f.check for f in result.findings} >= {"task", "cameras", "gripper", "start_state", "smoothness",
                                                  "distribution", "control"}
    images = result.check("cameras").stats["images"]
    assert images["front"]["distance_to_training"]["front"] < images["front"]["distance_to_training"]["wrist"]


def test_gripper_never_closing_ranks_first(train_dataset, tmp_path, sim_config):
    eps = episodes(1, 3, gripper_never_closes=True)
    result = diagnose(train_dataset, write_bags(tmp_path / "bags", eps), config=sim_config, images=False,
                      progress=False)
    first = result.findings[0]
    assert (first.check, first.severity, first.joint) == ("gripper", "critical", "gripper")
    stats = result.check("gripper").stats
    threshold = stats["threshold"]
    train_grip = np.concatenate([e.action[:, 5] for e in episodes(0, TRAIN_EPISODES)])
    deploy_grip = np.concatenate([e.action[:, 5] for e in eps])
    assert stats["threshold_method"] == "otsu"
    assert train_grip[train_grip < threshold].mean() < 5 < 25 < train_grip[train_grip >= threshold].mean()
    assert stats["training"]["closed_fraction"] == pytest.approx((train_grip < threshold).mean(), abs=1e-9)
    assert stats["deployment"]["episodes_closing"] == 0
    assert stats["training"]["episodes_closing"] == TRAIN_EPISODES
    assert f"{(train_grip < threshold).mean() * 100:.1f} % in training" in first.message
    assert "0 of 3 deployment episodes close it" in first.message and "task string" in first.message
    bag_frames = len(result.deploy.actions())
    assert stats["deployment"]["closed_fraction"] * bag_frames == pytest.approx(
        (deploy_grip < threshold).sum(), abs=3)


def test_shifted_start_pose_ranks_first(train_dataset, tmp_path, sim_config):
    eps = episodes(1, 3, start_shift_deg={"shoulder_pan": 40.0})
    result = diagnose(train_dataset, write_bags(tmp_path / "bags", eps), config=sim_config, images=False,
                      progress=False)
    first = result.findings[0]
    assert (first.check, first.severity, first.joint) == ("start_state", "critical", "shoulder_pan")
    starts = np.stack([e.state[0] for e in episodes(0, TRAIN_EPISODES)])[:, 0]
    deployed = np.array([e.state[0, 0] for e in eps])
    z = (deployed - starts.mean()) / starts.std()
    assert first.data["max_abs_z"] == pytest.approx(np.abs(z).max(), rel=1e-3)
    assert f"{deployed.min():.1f}°…{deployed.max():.1f}°" in first.message
    assert f"vs {starts.mean():.2f}° ± {starts.std():.2f}°" in first.message
    assert deployed.min() > HOME[0] + 30


def test_doubled_per_step_jumps_rank_first(train_dataset, tmp_path, sim_config):
    eps = episodes(0, TRAIN_EPISODES, hold_joint="shoulder_lift", cameras=("front", "wrist"))
    result = diagnose(train_dataset, write_bags(tmp_path / "bags", eps), config=sim_config, images=False,
                      progress=False)
    first = result.findings[0]
    assert (first.check, first.severity, first.joint) == ("smoothness", "warning", "shoulder_lift")
    lift = JOINT_NAMES.index("shoulder_lift")
    train_max = max(np.abs(np.diff(e.action[:, lift])).max() for e in episodes(0, TRAIN_EPISODES))
    held_max = max(np.abs(np.diff(e.action[:, lift])).max() for e in eps)
    assert held_max / train_max == pytest.approx(2.0, abs=0.25)
    assert first.data["ratio"] == pytest.approx(held_max / train_max, rel=0.02)
    assert f"{held_max:.2f}° deployed vs {train_max:.2f}° in training" in first.message
    assert [f.joint for f in above_info(result)] == ["shoulder_lift"]


def test_different_task_string_ranks_first(train_dataset, tmp_path, sim_config):
    wrong = "Grasp a brain and put it in the bin."
    result = diagnose(train_dataset, write_bags(tmp_path / "bags", episodes(1, 2), task=wrong),
                      config=sim_config, images=False, progress=False)
    first = result.findings[0]
    assert (first.check, first.severity, first.joint) == ("task", "critical", None)
    assert first.data["closest"] == TRAIN_TASK
    assert repr(wrong) in first.message and repr(TRAIN_TASK) in first.message
    assert [f.check for f in above_info(result)] == ["task"]


def test_missing_camera_ranks_first(train_dataset, tmp_path, sim_config):
    deploy = write_dataset(tmp_path / "deploy", episodes(1, 2, cameras=("front",)))
    result = diagnose(train_dataset, [deploy], config=sim_config, progress=False)
    first = result.findings[0]
    assert (first.check, first.severity, first.camera) == ("cameras", "critical", "wrist")
    assert "missing" in first.message and "front" in first.message
    assert [f.check for f in above_info(result)] == ["cameras"]


def test_swapped_cameras_rank_first(train_dataset, tmp_path, sim_config):
    deploy = write_dataset(tmp_path / "deploy", episodes(1, 2), swap_cameras=True)
    result = diagnose(train_dataset, [deploy], config=sim_config, progress=False)
    top = result.findings[:2]
    assert {(f.check, f.severity, f.camera) for f in top} == {("cameras", "critical", "front"),
                                                              ("cameras", "critical", "wrist")}
    assert "looks like training camera wrist" in next(f for f in top if f.camera == "front").message
    assert all(f.check == "cameras" for f in above_info(result))


def test_swapped_cameras_need_images(train_dataset, tmp_path, sim_config):
    deploy = write_dataset(tmp_path / "deploy", episodes(1, 2), swap_cameras=True)
    result = diagnose(train_dataset, [deploy], config=sim_config, images=False, progress=False)
    assert above_info(result) == []
    assert "skipped" in result.check("cameras").stats["images"]


def test_recorded_chunks_give_boundary_jumps_and_latency(train_dataset, tmp_path, sim_config):
    eps = episodes(1, 2)
    for e in eps:
        e.action[:, 1] += 4.0 * ((np.arange(len(e.action)) // 10) % 2)
    result = diagnose(train_dataset, write_bags(tmp_path / "bags", eps, chunk_every=10, latency_s=0.25),
                      config=sim_config, images=False, progress=False)
    first = result.findings[0]
    assert (first.check, first.joint) == ("smoothness", "shoulder_lift")
    stats = result.check("smoothness").stats
    at, within = stats["deployment_max_at_chunk_boundaries"][1], stats["deployment_max_within_chunks"][1]
    assert at > 4.0 > within
    assert "at chunk boundaries" in first.message
    control = result.check("control").stats
    assert control["latency_p50_s"] == pytest.approx(0.25)
    assert control["command_rate_hz_mean"] == pytest.approx(FPS, rel=1e-3)


def test_checkpoint_zrange_and_epoch_budget(train_dataset, tmp_path, sim_config):
    import json

    from vla_ros.policy.tiny import make_tiny_policy

    train_actions = np.concatenate([e.action for e in episodes(0, TRAIN_EPISODES)]).astype(np.float64)
    mean, std = train_actions.mean(0), train_actions.std(0)
    stats = {k: {"mean": mean, "std": std, "min": train_actions.min(0), "max": train_actions.max(0)}
             for k in ("observation.state", "action")}
    ckpt = make_tiny_policy(tmp_path / "ckpt", cameras=("front", "wrist"), image_size=(24, 32), stats=stats,
                            chunk_size=10)
    frames = TRAIN_EPISODES * 60
    (ckpt / "train_config.json").write_text(json.dumps({"steps": 1428, "batch_size": 8}))
    eps = episodes(1, 3)
    for e in eps:
        e.action[:] = mean + 0.3 * (e.action - mean)
    result = diagnose(train_dataset, write_bags(tmp_path / "bags", eps), checkpoint=ckpt, config=sim_config,
                      images=False, progress=False)
    z = result.check("checkpoint_zrange")
    train_z = (train_actions - mean) / std
    assert z.stats["training_z"]["min"] == pytest.approx(train_z.min(0).tolist(), abs=1e-3)
    assert all(r < 0.5 for r in z.stats["span_ratio"])
    assert {f.severity for f in z.findings} == {"warning"}
    budget = result.check("epoch_budget")
    assert budget.stats["epochs"] == pytest.approx(1428 * 8 / frames)
    assert f"{1428 * 8 / frames:.2f} epochs" in budget.findings[0].message
    assert budget.findings[0].severity == "warning"


def test_sim_evaluator_traces_clean_and_with_a_wrong_instruction(train_dataset, tmp_path, sim_config):
    from diagnose_testlib import write_traces

    clean = diagnose(train_dataset, [write_traces(tmp_path / "clean", episodes(1, 2))], config=sim_config,
                     progress=False)
    assert above_info(clean) == [], [f.message for f in above_info(clean)]
    assert clean.deploy.frames == 2 * 59 and set(clean.deploy.signatures) == {"front", "wrist"}
    wrong = write_traces(tmp_path / "wrong", episodes(1, 2, gripper_never_closes=True), task="reach the cube")
    result = diagnose(train_dataset, [wrong], config=sim_config, images=False, progress=False)
    assert [(f.check, f.severity) for f in result.findings[:2]] == [("task", "critical"),
                                                                   ("gripper", "critical")]
