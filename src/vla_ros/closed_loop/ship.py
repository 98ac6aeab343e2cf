"""Shipping a closed-loop run's trained policy (``--ship-to``: a checkpoint for ``demo:=true``).

:func:`ship` copies the trained checkpoint (weights, config, processors, bundled ``vlm/``,
``vla_ros_contract.json``) with the run's ``report.json``, training ``metrics.csv`` and training log
(the pre-training report: datasets, split, budget, warnings; then the loss per step) into a
directory, written next to it and moved into place whole (nothing half-written), with
``vlm_model_name`` made relative so the copy loads wherever it is installed
(:mod:`vla_ros.policy.checkpoint` finds the bundled ``vlm/``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from vla_ros.closed_loop.shipped import SHIPPED_REPORT
from vla_ros.closed_loop.stages import RunPaths
from vla_ros.errors import ConfigError

__all__ = ["MAX_SHIPPED_BYTES", "REPORT_FILES", "ship"]

MAX_SHIPPED_BYTES = 20 * 2**20
"""Largest shipped policy directory (issue #17: <= 20 MB in the package's share)."""

REPORT_FILES = {"report.json": SHIPPED_REPORT, "train/logs/metrics.csv": "training_metrics.csv",
                "logs/train.log": "training_log.txt",
                "train_words/logs/metrics.csv": "training_metrics_words.csv",
                "logs/train_words.log": "training_log_words.txt"}
"""Run files copied beside the checkpoint, and their names there (missing ones are skipped)."""


def ship(run_dir: str | Path, dest: str | Path) -> Path:
    """Copy the run's trained checkpoint and reports to ``dest`` (replaced whole).

    Args:
        run_dir: a closed-loop run directory (``--output-dir``) whose train stage finished.
        dest: the directory to write.

    Returns:
        ``dest``.

    Raises:
        ConfigError: no trained checkpoint in the run, or the copy exceeds :data:`MAX_SHIPPED_BYTES`
            (``dest`` is then left as it was).
    """
    run, out = Path(run_dir), Path(dest)
    checkpoint = RunPaths(run).trained_policy
    if not (checkpoint / "model.safetensors").is_file():
        raise ConfigError(f"ship: {checkpoint} holds no trained checkpoint (did the train stage finish?)")
    staging = out.with_name(f".{out.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(checkpoint, staging)
    config = staging / "config.json"
    data = json.loads(config.read_text())
    data["vlm_model_name"] = "vlm"
    config.write_text(json.dumps(data, indent=4) + "\n")
    for src, name in REPORT_FILES.items():
        if (run / src).is_file():
            shutil.copy2(run / src, staging / name)
    size = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())
    if size > MAX_SHIPPED_BYTES:
        shutil.rmtree(staging)
        raise ConfigError(f"ship: the policy takes {size / 2**20:.1f} MB, more than "
                          f"{MAX_SHIPPED_BYTES / 2**20:.0f} MB")
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    return out
