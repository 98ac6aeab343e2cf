"""The statistics and the ranking, table-driven on known inputs."""

from __future__ import annotations

import numpy as np
import pytest

from vla_ros.diagnose.findings import Finding, rank, worst_severity
from vla_ros.diagnose.statistics import (
    gripper_events,
    gripper_threshold,
    outside_fraction,
    step_changes,
    wasserstein,
)


def test_wasserstein_of_a_shift_is_the_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (4000, 2))
    assert wasserstein(a, a + np.array([3.0, -0.5])) == pytest.approx([3.0, 0.5], abs=1e-9)
    assert wasserstein(a, a)[0] == pytest.approx(0.0)


def test_outside_fraction_and_step_changes():
    v = np.array([[0.0], [1.0], [2.0], [5.0]])
    assert outside_fraction(v, np.array([0.5]), np.array([2.0])).tolist() == [0.5]
    steps = step_changes([v, np.array([[1.0]]), np.array([[0.0], [-4.0]])])
    assert steps[:, 0].tolist() == [1.0, 1.0, 3.0, 4.0]


@pytest.mark.parametrize(("closed", "opened", "method"), [(2.0, 35.0, "otsu"), (20.0, 21.0, "range"),
                                                         (0.0, 0.0, "range")])
def test_gripper_threshold(closed, opened, method):
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(closed, 0.5, 550), rng.normal(opened, 0.5, 450)])
    if closed == opened:
        values = rng.uniform(0, 100, 1000)
    thr = gripper_threshold(values)
    assert thr.method == method
    if method == "otsu":
        assert closed + 1.5 < thr.value < opened - 1.5
        assert thr.closed_mode == pytest.approx(closed, abs=0.1) and thr.valley < 0.1
        assert "Otsu" in thr.describe(" %")
    else:
        assert thr.value == pytest.approx(values.min() + 0.2 * np.ptp(values))
        assert "not bimodal" in thr.describe(" %")


def test_gripper_threshold_in_an_empty_gap_is_its_middle():
    thr = gripper_threshold(np.concatenate([np.full(500, 2.0), np.full(300, 35.0)]))
    assert thr.method == "otsu" and 15 < thr.value < 22 and thr.valley == 0


@pytest.mark.parametrize(("series", "expected"), [
    ([30, 30, 2, 2, 30], (1, 1)),
    ([0.5, 30, 30, 30], (0, 1)),
    ([30, 16, 18, 16, 18, 30], (0, 0)),
    ([30, 2, 30, 2], (2, 1)),
])
def test_gripper_events(series, expected):
    assert gripper_events(np.array(series, dtype=float), 17.0, 1.7) == expected


def test_rank_orders_severity_then_check_then_score():
    fs = [Finding("distribution", "warning", "d", score=9.0), Finding("task", "info", "t"),
          Finding("smoothness", "warning", "s1", score=1.0),
          Finding("smoothness", "warning", "s2", score=2.0), Finding("start_state", "critical", "c")]
    assert [f.message for f in rank(fs)] == ["c", "s2", "s1", "d", "t"]
    assert worst_severity(fs) == "critical" and worst_severity([]) == "info"
    with pytest.raises(ValueError, match="severity"):
        Finding("task", "fatal", "x")
