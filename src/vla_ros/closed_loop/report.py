"""The closed loop's report: success per instruction and condition, checks, and time per stage.

``report.json`` (:data:`SCHEMA`) gathers each condition's ``results.json`` (written by
``sim_evaluator``, :mod:`vla_ros.evaluate.scoring`), the stage timings, the checks with the numbers
they compare and their thresholds (:mod:`vla_ros.closed_loop.checks`: the policy's success, baseline,
instruction following, use of vision, the controls that must fail them, and the camera guards) and
the diagnose stage's (:mod:`vla_ros.closed_loop.diagnosis`), and the offline stage's task effect
(:mod:`vla_ros.closed_loop.offline`).

A condition is ``refused_by_guard`` when the policy node refused to start (its log) or when every
episode of a complete evaluation was refused at ``policy/enable``: ``sim_evaluator`` then never
played the episode (no ground-truth sample) and the policy, never enabled, sent no joint command.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vla_ros.closed_loop.checks import THRESHOLDS, closed_loop_checks, measures
from vla_ros.closed_loop.config import ClosedLoopConfig
from vla_ros.closed_loop.diagnosis import DIAGNOSED, diagnosis_checks, diagnosis_summary
from vla_ros.closed_loop.offline import offline_summary
from vla_ros.closed_loop.stages import RunPaths, conditions, stage_outputs
from vla_ros.evaluate.scoring import EvaluationResults

__all__ = ["SCHEMA", "build_report", "format_report", "guard_message",
           "refused_before_moving", "write_report"]

SCHEMA = "vla_ros.closed_loop/1"
GUARD_MARKERS = ("refusing to start", "camera_map disagrees")


def guard_message(log: Path) -> str:
    """The guard's refusal in a stage log ('' when the log shows none)."""
    if not log.is_file():
        return ""
    for line in log.read_text(errors="replace").splitlines():
        if all(marker in line for marker in GUARD_MARKERS):
            return line.strip()
    return ""


def refused_before_moving(results: EvaluationResults) -> bool:
    """Every planned episode was refused at ``policy/enable`` (all its attempts) and never played."""
    return results.complete and bool(results.episodes) and all(
        e.refused and not e.samples for e in results.episodes)


def _condition(paths: RunPaths, name: str, guard: str) -> dict[str, Any]:
    results_dir = paths.eval_dir(name)
    if guard:
        return {"status": "refused_by_guard", "refused_at": "start-up", "guard_message": guard}
    try:
        results = EvaluationResults.load(results_dir)
    except (FileNotFoundError, ValueError) as err:
        return {"status": "failed", "error": str(err)}
    if refused_before_moving(results):
        return {"status": "refused_by_guard", "refused_at": "enable", "episodes": len(results.episodes),
                "guard_message": results.episodes[0].refusal,
                "refusals": [e.refusal for e in results.episodes],
                "results": str(results_dir / "results.json")}
    doc = results.to_json()
    per_task = {task: {k: s[k] for k in ("target", "episodes", "successes", "success_rate",
                                          "other_reached_rate", "refusals", "mean_min_distance_named_m")}
                for task, s in doc["summary"]["per_task"].items()}
    reached = {e.index: (e.target_named if e.success else "") for e in results.episodes}
    return {"status": "evaluated" if results.complete else "incomplete", "run_error": results.run_error,
            "per_task": per_task, "success_rate": doc["summary"]["overall"]["success_rate"],
            "other_reached_rate": doc["summary"]["overall"]["other_reached_rate"],
            "reached_by_episode": reached, "results": str(results_dir / "results.json"),
            "episode_files": {str(k): str(results_dir / v) for k, v in results.episode_files.items()}}


def build_report(cfg: ClosedLoopConfig, paths: RunPaths, timings: Mapping[str, float],
                 guards: Mapping[str, str]) -> dict[str, Any]:
    """The report of a run whose stages are done (see the module docstring)."""
    conds = {c.name: _condition(paths, c.name, guards.get(c.name, "")) for c in conditions(cfg)}
    diagnoses = {name: diagnosis_summary(paths, name) for name in DIAGNOSED if name in cfg.conditions}
    total = sum(v for k, v in timings.items())
    return {"schema": SCHEMA, "config": dataclasses.asdict(cfg), "outputs": stage_outputs(cfg, paths),
            "conditions": conds, "checks": {**closed_loop_checks(conds), **diagnosis_checks(diagnoses)},
            "measures": measures(conds), "thresholds": dict(THRESHOLDS), "diagnosis": diagnoses,
            "offline": offline_summary(paths),
            "timings_s": dict(timings), "total_s": total,
            "figures": {"episode": str(paths.root / "episode.png"),
                        "success": str(paths.root / "success.png")}}


def write_report(report: dict[str, Any], paths: RunPaths) -> Path:
    """Write ``report.json`` and the figures; returns the report's path."""
    from vla_ros.closed_loop.plots import plot_episode, plot_success

    episode_files = report["conditions"].get("trained", {}).get("episode_files", {})
    if episode_files:
        plot_episode(Path(next(iter(episode_files.values()))), Path(report["figures"]["episode"]))
    plot_success(report, Path(report["figures"]["success"]))
    path = paths.root / "report.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def _refused_where(cond: Mapping[str, Any]) -> str:
    if cond.get("refused_at") == "enable":
        return f"at enable, {cond['episodes']} of {cond['episodes']} episodes"
    return "at start-up"


def format_report(report: Mapping[str, Any]) -> str:
    """A plain-text table of success per instruction and condition, the checks and the timings."""
    lines = ["", "closed loop: success rate per instruction (episodes)"]
    for name, cond in report["conditions"].items():
        if cond["status"] == "refused_by_guard":
            message = cond["guard_message"]
            reason = message.partition("refusing to start: ")[2] or message
            lines.append(f"  {name:<26} refused before the arm moved ({_refused_where(cond)}): "
                         f"{reason[:240]}")
        elif "per_task" not in cond:
            lines.append(f"  {name:<26} {cond['status']}: {cond.get('error', '')}")
        else:
            cells = [f"{t!r}: {s['success_rate']:.0%} ({s['episodes']})" for t, s in cond["per_task"].items()]
            lines.append(f"  {name:<26} " + ", ".join(cells))
    for name, diagnosis in report.get("diagnosis", {}).items():
        if diagnosis is not None:
            first = diagnosis["findings"][0] if diagnosis["findings"] else None
            lines.append(f"  diagnose {name:<17} worst {diagnosis['worst_severity']}"
                         + (f"; first: [{first['check']}] {first['message'][:200]}" if first else ""))
    if report.get("offline"):
        lines.append(f"  offline (held-out demonstrations) {report['offline']['verdict']}")
    measured = {k: v for k, v in report.get("measures", {}).items() if v is not None}
    if measured:
        lines.append("measures: " + ", ".join(f"{k} {v:.2f}" for k, v in measured.items())
                     + "; thresholds: " + ", ".join(f"{k} {v:g}" for k, v in report["thresholds"].items()))
    checks = report["checks"]
    lines.append("checks: " + ", ".join(f"{k}={v}" for k, v in checks.items()))
    lines.append("time per stage: " + ", ".join(f"{k} {v:.0f} s" for k, v in report["timings_s"].items())
                 + f"; total {report['total_s'] / 60:.1f} min")
    return "\n".join(lines)
