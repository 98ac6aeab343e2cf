"""``vla-ros diagnose --train DATASET [--checkpoint CKPT] --deploy BAGS_OR_DATASET... --out DIR``.

Prints a short summary (the ranked findings above ``info``) and writes ``report.json`` and PNG plots
into ``--out``. Exit status: 0 done (or 3 with ``--fail-on`` and a finding that severe), 1 bad input or
options (nothing written), 130 interrupted (nothing written).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence

from vla_ros.convert.mapping import STAMP_SOURCES, ConvertConfig, load_config
from vla_ros.diagnose.diagnosis import diagnose, write_diagnosis
from vla_ros.diagnose.findings import SEVERITIES
from vla_ros.diagnose.report import summary_text
from vla_ros.errors import VlaRosError

__all__ = ["diagnose_main", "diagnose_parser"]


def diagnose_parser() -> argparse.ArgumentParser:
    """The argument parser of ``vla-ros diagnose``."""
    p = argparse.ArgumentParser(
        prog="vla-ros diagnose",
        description="Compare what the arm did in deployment with what it was taught: tasks, cameras, "
                    "per-joint distributions, gripper, smoothness, start states, normalised outputs and "
                    "control timing; ranked findings, report.json and PNG plots.")
    p.add_argument("--train", required=True, metavar="DATASET", help="training dataset (LeRobot v3.0, local)")
    p.add_argument("--deploy", required=True, nargs="+", metavar="BAG_OR_DATASET",
                   help="deployment bags recorded by vla_ros, LeRobot datasets and/or sim_evaluator "
                        "traces (episode_NNN.npz, or their directory)")
    p.add_argument("--checkpoint", metavar="CKPT", help="the deployed checkpoint (z range, epoch budget)")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (must not exist)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--no-images", action="store_true", help="skip image statistics (no video decoding)")
    p.add_argument("--no-plots", action="store_true", help="write report.json only")
    p.add_argument("--fail-on", choices=SEVERITIES[:2], help="exit 3 when a finding is this severe or worse")
    bags = p.add_argument_group("bags (read as `vla-ros convert` reads them)")
    bags.add_argument("--config", help="converter config YAML (default: the installed config/convert.yaml)")
    bags.add_argument("--task", help="task of every bag (default: each bag's metadata 'task')")
    bags.add_argument("--calibration", help="lerobot calibration file of the follower arm")
    bags.add_argument("--robot-id", help="robot id of a calibration under --calibration-dir")
    bags.add_argument("--calibration-dir", help="calibration root (default: lerobot's)")
    bags.add_argument("--sim-calibration", action="store_true", default=None,
                      help="use the simulated arm's calibration (URDF limits)")
    bags.add_argument("--stamps", choices=STAMP_SOURCES, help="header stamps or bag receive times")
    bags.add_argument("--namespace", help="namespace of the relative topics in the bags")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def _config(args: argparse.Namespace) -> ConvertConfig:
    overrides = {n: getattr(args, n) for n in ("task", "calibration", "robot_id", "calibration_dir",
                                               "sim_calibration", "stamps")}
    config = load_config(args.config, **overrides)
    if args.namespace is not None:
        config = dataclasses.replace(config, mapping=dataclasses.replace(config.mapping,
                                                                          namespace=args.namespace))
    return config


def diagnose_main(argv: Sequence[str] | None = None) -> int:
    """``vla-ros diagnose``; returns the exit status."""
    args = diagnose_parser().parse_args(argv)
    try:
        result = diagnose(args.train, args.deploy, checkpoint=args.checkpoint, images=not args.no_images,
                          config=_config(args), progress=not args.no_progress)
        report = write_diagnosis(result, args.out, plots=not args.no_plots, overwrite=args.overwrite)
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    except VlaRosError as err:
        print(f"vla-ros diagnose: error: {err}", file=sys.stderr)
        return 1
    print(summary_text(report, args.out))
    worst = SEVERITIES.index(report["summary"]["worst_severity"])
    return 3 if args.fail_on and worst <= SEVERITIES.index(args.fail_on) else 0
