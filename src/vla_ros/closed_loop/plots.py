"""Figures of the closed loop: one evaluation episode (camera frames, joints, distances) and the success
rates per condition. matplotlib with the Agg backend (no display needed)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_episode", "plot_success"]

MAX_FRAMES = 6


def _figure(*args: Any, **kwargs: Any) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.figure(*args, **kwargs)


def plot_episode(trace: Path, out: Path) -> Path:
    """Camera frames (a row per camera), joint trajectories (measured and commanded, rad) and the
    gripper->cube distances (m, with the success tolerance) of one ``episode_NNN.npz`` trace
    (:mod:`vla_ros.evaluate.trace`)."""
    data = np.load(trace)
    cameras = [str(c) for c in data["cameras"]]
    fig = _figure(figsize=(13, 3 + 2.2 * len(cameras) + 3.5), constrained_layout=True)
    grid = fig.add_gridspec(len(cameras) + 1, MAX_FRAMES, height_ratios=[1.0] * len(cameras) + [1.6])
    for row, cam in enumerate(cameras):
        frames, times = data[f"frames_{cam}"], data[f"frame_time_s_{cam}"]
        picks = np.linspace(0, len(frames) - 1, min(MAX_FRAMES, len(frames))).round().astype(int)
        for col, i in enumerate(picks):
            ax = fig.add_subplot(grid[row, col])
            ax.imshow(frames[i])
            ax.set_title(f"{cam} t={times[i]:.1f} s", fontsize=8)
            ax.axis("off")
    half = MAX_FRAMES // 2
    joints = fig.add_subplot(grid[-1, :half])
    state_t, state = data["joint_state_time_s"], data["joint_state_position_rad"]
    command_t, command = data["command_time_s"], data["command_position_rad"]
    for j, name in enumerate(data["joint_names"]):
        line, = joints.plot(state_t, state[:, j], label=str(name))
        if len(command_t):
            joints.plot(command_t, command[:, j], "--", color=line.get_color(), linewidth=0.8)
    joints.set(xlabel="time since enable, s (sim)", ylabel="rad",
               title="joints: measured (solid), commanded (dashed)")
    joints.legend(fontsize=7, ncol=2)
    dist = fig.add_subplot(grid[-1, half:])
    for c, name in enumerate(data["cube_names"]):
        dist.plot(data["distance_time_s"], data["distance_m"][:, c], label=f"{name} cube")
    dist.axhline(float(data["tolerance_m"]), color="k", linestyle=":", label="success tolerance")
    dist.set(xlabel="time since enable, s (sim)", ylabel="m", title="gripper frame to cube centre")
    dist.legend(fontsize=7)
    verdict = "success" if bool(data["success"]) else "failure"
    fig.suptitle(f"evaluation episode {int(data['episode_index'])}: {str(data['task'])!r} — {verdict}")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    return out


def plot_success(report: Mapping[str, Any], out: Path) -> Path:
    """Bar chart per condition: the success rate with each cube the target (a bar in its colour where
    matplotlib knows it) and the rate of episodes that reached another cube (grey); a condition the
    guard refused, at start-up or at every enable, is marked, not drawn as 0."""
    from matplotlib.colors import is_color_like

    conds = report["conditions"]
    targets = list(dict.fromkeys(s["target"] for c in conds.values() for s in c.get("per_task", {}).values()))
    series = [(f"target: {t} cube", t if is_color_like(t) else None,
               [_target_rate(c, t) for c in conds.values()]) for t in targets]
    series.append(("another cube reached", "0.6", [c.get("other_reached_rate") for c in conds.values()]))
    fig = _figure(figsize=(12, 4.5), constrained_layout=True)
    ax = fig.add_subplot()
    width = 0.8 / len(series)
    x = np.arange(len(conds))
    for i, (label, colour, rates) in enumerate(series):
        bars = ax.bar(x + i * width, [r or 0.0 for r in rates], width, label=label, color=colour, alpha=0.8)
        ax.bar_label(bars, labels=["" if r is None else f"{r:.0%}" for r in rates], fontsize=7)
    middle = width * (len(series) - 1) / 2
    for xi, cond in zip(x, conds.values()):
        if cond["status"] == "refused_by_guard":
            where = "\n(at enable)" if cond.get("refused_at") == "enable" else ""
            ax.text(xi + middle, 0.5, "refused by\nthe guard\nbefore moving" + where, ha="center",
                    va="center", fontsize=8)
    ax.set_xticks(x + middle, [name.replace("_", " ") for name in conds], rotation=25, ha="right")
    ax.set(ylim=(0, 1.1), ylabel="share of episodes",
           title="closed loop in simulation: success per target cube")
    ax.legend(fontsize=8)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    return out


def _target_rate(cond: Mapping[str, Any], target: str) -> float | None:
    rates = [s["success_rate"] for s in cond.get("per_task", {}).values() if s["target"] == target]
    return float(np.mean(rates)) if rates else None
