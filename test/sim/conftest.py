"""Fixtures of the simulator tests: node processes and a ROS probe over real DDS."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from ros_testlib import NodeProcess, Probe


@pytest.fixture(scope="module")
def sim_graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``so101_sim`` (320x240 cameras at 10 fps, two cubes) and ``so101_driver`` on its bus, as child
    processes in a fresh namespace, plus a probe node; the driver is the unmodified real one."""
    tmp = tmp_path_factory.mktemp("sim_graph")
    namespace = f"/simtest_{os.getpid()}"
    calib = tmp / "calibration"
    sim = NodeProcess("so101_sim", tmp / "sim.log", namespace, port=str(tmp / "bus"),
                      calibration_dir=str(calib), robot_id="simbot", image_width=320, image_height=240,
                      camera_fps=10.0, two_cubes=True, seed=11)
    driver = None
    probe = Probe("sim_probe", namespace)
    try:
        # the driver refuses to start without a calibration: start it once the simulator wrote one
        # (it retries the port itself until the emulated bus is up)
        calib_file = calib / "robots" / "so_follower" / "simbot.json"
        deadline = time.monotonic() + 90
        while not calib_file.exists() and time.monotonic() < deadline and sim.proc.poll() is None:
            time.sleep(0.1)
        assert calib_file.exists(), "the simulator wrote no calibration:\n" + sim.output()
        driver = NodeProcess("so101_driver", tmp / "driver.log", namespace, port=str(tmp / "bus"),
                             calibration_dir=str(calib), robot_id="simbot", publish_rate_hz=50.0,
                             reconnect_backoff_s=0.2, reconnect_backoff_max_s=1.0,
                             command_source="sim_probe")  # the probe commands the arm here
        yield {"sim": sim, "driver": driver, "probe": probe, "namespace": namespace, "calibration": calib}
    finally:
        probe.close()
        if driver is not None:
            driver.stop()
        sim.stop()


