"""The graph definition shared by the launch files and `vla-ros launch`."""

import ast
import json
from pathlib import Path

import pytest

from vla_ros.bringup.demo import DEMO_OUTPUT
from vla_ros.bringup.graph import GRAPHS, build_graph, launch_arguments, parse_launch_args
from vla_ros.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def _executables() -> set[str]:
    lines = (ROOT / "resource" / "executables.txt").read_text().splitlines()
    return {line.split("=")[0].strip() for line in lines if line.strip() and not line.startswith("#")}


@pytest.mark.parametrize("graph", sorted(GRAPHS))
def test_graph_nodes_exist_and_have_their_files(graph):
    specs = build_graph(graph, parse_launch_args(graph, ["rviz:=true"] if graph != "view" else []))
    names = [s.name for s in specs]
    assert len(names) == len(set(names)), names
    for spec in specs:
        if spec.package == "vla_ros":
            assert spec.executable in _executables(), spec
        if spec.params_file:
            assert (ROOT / "config" / spec.params_file).is_file(), f"config/{spec.params_file} missing"


def test_deploy_in_simulation_wires_sim_driver_safety_policy():
    specs = {s.name: s for s in build_graph("deploy", parse_launch_args("deploy", ["task:=reach"]))}
    assert {"so101_sim", "so101_driver", "safety_supervisor", "smolvla_policy"} <= set(specs)
    assert specs["so101_sim"].parameters["port"] == specs["so101_driver"].parameters["port"]
    assert (specs["so101_sim"].parameters["calibration_dir"]
            == specs["so101_driver"].parameters["calibration_dir"]
            == specs["smolvla_policy"].parameters["calibration_dir"])
    assert specs["smolvla_policy"].parameters["task"] == "reach"
    assert specs["smolvla_policy"].parameters["start_state_check"] == "reset"
    policy_path = specs["smolvla_policy"].parameters["policy_path"]
    assert specs["safety_supervisor"].parameters["policy_path"] == policy_path


def test_deploy_on_hardware_uses_cameras_and_needs_a_port():
    with pytest.raises(ConfigError, match="port"):
        build_graph("deploy", parse_launch_args("deploy", ["use_sim:=false"]))
    specs = build_graph("deploy", parse_launch_args("deploy", ["use_sim:=false", "port:=/dev/ttyACM0",
                                                               "camera_map:=front=observation.images.up"]))
    names = [s.name for s in specs]
    assert "so101_sim" not in names and {"camera_front", "camera_wrist"} <= set(names)
    policy = next(s for s in specs if s.name == "smolvla_policy")
    assert policy.parameters["camera_map"] == ["front=observation.images.up"]


def test_launch_arguments_are_checked():
    with pytest.raises(ConfigError, match="no argument"):
        parse_launch_args("deploy", ["polciy_path:=x"])
    with pytest.raises(ConfigError, match="name:=value"):
        parse_launch_args("deploy", ["policy_path=x"])
    with pytest.raises(ConfigError, match="unknown graph"):
        launch_arguments("teleport")


@pytest.mark.parametrize("graph", sorted(GRAPHS))
def test_launch_file_uses_the_shared_graph(graph):
    tree = ast.parse((ROOT / "launch" / f"{graph}.launch.py").read_text())
    calls = [n for n in ast.walk(tree)
             if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "_generate"]
    assert calls and isinstance(calls[0].args[0], ast.Constant) and calls[0].args[0].value == graph


def test_evaluation_adds_the_evaluator_and_starts_the_policy_disabled(tmp_path):
    args = ["evaluate:=3", f"eval_output:={tmp_path}", "exchange_tasks:=true", "torch_threads:=1",
            "two_cubes:=true", "cube_layout:=slots", "image_size:=128x96"]
    specs = {s.name: s for s in build_graph("deploy", parse_launch_args("deploy", args))}
    evaluator = specs["sim_evaluator"]
    assert evaluator.ends_graph and evaluator.parameters["episodes_per_task"] == 3
    assert evaluator.parameters["exchange_tasks"] is True
    assert evaluator.parameters["output_dir"] == str(tmp_path)
    policy = specs["smolvla_policy"].parameters
    assert policy["autostart"] is False and policy["start_state_check"] == "reset"
    assert policy["torch_threads"] == 1 and policy["allow_camera_remap"] is False
    sim = specs["so101_sim"].parameters
    assert (sim["image_width"], sim["image_height"]) == (128, 96)
    assert sim["cube_layout"] == "slots" and sim["two_cubes"] is True
    assert "sim_evaluator" not in {s.name for s in build_graph("deploy", parse_launch_args("deploy", []))}


@pytest.mark.parametrize("graph, args, fragment", [
    ("deploy", ["evaluate:=2", "eval_scoring:=sim", "use_sim:=false", "port:=/dev/ttyACM0"], "use_sim"),
    ("deploy", ["evaluate:=2", "eval_scoring:=judge"], "eval_scoring"),
    ("deploy", ["image_size:=128"], "WIDTHxHEIGHT"),
    ("deploy", ["demo:=true", "use_sim:=false", "port:=/dev/ttyACM0", "policy_path:=/ckpt"], "use_sim"),
    ("deploy", ["demo:=true", "task:=reach the cube"], "name one of the cubes"),
    ("record", ["teleop:=expert"], "two_cubes"),
    ("record", ["teleop:=joystick"], "teleop"),
    ("record", ["swap_slots:=true", "swap_probability:=half"], r"not a number: swap_probability:='half'"),
    ("deploy", ["seed:=one"], r"not a number: seed:='one'"),
])
def test_bad_argument_combinations_are_refused(graph, args, fragment):
    with pytest.raises(ConfigError, match=fragment):
        build_graph(graph, parse_launch_args(graph, args))


