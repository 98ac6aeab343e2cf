"""Bench: what ``viewer:=rerun`` costs the simulated deploy graph.

Runs ``vla-ros launch deploy`` (the ``make demo`` graph: simulated arm, 640x480 cameras, the tiny
offline policy) without and with ``viewer:=rerun``, alternately, in one run, and prints for each the
policy's output rate (``policy/joint_commands`` per second of simulated time and of wall time), the
camera rates, the real-time factor, and the p99 gap between the header stamps of consecutive
``policy/joint_commands`` (the control period is 33 ms at 30 Hz), then the viewer's loss of policy
output rate (goal: <= 5 %).

Run: ``python bench/bench_viewer.py`` (about 4 minutes: ``--rounds N`` pairs of ``--window-s`` seconds
each, after the policy starts). Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(101, 200)))
os.environ.setdefault("ROS_LOCALHOST_ONLY", "1")
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image, JointState

from vla_ros.ros.image import stamp_to_s
from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS

TOPICS = {"policy": ("policy/joint_commands", JointState, COMMAND_QOS),
          "front": ("cameras/front/image_raw", Image, SENSOR_QOS),
          "wrist": ("cameras/wrist/image_raw", Image, SENSOR_QOS)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(viewer: bool, window_s: float, home: Path, round_no: int) -> dict[str, float]:
    ns = f"bv{os.getpid()}_{round_no}_{int(viewer)}"
    args = [str(Path(sys.executable).parent / "vla-ros"), "launch", "deploy", f"namespace:={ns}",
            "monitor:=false"]
    if viewer:
        args += ["viewer:=rerun", f"viewer_port:={_free_port()}"]
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, VLA_ROS_HOME=str(home), PYTHONUNBUFFERED="1"))
    node = rclpy.create_node("bench_viewer_observer", namespace=ns)
    arrivals: dict[str, list[float]] = defaultdict(list)
    stamps: list[float] = []
    clock: list[float] = []

    def sub(key: str, topic: str, msg_type: type, qos: object) -> None:
        def on_msg(msg: object) -> None:
            arrivals[key].append(time.monotonic())
            if key == "policy":
                stamps.append(stamp_to_s(msg.header.stamp))  # type: ignore[attr-defined]

        node.create_subscription(msg_type, topic, on_msg, qos)

    for key, (topic, msg_type, qos) in TOPICS.items():
        sub(key, topic, msg_type, qos)
    node.create_subscription(Clock, "clock", lambda m: clock.append(stamp_to_s(m.clock)), 10)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        deadline = time.monotonic() + 600
        while len(arrivals["policy"]) < 30:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"deploy graph did not run:\n{Path(log.name).read_text()[-4000:]}")
            time.sleep(0.5)
        time.sleep(5.0)  # settle
        t0, n0, s0, c0 = time.monotonic(), {k: len(v) for k, v in arrivals.items()}, len(stamps), clock[-1]
        time.sleep(window_s)
        t1, c1 = time.monotonic(), clock[-1]
        counts = {k: len(arrivals[k]) - n0.get(k, 0) for k in TOPICS}
        window = np.array(stamps[s0:])
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
        executor.shutdown()
        node.destroy_node()
    sim_s, wall_s = c1 - c0, t1 - t0
    gaps = np.diff(window) * 1e3
    return {"policy_hz_sim": counts["policy"] / sim_s, "policy_hz_wall": counts["policy"] / wall_s,
            "front_hz": counts["front"] / wall_s, "wrist_hz": counts["wrist"] / wall_s, "rtf": sim_s / wall_s,
            "gap_p99_ms": float(np.percentile(gaps, 99)) if gaps.size else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="pairs of runs (without, with the viewer)")
    parser.add_argument("--window-s", type=float, default=40.0, help="measured wall seconds per run")
    args = parser.parse_args()
    rclpy.init()
    results: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="bench_viewer_") as home:
        for r in range(args.rounds):
            for viewer in (False, True):
                results[viewer].append(_run(viewer, args.window_s, Path(home), r))
                print(f"round {r + 1} viewer={'rerun' if viewer else 'none'}: "
                      + ", ".join(f"{k} {v:.2f}" for k, v in results[viewer][-1].items()), flush=True)
    rclpy.shutdown()
    mean = {v: {k: float(np.mean([r[k] for r in rs])) for k in rs[0]} for v, rs in results.items()}
    print(f"\n{'':24}{'no viewer':>12}{'viewer:=rerun':>15}")
    for key, label in (("policy_hz_sim", "policy out [Hz, sim]"), ("policy_hz_wall", "policy out [Hz, wall]"),
                       ("front_hz", "front camera [Hz]"), ("wrist_hz", "wrist camera [Hz]"),
                       ("rtf", "real-time factor"), ("gap_p99_ms", "command gap p99 [ms]")):
        print(f"{label:<24}{mean[False][key]:>12.2f}{mean[True][key]:>15.2f}")
    loss = 1.0 - mean[True]["policy_hz_wall"] / mean[False]["policy_hz_wall"]
    print(f"\npolicy output rate lost to the viewer (wall clock): {100 * loss:.1f} % (goal <= 5 %)")


if __name__ == "__main__":
    main()
