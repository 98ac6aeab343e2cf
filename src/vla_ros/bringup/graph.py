"""The node graphs of vla_ros, defined once.

``launch/<graph>.launch.py`` (ROS install) and ``vla-ros launch <graph>`` (pip path) both call
:func:`build_graph` and turn each :class:`NodeSpec` into a ``launch_ros`` Node or a child process
with the same executable, parameter file, parameters and remappings, so the two cannot drift.
ROS-agnostic: no rclpy or launch imports.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vla_ros.bringup.demo import demo_args, image_size_of, monitor_rates, task_target
from vla_ros.bringup.network import NETWORKS, apply_environment, discovery
from vla_ros.config import parse_image_size
from vla_ros.errors import ConfigError
from vla_ros.paths import shipped_policy_dir

__all__ = [
    "GRAPHS",
    "SHARE",
    "URDF_TEXT",
    "LaunchArg",
    "NodeSpec",
    "build_graph",
    "default_policy_dir",
    "launch_arguments",
    "parse_launch_args",
]


@dataclass(frozen=True)
class LaunchArg:
    """A launch argument: ``name:=value`` on both paths."""

    name: str
    default: str
    description: str


@dataclass(frozen=True)
class NodeSpec:
    """One node of a graph.

    Attributes:
        name: node name (also the key in its parameter file).
        executable: the executable (``ros2 run <package> <executable>``).
        package: the ROS package providing it.
        params_file: parameter file under ``config/`` (None for none).
        parameters: parameter values overriding the file.
        remappings: ``(from, to)`` topic remappings.
        arguments: extra command-line arguments.
        optional: skip, with a notice, when the executable is not installed (e.g. RViz on the pip path).
        required: if the process exits, the whole graph is stopped.
        ends_graph: when this node exits with status 0 (its job is done), the graph stops normally.
        stops_first: ``vla-ros launch`` stops it before the others (the driver: torque off while the
            simulator's bus is still there).
        env: environment of the process, ``(name, value)``; None removes the variable (discovery range,
            :mod:`vla_ros.bringup.network`).
    """

    name: str
    executable: str
    package: str = "vla_ros"
    params_file: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    remappings: tuple[tuple[str, str], ...] = ()
    arguments: tuple[str, ...] = ()
    optional: bool = False
    required: bool = True
    ends_graph: bool = False
    stops_first: bool = False
    env: tuple[tuple[str, str | None], ...] = ()

    def environment(self, **extra: str) -> dict[str, str]:
        """This process's environment: the launcher's, with ``extra`` and :attr:`env` applied."""
        return apply_environment({**os.environ, **extra}, self.env)


SHARE = "$(share)"
"""Placeholder, in arguments and string parameters, for the package's share directory."""

URDF_TEXT = "$(urdf)"
"""Placeholder parameter value standing for the text of the project's URDF."""


def _state_dir() -> Path:
    return Path(os.environ.get("VLA_ROS_HOME", Path.home() / ".cache" / "vla_ros"))


COMMON_ARGS = [
    LaunchArg("use_sim", "true", "Run the MuJoCo simulator and its emulated bus instead of hardware."),
    LaunchArg("namespace", "", "Namespace for every node (topics are relative)."),
    LaunchArg("port", "", "Serial port of the follower arm ('' = the simulator's emulated bus)."),
    LaunchArg("robot_id", "", "LeRobot calibration id of the follower ('' = 'sim_so101' in simulation)."),
    LaunchArg("calibration_dir", "", "LeRobot calibration root ('' = lerobot's default; sim: its own)."),
    LaunchArg("front_device", "0", "Front camera device index, path or video file (hardware only)."),
    LaunchArg("wrist_device", "1", "Wrist camera device index, path or video file (hardware only)."),
    LaunchArg("rviz", "false", "Start RViz with the arm model, camera feeds and the action chunk."),
    LaunchArg("monitor", "true", "Print a compact live summary of rates, latency, queue and safety."),
    LaunchArg("viewer", "none", "'rerun': serve a live web viewer of the cameras (as the policy sees them), "
              "joints, chunk, 3D arm and log; its URL is printed at start ('none' = no viewer)."),
    LaunchArg("viewer_port", "9090", "Web port of viewer:=rerun (its gRPC feed uses the next port)."),
    LaunchArg("viewer_save", "", "Record the viewer's data to this .rrd file (with or without "
              "viewer:=rerun)."),
    LaunchArg("seed", "0", "Simulation randomisation seed."),
    LaunchArg("two_cubes", "false", "Simulation: a red and a blue cube on the table (default one red cube)."),
    LaunchArg("cube_layout", "", "Simulation: 'random' cube poses, or 'slots' (fixed, jittered); '' = "
              "config/so101_sim.yaml's (random), with demo:=true the scene the policy was trained in."),
    LaunchArg("swap_slots", "", "Simulation, cube_layout:=slots: 'true' = the colours exchange slots in some "
              "episodes (swap_probability; only looking tells which cube is where); '' as cube_layout."),
    LaunchArg("swap_probability", "", "Simulation, swap_slots:=true: the chance per episode of the exchange, "
              "0..1 ('' = 0.5)."),
    LaunchArg("scene_repeats", "", "Simulation: consecutive episodes sharing one scene ('2' with the "
              "expert's alternating targets: every scene demonstrated once per instruction; '' = 1)."),
    LaunchArg("image_size", "", "Simulation camera size 'WIDTHxHEIGHT' ('' = config/so101_sim.yaml)."),
    LaunchArg("swap_cameras", "false", "Simulation: publish front's image on wrist's topics and vice versa "
              "(swapped camera devices, names unchanged)."),
    LaunchArg("freeze_cameras", "false", "Simulation: each camera publishes its first frame for the whole "
              "run (a blind policy's input)."),
    LaunchArg("duration", "0", "Stop the whole graph after this many seconds (0 = until Ctrl-C)."),
    LaunchArg("network", "localhost", f"Discovery: {' or '.join(NETWORKS)} ('subnet' for a viewer or policy "
              "on another machine; every machine on the network and ROS_DOMAIN_ID then shares the topics)."),
]

DEPLOY_ARGS = [
    LaunchArg("policy_path", "", "SmolVLA checkpoint dir or Hub id ('' = with demo:=true the shipped reach "
              "policy (policies/so101_reach_cubes), else the tiny offline policy with random weights)."),
    LaunchArg("demo", "false", "Simulation: two cubes in the scene the policy was trained in and endless "
              "episodes (reset, reach the named cube, score, one line each), the instruction alternating "
              "('task:=' picks one; a task set on the running demo is followed from the next episode)."),
    LaunchArg("task", "", "Language instruction ('' = the checkpoint's first training task)."),
    LaunchArg(
        "camera_map", "",
        "Camera name -> policy image feature, 'front=observation.images.camera1,wrist=...' "
        "('' = the checkpoint's recorded mapping).",
    ),
    LaunchArg("torch_threads", "", "Policy inference threads ('' = config/smolvla_policy.yaml; 1 suits tiny "
              "models on a busy CPU)."),
    LaunchArg("allow_camera_remap", "false", "Accept a camera_map that differs from the training mapping."),
    LaunchArg("allow_new_task", "false", "Run an instruction that is not a training task (warned at every "
              "enable), or a checkpoint whose training tasks cannot be found."),
    LaunchArg("camera_check", "refuse", "Cameras checked by what they see against the training cameras: "
              "refuse (and hold), warn or off."),
    LaunchArg("autostart", "true", "Reset to home, check the start state and enable the policy at start."),
    LaunchArg("evaluate", "0", "Simulation: run this many evaluation episodes per task with sim_evaluator, "
              "write the results and stop (0 = no evaluation)."),
    LaunchArg("eval_output", "evaluation", "Directory of the evaluation results (evaluate > 0)."),
    LaunchArg("eval_episode_duration_s", "8", "Simulated seconds the policy runs per evaluation episode."),
    LaunchArg("exchange_tasks", "false", "Evaluation: give each episode the other target's instruction."),
    LaunchArg("eval_tasks", "", "Simulation evaluation: the instruction per target (red, blue), "
              "comma-separated ('' = the training tasks; others need allow_new_task:=true)."),
    LaunchArg("eval_scoring", "auto", "Evaluation scored by 'sim' (the simulator: sim_evaluator) or the "
              "'operator' (eval_session: keys s/f/r); 'auto' = sim in simulation, operator on hardware."),
    LaunchArg("eval_reset_time_s", "10", "Operator evaluation: reset period after each episode, s."),
    LaunchArg("record_eval", "false", "Operator evaluation: record each episode as a bag "
              "(<eval_output>/bags)."),
]

RECORD_ARGS = [
    LaunchArg("task", "demo task", "Task string stored in each episode's bag metadata."),
    LaunchArg("output_dir", "recordings", "Directory for the episode bags (MCAP)."),
    LaunchArg("teleop", "sim", "'sim' (random scripted motions in simulation), 'expert' (simulation: reach "
              "the named cube, one task per episode) or 'leader' (leader arm)."),
    LaunchArg("leader_port", "/dev/ttyACM1", "Serial port of the leader arm (teleop:=leader)."),
    LaunchArg("leader_id", "leader", "LeRobot calibration id of the leader arm."),
    LaunchArg("episodes", "1", "Episodes to record (teleop:=leader: in the operator's session, with keys)."),
    LaunchArg("episode_duration_s", "10", "Length of each unattended episode, seconds (sim teleop)."),
    LaunchArg("episode_time_s", "", "teleop:=leader: longest episode, s (lerobot-record's "
              "--dataset.episode_time_s; '' = episode_duration_s)."),
    LaunchArg("reset_time_s", "10", "teleop:=leader: reset period between episodes, s "
              "(--dataset.reset_time_s)."),
    LaunchArg("on_stop", "save", "teleop:=leader: Esc or Ctrl-C during an episode 'save's or 'discard's it."),
    LaunchArg("teleop_max_velocity", "", "Sim teleop: joint speed of the scripted motions, rad/s ('' = "
              "config/sim_teleop.yaml); the safety supervisor still limits what reaches the arm."),
]


def _truthy(value: str) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def default_policy_dir() -> Path:
    """Where the tiny offline demo policy lives (made on first use by ``vla-ros launch``/the launch file)."""
    return _state_dir() / "tiny_policy"


def _default_policy(a: Mapping[str, str]) -> Path:
    if not _truthy(a["demo"]):
        return default_policy_dir()
    shipped = shipped_policy_dir()
    if not (shipped / "config.json").is_file():
        raise ConfigError(f"demo:=true: the shipped reach policy is missing ({shipped}/config.json); "
                          "name a checkpoint with policy_path:=")
    return shipped


def _identity(a: Mapping[str, str]) -> dict[str, str]:
    """The follower's calibration id and root: what the driver, policy and supervisor all load."""
    sim = _truthy(a["use_sim"])
    return {"robot_id": a["robot_id"] or ("sim_so101" if sim else "follower"),
            "calibration_dir": a["calibration_dir"] or (str(_state_dir() / "sim_calibration") if sim else "")}


def _sim_parameters(a: Mapping[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = {"seed": int(a["seed"]), "two_cubes": _truthy(a["two_cubes"]),
                              "swap_cameras": _truthy(a["swap_cameras"]),
                              "freeze_cameras": _truthy(a["freeze_cameras"])}
    if a["cube_layout"]:
        params["cube_layout"] = a["cube_layout"]
    if a["swap_slots"]:
        params["swap_slots"] = _truthy(a["swap_slots"])
    if a["swap_probability"]:
        params["swap_probability"] = float(a["swap_probability"])
    if a["scene_repeats"]:
        params["scene_repeats"] = int(a["scene_repeats"])
    if a["image_size"]:
        width, height = parse_image_size(a["image_size"])
        params.update(image_width=width, image_height=height)
    return params


def _hardware_nodes(a: Mapping[str, str]) -> list[NodeSpec]:
    """Arm (simulated or real), cameras and the driver: the part shared by deploy and record."""
    sim = _truthy(a["use_sim"])
    ns = a["namespace"].strip("/").replace("/", "_") or "default"
    port = a["port"] or (str(Path(tempfile.gettempdir()) / f"vla_ros_sim_{ns}.tty") if sim else "")
    if not sim and not port:
        raise ConfigError("use_sim:=false needs port:=/dev/ttyACM0 (the follower arm's serial port)")
    identity = _identity(a)
    nodes = []
    if sim:
        nodes.append(NodeSpec("so101_sim", "so101_sim", params_file="so101_sim.yaml",
                              parameters={"port": port, **_sim_parameters(a), **identity}))
    else:
        for cam in ("front", "wrist"):
            nodes.append(NodeSpec(f"camera_{cam}", "camera_publisher", params_file="camera_publisher.yaml",
                                  parameters={"name": cam, "device": a[f"{cam}_device"],
                                              "frame_id": f"{cam}_camera_optical_frame"}))
    nodes.append(NodeSpec("so101_driver", "so101_driver", params_file="so101_driver.yaml",
                          parameters={"port": port, **identity}, stops_first=True))
    nodes.append(NodeSpec("robot_state_publisher", "robot_state_publisher",
                          package="robot_state_publisher", optional=True, required=False,
                          parameters={"robot_description": URDF_TEXT}))
    return nodes


def _viewer_nodes(a: Mapping[str, str], monitor: Mapping[str, Any] | None = None) -> list[NodeSpec]:
    nodes = []
    if _truthy(a.get("rviz", "false")):
        nodes.append(NodeSpec("chunk_markers", "chunk_markers", required=False))
        nodes.append(NodeSpec("rviz", "rviz2", package="rviz2", optional=True, required=False,
                              arguments=("-d", f"{SHARE}/rviz/vla_ros.rviz")))
    if _truthy(a.get("monitor", "false")):
        nodes.append(NodeSpec("status_monitor", "status_monitor", required=False,
                              parameters=dict(monitor or {})))
    bridge = _rerun_bridge(a)
    return [*nodes, bridge] if bridge else nodes


def _rerun_bridge(a: Mapping[str, str]) -> NodeSpec | None:
    """``rerun_bridge`` for ``viewer:=rerun`` and/or ``viewer_save:=FILE.rrd``; none without rerun-sdk
    (``prepare`` prints why)."""
    from vla_ros.viewer.session import rerun_missing

    viewer, save = a.get("viewer", "none"), a.get("viewer_save", "")
    if viewer not in ("none", "rerun"):
        raise ConfigError(f"viewer:={viewer} must be 'none' or 'rerun'")
    if (viewer == "none" and not save) or rerun_missing():
        return None
    return NodeSpec("rerun_bridge", "rerun_bridge", required=False, parameters={
        "serve": viewer == "rerun", "web_port": int(a.get("viewer_port") or 9090),
        "save_path": str(Path(save).expanduser().resolve()) if save else "",
        "policy_node": "smolvla_policy" if "policy_path" in a else ""})


def _deploy(a: Mapping[str, str]) -> list[NodeSpec]:
    if _truthy(a["demo"]) and not _truthy(a["use_sim"]):
        raise ConfigError("demo:=true runs the simulated two-cube scene: it needs use_sim:=true")
    a = _policy_scene(a)
    if _truthy(a["demo"]):
        a = demo_args(a)
    identity = _identity(a)
    policy = a["policy_path"]
    camera_map = [item.strip() for item in a["camera_map"].split(",") if item.strip()]
    evaluator = _evaluator(a)
    autostart = _truthy(a["autostart"]) and evaluator is None
    policy_params: dict[str, Any] = {"policy_path": policy, "autostart": autostart, **identity,
                                     "allow_camera_remap": _truthy(a["allow_camera_remap"]),
                                     "allow_new_task": _truthy(a["allow_new_task"]),
                                     "camera_check": a["camera_check"]}
    if a["task"]:
        policy_params["task"] = a["task"]
    if a["torch_threads"]:
        policy_params["torch_threads"] = int(a["torch_threads"])
    if camera_map:
        policy_params["camera_map"] = camera_map
    if autostart or evaluator:
        policy_params["start_state_check"] = "reset"
    return [
        *_hardware_nodes(a),
        NodeSpec("safety_supervisor", "safety_supervisor", params_file="safety_supervisor.yaml",
                 parameters={"policy_path": policy, **identity}),
        NodeSpec("smolvla_policy", "smolvla_policy", params_file="smolvla_policy.yaml",
                 parameters=policy_params),
        *([evaluator] if evaluator else []),
        *(_eval_recorder(a) if evaluator and evaluator.name == "eval_session" else []),
        *_viewer_nodes(a, monitor_rates(policy) if _truthy(a["demo"]) else {}),
    ]


def _policy_scene(a: Mapping[str, str]) -> dict[str, str]:
    """In simulation the cameras render at a local checkpoint's image size unless ``image_size`` is given
    (the policy refuses images of another size); no ``policy_path`` means the shipped reach policy with
    ``demo:=true``, else the tiny offline demo policy.

    Raises:
        ConfigError: ``demo:=true`` without ``policy_path`` where the shipped policy is missing.
    """
    out = {**a, "policy_path": a["policy_path"] or str(_default_policy(a))}
    if _truthy(a["use_sim"]):
        out["image_size"] = a["image_size"] or image_size_of(out["policy_path"]) or ""
    return out


def _evaluator(a: Mapping[str, str]) -> NodeSpec | None:
    """``sim_evaluator`` (simulator scoring) or ``eval_session`` (operator scoring) when ``evaluate:=M``
    (> 0): it enables the policy per episode and ends the graph."""
    episodes = int(a["evaluate"])
    if episodes <= 0:
        return None
    scoring = a["eval_scoring"] if a["eval_scoring"] != "auto" else ("sim" if _truthy(a["use_sim"]) else
                                                                     "operator")
    if scoring not in ("sim", "operator"):
        raise ConfigError(f"eval_scoring:={a['eval_scoring']} must be 'auto', 'sim' or 'operator'")
    if scoring == "sim" and not _truthy(a["use_sim"]):
        raise ConfigError("eval_scoring:=sim needs use_sim:=true: the simulator measures success")
    if scoring == "operator":
        return NodeSpec("eval_session", "eval_session", ends_graph=True, stops_first=True,
                        parameters={"episodes_per_task": episodes, "tasks": [a["task"] or ""],
                                    "episode_time_s": float(a["eval_episode_duration_s"]),
                                    "reset_time_s": float(a["eval_reset_time_s"]),
                                    "record_eval": _truthy(a["record_eval"]),
                                    "output_dir": str(Path(a["eval_output"]).resolve()),
                                    "terminal": _terminal()})
    tasks = [t.strip() for t in a["eval_tasks"].split(",") if t.strip()]
    demo: dict[str, Any] = {}
    if _truthy(a["demo"]):
        demo = {"continuous": True, "record_episode": -1,
                **({"tasks": [a["task"]], "targets": [task_target(a["task"])]} if a["task"] else {})}
    return NodeSpec("sim_evaluator", "sim_evaluator", params_file="sim_evaluator.yaml", ends_graph=True,
                    parameters={"episodes_per_task": episodes, **demo,
                                "episode_duration_s": float(a["eval_episode_duration_s"]),
                                "exchange_tasks": _truthy(a["exchange_tasks"]),
                                "output_dir": str(Path(a["eval_output"]).resolve()),
                                **({"tasks": tasks} if tasks else {})})


def _eval_recorder(a: Mapping[str, str]) -> list[NodeSpec]:
    """``bag_recorder`` for ``record_eval:=true``: each scored episode a bag in ``<eval_output>/bags``."""
    if not _truthy(a["record_eval"]):
        return []
    return [NodeSpec("bag_recorder", "bag_recorder", params_file="bag_recorder.yaml",
                     parameters={"task": a["task"] or "evaluation", "prefix": "eval",
                                 "output_dir": str(Path(a["eval_output"]).resolve() / "bags"),
                                 "extra_topics": ["policy/action_chunk=vla_ros/msg/ActionChunk"]})]


def _record(a: Mapping[str, str]) -> list[NodeSpec]:
    if a["teleop"] not in ("sim", "expert", "leader"):
        raise ConfigError(f"teleop:={a['teleop']} must be 'sim', 'expert' or 'leader'")
    if a["teleop"] == "expert" and not (_truthy(a["use_sim"]) and _truthy(a["two_cubes"])):
        raise ConfigError("teleop:=expert reaches the cube named in each task: it needs use_sim:=true "
                          "two_cubes:=true")
    if a["teleop"] in ("sim", "expert"):
        teleop = NodeSpec("sim_teleop", "sim_teleop", params_file="sim_teleop.yaml", ends_graph=True,
                          parameters={"episodes": int(a["episodes"]),
                                      "episode_duration_s": float(a["episode_duration_s"]),
                                      "mode": "reach" if a["teleop"] == "expert" else "random"})
    else:
        identity = _identity(a)
        teleop = NodeSpec("leader_teleop", "leader_teleop", params_file="leader_teleop.yaml",
                          parameters={"port": a["leader_port"], "robot_id": a["leader_id"],
                                      "follower_id": identity["robot_id"],
                                      "calibration_dir": identity["calibration_dir"],
                                      "leader_calibration_dir": a["calibration_dir"]})
    # In simulation sim_teleop starts and stops each episode through record/start and record/stop;
    # with the leader arm, record_session does, on the operator's keys.
    session = [_record_session(a)] if a["teleop"] == "leader" else []
    recorder = NodeSpec("bag_recorder", "bag_recorder", params_file="bag_recorder.yaml",
                        parameters={"task": a["task"], "output_dir": str(Path(a["output_dir"]).resolve()),
                                    **({"on_shutdown": a["on_stop"]} if session else {})})
    return [*_hardware_nodes(a), *_supervised(teleop, a), recorder, *session, *_viewer_nodes(a)]


def _supervised(teleop: NodeSpec, a: Mapping[str, str]) -> list[NodeSpec]:
    """The teleop node publishing into the safety supervisor's input, and the supervisor taking it only
    from that node: nothing but the supervisor moves the arm, recording included."""
    if teleop.name == "sim_teleop" and a["teleop_max_velocity"]:
        teleop = replace(teleop, parameters={**teleop.parameters,
                                             "max_velocity_rad_s": float(a["teleop_max_velocity"])})
    teleop = replace(teleop, remappings=(*teleop.remappings, ("joint_commands", "policy/joint_commands")))
    return [teleop, NodeSpec("safety_supervisor", "safety_supervisor", params_file="safety_supervisor.yaml",
                             parameters={**_identity(a), "command_source": teleop.name})]


def _record_session(a: Mapping[str, str]) -> NodeSpec:
    """``record_session``: keys from the terminal ``vla-ros launch`` runs in (none: on its timers).

    Stopped first, so that Ctrl-C saves or discards the running episode before the recorder stops.
    """
    return NodeSpec("record_session", "record_session", ends_graph=True, stops_first=True,
                    parameters={"episodes": int(a["episodes"]), "on_stop": a["on_stop"],
                                "episode_time_s": float(a["episode_time_s"] or a["episode_duration_s"]),
                                "reset_time_s": float(a["reset_time_s"]), "terminal": _terminal()})


def _terminal() -> str:
    """The terminal the launch runs in (the operator's keys), '' when not started from one."""
    return os.ttyname(0) if os.isatty(0) else ""


def _view(a: Mapping[str, str]) -> list[NodeSpec]:
    return [
        NodeSpec("robot_state_publisher", "robot_state_publisher", package="robot_state_publisher",
                 optional=True, parameters={"robot_description": URDF_TEXT}),
        NodeSpec("chunk_markers", "chunk_markers", required=False),
        NodeSpec("rviz", "rviz2", package="rviz2", optional=True,
                 arguments=("-d", f"{SHARE}/rviz/vla_ros.rviz")),
    ]


GRAPHS: dict[str, tuple[list[LaunchArg], Callable[[Mapping[str, str]], list[NodeSpec]]]] = {
    "deploy": (COMMON_ARGS + DEPLOY_ARGS, _deploy),
    "record": (COMMON_ARGS + RECORD_ARGS, _record),
    "view": ([LaunchArg("namespace", "", "Namespace for every node."),
              LaunchArg("duration", "0", "Stop after this many seconds (0 = until Ctrl-C)."),
              LaunchArg("network", "localhost", "Discovery: 'localhost' or 'subnet' (to view another "
                        "machine's graph)")], _view),
}


def launch_arguments(graph: str) -> list[LaunchArg]:
    """The launch arguments of ``graph``.

    Raises:
        ConfigError: unknown graph.
    """
    if graph not in GRAPHS:
        raise ConfigError(f"unknown graph {graph!r}, expected one of {sorted(GRAPHS)}")
    return GRAPHS[graph][0]


def parse_launch_args(graph: str, argv: list[str]) -> dict[str, str]:
    """Parse ``name:=value`` words (as ``ros2 launch`` takes them) over the graph's defaults.

    Raises:
        ConfigError: a word is not ``name:=value`` or names no argument of the graph.
    """
    declared = {arg.name: arg.default for arg in launch_arguments(graph)}
    values = dict(declared)
    for word in argv:
        name, sep, value = word.partition(":=")
        if not sep:
            raise ConfigError(f"expected name:=value, got {word!r}")
        if name not in declared:
            raise ConfigError(f"{graph} has no argument {name!r}; arguments: {sorted(declared)}")
        values[name] = value
    return values


def _not_numbers(args: Mapping[str, str], err: ValueError) -> str:
    """The given arguments whose value the failed ``int()``/``float()`` names, e.g. ``seed:='x'``."""
    bad = [f"{name}:={value!r}" for name, value in args.items() if value and repr(value) in str(err)]
    return f"not a number: {', '.join(bad)}" if bad else "a launch argument is not a number"


def build_graph(graph: str, args: Mapping[str, str]) -> list[NodeSpec]:
    """The nodes of ``graph`` for fully resolved launch arguments.

    Raises:
        ConfigError: unknown graph or an invalid argument combination.
    """
    declared = {arg.name: arg.default for arg in launch_arguments(graph)}
    values = {**declared, **args}
    try:
        specs = GRAPHS[graph][1](values)
    except ValueError as err:
        raise ConfigError(f"{graph}: {_not_numbers(args, err)} ({err})") from err
    if _truthy(values.get("use_sim", "false")):
        # The simulator stamps everything with sim time and publishes /clock (slower than real time
        # when rendering cannot keep up), so every other node runs on that clock.
        specs = [replace(s, parameters={**s.parameters, "use_sim_time": True}) if s.name != "so101_sim"
                 else s for s in specs]
        if graph == "deploy" and values.get("namespace", "").strip("/"):
            # Each simulated arm's time is its own: /clock into the namespace, so that two simulated
            # deploy graphs on one ROS domain do not run on each other's clocks. (Not in record graphs:
            # `ros2 bag record --use-sim-time`, started by bag_recorder, listens on /clock.)
            specs = [replace(s, remappings=(*s.remappings, ("/clock", "clock"))) for s in specs]
    env = discovery(values.get("network", "localhost")).env
    return [replace(s, env=env) for s in specs]
