"""PNG plots of an offline evaluation (matplotlib, Agg backend: no display needed).

Core module: no ROS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_checkpoint_comparison", "plot_error_histograms", "plot_trajectories"]


def _grid(n: int) -> tuple[int, int]:
    cols = min(3, n)
    return (n + cols - 1) // cols, cols


def plot_trajectories(
    path: Path, pred: np.ndarray, truth: np.ndarray, joint_names: Sequence[str], title: str, fps: float
) -> Path:
    """Predicted vs demonstrated trajectory of one episode, one panel per joint.

    Args:
        path: PNG file to write.
        pred: ``(T, D)`` predicted actions, physical units.
        truth: ``(T, D)`` demonstrated actions, same units.
        joint_names: ``D`` panel titles.
        title: figure title (checkpoint and episode).
        fps: frame rate, Hz (x axis in seconds).
    """
    rows, cols = _grid(len(joint_names))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.6 * rows), squeeze=False)
    t = np.arange(len(truth)) / fps
    for j, (ax, name) in enumerate(zip(axes.flat, joint_names)):
        ax.plot(t, truth[:, j], label="demonstration", color="black", linewidth=1.5)
        ax.plot(t, pred[:, j], label="predicted", color="tab:orange", linewidth=1.2)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("time (s)", fontsize=8)
    for ax in list(axes.flat)[len(joint_names):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_error_histograms(
    path: Path, errors: Mapping[str, np.ndarray], joint_names: Sequence[str], tolerance: Sequence[float]
) -> Path:
    """Histogram of prediction errors per joint, one colour per checkpoint.

    Args:
        path: PNG file to write.
        errors: checkpoint name -> ``(N, D)`` predicted minus demonstrated actions.
        joint_names: ``D`` panel titles.
        tolerance: ``D`` success tolerances, drawn as dashed lines at +-tolerance.
    """
    rows, cols = _grid(len(joint_names))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.6 * rows), squeeze=False)
    for j, (ax, name) in enumerate(zip(axes.flat, joint_names)):
        for label, err in errors.items():
            ax.hist(err[:, j], bins=30, alpha=0.5, label=label)
        for sign in (-1, 1):
            ax.axvline(sign * tolerance[j], color="black", linestyle="--", linewidth=0.8)
        ax.set_title(name, fontsize=9)
    for ax in list(axes.flat)[len(joint_names):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("prediction error (dashed: success tolerance)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_checkpoint_comparison(
    path: Path, metrics: Mapping[str, Mapping[str, Any]], joint_names: Sequence[str]
) -> Path:
    """Per-joint MAE, success rate and z-score span ratio of each checkpoint, as grouped bars.

    Args:
        path: PNG file to write.
        metrics: checkpoint name -> :func:`vla_ros.training.metrics.trajectory_metrics` output.
        joint_names: ``D`` group labels.
    """
    panels = (("mae", "MAE (data units)"), ("success_rate", "success rate"),
              ("zscore_span_ratio", "z-score span pred/demo"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.2))
    x = np.arange(len(joint_names))
    width = 0.8 / max(len(metrics), 1)
    for ax, (key, label) in zip(axes, panels):
        for k, (name, m) in enumerate(metrics.items()):
            values = [np.nan if v is None else v for v in m[key]]  # n/a success: no bar
            ax.bar(x + k * width - 0.4 + width / 2, values, width, label=name)
        ax.set_xticks(x, [n.removesuffix(".pos") for n in joint_names], rotation=30, fontsize=8)
        ax.set_title(label, fontsize=9)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
