"""The closed loop's report: success per instruction and condition, checks, and time per stage.

``report.json`` (:data:`SCHEMA`) gathers each condition's ``results.json`` (written by
``sim_evaluator``, :mod:`vla_ros.evaluate.scoring`), the stage timings and three checks:
``above_baseline`` (every instruction's success rate is at least :data:`CLEAR_MARGIN` above the
random policy's), ``follows_instruction`` (with the instructions exchanged on the same scenes the
policy reaches the newly named cube: success stays at least :data:`CLEAR_MARGIN` above the baseline
and the cube reached changes with the instruction) and ``camera_swap_caught`` (the guard refused the
swapped cameras before the arm moved).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vla_ros.closed_loop.config import ClosedLoopConfig
from vla_ros.closed_loop.stages import RunPaths, conditions, stage_outputs
from vla_ros.evaluate.scoring import EvaluationResults

__all__ = ["CLEAR_MARGIN", "SCHEMA", "build_report", "format_report", "guard_message", "write_report"]

SCHEMA = "vla_ros.closed_loop/1"
CLEAR_MARGIN = 0.3
"""How far above the random baseline a success rate must be to count as clearly above (absolute)."""
GUARD_MARKERS = ("refusing to start", "camera_map disagrees")


def guard_message(log: Path) -> str:
    """The guard's refusal in a stage log ('' when the log shows none)."""
    if not log.is_file():
        return ""
    for line in log.read_text(errors="replace").splitlines():
        if all(marker in line for marker in GUARD_MARKERS):
            return line.strip()
    return ""


def _condition(paths: RunPaths, name: str, guard: str) -> dict[str, Any]:
    results_dir = paths.eval_dir(name)
    if guard:
        return {"status": "refused_by_guard", "guard_message": guard}
    try:
        results = EvaluationResults.load(results_dir)
    except (FileNotFoundError, ValueError) as err:
        return {"status": "failed", "error": str(err)}
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


def _rate(conds: Mapping[str, Any], name: str) -> float | None:
    return conds.get(name, {}).get("success_rate")


def _checks(conds: Mapping[str, Any]) -> dict[str, Any]:
    base = _rate(conds, "random_baseline") or 0.0
    trained = conds.get("trained", {}).get("per_task", {})
    above = bool(trained) and all(s["success_rate"] >= base + CLEAR_MARGIN for s in trained.values())
    exchanged = conds.get("instructions_exchanged", {})
    before = conds.get("trained", {}).get("reached_by_episode", {})
    flips = [k for k, cube in exchanged.get("reached_by_episode", {}).items()
             if cube and before.get(k) and before[k] != cube]
    exchanged_rate = exchanged.get("success_rate") or 0.0
    follows = bool(exchanged.get("per_task")) and exchanged_rate >= base + CLEAR_MARGIN
    swap = conds.get("cameras_swapped", {})
    return {"above_baseline": above, "follows_instruction": follows,
            "instruction_flips": len(flips),
            "camera_swap_caught": swap.get("status") == "refused_by_guard" if swap else None,
            "clear_margin": CLEAR_MARGIN}


def build_report(cfg: ClosedLoopConfig, paths: RunPaths, timings: Mapping[str, float],
                 guards: Mapping[str, str]) -> dict[str, Any]:
    """The report of a run whose stages are done (see the module docstring)."""
    conds = {c.name: _condition(paths, c.name, guards.get(c.name, "")) for c in conditions(cfg)}
    total = sum(v for k, v in timings.items())
    return {"schema": SCHEMA, "config": dataclasses.asdict(cfg), "outputs": stage_outputs(paths),
            "conditions": conds, "checks": _checks(conds), "timings_s": dict(timings), "total_s": total,
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


def format_report(report: Mapping[str, Any]) -> str:
    """A plain-text table of success per instruction and condition, the checks and the timings."""
    lines = ["", "closed loop: success rate per instruction (episodes)"]
    for name, cond in report["conditions"].items():
        if cond["status"] == "refused_by_guard":
            reason = cond["guard_message"].partition("refusing to start: ")[2]
            lines.append(f"  {name:<26} refused before the arm moved: {reason[:240]}")
        elif "per_task" not in cond:
            lines.append(f"  {name:<26} {cond['status']}: {cond.get('error', '')}")
        else:
            cells = [f"{t!r}: {s['success_rate']:.0%} ({s['episodes']})" for t, s in cond["per_task"].items()]
            lines.append(f"  {name:<26} " + ", ".join(cells))
    checks = report["checks"]
    lines.append("checks: " + ", ".join(f"{k}={v}" for k, v in checks.items()))
    lines.append("time per stage: " + ", ".join(f"{k} {v:.0f} s" for k, v in report["timings_s"].items())
                 + f"; total {report['total_s'] / 60:.1f} min")
    return "\n".join(lines)
