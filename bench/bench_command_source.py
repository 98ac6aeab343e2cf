"""Bench: how many messages of a rogue ``joint_commands`` publisher reach the arm's bus (goal: zero).

``so101_driver`` (in this process, on the STS3215 emulator that stands in for the arm) follows a
stand-in ``safety_supervisor`` node that publishes one pose at 30 Hz. A second process plays the
second user of issue 19: each trial starts a fresh rclpy context (a new DDS participant), creates a
``rogue`` node and publisher on the driver's ``joint_commands`` and publishes a far pose at
``--rate`` Hz for ``--burst`` seconds from its very first moment, without waiting for discovery, then
exits the context. Printed per run:

* rogue messages sent, and delivered to a plain subscriber here (what a driver without the check
  would have executed);
* of those, the ones that arrived before the ROS graph listed the rogue, and the longest such window:
  what a design relying on the graph alone would let through;
* rogue messages that reached the driver's bus (its command mailbox): the per-message publisher gid
  check makes this zero;
* the delay from the first rogue message to the driver holding and naming it on ``/diagnostics``.

Run: ``python bench/bench_command_source.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(101, 200)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

ROGUE = [1.2, 0.8, -0.8, 1.0, 1.5, 1.0]  # the rogue pose, rad
SOURCE = [0.1, -0.1, 0.1, 0.0, 0.0, 0.2]
ROBOT_ID = "bench_cs"


def rogue_main(topic: str, trials: int, rate_hz: float, burst_s: float, pause_s: float) -> None:
    """The second process: ``trials`` fresh rogue publishers; prints how many messages each sent."""
    import rclpy
    from sensor_msgs.msg import JointState

    from vla_ros.robot.joints import JOINT_NAMES
    from vla_ros.ros.qos import COMMAND_QOS

    for trial in range(trials):
        ctx = rclpy.Context()
        rclpy.init(context=ctx)
        node = rclpy.create_node("rogue", context=ctx)
        pub = node.create_publisher(JointState, topic, COMMAND_QOS)
        msg = JointState(name=list(JOINT_NAMES), position=ROGUE)
        sent, end = 0, time.monotonic() + burst_s
        print(f"start {trial} {time.time_ns()}", flush=True)
        while time.monotonic() < end:
            pub.publish(msg)
            sent += 1
            time.sleep(1.0 / rate_hz)
        print(f"sent {trial} {sent}", flush=True)
        node.destroy_node()
        rclpy.shutdown(context=ctx)
        time.sleep(pause_s)


class Watch:
    """What this process sees: rogue messages delivered, graph view at arrival, driver holds."""

    def __init__(self, node, driver, topic: str) -> None:
        from sensor_msgs.msg import JointState

        from vla_ros.ros.qos import COMMAND_QOS

        self.node, self.driver, self.topic = node, driver, topic
        self.lock = threading.Lock()
        self.delivered: list[tuple[float, bool]] = []  # (arrival wall s, graph listed a non-source one)
        self.holds: list[float] = []
        self.reached_bus = 0
        node.create_subscription(JointState, topic, self._on_command, COMMAND_QOS)
        submit = driver.loop.submit

        def watched_submit(names, positions):
            if list(positions) == ROGUE:
                with self.lock:
                    self.reached_bus += 1
            return submit(names, positions)

        driver.loop.submit = watched_submit
        threading.Thread(target=self._poll_holds, daemon=True).start()

    def _on_command(self, msg) -> None:
        if list(msg.position) != ROGUE:
            return
        infos = self.node.get_publishers_info_by_topic(self.topic)
        listed = any(i.node_name != "safety_supervisor" for i in infos)
        with self.lock:
            self.delivered.append((time.time(), listed))

    def _poll_holds(self) -> None:
        holding = False
        while True:
            now = self.driver.source.status.holding
            if now and not holding:
                with self.lock:
                    self.holds.append(time.time())
            holding = now
            time.sleep(0.001)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--rate", type=float, default=200.0, help="rogue publish rate, Hz")
    parser.add_argument("--burst", type=float, default=3.0, help="rogue burst length, s (discovery of a new "
                        "participant sometimes waits for the next announcement, ~3 s)")
    parser.add_argument("--rogue", metavar="TOPIC", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rogue:
        rogue_main(args.rogue, args.trials, args.rate, args.burst, pause_s=1.0)
        return 0

    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter
    from sensor_msgs.msg import JointState

    from vla_ros.bus import BusEmulator
    from vla_ros.driver.node import So101DriverNode
    from vla_ros.robot.calibration import calibration_path, save_calibration, sim_calibration
    from vla_ros.robot.description import joint_limits
    from vla_ros.robot.joints import JOINT_NAMES
    from vla_ros.ros.qos import COMMAND_QOS

    tmp = Path(tempfile.mkdtemp(prefix="bench_cs_"))
    limits = joint_limits()
    save_calibration(sim_calibration({n: (lim.lower_rad, lim.upper_rad) for n, lim in limits.items()}),
                     calibration_path(ROBOT_ID, tmp / "calibration"))
    emulator = BusEmulator(link=tmp / "so101.tty")
    emulator.start()
    rclpy.init()
    ns = f"/bench_cs_{os.getpid()}"
    overrides = [Parameter("port", value=str(tmp / "so101.tty")), Parameter("robot_id", value=ROBOT_ID),
                 Parameter("calibration_dir", value=str(tmp / "calibration")),
                 Parameter("startup_check_s", value=0.5)]
    driver = So101DriverNode(namespace=ns, parameter_overrides=overrides)
    source = rclpy.create_node("safety_supervisor", namespace=ns)
    pub = source.create_publisher(JointState, "joint_commands", COMMAND_QOS)
    source.create_timer(1 / 30, lambda: pub.publish(JointState(name=list(JOINT_NAMES), position=SOURCE)))
    observer = rclpy.create_node("bench_observer", namespace=ns)
    topic = f"{ns}/joint_commands"
    watch = Watch(observer, driver, topic)
    executor = SingleThreadedExecutor()
    for node in (driver, source, observer):
        executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()
    try:
        time.sleep(3.0)  # the driver connects and follows its source
        rogue = subprocess.run([sys.executable, __file__, "--rogue", topic, "--trials", str(args.trials),
                                "--rate", str(args.rate), "--burst", str(args.burst)],
                               capture_output=True, text=True, timeout=600, check=True)
        time.sleep(1.0)
    finally:
        executor.shutdown()
        driver.close()
        emulator.close()
    sent = sum(int(line.split()[2]) for line in rogue.stdout.splitlines() if line.startswith("sent"))
    starts = [int(line.split()[2]) * 1e-9 for line in rogue.stdout.splitlines() if line.startswith("start")]
    with watch.lock:
        delivered, holds, reached = list(watch.delivered), list(watch.holds), watch.reached_bus
    ends = [*starts[1:], float("inf")]
    first_ms, hold_ms, windows_ms, early, late = [], [], [], 0, 0
    for start, end in zip(starts, ends):
        mine = [(t, listed) for t, listed in delivered if start <= t < end]
        hold = next((h for h in holds if start <= h < end), None)
        if mine:
            first_ms.append(1e3 * (mine[0][0] - start))
            first_listed = next((i for i, (_, listed) in enumerate(mine) if listed), len(mine))
            last_listed = max((i for i, (_, listed) in enumerate(mine) if listed), default=len(mine))
            early += first_listed
            late += sum(1 for _, listed in mine[last_listed + 1:] if not listed)
            windows_ms.append(1e3 * (mine[min(first_listed, len(mine) - 1)][0] - mine[0][0]))
        if hold is not None:
            hold_ms.append(1e3 * (hold - start))
    print(f"{args.trials} rogue publishers, {args.rate:g} Hz for {args.burst:g} s each, each from its "
          "first moment (a fresh process context)")
    print(f"rogue messages sent                                  {sent}")
    print(f"delivered to a plain subscriber                      {len(delivered)}  (the rest went out "
          "before discovery matched)")
    print(f"rogue start -> first delivery, median / max          {_stats(first_ms)} ms "
          f"({len(first_ms)}/{len(starts)} rogues discovered during their burst)")
    print(f"delivered before the ROS graph listed the rogue      {early}  (longest window "
          f"{max(windows_ms, default=0.0):.1f} ms)")
    print(f"delivered after the graph had dropped it (queued)    {late}")
    print("  (a check of the graph alone passes the two lines above; the per-message gid check drops them)")
    print(f"rogue start -> driver holding, median / max          {_stats(hold_ms)} ms "
          f"({len(hold_ms)}/{len(starts)} trials)")
    print(f"rogue messages that reached the driver's bus         {reached}  (goal: 0)")
    return 0 if reached == 0 else 1


def _stats(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} / {max(values):.1f}" if values else "- / -"


if __name__ == "__main__":
    sys.exit(main())
