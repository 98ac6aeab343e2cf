"""``vla-ros calibrate``: run lerobot's own interactive SO follower calibration.

Does exactly what ``lerobot-calibrate --robot.type=so101_follower`` does (``SOFollower.connect(
calibrate=False)``, ``SOFollower.calibrate()``, ``disconnect()``), with the calibration file placed
where ``so101_driver`` looks for it: ``<calibration_dir>/robots/so_follower/<robot_id>.json``. The
prompts are lerobot's: move the arm to the middle of its range, press ENTER, move every joint through
its range, press ENTER.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from vla_ros.errors import VlaRosError
from vla_ros.robot.calibration import calibration_path, load_calibration

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of ``vla-ros calibrate``."""
    parser = argparse.ArgumentParser(
        prog="vla-ros calibrate",
        description="Calibrate the SO-101 follower arm with lerobot's interactive procedure.",
    )
    parser.add_argument("--port", required=True, help="serial port of the arm (e.g. /dev/ttyACM0)")
    parser.add_argument("--robot-id", required=True, help="robot id; names the calibration file")
    parser.add_argument(
        "--calibration-dir", default="", help="calibration root (default: lerobot's HF_LEROBOT_CALIBRATION)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the calibration; returns 0 on success, 1 if the arm could not be reached or the result is bad."""
    ns = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from lerobot.robots.so_follower import SOFollower, SOFollowerRobotConfig

    path = calibration_path(ns.robot_id, ns.calibration_dir or None)
    robot = SOFollower(SOFollowerRobotConfig(port=ns.port, id=ns.robot_id, calibration_dir=path.parent))
    try:
        robot.connect(calibrate=False)
    except (ConnectionError, OSError, RuntimeError) as err:
        print(f"vla-ros calibrate: cannot connect to the arm on {ns.port}: {err}", file=sys.stderr)
        return 1
    try:
        robot.calibrate()
    finally:
        robot.disconnect()
    try:
        load_calibration(path)
    except VlaRosError as err:
        print(f"vla-ros calibrate: {err}", file=sys.stderr)
        return 1
    print(f"calibration saved to {path}; so101_driver uses it with robot_id:={ns.robot_id}")
    return 0
