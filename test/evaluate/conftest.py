"""Fixtures of the evaluator tests: the deploy graph in simulation as real child processes.

``so101_sim`` (two cubes, 96x72 cameras), the real ``so101_driver`` on its emulated bus,
``safety_supervisor`` and ``smolvla_policy`` with a tiny random-weight checkpoint (started with
``autostart:=false``, as the evaluator expects), each in its own process, in a fresh namespace.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ros_testlib import NodeProcess

from vla_ros.evaluate.config import DEFAULT_TASKS

ROBOT_ID = "evalbot"



def _wait_file(path: Path, proc: NodeProcess, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists() and time.monotonic() < deadline and proc.proc.poll() is None:
        time.sleep(0.1)
    assert path.exists(), f"{path} never appeared:\n{proc.output()[-4000:]}"


@pytest.fixture(scope="module")
def deploy_graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The deploy graph in simulation; yields its namespace, logs and a ``logs()`` dump for messages."""
    from vla_ros.policy.tiny import make_tiny_policy

    tmp = tmp_path_factory.mktemp("eval_graph")
    namespace = f"/evaltest_{os.getpid()}"
    calib, port = tmp / "calibration", tmp / "bus"
    ckpt = make_tiny_policy(tmp / "tiny", image_size=(72, 96), fps=15.0, chunk_size=15, tasks=DEFAULT_TASKS,
                            camera_map={"front": "camera1", "wrist": "camera2"}, seed=0)
    nodes: dict[str, NodeProcess] = {}
    nodes["sim"] = NodeProcess("so101_sim", tmp / "sim.log", namespace, port=str(port),
                               calibration_dir=str(calib), robot_id=ROBOT_ID, image_width=96, image_height=72,
                               camera_fps=15.0, two_cubes=True, seed=3, realtime=True)
    try:
        _wait_file(calib / "robots" / "so_follower" / f"{ROBOT_ID}.json", nodes["sim"], 120)
        identity = {"robot_id": ROBOT_ID, "calibration_dir": str(calib), "use_sim_time": True}
        nodes["driver"] = NodeProcess("so101_driver", tmp / "driver.log", namespace, port=str(port),
                                      publish_rate_hz=50.0, reconnect_backoff_s=0.2,
                                      reconnect_backoff_max_s=1.0, **identity)
        nodes["safety"] = NodeProcess("safety_supervisor", tmp / "safety.log", namespace,
                                      policy_path=str(ckpt), **identity)
        nodes["policy"] = NodeProcess("smolvla_policy", tmp / "policy.log", namespace, policy_path=str(ckpt),
                                      task=DEFAULT_TASKS[0], autostart=False, start_state_check="reset",
                                      inference_process=False, torch_threads=1, **identity)

        def logs() -> str:
            return "\n".join(f"----- {name}:\n{node.output()[-3000:]}" for name, node in nodes.items())

        yield {"namespace": namespace, "tmp": tmp, "checkpoint": ckpt, "nodes": nodes, "logs": logs}
    finally:
        for name in ("policy", "safety", "driver", "sim"):
            if name in nodes:
                nodes[name].stop()
