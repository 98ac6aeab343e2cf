"""Fixtures of the diagnosis tests: one training dataset for the whole session (12 synthetic
demonstrations with two cameras, written with lerobot), built by :mod:`diagnose_testlib`."""

from __future__ import annotations

from pathlib import Path

import pytest
from diagnose_testlib import episodes, write_dataset

from vla_ros.convert.mapping import ConvertConfig, load_config

TRAIN_EPISODES = 12


@pytest.fixture(scope="session")
def train_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The training dataset: ``episodes(0, 12)``, task ``Grab the brain``, cameras front and wrist."""
    return write_dataset(tmp_path_factory.mktemp("diagnose") / "train", episodes(0, TRAIN_EPISODES))


@pytest.fixture(scope="session")
def sim_config() -> ConvertConfig:
    """Converter config reading the test bags: the simulated arm's calibration (LeRobot units)."""
    return load_config(sim_calibration=True)
