"""``vla-ros``: one command line for the no-ROS-install path and the data loop.

    vla-ros launch deploy|record|view [name:=value ...]   same graph as `ros2 launch vla_ros <g>.launch.py`
    vla-ros record [name:=value ...]                      = vla-ros launch record
    vla-ros convert BAG... --out DIR                      rosbag -> LeRobot v3.0 dataset
    vla-ros validate DIR                                  reopen and check a dataset with lerobot
    vla-ros make-tiny-policy DIR                          tiny offline SmolVLA checkpoint
    vla-ros train DATASET... [flags]                      fine-tune SmolVLA (training/train_smolvla.py)
    vla-ros eval-offline CHECKPOINT... [flags]            offline evaluation (training/eval_offline.py)
    vla-ros calibrate --port PORT --robot-id ID           lerobot's interactive arm calibration
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from vla_ros.errors import VlaRosError

__all__ = ["COMMANDS", "main"]

COMMANDS: dict[str, tuple[str, str]] = {
    "launch": ("vla_ros.cli:launch_main", "run a node graph: deploy, record or view"),
    "record": ("vla_ros.cli:record_main", "record demonstrations (= launch record)"),
    "convert": ("vla_ros.convert.cli:convert_main", "convert rosbags to a LeRobot v3.0 dataset"),
    "validate": ("vla_ros.convert.cli:validate_main", "check a LeRobot dataset by reopening it"),
    "make-tiny-policy": ("vla_ros.policy.tiny:main", "write a tiny offline SmolVLA checkpoint"),
    "train": ("vla_ros.training.cli:train_main", "fine-tune SmolVLA (= python training/train_smolvla.py)"),
    "eval-offline": ("vla_ros.training.cli:eval_main", "evaluate checkpoints on held-out episodes"),
    "diagnose": ("vla_ros.diagnose.cli:diagnose_main", "compare deployment episodes with the training data"),
    "closed-loop": ("vla_ros.closed_loop.cli:main",
                    "record, convert, train, deploy, measure success in sim (= training/closed_loop.py)"),
    "calibrate": ("vla_ros.driver.calibrate:main", "calibrate an SO-101 with lerobot"),
    "view": ("vla_ros.viewer.cli:view_main", "show a dataset (lerobot's viz) or a bag in the web viewer"),
    "task": ("vla_ros.session.commands:task_main", "set the running graph's task (policy guard applies)"),
    "estop": ("vla_ros.session.commands:estop_main", "latch the running graph's e-stop (--release)"),
    "enable": ("vla_ros.session.commands:enable_main", "enable the running policy (start-state gate)"),
    "disable": ("vla_ros.session.commands:disable_main", "disable the running policy"),
    "status": ("vla_ros.session.commands:status_main", "the running graph's state in one line (--follow)"),
    "prepare": ("vla_ros.bringup.prepare:main", "make what a graph needs before it starts (launch files)"),
    "contract": ("vla_ros.contract.cli:main", "what a checkpoint was trained on, each fact with its source"),
}


def _usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    return "usage: vla-ros COMMAND [ARGS ...]\n\ncommands:\n" + "\n".join(lines)


def launch_main(argv: Sequence[str]) -> int:
    """``vla-ros launch GRAPH [name:=value ...]``."""
    from vla_ros.bringup.graph import GRAPHS, build_graph, launch_arguments, parse_launch_args
    from vla_ros.bringup.launcher import Supervisor
    from vla_ros.bringup.network import discovery
    from vla_ros.bringup.prepare import prepare

    if not argv or argv[0] in ("-h", "--help") or argv[0] not in GRAPHS:
        graphs = "\n".join(
            f"\n{g}:\n" + "\n".join(f"  {a.name + ':=' + repr(a.default):<28} {a.description}"
                                     for a in launch_arguments(g))
            for g in GRAPHS
        )
        print(f"usage: vla-ros launch {{{','.join(GRAPHS)}}} [name:=value ...]\n{graphs}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    graph, words = argv[0], list(argv[1:])
    args = parse_launch_args(graph, words)
    prepare(graph, args)
    specs = build_graph(graph, args)
    print(f"[launch] {discovery(args.get('network', 'localhost')).summary}", flush=True)
    return Supervisor(specs, namespace=args.get("namespace", "")).run(float(args.get("duration", "0")))


def record_main(argv: Sequence[str]) -> int:
    """``vla-ros record [name:=value ...]``."""
    return launch_main(["record", *argv])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``vla-ros`` executable."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(_usage(), file=sys.stderr if argv and argv[0] not in ("-h", "--help") else sys.stdout)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module, func = COMMANDS[argv[0]][0].split(":")
    try:
        return int(getattr(importlib.import_module(module), func)(argv[1:]) or 0)
    except VlaRosError as err:
        print(f"vla-ros {argv[0]}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
