"""The closed loop's diagnose stage: ``vla-ros diagnose`` on the evaluation traces of the trained policy,
run with the training instructions and with reworded ones, against the run's training dataset.

The checks it feeds (:func:`diagnosis_checks`): ``diagnose_clean_instruction`` (the trained policy's
evaluation has no ``task`` or ``cameras`` finding above ``info``) and ``diagnose_names_the_instruction``
(with the reworded instructions, :data:`vla_ros.diagnose.findings.CHECK_ORDER`'s ``task`` finding
ranks first). Each is None when its condition was not evaluated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vla_ros.closed_loop.config import ClosedLoopConfig
from vla_ros.closed_loop.runner import StageResult, run_stage, vla_ros_command
from vla_ros.closed_loop.stages import RunPaths

__all__ = ["DIAGNOSED", "DIAGNOSE_CHECKS", "diagnose", "diagnosis_checks", "diagnosis_dir",
           "diagnosis_summary"]

DIAGNOSE_CHECKS = ("diagnose_clean_instruction", "diagnose_names_the_instruction")
DIAGNOSED = ("trained", "instruction_reworded")
"""The conditions whose evaluation traces are diagnosed."""
_INSTRUCTION_CHECKS = ("task", "cameras")


def diagnosis_dir(paths: RunPaths, condition: str) -> Path:
    """Where ``vla-ros diagnose`` writes one condition's report and plots."""
    return paths.root / "diagnose" / condition


def diagnose(cfg: ClosedLoopConfig, paths: RunPaths, condition: str) -> StageResult:
    """``vla-ros diagnose`` of ``condition``'s evaluation traces (``episode_NNN.npz``; joint units of the
    training dataset through the simulated arm's calibration) against the training dataset and the
    trained checkpoint.

    Raises:
        StageError: diagnose failed (its log tail is in the message) or ran past the stage limit.
    """
    command = vla_ros_command(
        "diagnose", "--train", str(paths.dataset), "--checkpoint", str(paths.trained_policy),
        "--deploy", str(paths.eval_dir(condition)), "--out", str(diagnosis_dir(paths, condition)),
        "--overwrite", "--sim-calibration", "--no-progress")
    return run_stage(f"diagnose_{condition}", command, paths.logs, timeout_s=cfg.stage_timeout_s)


def diagnosis_summary(paths: RunPaths, condition: str) -> dict[str, Any] | None:
    """The worst severity and the findings above ``info`` (check, severity, message) of one condition's
    diagnosis; None when it was not diagnosed."""
    report = diagnosis_dir(paths, condition) / "report.json"
    if not report.is_file():
        return None
    doc = json.loads(report.read_text())
    return {"report": str(report), "worst_severity": doc["summary"]["worst_severity"],
            "findings": [{k: f[k] for k in ("check", "severity", "message")}
                         for f in doc["findings"] if f["severity"] != "info"]}


def diagnosis_checks(diagnoses: Mapping[str, dict[str, Any] | None]) -> dict[str, bool | None]:
    """``diagnose_clean_instruction`` and ``diagnose_names_the_instruction`` (module docstring)."""
    clean, reworded = diagnoses.get("trained"), diagnoses.get("instruction_reworded")
    return {
        "diagnose_clean_instruction": None if clean is None else not any(
            f["check"] in _INSTRUCTION_CHECKS for f in clean["findings"]),
        "diagnose_names_the_instruction": None if reworded is None else bool(
            reworded["findings"]) and reworded["findings"][0]["check"] == "task",
    }
