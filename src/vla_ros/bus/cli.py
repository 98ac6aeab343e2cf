"""``sts_bus_emulator``: run an emulated SO-101 servo bus until interrupted.

Prints the port to open (the ``--link`` path if given, else the pty) on the first line of stdout,
then serves until SIGINT/SIGTERM. Example::

    sts_bus_emulator --link /tmp/so101.tty &
    lerobot-calibrate --robot.type=so101_follower --robot.port=/tmp/so101.tty --robot.id=sim

With ``--leader`` the bus plays a leader arm instead (:class:`vla_ros.bus.leader.ScriptedLeader`): torque
off, every joint swinging ``--leader-amplitude-ticks`` about ``--initial-ticks`` with period
``--leader-period-s``, whatever is written to it; ``leader_teleop`` reads it with lerobot's SOLeader.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from vla_ros.bus.emulator import BusEmulator
from vla_ros.bus.leader import ScriptedLeader
from vla_ros.bus.servo import DEFAULT_ACCELERATION_TICKS_S2, DEFAULT_MAX_SPEED_TICKS_S, MAX_TICK, ServoModel
from vla_ros.errors import VlaRosError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of ``sts_bus_emulator``."""
    parser = argparse.ArgumentParser(
        prog="sts_bus_emulator",
        description="Emulated Feetech STS3215 servo bus (the SO-101 arm) on a pseudo-terminal.",
    )
    parser.add_argument("--link", help="stable symlink to create for the pty (e.g. /tmp/so101.tty)")
    parser.add_argument("--ids", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6], help="servo ids")
    parser.add_argument(
        "--initial-ticks", type=int, default=2048, help=f"start position of every motor, 0..{MAX_TICK}"
    )
    parser.add_argument(
        "--max-speed-ticks-s", type=float, default=DEFAULT_MAX_SPEED_TICKS_S, help="servo speed limit"
    )
    parser.add_argument(
        "--acceleration-ticks-s2",
        type=float,
        default=DEFAULT_ACCELERATION_TICKS_S2,
        help="servo acceleration",
    )
    parser.add_argument("--leader", action="store_true",
                        help="play a leader arm: torque off, joints following a scripted swing")
    parser.add_argument("--leader-amplitude-ticks", type=float, default=200.0,
                        help="leader: half the swing of every joint, ticks (~652 per radian)")
    parser.add_argument("--leader-period-s", type=float, default=4.0, help="leader: period of the swing, s")
    parser.add_argument("-v", "--verbose", action="store_true", help="log plug/unplug events")
    return parser


def main(args: Sequence[str] | None = None) -> int:
    """Run the emulator; returns the exit status (0 on SIGINT/SIGTERM, 2 on bad arguments)."""
    ns = build_parser().parse_args(args)
    logging.basicConfig(level=logging.INFO if ns.verbose else logging.WARNING, format="%(message)s")
    try:
        physics = ScriptedLeader.swinging(
            ns.ids, ns.leader_amplitude_ticks, ns.leader_period_s, ns.initial_ticks
        ) if ns.leader else ServoModel(
            ns.ids,
            dict.fromkeys(ns.ids, ns.initial_ticks),
            max_speed_ticks_s=ns.max_speed_ticks_s,
            acceleration_ticks_s2=ns.acceleration_ticks_s2,
        )
        emulator = BusEmulator(physics, motor_ids=ns.ids, link=ns.link)
        emulator.start()
    except VlaRosError as err:
        print(f"sts_bus_emulator: {err}", file=sys.stderr)
        return 2
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    try:
        print(emulator.port, flush=True)
        role = "leader arm" if ns.leader else "servos"
        print(f"sts_bus_emulator: {role} {ns.ids} on {emulator.port}; Ctrl-C to stop", file=sys.stderr)
        while not done.wait(0.5):
            pass
    finally:
        emulator.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
