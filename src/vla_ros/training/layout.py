"""The run directory, in lerobot's layout, and the training record saved with each checkpoint.

    <output_dir>/
      checkpoints/
        000500/
          pretrained_model/   config.json, model.safetensors, train_config.json,
                              policy_{pre,post}processor*.json/.safetensors (lerobot),
                              vla_ros_contract.json, vla_ros_train.json (here)
          training_state/     optimizer, scheduler, rng state, training_step.json (lerobot)
        last -> 000500
      logs/                   metrics.csv or TensorBoard events

Layout and helpers from lerobot 0.4.4 ``utils/train_utils.py`` and ``utils/constants.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lerobot.utils.constants import (
    CHECKPOINTS_DIR,
    LAST_CHECKPOINT_LINK,
    PRETRAINED_MODEL_DIR,
    TRAINING_STATE_DIR,
)

from vla_ros.training.data import EpisodeSplit
from vla_ros.training.errors import CheckpointError

__all__ = [
    "TRAIN_RECORD_FILE",
    "TrainRecord",
    "last_checkpoint",
    "list_checkpoints",
]

TRAIN_RECORD_FILE = "vla_ros_train.json"
POLICY_CONFIG_FILE = "config.json"
"""A checkpoint's ``pretrained_model`` holds the policy config (lerobot ``PreTrainedPolicy``)."""


@dataclass
class TrainRecord:
    """How a checkpoint was trained: enough to resume it and to evaluate on its held-out episodes.

    Attributes:
        step: optimizer steps done.
        datasets: dataset directories, in the order of the split's tuples.
        split: train/validation episodes per dataset.
        config: the :class:`vla_ros.training.config.TrainConfig` as a dict.
        budget: the planned epochs and frames (for the record).
    """

    step: int
    datasets: list[str]
    split: EpisodeSplit
    config: dict[str, Any] = field(default_factory=dict)
    budget: dict[str, Any] = field(default_factory=dict)

    def save(self, directory: Path) -> Path:
        """Write ``vla_ros_train.json`` into ``directory``."""
        path = Path(directory) / TRAIN_RECORD_FILE
        data = {"step": self.step, "datasets": self.datasets, "split": self.split.to_dict(),
                "config": self.config, "budget": self.budget}
        path.write_text(json.dumps(data, indent=2))
        return path

    @classmethod
    def load(cls, directory: Path) -> TrainRecord | None:
        """Read the record of a ``pretrained_model`` directory; None if it has none.

        Raises:
            CheckpointError: the file exists but is malformed.
        """
        path = Path(directory) / TRAIN_RECORD_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text())
            return cls(int(data["step"]), list(data["datasets"]), EpisodeSplit.from_dict(data["split"]),
                       dict(data.get("config", {})), dict(data.get("budget", {})))
        except (ValueError, KeyError, TypeError) as err:
            raise CheckpointError(f"malformed training record {path}: {err}") from err


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Step directories of a run (``checkpoints/<step>``), oldest first; ``last`` excluded."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    steps = [p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and p.name.isdigit()]
    return sorted(steps, key=lambda p: int(p.name))


def last_checkpoint(run_dir: Path) -> Path | None:
    """The step directory ``checkpoints/last`` points to, if it is complete; else None."""
    link = Path(run_dir) / CHECKPOINTS_DIR / LAST_CHECKPOINT_LINK
    if not link.exists():
        return None
    step_dir = link.resolve()
    complete = (step_dir / PRETRAINED_MODEL_DIR / POLICY_CONFIG_FILE).is_file() and (
        step_dir / TRAINING_STATE_DIR).is_dir()
    return step_dir if complete else None
