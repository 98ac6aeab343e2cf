"""Bench: ``so101_driver`` on the STS3215 emulator, next to lerobot's own loop on the same emulator.

Prints, for each: the achieved rate of position reads (``joint_states`` for the driver,
``get_observation`` for lerobot), the reads that got no valid reply in time, and the
command-to-motion latency (command sent -> first reading that has moved by ``--threshold-deg``).
The emulator (``sts_bus_emulator``) and the driver (``so101_driver``) run as their executables in
their own processes, as deployed; lerobot's ``SOFollower`` loop and the driver's DDS probe run in
this one. Both latencies include the emulated servo's acceleration (about 20 ms for 0.5 degrees), so
the ratio is the driver's overhead. Run: ``python bench/bench_driver.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(101, 200)))
os.environ.setdefault("ROS_LOCALHOST_ONLY", "1")
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

ROBOT_ID = "bench"
STEP_DEG = 5.0
SETTLE_S = 0.4


@dataclass
class Result:
    """One row of the table."""

    name: str
    rate_hz: float
    latencies_ms: list[float]
    failed_reads: int = 0

    def row(self) -> str:
        if self.latencies_ms:
            lat = sorted(self.latencies_ms)
            p90 = lat[min(len(lat) - 1, math.ceil(0.9 * len(lat)) - 1)]
            latency = f"{statistics.median(lat):7.1f} / {p90:6.1f}"
        else:
            latency = f"{'-':>7} / {'-':>6}"
        return f"{self.name:<28} {self.rate_hz:10.1f} {self.failed_reads:8d}   {latency}"


def _executable(name: str, module: str) -> list[str]:
    script = Path(sys.executable).parent / name
    return [str(script)] if script.exists() else [sys.executable, "-m", module]


def _start_emulator(tmp: Path) -> tuple[subprocess.Popen[str], str]:
    """The simulated arm's calibration file, and ``sts_bus_emulator`` in its own process."""
    from vla_ros.robot.calibration import calibration_path, save_calibration, sim_calibration
    from vla_ros.robot.description import joint_limits

    limits = {n: (lim.lower_rad, lim.upper_rad) for n, lim in joint_limits().items()}
    save_calibration(sim_calibration(limits), calibration_path(ROBOT_ID, tmp))
    proc = subprocess.Popen(
        [*_executable("sts_bus_emulator", "vla_ros.bus.cli"), "--link", str(tmp / "so101.tty")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def bench_lerobot(port: str, calib_dir: Path, rate_hz: float, duration_s: float, trials: int, thr: float):
    """lerobot's SOFollower loop: get_observation/send_action, unpaced and at ``rate_hz``."""
    from lerobot.robots.so_follower import SOFollower, SOFollowerRobotConfig

    robot = SOFollower(
        SOFollowerRobotConfig(port=port, id=ROBOT_ID, calibration_dir=calib_dir / "robots/so_follower")
    )
    robot.bus.connect()
    robot.bus.write_calibration(robot.calibration)  # so connect() finds it calibrated and does not prompt
    robot.bus.disconnect(disable_torque=False)
    robot.connect()
    failures = [0]

    def pan() -> float | None:
        try:
            return robot.get_observation()["shoulder_pan.pos"]
        except ConnectionError:  # lerobot's loop has no retry: a late reply is a lost sample
            failures[0] += 1
            return None

    def loop(seconds: float, period: float) -> float:
        n, t0 = 0, time.perf_counter()
        tick = t0
        while time.perf_counter() - t0 < seconds:
            n += pan() is not None
            tick += period
            time.sleep(max(0.0, tick - time.perf_counter()))
        return n / (time.perf_counter() - t0)

    unpaced = Result("lerobot loop (unpaced)", loop(min(2.0, duration_s), 0.0), [], failures[0])
    failures[0] = 0
    paced_rate = loop(duration_s, 1.0 / rate_hz)
    latencies = []
    for k in range(trials):
        start = None
        while start is None:
            start = pan()
        t_cmd = tick = time.perf_counter()
        robot.send_action({"shoulder_pan.pos": STEP_DEG if k % 2 == 0 else -STEP_DEG})
        while time.perf_counter() - t_cmd < 2.0:
            now = pan()
            if now is not None and abs(now - start) >= thr:
                latencies.append((time.perf_counter() - t_cmd) * 1e3)
                break
            tick += 1.0 / rate_hz
            time.sleep(max(0.0, tick - time.perf_counter()))
        time.sleep(SETTLE_S)
    robot.disconnect()
    return unpaced, Result(f"lerobot loop ({rate_hz:g} Hz)", paced_rate, latencies, failures[0])


class _Probe:
    """This process's DDS view of the driver: joint_states arrivals and its /diagnostics counters."""

    def __init__(self, port: str) -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.executors import SingleThreadedExecutor
        from sensor_msgs.msg import JointState

        from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS

        rclpy.init()
        self.port = port
        self.node = rclpy.create_node("bench_probe")
        self.lock = threading.Lock()
        self.samples: list[tuple[float, float]] = []  # (perf_counter at arrival, shoulder_pan deg)
        self.diag: dict[str, str] = {}
        self.node.create_subscription(JointState, "joint_states", self._on_state, SENSOR_QOS)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diag, 10)
        self.commands = self.node.create_publisher(JointState, "joint_commands", COMMAND_QOS)
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        threading.Thread(target=self.executor.spin, daemon=True).start()

    def _on_state(self, msg) -> None:
        with self.lock:
            self.samples.append((time.perf_counter(), math.degrees(msg.position[0])))

    def _on_diag(self, msg) -> None:
        for status in msg.status:
            if status.hardware_id == self.port:
                with self.lock:
                    self.diag.update({kv.key: kv.value for kv in status.values})

    def count(self) -> int:
        with self.lock:
            return len(self.samples)

    def close(self) -> None:
        import rclpy

        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown()


def bench_driver(port: str, calib_dir: Path, rate_hz: float, duration_s: float, trials: int, thr: float):
    """The so101_driver executable, observed and commanded over DDS."""
    from sensor_msgs.msg import JointState

    params = [f"port:={port}", f"robot_id:={ROBOT_ID}", f"calibration_dir:={calib_dir}",
              "command_source:=bench_probe"]
    params.append(f"publish_rate_hz:={rate_hz}")
    proc = subprocess.Popen(
        [*_executable("so101_driver", "vla_ros.driver.node"), "--ros-args"]
        + [a for p in params for a in ("-p", p)]
        + ["--log-level", "warn"],
    )
    probe = _Probe(port)
    try:
        deadline = time.monotonic() + 180.0
        while probe.count() < 20 or probe.commands.get_subscription_count() == 0:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"so101_driver did not come up (exit status {proc.poll()})")
            time.sleep(0.1)
        n0, t0 = probe.count(), time.perf_counter()
        time.sleep(duration_s)
        rate = (probe.count() - n0) / (time.perf_counter() - t0)
        latencies = []
        for k in range(trials):
            with probe.lock:
                start, first = probe.samples[-1][1], len(probe.samples)
            goal = math.radians(STEP_DEG if k % 2 == 0 else -STEP_DEG)
            t_cmd = time.perf_counter()
            probe.commands.publish(JointState(name=["shoulder_pan"], position=[goal]))
            while time.perf_counter() - t_cmd < 2.0:
                with probe.lock:
                    moved = [t for t, pan in probe.samples[first:] if abs(pan - start) >= thr]
                if moved:
                    latencies.append((moved[0] - t_cmd) * 1e3)
                    break
                time.sleep(0.001)
            time.sleep(SETTLE_S)
        time.sleep(1.0)  # one more /diagnostics period
        with probe.lock:
            diag = dict(probe.diag)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        probe.close()
    if int(diag.get("faults", "0")):
        print(f"note: so101_driver declared {diag['faults']} bus fault(s) and reconnected during the bench")
    failed = int(diag.get("read_failures", "-1"))
    return Result(f"so101_driver ({rate_hz:g} Hz)", rate, latencies, failed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate-hz", type=float, default=100.0, help="driver and lerobot loop rate")
    parser.add_argument("--duration-s", type=float, default=5.0, help="rate measurement window")
    parser.add_argument("--trials", type=int, default=10, help="latency trials")
    parser.add_argument("--threshold-deg", type=float, default=0.5, help="motion that counts as 'moved'")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        emulator, port = _start_emulator(tmp)
        try:
            args = (port, tmp, ns.rate_hz, ns.duration_s, ns.trials, ns.threshold_deg)
            unpaced, paced = bench_lerobot(*args)
            driver = bench_driver(*args)
        finally:
            emulator.send_signal(signal.SIGINT)
            emulator.wait(timeout=30)
    print(
        f"\nSO-101 driver vs lerobot on the STS3215 emulator ({ns.trials} moves of {STEP_DEG:g} deg, "
        f"'moved' = {ns.threshold_deg:g} deg)"
    )
    print(f"{'':<28} {'rate [Hz]':>10} {'failed':>8}   {'cmd->motion [ms] median / p90':>30}")
    for result in (unpaced, paced, driver):
        print(result.row())
    lat_ratio = (
        statistics.median(driver.latencies_ms) / statistics.median(paced.latencies_ms)
        if driver.latencies_ms and paced.latencies_ms
        else float("nan")
    )
    print(f"{'ratio driver / lerobot':<28} {driver.rate_hz / paced.rate_hz:10.2f} {'':8}   {lat_ratio:7.2f}")
    print("failed: reads without a valid reply in time (lerobot: lost samples; driver: retried at once)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
