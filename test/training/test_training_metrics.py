"""Offline-evaluation metrics on hand-made trajectories."""

from __future__ import annotations

import numpy as np
import pytest

from vla_ros.training.metrics import largest_jump, trajectory_metrics

T = np.linspace(0, 1, 50)[:, None]
TRUTH = np.hstack([np.sin(2 * np.pi * T) * 40, T * 100])  # a joint (deg) and a gripper (0-100)
STATS = {"action_mean": TRUTH.mean(axis=0), "action_std": TRUTH.std(axis=0),
         "joint_range": TRUTH.max(axis=0) - TRUTH.min(axis=0), "gripper_index": 1}


def test_perfect_prediction() -> None:
    m = trajectory_metrics([TRUTH], [TRUTH], **STATS)
    assert m["mae"] == [0, 0] and m["rmse"] == [0, 0] and m["success_rate"] == [1, 1]
    assert m["zscore_span_ratio"] == pytest.approx([1, 1])
    assert m["gripper_closed_fraction"]["pred"] == m["gripper_closed_fraction"]["truth"] == pytest.approx(0.2)
    assert m["max_jump"]["pred"] == pytest.approx(m["max_jump"]["truth"])
    assert m["frames"] == 50 and m["episodes"] == 1


def test_mean_seeking_prediction_is_flagged() -> None:
    mean = np.broadcast_to(STATS["action_mean"], TRUTH.shape).copy()
    m = trajectory_metrics([mean], [TRUTH], **STATS)
    assert m["zscore_span_ratio"] == pytest.approx([0, 0])  # no spread at all
    assert m["gripper_closed_fraction"]["pred"] == 0.0
    assert m["max_jump"]["pred"] == [0, 0]
    assert m["mae"][0] == pytest.approx(np.abs(TRUTH[:, 0] - mean[:, 0]).mean())


@pytest.mark.parametrize(("offset", "tolerance_frac", "success"), [
    (1.0, 0.05, 1.0),  # 1 deg < 5 % of 80 deg
    (5.0, 0.05, 0.0),  # 5 deg > 4 deg
    (5.0, 0.10, 1.0),
])
def test_success_tolerance_is_a_fraction_of_the_range(offset: float, tolerance_frac: float,
                                                       success: float) -> None:
    pred = TRUTH + np.array([offset, 0.0])
    m = trajectory_metrics([pred], [TRUTH], **STATS, tolerance_frac=tolerance_frac)
    assert m["success_rate"][0] == success
    assert m["tolerance"][0] == pytest.approx(tolerance_frac * 80, rel=1e-3)
    assert m["mae"][0] == pytest.approx(offset) and m["rmse"][0] == pytest.approx(offset)


def test_largest_jump_over_episodes() -> None:
    a = np.array([[0.0, 0.0], [1.0, 0.0], [1.5, 7.0]])
    b = np.array([[0.0, 0.0], [3.0, 0.0]])
    assert largest_jump([a, b]).tolist() == [3.0, 7.0]
    assert largest_jump([a[:1]]).tolist() == [0.0, 0.0]


def test_shape_mismatch_is_refused() -> None:
    with pytest.raises(ValueError):
        trajectory_metrics([TRUTH[:10]], [TRUTH], **STATS)


def test_a_joint_without_range_is_na_and_left_out_of_the_mean():
    truth = np.hstack([TRUTH, np.full((len(TRUTH), 1), 7.0)])  # a third joint that never moves
    pred = truth + np.array([5.0, 0.0, 3.0])  # joint 0 off by more than its tolerance (4 deg)
    stats = {**STATS, "action_mean": truth.mean(axis=0), "action_std": truth.std(axis=0),
             "joint_range": truth.max(axis=0) - truth.min(axis=0)}
    m = trajectory_metrics([pred], [truth], **stats)
    assert m["tolerance"][2] == 0.0 and m["success_rate"] == [0.0, 1.0, None]
    assert "no range in the data" in m["success_na"]["2"]
    assert m["mean_success_rate"] == pytest.approx(0.5)  # joints 0 and 1 only, not (0 + 1 + 1) / 3
    m = trajectory_metrics([truth[:, 2:]], [truth[:, 2:]], action_mean=np.array([7.0]),
                           action_std=np.array([0.0]), joint_range=np.array([0.0]), gripper_index=None)
    assert m["success_rate"] == [None] and m["mean_success_rate"] is None


def test_the_table_says_na_and_why():
    from vla_ros.training.evaluate import CheckpointResult, EvalReport, format_table

    truth = np.hstack([TRUTH, np.full((len(TRUTH), 1), 7.0)])
    m = trajectory_metrics([truth], [truth], action_mean=truth.mean(axis=0), action_std=truth.std(axis=0),
                           joint_range=truth.max(axis=0) - truth.min(axis=0), gripper_index=1)
    report = EvalReport({}, ["ds"], [[0]], "given", ["pan.pos", "gripper.pos", "roll.pos"], False,
                        [CheckpointResult("ckpt", "/ckpt", 5, m)])
    table = format_table(report)
    assert "100.0%" in table and "n/a" in table
    assert "roll.pos: success n/a, no range in the data" in table and "left out of the mean" in table
