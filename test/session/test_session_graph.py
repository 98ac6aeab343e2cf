"""Where the sessions sit in the graphs (`vla-ros launch` and the launch files build the same ones)."""

from __future__ import annotations

from vla_ros.bringup.graph import build_graph, parse_launch_args


def _nodes(graph: str, *args: str) -> dict[str, object]:
    return {s.name: s for s in build_graph(graph, parse_launch_args(graph, list(args)))}


def test_leader_recording_is_an_operator_session():
    nodes = _nodes("record", "teleop:=leader", "episodes:=5", "episode_time_s:=30", "reset_time_s:=7",
                   "on_stop:=discard", "use_sim:=false", "port:=/dev/ttyACM0")
    session = nodes["record_session"]
    assert session.ends_graph and session.stops_first, "stopped before the recorder: Ctrl-C saves or discards"
    expected = {"episodes": 5, "episode_time_s": 30.0, "reset_time_s": 7.0, "on_stop": "discard"}
    assert session.parameters | {"terminal": ""} == expected | {"terminal": ""}
    assert "autostart" not in nodes["bag_recorder"].parameters, "the session starts every episode"
    assert nodes["leader_teleop"].parameters["follower_id"] == "follower"
    assert "record_session" not in _nodes("record", "teleop:=sim")


def test_evaluation_on_the_arm_is_scored_by_the_operator():
    nodes = _nodes("deploy", "use_sim:=false", "port:=/dev/ttyACM0", "evaluate:=3", "record_eval:=true",
                   "task:=pick up the cube", "eval_output:=/tmp/ev")
    session = nodes["eval_session"]
    assert session.parameters["episodes_per_task"] == 3
    assert session.parameters["tasks"] == ["pick up the cube"]
    assert session.parameters["record_eval"] is True and "sim_evaluator" not in nodes
    assert nodes["bag_recorder"].parameters["output_dir"] == "/tmp/ev/bags"
    assert nodes["bag_recorder"].parameters["extra_topics"] == ["policy/action_chunk=vla_ros/msg/ActionChunk"]
    assert nodes["smolvla_policy"].parameters["autostart"] is False
    assert nodes["smolvla_policy"].parameters["start_state_check"] == "reset"
    assert "sim_evaluator" in _nodes("deploy", "evaluate:=1"), "the simulator keeps scoring itself"
