"""Fixtures of the bus emulator tests: a started emulator and lerobot's Feetech bus connected to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

MOTOR_NAMES = ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper")

LATE_REPLY_SLACK_MS = 250.0
"""Added to lerobot's packet timeout (about 50 ms) in tests that are not about timing: this shared,
loaded 2-core box can stall a process for longer than that. lerobot's own timeout is kept by
``test_replies_arrive_within_lerobots_packet_timeout`` and by ``bench/bench_driver.py``."""



@pytest.fixture
def feetech_bus() -> Iterator[Callable[..., object]]:
    """Factory of lerobot FeetechMotorsBus objects for a port (the SO follower's six sts3215 motors).

    ``strict=False`` (default) widens the packet timeout by :data:`LATE_REPLY_SLACK_MS`.
    """
    from lerobot.motors import Motor, MotorNormMode
    from lerobot.motors.feetech import FeetechMotorsBus

    made = []

    def make(port: str, strict: bool = False) -> FeetechMotorsBus:
        motors = {n: Motor(i + 1, "sts3215", MotorNormMode.DEGREES) for i, n in enumerate(MOTOR_NAMES)}
        bus = FeetechMotorsBus(port=port, motors=motors)
        if not strict:
            handler, lerobots = bus.port_handler, bus.port_handler.setPacketTimeout

            def relaxed(packet_length: int) -> None:
                lerobots(packet_length)
                handler.packet_timeout += LATE_REPLY_SLACK_MS

            handler.setPacketTimeout = relaxed
        made.append(bus)
        return bus

    yield make
    for bus in made:
        if bus.is_connected:
            try:
                bus.port_handler.closePort()
            except Exception:  # the emulator may be unplugged: nothing left to close cleanly
                bus.port_handler.is_open = False
