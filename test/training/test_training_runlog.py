"""Metric logs: CSV appended across a resume, TensorBoard events, wandb off unless asked."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from vla_ros.errors import ConfigError
from vla_ros.training.runlog import RunLog


def test_csv_survives_a_resume(tmp_path: Path) -> None:
    first = RunLog(tmp_path)
    first.log(1, {"loss": 2.0, "lr": 1e-4})
    first.close()
    second = RunLog(tmp_path)  # a resumed run appends
    second.log(2, {"loss": 1.5})
    second.log(2, {"loss": 1.7}, prefix="val")
    second.close()
    with (tmp_path / "metrics.csv").open() as f:
        rows = [(r["step"], r["metric"], float(r["value"])) for r in csv.DictReader(f)]
    assert rows == [("1", "train/loss", 2.0), ("1", "train/lr", 1e-4), ("2", "train/loss", 1.5),
                    ("2", "val/loss", 1.7)]


def test_tensorboard_and_bad_backend(tmp_path: Path) -> None:
    log = RunLog(tmp_path, backend="tensorboard")
    log.log(1, {"loss": 1.0})
    log.close()
    assert list(tmp_path.glob("events.out.tfevents.*")) and not (tmp_path / "metrics.csv").exists()
    with pytest.raises(ConfigError):
        RunLog(tmp_path, backend="mlflow")
