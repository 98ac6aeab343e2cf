"""Every graph routes commands through the safety supervisor and runs with local discovery by default."""

import pytest

from vla_ros.bringup.graph import build_graph, parse_launch_args
from vla_ros.bringup.network import apply_environment, discovery
from vla_ros.errors import ConfigError


@pytest.mark.parametrize("graph, args", [
    ("deploy", []),
    ("deploy", ["use_sim:=false", "port:=/dev/ttyACM0"]),
    ("record", []),
    ("record", ["teleop:=expert", "two_cubes:=true"]),
    ("record", ["teleop:=leader", "use_sim:=false", "port:=/dev/ttyACM0"]),
])
def test_the_supervisor_is_the_drivers_only_source_and_takes_the_producer_alone(graph, args):
    specs = {s.name: s for s in build_graph(graph, parse_launch_args(graph, args))}
    supervisor = specs["safety_supervisor"]
    assert specs["so101_driver"].parameters.get("command_source", "safety_supervisor") == supervisor.name
    producer = next(n for n in ("smolvla_policy", "sim_teleop", "leader_teleop") if n in specs)
    assert supervisor.parameters.get("command_source", "smolvla_policy") == producer
    if producer != "smolvla_policy":  # teleop nodes publish joint_commands: into the supervisor instead
        assert ("joint_commands", "policy/joint_commands") in specs[producer].remappings


def test_sim_teleop_speed_can_be_set_to_try_the_supervisor():
    args = parse_launch_args("record", ["teleop_max_velocity:=4"])
    specs = {s.name: s for s in build_graph("record", args)}
    assert specs["sim_teleop"].parameters["max_velocity_rad_s"] == 4.0


@pytest.mark.parametrize("graph", ["deploy", "record", "view"])
def test_graphs_discover_this_machine_only_unless_asked(graph, monkeypatch):
    monkeypatch.setenv("ROS_LOCALHOST_ONLY", "1")  # left in the shell: would override the range on Kilted
    monkeypatch.delenv("ROS_DISTRO", raising=False)
    for spec in build_graph(graph, parse_launch_args(graph, [])):
        env = spec.environment(EXTRA="1")
        assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST" and env["EXTRA"] == "1"
        assert "ROS_LOCALHOST_ONLY" not in env
    for spec in build_graph(graph, parse_launch_args(graph, ["network:=subnet"])):
        assert spec.environment()["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "SUBNET"
    with pytest.raises(ConfigError, match="network:=lab"):
        build_graph(graph, parse_launch_args(graph, ["network:=lab"]))


def test_humble_uses_localhost_only_and_the_summary_says_which():
    local, subnet = discovery("localhost", "humble"), discovery("subnet", "humble")
    assert local.env == (("ROS_LOCALHOST_ONLY", "1"),) and subnet.env == (("ROS_LOCALHOST_ONLY", "0"),)
    assert "this machine only (ROS_LOCALHOST_ONLY=1" in local.summary and "network:=subnet" in local.summary
    assert "whole subnet" in discovery("subnet", "kilted").summary
    assert apply_environment({"A": "1", "B": "2"}, (("A", None), ("C", "3"))) == {"B": "2", "C": "3"}


def test_the_launch_file_path_sets_the_same_environment(monkeypatch):
    from launch import LaunchContext
    from launch.actions import LogInfo

    from vla_ros.bringup.ros_launch import _discovery_actions

    monkeypatch.setenv("ROS_LOCALHOST_ONLY", "1")
    monkeypatch.setenv("ROS_DISTRO", "jazzy")
    actions = _discovery_actions("localhost")
    assert isinstance(actions[0], LogInfo)
    context = LaunchContext()
    for action in actions[1:]:
        action.execute(context)
    assert context.environment["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"
    assert "ROS_LOCALHOST_ONLY" not in context.environment


def test_namespaced_simulated_graphs_keep_their_clock_in_their_namespace():
    specs = build_graph("deploy", parse_launch_args("deploy", ["namespace:=arm2"]))
    assert all(("/clock", "clock") in s.remappings for s in specs)
    assert not any(("/clock", "clock") in s.remappings for s in build_graph("deploy", {}))
    assert not any(("/clock", "clock") in s.remappings for s in build_graph("record", {"namespace": "arm2"}))
