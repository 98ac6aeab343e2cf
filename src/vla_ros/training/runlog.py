"""Metric logs of a training run: CSV or TensorBoard under ``<run>/logs``, optionally Weights & Biases.

Core module: no ROS. TensorBoard and wandb are imported only when chosen.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vla_ros.errors import ConfigError

__all__ = ["RunLog"]

CSV_FILE = "metrics.csv"


class RunLog:
    """Append scalar metrics by step; survives a resume (the CSV is appended, never truncated).

    Args:
        log_dir: directory for ``metrics.csv`` or the TensorBoard event files.
        backend: ``"csv"`` or ``"tensorboard"``.
        wandb_project: also log to this Weights & Biases project (None: off).
        run_config: recorded with the wandb run.

    Raises:
        ConfigError: wandb asked for but not installed; an unknown backend.
    """

    def __init__(self, log_dir: Path, backend: str = "csv", wandb_project: str | None = None,
                 run_config: Mapping[str, Any] | None = None) -> None:
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.backend = backend
        self._tb: Any = None
        self._wandb: Any = None
        if backend == "tensorboard":
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(str(self.log_dir))
        elif backend != "csv":
            raise ConfigError(f"unknown log backend {backend!r}")
        if wandb_project:
            try:
                import wandb
            except ImportError as err:
                raise ConfigError("wandb logging needs the wandb package: pip install wandb") from err
            self._wandb = wandb.init(project=wandb_project, config=dict(run_config or {}),
                                     dir=str(self.log_dir), resume="allow")

    @property
    def csv_path(self) -> Path:
        """The CSV file (written with the ``csv`` backend)."""
        return self.log_dir / CSV_FILE

    def log(self, step: int, metrics: Mapping[str, float], prefix: str = "train") -> None:
        """Record ``metrics`` at ``step`` as ``<prefix>/<name>``."""
        named = {f"{prefix}/{k}": float(v) for k, v in metrics.items()}
        if self._tb is not None:
            for key, value in named.items():
                self._tb.add_scalar(key, value, step)
        else:
            new = not self.csv_path.exists()
            with self.csv_path.open("a", newline="") as f:
                writer = csv.writer(f)
                if new:
                    writer.writerow(["step", "metric", "value"])
                writer.writerows([step, k, v] for k, v in named.items())
        if self._wandb is not None:
            self._wandb.log(named, step=step)

    def close(self) -> None:
        """Flush and close the writers."""
        if self._tb is not None:
            self._tb.close()
        if self._wandb is not None:
            self._wandb.finish()
