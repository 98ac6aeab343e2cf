"""DriverLoop: the bus thread over lerobot and the emulated bus: rate, commands, faults, recovery."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest

from vla_ros.bus import BusEmulator
from vla_ros.bus.protocol import Instruction
from vla_ros.driver.arm import So101Arm
from vla_ros.driver.errors import NotDrivingError
from vla_ros.driver.loop import DriverLoop, DriverState, JointSample, Level
from vla_ros.errors import BadInputError

TICKS_PER_RAD = 4095 / (2 * math.pi)


class Recorder:
    """Collects samples and status changes from the bus thread."""

    def __init__(self) -> None:
        self.samples: list[JointSample] = []
        self.statuses = []
        self.lock = threading.Lock()

    def sample(self, s: JointSample) -> None:
        with self.lock:
            self.samples.append(s)

    def status(self, s) -> None:
        with self.lock:
            self.statuses.append(s)

    def count(self) -> int:
        with self.lock:
            return len(self.samples)

    def last(self) -> JointSample:
        with self.lock:
            return self.samples[-1]


@pytest.fixture
def run_loop(make_config, limits, robot_id):
    loops = []

    def start(**overrides) -> tuple[DriverLoop, Recorder]:
        cfg = make_config(**overrides)
        rec = Recorder()
        arm = So101Arm(
            cfg.port,
            robot_id,
            cfg.calibration_dir,
            max_relative_target=cfg.max_relative_target,
            disable_torque_on_exit=cfg.disable_torque_on_exit,
        )
        loop = DriverLoop(arm, cfg, limits, on_sample=rec.sample, on_status=rec.status)
        loops.append(loop)
        loop.start()
        return loop, rec

    yield start
    for loop in loops:
        loop.stop()


def _running(loop: DriverLoop) -> bool:
    return loop.status.state == DriverState.RUNNING


def test_publishes_fresh_stamped_samples_at_the_configured_rate(emulator, run_loop, waiter) -> None:
    loop, rec = run_loop(publish_rate_hz=100.0)
    assert waiter(lambda: _running(loop))
    assert waiter(lambda: rec.count() > 5)
    n0 = rec.count()  # flow, not speed: bench/bench_driver.py measures the rate
    assert waiter(lambda: rec.count() >= n0 + 20, timeout_s=60.0), f"{rec.count() - n0} samples in 60 s"
    stamps = [s.stamp_ns for s in rec.samples]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert abs(stamps[-1] - time.time_ns()) < 5e9
    np.testing.assert_allclose(rec.last().positions_rad, np.zeros(6), atol=1e-3)
    status = loop.status
    assert status.level == Level.OK and status.torque_enabled and 0.0 < status.read_rate_hz < 200.0


def test_commanded_move_is_tracked_and_subsets_keep_other_goals(emulator, run_loop, waiter) -> None:
    loop, rec = run_loop()
    assert waiter(lambda: _running(loop))
    assert loop.submit(["gripper", "elbow_flex"], [0.8, -0.6]) == []
    target = np.array([0.0, 0.0, -0.6, 0.0, 0.0, 0.8])
    assert waiter(lambda: rec.count() > 0 and np.allclose(rec.last().positions_rad, target, atol=0.01))
    loop.submit(["shoulder_pan"], [0.4])
    target[0] = 0.4
    assert waiter(lambda: np.allclose(rec.last().positions_rad, target, atol=0.01))


def test_commands_beyond_the_urdf_limits_are_clamped(emulator, run_loop, waiter, limits) -> None:
    loop, _ = run_loop()
    assert waiter(lambda: _running(loop))
    assert loop.submit(["wrist_flex"], [5.0]) == ["wrist_flex"]
    expected = 2048 + limits["wrist_flex"].upper_rad * TICKS_PER_RAD
    assert waiter(lambda: abs(emulator.register(4, "Goal_Position") - expected) <= 1.5)
    assert loop.status.counters["commands_clamped"] == 1


@pytest.mark.parametrize(
    ("names", "positions", "match"),
    [
        (["shoulder_pan"], [math.nan], "non-finite"),
        (["elbow_flex", "gripper"], [0.1, math.inf], "non-finite"),
        (["shoulder_pan", "tail"], [0.1, 0.2], "unknown joints"),
        (["shoulder_pan", "gripper"], [0.1], "2 names but 1 positions"),
        (["gripper", "gripper"], [0.1, 0.2], "duplicate"),
        ([], [], "no joints"),
    ],
)
def test_bad_commands_are_rejected_and_nothing_written(emulator, run_loop, waiter, names, positions, match):
    loop, rec = run_loop()
    assert waiter(lambda: _running(loop))
    writes, goals = emulator.packets(Instruction.SYNC_WRITE), emulator.writes("Goal_Position")
    with pytest.raises(BadInputError, match=match):
        loop.submit(names, positions)
    n = rec.count()
    assert waiter(lambda: rec.count() > n + 10)  # several bus cycles later
    assert emulator.packets(Instruction.SYNC_WRITE) == writes
    assert emulator.writes("Goal_Position") == goals
    assert loop.status.counters["commands_rejected"] == 1


def test_torque_requests_and_commands_while_limp(emulator, run_loop, waiter) -> None:
    loop, _ = run_loop()
    assert waiter(lambda: _running(loop))
    assert loop.request_torque(False).result(timeout=10) == "torque off"
    assert [emulator.register(i, "Torque_Enable") for i in range(1, 7)] == [0] * 6
    assert loop.status.level == Level.WARN and not loop.status.torque_enabled
    writes = emulator.packets(Instruction.SYNC_WRITE)
    with pytest.raises(NotDrivingError, match="torque is off"):
        loop.submit(["shoulder_pan"], [0.3])
    assert loop.request_torque(True).result(timeout=10) == "torque on"
    assert [emulator.register(i, "Torque_Enable") for i in range(1, 7)] == [1] * 6
    assert emulator.packets(Instruction.SYNC_WRITE) == writes + 1  # just the hold-in-place goal


def test_a_lost_or_corrupt_reply_is_retried_without_a_fault(emulator, run_loop, waiter) -> None:
    loop, rec = run_loop(read_retries=2)
    assert waiter(lambda: _running(loop))
    emulator.inject_no_reply(1)
    assert waiter(lambda: loop.status.counters["read_failures"] == 1)
    emulator.inject_bad_checksum(1, motor_id=4)
    assert waiter(lambda: loop.status.counters["read_failures"] == 2)
    n = rec.count()
    assert waiter(lambda: rec.count() > n + 20)
    assert loop.status.counters["faults"] == 0 and loop.status.state == DriverState.RUNNING


def test_a_failed_write_is_retried(emulator, run_loop, waiter) -> None:
    # max_relative_target makes lerobot read Present_Position before writing; at 1 Hz the bus thread
    # is idle right after a sample, so the lost reply hits the write's read, not a periodic read
    loop, rec = run_loop(max_relative_target=90.0, publish_rate_hz=1.0)
    assert waiter(lambda: _running(loop) and rec.count() >= 1)
    n = rec.count()
    assert waiter(lambda: rec.count() > n)
    emulator.inject_no_reply(1)
    loop.submit(["elbow_flex"], [0.3])
    assert waiter(lambda: loop.status.counters["commands_written"] == 1)
    counters = loop.status.counters
    assert (counters["write_failures"], counters["read_failures"], counters["faults"]) == (1, 0, 0)
    assert waiter(lambda: abs(rec.last().positions_rad[2] - 0.3) < 0.01)


def test_unplug_stops_samples_reports_error_and_replug_recovers(emulator, run_loop, waiter) -> None:
    loop, rec = run_loop()
    assert waiter(lambda: _running(loop))
    emulator.unplug()
    assert waiter(lambda: loop.status.level == Level.ERROR)
    assert "bus fault" in "".join(s.message for s in rec.statuses)
    frozen = rec.count()
    time.sleep(0.5)
    assert rec.count() == frozen  # silence, never stale positions with new stamps
    assert loop.status.state == DriverState.FAULT and loop.status.read_rate_hz == 0.0
    with pytest.raises(NotDrivingError, match="not connected"):
        loop.submit(["gripper"], [0.5])
    unplugged_at = time.time_ns()
    emulator.replug()
    assert waiter(lambda: _running(loop) and rec.count() > frozen + 5)
    assert all(s.stamp_ns > unplugged_at for s in rec.samples[frozen:])
    assert loop.status.counters["faults"] == 1 and loop.status.counters["connects"] == 2
    assert [emulator.register(i, "Torque_Enable") for i in range(1, 7)] == [1] * 6
    loop.submit(["gripper"], [0.5])
    assert waiter(lambda: abs(rec.last().positions_rad[5] - 0.5) < 0.01)


def test_waits_for_a_port_that_appears_later(tmp_path, run_loop, waiter) -> None:
    loop, rec = run_loop(connect_timeout_s=60.0)
    assert waiter(lambda: loop.status.state == DriverState.CONNECTING)
    assert loop.status.level == Level.WARN and "waiting for port" in loop.status.message
    with BusEmulator(link=tmp_path / "so101.tty"):  # the simulator starts after the driver
        assert waiter(lambda: _running(loop) and rec.count() > 3)


def test_missing_port_becomes_an_error_after_connect_timeout(tmp_path, run_loop, waiter) -> None:
    loop, _ = run_loop(connect_timeout_s=0.0)
    assert waiter(lambda: loop.status.level == Level.ERROR)
    assert "waiting for port" in loop.status.message


def test_stop_switches_torque_off_unless_told_to_keep_it(emulator, run_loop, waiter) -> None:
    loop, _ = run_loop()
    assert waiter(lambda: _running(loop))
    loop.stop()
    assert loop.status.state == DriverState.STOPPED
    assert [emulator.register(i, "Torque_Enable") for i in range(1, 7)] == [0] * 6
    keep, _ = run_loop(disable_torque_on_exit=False)
    assert waiter(lambda: _running(keep))
    keep.stop()
    assert [emulator.register(i, "Torque_Enable") for i in range(1, 7)] == [1] * 6


def _is_ros_module(name: str) -> bool:
    top = name.split(".")[0]
    return top == "rclpy" or top.endswith(("_msgs", "_srvs")) or name.startswith("vla_ros.ros")


def test_driver_core_does_not_import_rclpy() -> None:
    """Static check (importing lerobot in a fresh process takes ~10-30 s here): the core modules import
    neither rclpy nor ROS messages nor the ROS adapter layer; the bus package is checked at run time in
    test_bus_cli.py."""
    import ast
    from pathlib import Path

    import vla_ros.driver

    package = Path(vla_ros.driver.__file__).parent
    core = [p for p in package.glob("*.py") if p.name != "node.py"]
    offenders = {}
    for path in core:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            bad = [n for n in names if _is_ros_module(n)]
            if bad:
                offenders.setdefault(path.name, []).extend(bad)
    assert len(core) >= 5 and offenders == {}