def test_expert_teleop_reaches_in_simulation():
    specs = {s.name: s for s in build_graph("record", parse_launch_args(
        "record", ["teleop:=expert", "two_cubes:=true", "episodes:=4"]))}
    teleop = specs["sim_teleop"].parameters
    assert teleop["mode"] == "reach" and teleop["episodes"] == 4
    assert "scene_repeats" not in specs["so101_sim"].parameters  # the yaml's (1)
    paired = {s.name: s for s in build_graph("record", parse_launch_args(
        "record", ["teleop:=expert", "two_cubes:=true", "scene_repeats:=2"]))}
    assert paired["so101_sim"].parameters["scene_repeats"] == 2
    assert "swap_probability" not in paired["so101_sim"].parameters  # the yaml's (0.5)
    rarer = {s.name: s for s in build_graph("record", parse_launch_args(
        "record", ["teleop:=expert", "two_cubes:=true", "swap_slots:=true", "swap_probability:=0.3"]))}
    assert rarer["so101_sim"].parameters["swap_probability"] == 0.3


def test_demo_runs_endless_episodes_in_the_two_cube_scene_at_the_checkpoints_image_size(tmp_path):
    from vla_ros.policy.tiny import make_tiny_policy

    ckpt = make_tiny_policy(tmp_path / "ckpt", image_size=(96, 128), fps=15.0,
                            tasks=["reach the red cube", "reach the blue cube"])
    specs = {s.name: s for s in build_graph("deploy", parse_launch_args(
        "deploy", ["demo:=true", f"policy_path:={ckpt}"]))}
    assert specs["smolvla_policy"].parameters["autostart"] is False
    sim = specs["so101_sim"].parameters
    assert sim["two_cubes"] is True and "cube_layout" not in sim  # not a closed-loop policy: the yaml's
    assert (sim["image_width"], sim["image_height"]) == (128, 96)  # the checkpoint's, not the yaml's
    evaluator = specs["sim_evaluator"].parameters
    assert evaluator["continuous"] is True and "tasks" not in evaluator  # the default tasks, in turn
    assert evaluator["output_dir"] == str(Path(DEMO_OUTPUT).resolve())
    monitor = specs["status_monitor"].parameters
    assert (monitor["camera_fps"], monitor["policy_fps"]) == (30.0, 15.0)
    fixed = {s.name: s for s in build_graph("deploy", parse_launch_args(
        "deploy", ["demo:=true", f"policy_path:={ckpt}", "task:=touch the blue cube", "image_size:=64x48"]))}
    assert fixed["sim_evaluator"].parameters["tasks"] == ["touch the blue cube"]
    assert fixed["sim_evaluator"].parameters["targets"] == ["blue"]
    assert fixed["so101_sim"].parameters["image_width"] == 64
    (ckpt / "closed_loop_report.json").write_text(json.dumps(
        {"config": {"cube_layout": "slots", "swap_slots": True, "steps": 2000}}))
    trained = {s.name: s for s in build_graph("deploy", parse_launch_args(
        "deploy", ["demo:=true", f"policy_path:={ckpt}"]))}["so101_sim"].parameters
    assert (trained["cube_layout"], trained["swap_slots"]) == ("slots", True)  # the scene it trained in
    given = {s.name: s for s in build_graph("deploy", parse_launch_args(
        "deploy", ["demo:=true", f"policy_path:={ckpt}", "cube_layout:=random"]))}["so101_sim"].parameters
    assert given["cube_layout"] == "random"
    plain = build_graph("deploy", parse_launch_args("deploy", ["evaluate:=2", f"policy_path:={ckpt}"]))
    assert not any("continuous" in s.parameters for s in plain)
    assert "policy_fps" not in next(s for s in plain if s.name == "status_monitor").parameters


def test_demo_without_a_policy_runs_the_shipped_one_and_prepare_makes_no_tiny_policy(tmp_path, monkeypatch):
    from vla_ros.bringup import prepare as prepare_module
    from vla_ros.bringup.graph import default_policy_dir
    from vla_ros.paths import shipped_policy_dir

    monkeypatch.setenv("VLA_ROS_HOME", str(tmp_path / "home"))
    demo = {s.name: s for s in build_graph("deploy", parse_launch_args("deploy", ["demo:=true"]))}
    assert demo["smolvla_policy"].parameters["policy_path"] == str(shipped_policy_dir())
    assert demo["so101_sim"].parameters["cube_layout"] == "slots"  # the shipped report's scene
    assert demo["smolvla_policy"].parameters["torch_threads"] == 1  # measured: no late chunks on 2 cores
    plain = {s.name: s for s in build_graph("deploy", parse_launch_args("deploy", []))}
    assert plain["smolvla_policy"].parameters["policy_path"] == str(default_policy_dir())
    lines: list[str] = []
    prepare_module.prepare("deploy", parse_launch_args("deploy", ["demo:=true"]), log=lines.append)
    assert not default_policy_dir().exists()  # the shipped policy needs no tiny one
    assert "so101_reach_cubes: closed loop, trained: 'reach the red cube'" in "\n".join(lines), lines
    monkeypatch.setattr("vla_ros.bringup.graph.shipped_policy_dir", lambda: tmp_path / "none")
    with pytest.raises(ConfigError, match="shipped reach policy is missing"):
        build_graph("deploy", parse_launch_args("deploy", ["demo:=true"]))
