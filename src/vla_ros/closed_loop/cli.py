"""``training/closed_loop.py`` / ``vla-ros closed-loop``: the whole data loop in simulation, measured."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vla_ros.closed_loop import stages
from vla_ros.closed_loop.checks import GUARD_CHECKS, POLICY_CHECKS
from vla_ros.closed_loop.config import STAGES, ClosedLoopConfig
from vla_ros.closed_loop.diagnosis import DIAGNOSE_CHECKS, DIAGNOSED, diagnose
from vla_ros.closed_loop.offline import offline
from vla_ros.closed_loop.report import build_report, format_report, guard_message, write_report
from vla_ros.closed_loop.runner import StageError
from vla_ros.closed_loop.ship import ship
from vla_ros.training.config import add_config_arguments, config_from_args

__all__ = ["main", "run"]

TIMINGS = "timings.json"


def _load_timings(paths: stages.RunPaths) -> dict[str, float]:
    file = paths.root / TIMINGS
    return json.loads(file.read_text()) if file.is_file() else {}


def _save_timings(paths: stages.RunPaths, timings: dict[str, float]) -> None:
    (paths.root / TIMINGS).write_text(json.dumps(timings, indent=2))


def run(cfg: ClosedLoopConfig) -> dict[str, Any]:
    """Run the stages from ``cfg.from_stage`` on, then write and return the report.

    Raises:
        StageError: a stage failed (its log tail is in the message).
    """
    paths = stages.RunPaths(Path(cfg.output_dir).resolve())
    paths.root.mkdir(parents=True, exist_ok=True)
    first = STAGES.index(cfg.from_stage)
    timings = {k: v for k, v in _load_timings(paths).items()
               if k.split("/")[0] in STAGES[:first]}
    for name, stage in (("record", stages.record), ("convert", stages.convert), ("train", stages.train),
                        ("offline", offline)):
        if STAGES.index(name) >= first:
            timings[name] = stage(cfg, paths).wall_s
            _save_timings(paths, timings)
    if STAGES.index("evaluate") >= first:
        for condition in stages.conditions(cfg):
            timings[f"evaluate/{condition.name}"] = stages.evaluate(cfg, paths, condition).wall_s
            _save_timings(paths, timings)
    if STAGES.index("diagnose") >= first:
        for name in DIAGNOSED:
            if name in cfg.conditions and any(paths.eval_dir(name).glob("episode_*.npz")):
                timings[f"diagnose/{name}"] = diagnose(cfg, paths, name).wall_s
                _save_timings(paths, timings)
    guards = {c.name: guard_message(stages.evaluate_log(paths, c.name))
              for c in stages.conditions(cfg) if c.expect_refusal}
    report = build_report(cfg, paths, timings, guards)
    write_report(report, paths)
    print(format_report(report), flush=True)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse flags, run, exit 0 when every stage ran and no check failing the run was
    missed (1 with the failing stage's log, or naming the missed checks)."""
    parser = argparse.ArgumentParser(
        prog="closed_loop.py",
        description="Record expert demonstrations in simulation, convert, fine-tune a tiny SmolVLA, deploy "
                    "it through the deploy graph and measure success per instruction, with the "
                    "instructions exchanged, the cameras swapped, and a random-policy baseline.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_config_arguments(parser, ClosedLoopConfig)
    cfg = config_from_args(ClosedLoopConfig, parser.parse_args(argv))
    try:
        report = run(cfg)
    except StageError as err:
        print(f"closed loop: {err}")
        return 1
    except KeyboardInterrupt:
        print(f"closed loop: interrupted; the finished stages' outputs stay in {cfg.output_dir} "
              "(--from-stage re-runs from one of them)")
        return 130
    verdict = _verdict(report, cfg)
    if verdict == 0 and cfg.ship_to:
        print(f"closed loop: shipped the trained policy to {ship(cfg.output_dir, cfg.ship_to)}")
    return verdict


def _verdict(report: dict[str, Any], cfg: ClosedLoopConfig) -> int:
    """1 when a guard or diagnose check was missed, or a policy check with ``policy_checks: fail``."""
    checks = report["checks"]
    if checks["physical_camera_swap_caught"] is False:
        print("closed loop: cameras_swapped_physically was not refused before the arm moved in every "
              f"episode: {report['conditions']['cameras_swapped_physically']}")
    failing = [*GUARD_CHECKS, *DIAGNOSE_CHECKS, *(POLICY_CHECKS if cfg.policy_checks == "fail" else ())]
    missed = [name for name in failing if checks.get(name) is False]
    if missed:
        print(f"closed loop: check(s) missed: {', '.join(missed)} (measures {report['measures']}, "
              f"thresholds {report['thresholds']})")
    return 1 if missed else 0
