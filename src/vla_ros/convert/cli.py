"""Command lines ``vla-ros convert`` and ``vla-ros validate`` (argparse; the ``vla-ros`` CLI dispatches here).

``vla-ros convert BAG... --out DIR [--config FILE] [flags]``: flags override the config file
(default ``config/convert.yaml``). Exit status: 0 written, 1 bad input or options (nothing written),
130 interrupted (nothing written).

``vla-ros validate DIR [--no-decode]``: exit status 0 when the dataset passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
from collections.abc import Sequence

from vla_ros.convert.converter import convert_bags
from vla_ros.convert.mapping import GAP_POLICIES, STAMP_SOURCES, ConvertConfig, load_config
from vla_ros.convert.validate import validate_dataset
from vla_ros.errors import VlaRosError
from vla_ros.robot.units import Units

__all__ = ["convert_main", "convert_parser", "validate_main", "validate_parser"]


def convert_parser() -> argparse.ArgumentParser:
    """The argument parser of ``vla-ros convert``."""
    p = argparse.ArgumentParser(
        prog="vla-ros convert",
        description="Convert ROS 2 bags (MCAP or sqlite3) into a LeRobot v3.0 dataset, one episode per bag "
                    "(or per episode marker). Per-stream sync statistics are printed.",
    )
    p.add_argument("bags", nargs="+", metavar="BAG", help="rosbag2 directories (or .mcap/.db3 files)")
    p.add_argument("--out", required=True, help="dataset directory (must not exist unless --append)")
    p.add_argument("--config", help="converter config YAML (default: the installed config/convert.yaml)")
    p.add_argument("--append", action="store_true", help="add the episodes to the dataset at --out")
    p.add_argument("--task", help="task for every episode (default: each bag's metadata 'task')")
    p.add_argument("--fps", type=int, help="dataset frame rate, Hz")
    p.add_argument("--units", choices=Units.ALL, help="lerobot (degrees, gripper 0-100) or rad")
    cal = p.add_argument_group("calibration (for --units lerobot)")
    cal.add_argument("--calibration", help="lerobot calibration file of the follower arm")
    cal.add_argument("--robot-id", help="robot id of a calibration under --calibration-dir")
    cal.add_argument("--calibration-dir", help="calibration root (default: lerobot's)")
    cal.add_argument("--sim-calibration", action="store_true", default=None,
                     help="use the simulated arm's calibration (URDF limits)")
    p.add_argument("--stamps", choices=STAMP_SOURCES, help="header stamps or bag receive times")
    p.add_argument("--namespace", help="namespace of the relative topics in the bags")
    p.add_argument("--episode-topic", help="marker topic splitting bags into episodes")
    p.add_argument("--on-gap", choices=GAP_POLICIES, help="ticks outside tolerance: fail, or split episodes")
    p.add_argument("--min-episode-s", type=float, help="skip shorter episodes, s")
    p.add_argument("--vcodec", help="video codec (libsvtav1, h264, hevc, auto, ...)")
    p.add_argument("--image-writer-threads", type=int, help="image-writer threads per camera")
    p.add_argument("--image-writer-processes", type=int, help="image-writer processes")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _config(args: argparse.Namespace) -> ConvertConfig:
    overrides = {
        name: getattr(args, name)
        for name in ("task", "fps", "units", "calibration", "robot_id", "calibration_dir", "sim_calibration",
                     "stamps", "on_gap", "min_episode_s", "vcodec", "image_writer_threads",
                     "image_writer_processes")
    }
    config = load_config(args.config, **overrides)
    topics = {k: v for k, v in (("namespace", args.namespace), ("episode_topic", args.episode_topic))
              if v is not None}
    if topics:
        config = dataclasses.replace(config, mapping=dataclasses.replace(config.mapping, **topics))
    return config


def convert_main(argv: Sequence[str] | None = None) -> int:
    """``vla-ros convert``; returns the exit status."""
    args = convert_parser().parse_args(argv)
    seen: list[int] = []

    def on_sigint(signum: int, _frame: object) -> None:
        seen.append(signum)  # remembered even where Python swallows the exception (a __del__)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        config = _config(args)
        result = convert_bags(args.bags, args.out, config, append=args.append, progress=not args.no_progress,
                              interrupted=lambda: bool(seen))
    except KeyboardInterrupt:
        print("interrupted: nothing was written to the output", file=sys.stderr)
        return 130
    except VlaRosError as err:
        print(f"vla-ros convert: {err}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, previous)
    print("sync statistics (lag: age of the observation / delay of the action at each tick):")
    print(result.report)
    for note in result.notes:
        print(f"note: {note}")
    print(f"wrote {len(result.episodes)} episodes, {result.frames} frames to {result.out} "
          f"({'appended' if args.append else 'new dataset'})")
    return 0


def validate_parser() -> argparse.ArgumentParser:
    """The argument parser of ``vla-ros validate``."""
    p = argparse.ArgumentParser(prog="vla-ros validate",
                                description="Reopen a LeRobot v3.0 dataset with lerobot and check it.")
    p.add_argument("dataset", metavar="DIR", help="dataset directory")
    p.add_argument("--no-decode", action="store_true", help="skip decoding the videos")
    return p


def validate_main(argv: Sequence[str] | None = None) -> int:
    """``vla-ros validate``; returns 0 when the dataset passes, 1 otherwise."""
    args = validate_parser().parse_args(argv)
    report = validate_dataset(args.dataset, decode_videos=not args.no_decode)
    print(report.summary())
    return 0 if report.ok else 1
