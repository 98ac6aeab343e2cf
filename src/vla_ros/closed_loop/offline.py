"""The closed loop's offline stage: the trained policy on its held-out demonstrations, before any
simulated episode.

``vla-ros eval-offline`` replays the training run's held-out episodes (:mod:`vla_ros.training.evaluate`)
once with each episode's own task and once with another training task under the same noise
(:mod:`vla_ros.training.task_effect`). A policy whose actions barely move when the words change will
not follow the instruction in the simulator either (measured in the swapped-slots scene: one
recording half swapped scored a task effect of 1.1 % of an action std and followed the instruction in
0 of 10 scenes; the two-recording defaults 14.1 % and 8 of 10; the fixed-slot policy 71 % and 9/10,
8/10), so the run says so in half a minute instead of after the evaluations.
The stage measures and warns; the checks that fail a run stay the closed-loop ones
(:mod:`vla_ros.closed_loop.checks`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vla_ros.closed_loop.config import ClosedLoopConfig
from vla_ros.closed_loop.runner import StageResult, run_stage, vla_ros_command
from vla_ros.closed_loop.stages import RunPaths
from vla_ros.training.task_effect import describe

__all__ = ["offline", "offline_dir", "offline_summary"]


def offline_dir(paths: RunPaths) -> Path:
    """Where ``vla-ros eval-offline`` writes its report and plots."""
    return paths.root / "offline"


def offline(cfg: ClosedLoopConfig, paths: RunPaths) -> StageResult:
    """``vla-ros eval-offline`` of the trained checkpoint on the training run's held-out episodes, with
    the task swap; prints the task effect and a warning when the policy does not listen.

    Raises:
        StageError: the evaluation failed (its log tail is in the message) or ran past the stage limit.
    """
    command = vla_ros_command("eval-offline", str(paths.trained_policy),
                              "--output-dir", str(offline_dir(paths)), "--plot-episodes", "1",
                              "--device", "cpu", "--task-swap")
    result = run_stage("offline", command, paths.logs, timeout_s=cfg.stage_timeout_s)
    summary = offline_summary(paths)
    if summary is not None:
        print(f"[closed-loop] offline: {summary['verdict']}", flush=True)
        if summary["listens"] is False:
            print("[closed-loop] offline: WARNING the trained policy does not listen to the instruction; "
                  "expect follows_instruction and trained_success to be missed", flush=True)
    return result


def offline_summary(paths: RunPaths) -> dict[str, Any] | None:
    """The held-out episodes' mean MAE (data units) and success within tolerance, and the task effect
    (``task_effect``: mean over joints in action stds; ``listens``: at or above the threshold, None
    with a single task); None when the stage did not run."""
    report = offline_dir(paths) / "report.json"
    if not report.is_file():
        return None
    doc = json.loads(report.read_text())
    metrics = doc["checkpoints"][0]["metrics"]
    effect = metrics.get("task_effect")
    return {"report": str(report), "episodes": doc["episodes"], "mean_mae": metrics["mean_mae"],
            "mean_success_rate": metrics["mean_success_rate"],
            "task_effect": None if effect is None else effect["mean_z"],
            "listens": None if effect is None else bool(effect["listens"]),
            "threshold": None if effect is None else effect["threshold"],
            "verdict": describe(effect)}
