"""Epoch budget arithmetic and the dataset summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from lerobot.datasets.lerobot_dataset import LeRobotDataset

from vla_ros.contract import episode_first_states
from vla_ros.training.budget import plan_budget, summarize_datasets
from vla_ros.training.data import load_metadata


def test_seed_overfit_run_warns_and_the_fixed_run_does_not() -> None:
    over = plan_budget(50_000, 32, 100_832, (3, 7))
    assert over.epochs == pytest.approx(15.87, abs=0.01)
    assert "overfit" in over.warning and "WARNING" in over.describe()
    fixed = plan_budget(20_000, 32, 100_832, (3, 7))
    assert fixed.epochs == pytest.approx(6.35, abs=0.01) and fixed.warning == ""
    # the suggested step count lands inside the band
    steps_hi = int(over.warning.split("at most ")[1].split()[0])
    assert plan_budget(steps_hi, 32, 100_832, (3, 7)).warning == ""


def test_short_runs_and_processes() -> None:
    low = plan_budget(100, 8, 10_000, (3, 7))
    assert low.epochs == pytest.approx(0.08) and "below" in low.warning
    assert plan_budget(100, 8, 1000, (3, 7), num_processes=4).epochs == pytest.approx(3.2)
    with pytest.raises(ValueError):
        plan_budget(0, 8, 1000, (3, 7))


def test_summary_matches_the_data(so101_dataset: Path, so101_dataset_b: Path) -> None:
    roots = [so101_dataset, so101_dataset_b]
    summary = summarize_datasets(roots, load_metadata(roots))
    assert summary.tasks == ["pick up the cube", "place the cube"]
    assert summary.cameras == ["observation.images.front", "observation.images.wrist"]
    assert summary.episodes == 10 and summary.fps == 30
    assert summary.state_names[0] == "shoulder_pan.pos"
    # start states recomputed independently through lerobot's reader
    starts = []
    for root in roots:
        ds = LeRobotDataset(root.name, root=root, video_backend="pyav")
        hf = ds.hf_dataset.with_format(None)
        starts += [hf[i]["observation.state"] for i in range(len(hf)) if hf[i]["frame_index"] == 0]
    assert np.allclose(summary.start_state_mean, np.mean(starts, axis=0), atol=1e-4)
    assert np.allclose(summary.start_state_std, np.std(starts, axis=0), atol=1e-4)
    assert episode_first_states(so101_dataset).shape == (6, 6)
    text = summary.describe()
    assert "pick up the cube" in text and "gripper.pos" in text
