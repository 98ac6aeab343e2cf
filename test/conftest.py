"""Test-wide setup: isolate DDS traffic of this pytest process from every other one.

Each pytest process gets its own ROS domain id (child processes inherit it) and discovery is kept on
this host, so concurrent test runs and stray nodes never see each other's topics.
"""

import os
import random
from collections.abc import Callable, Iterator

import pytest
from ros_testlib import Probe

from vla_ros.scheduling import keep_scheduling, scheduling

os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 100)))
os.environ.setdefault("ROS_LOCALHOST_ONLY", "1")
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")


@pytest.fixture(autouse=True)
def stays_time_shared() -> Iterator[None]:
    """Fail a test that leaves pytest real-time: every process it starts later (launchers, nodes, a
    browser) would inherit it and could starve the rest (SVT-AV1 does it; see vla_ros.scheduling)."""
    before = scheduling()
    with keep_scheduling():  # restores it for the tests after this one
        yield
        after = scheduling()
    if after != before:
        pytest.fail(f"the test changed pytest's CPU scheduling from {before} to {after} "
                    "(os.SCHED_*, priority): wrap it in vla_ros.scheduling.keep_scheduling()")


@pytest.fixture
def make_probe() -> Iterator[Callable[[str], Probe]]:
    """Factory of probe nodes (:class:`ros_testlib.Probe`) in a namespace, closed after the test."""
    probes: list[Probe] = []

    def make(namespace: str) -> Probe:
        probes.append(Probe(f"probe_{os.getpid()}_{len(probes)}", namespace))
        return probes[-1]

    yield make
    for probe in probes:
        probe.close()


@pytest.fixture
def emulator(tmp_path) -> Iterator[object]:
    """A started STS3215 bus emulator (ids 1..6 at tick 2048 = 0 rad) behind ``tmp_path/so101.tty``; it
    stands in for the arm's hardware."""
    from vla_ros.bus import BusEmulator

    emu = BusEmulator(link=tmp_path / "so101.tty")
    emu.start()
    yield emu
    emu.close()
