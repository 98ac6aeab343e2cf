"""``demo:=true`` of the deploy graph: a reach policy in the scene it was trained for, episode after episode.

Two cubes in the scene the policy was trained in (a closed-loop policy's shipped report names it:
:func:`vla_ros.closed_loop.shipped.trained_scene`), camera images of the checkpoint's size (the graph's rule
for every simulated deploy), and ``sim_evaluator`` running episodes one after another
(``continuous``), one line each, with ``status_monitor``'s summary of rates at the end. Meant for a
policy trained by the closed loop (``training/closed_loop.py``, ``--ship-to``). ROS-agnostic: no
rclpy or launch imports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from vla_ros.closed_loop.shipped import trained_scene
from vla_ros.errors import ConfigError
from vla_ros.evaluate.targets import DEFAULT_TARGETS, named_target
from vla_ros.paths import config_file

__all__ = ["DEMO_OUTPUT", "DEMO_TORCH_THREADS", "demo_args", "image_size_of", "monitor_rates", "task_target"]


DEMO_OUTPUT = "outputs/demo"
"""Where the demo's ``results.json`` goes unless ``eval_output`` is given (relative to the working
directory)."""

DEMO_TORCH_THREADS = "1"
"""Inference threads of the demo's policy unless ``torch_threads`` is given. Measured on 2 cores with
the shipped policy (90 s each): torch's default (one per core) contends with the simulator's rendering,
latency climbing to 3 s and "nothing to play" errors; one thread kept it at 0.06-0.31 s with none."""


def image_size_of(policy_dir: str | Path) -> str | None:
    """``WIDTHxHEIGHT`` of a local checkpoint's first camera feature (``config.json``), or None."""
    path = Path(policy_dir) / "config.json"
    if not path.is_file():
        return None
    features = json.loads(path.read_text()).get("input_features", {})
    shapes = [f["shape"] for k, f in features.items() if k.startswith("observation.images.")]
    return f"{shapes[0][2]}x{shapes[0][1]}" if shapes else None


def demo_args(a: Mapping[str, str]) -> dict[str, str]:
    """The deploy arguments with what ``demo:=true`` implies filled in.

    Two cubes, the scene a closed-loop policy was trained in (``cube_layout``, ``swap_slots`` from
    its shipped report, where not given), :data:`DEMO_TORCH_THREADS` unless given, and one continuous
    evaluator (the graph then renders the checkpoint's image size, as for every simulated deploy).

    Raises:
        ConfigError: ``task`` names neither cube.
    """
    if a["task"]:
        task_target(a["task"])
    out = {**a, "two_cubes": "true", "evaluate": "1", "eval_scoring": "sim",
           "torch_threads": a["torch_threads"] or DEMO_TORCH_THREADS}
    for key, value in trained_scene(a["policy_path"]).items():
        out[key] = a[key] or value
    if a.get("eval_output", "evaluation") == "evaluation":
        out["eval_output"] = DEMO_OUTPUT
    return out


def task_target(task: str) -> str:
    """The cube ``task`` names.

    Raises:
        ConfigError: it names neither or both of :data:`~vla_ros.evaluate.config.DEFAULT_TARGETS`.
    """
    target = named_target(task, DEFAULT_TARGETS)
    if target is None:
        raise ConfigError(f"demo: task:={task!r} must name one of the cubes {list(DEFAULT_TARGETS)}")
    return target


def monitor_rates(policy_dir: str | Path) -> dict[str, float]:
    """``status_monitor``'s ``camera_fps`` (``config/so101_sim.yaml``) and ``policy_fps`` (the
    checkpoint's contract; 0 when it has none) for the summary's shares."""
    import yaml

    from vla_ros.contract.model import CONTRACT_FILE

    sim = yaml.safe_load(config_file("so101_sim.yaml").read_text())["/**"]["ros__parameters"]
    contract = Path(policy_dir) / CONTRACT_FILE
    fps = float(json.loads(contract.read_text()).get("fps", 0.0)) if contract.is_file() else 0.0
    return {"camera_fps": float(sim["camera_fps"]), "policy_fps": fps}
