"""The diagnosis' PNG plots (matplotlib, Agg backend: no display needed): per-joint histograms of
training vs deployment actions and states, start states in training std units, per-step jumps.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from vla_ros.diagnose.checks import START_Z_WARN, joint_label
from vla_ros.diagnose.sources import Recording
from vla_ros.diagnose.statistics import step_changes

__all__ = ["plot_histograms", "plot_jumps", "plot_start_states", "write_plots"]


def _axes(n: int, title: str) -> tuple[plt.Figure, np.ndarray]:
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.6 * rows), squeeze=False)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    return fig, axes


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_histograms(path: Path, train: np.ndarray, deploy: np.ndarray, names: list[str], what: str) -> Path:
    """Density histograms per joint, training vs deployment; ``train``/``deploy`` ``(N, J)``."""
    fig, axes = _axes(len(names), f"{what}: training vs deployment")
    for j, (ax, name) in enumerate(zip(axes.flat, names)):
        lo, hi = min(train[:, j].min(), deploy[:, j].min()), max(train[:, j].max(), deploy[:, j].max())
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 41)
        ax.hist(train[:, j], bins=bins, density=True, alpha=0.5, label="training", color="tab:blue")
        ax.hist(deploy[:, j], bins=bins, density=True, alpha=0.5, label="deployment", color="tab:orange")
        ax.set_title(name, fontsize=9)
    axes.flat[0].legend(fontsize=7)
    return _save(fig, path)


def plot_start_states(path: Path, z: np.ndarray, names: list[str]) -> Path:
    """Each deployment episode's start state in training std units (``z`` ``(E, J)``), per joint."""
    fig, ax = plt.subplots(figsize=(1.4 * len(names) + 2, 3.2))
    for j in range(len(names)):
        ax.scatter(np.full(len(z), j), z[:, j], color="tab:orange", zorder=3)
    for sign in (-1, 1):
        ax.axhline(sign * START_Z_WARN, color="black", linestyle="--", linewidth=0.8)
    ax.axhspan(-1, 1, color="tab:blue", alpha=0.15, label="training ±1 std")
    ax.set_xticks(range(len(names)), [joint_label(n) for n in names], fontsize=8, rotation=20)
    ax.set_ylabel("start state (training std)")
    ax.set_title(f"deployment start states (dashed: ±{START_Z_WARN:g} std)", fontsize=10)
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_jumps(path: Path, train: Recording, deploy: Recording) -> Path:
    """Largest and 99th-percentile per-step action change per joint, training vs deployment."""
    ts = step_changes([e.action for e in train.episodes])
    ds = step_changes([e.action for e in deploy.episodes])
    x = np.arange(len(train.names))
    fig, ax = plt.subplots(figsize=(1.4 * len(x) + 2, 3.2))
    for k, (label, values, colour) in enumerate((
            ("training max", ts.max(0), "tab:blue"), ("deployment max", ds.max(0), "tab:orange"),
            ("training p99", np.percentile(ts, 99, axis=0), "lightsteelblue"),
            ("deployment p99", np.percentile(ds, 99, axis=0), "navajowhite"))):
        ax.bar(x + (k - 1.5) * 0.2, values, width=0.2, label=label, color=colour)
    ax.set_xticks(x, [joint_label(n) for n in train.names], fontsize=8, rotation=20)
    ax.set_ylabel("per-step action change")
    ax.set_title("smoothness: per-step action change", fontsize=10)
    ax.legend(fontsize=7)
    return _save(fig, path)


def write_plots(out_dir: Path, train: Recording, deploy: Recording, start_z: np.ndarray) -> list[str]:
    """Every plot into ``out_dir``; returns the file names."""
    files = [plot_histograms(out_dir / "action_histograms.png", train.actions(), deploy.actions(),
                             train.names, "action"),
             plot_histograms(out_dir / "state_histograms.png", train.states(), deploy.states(),
                             train.names, "observation.state"),
             plot_start_states(out_dir / "start_states.png", start_z, train.names)]
    if any(e.frames > 1 for e in train.episodes) and any(e.frames > 1 for e in deploy.episodes):
        files.append(plot_jumps(out_dir / "jumps.png", train, deploy))
    return [f.name for f in files]
