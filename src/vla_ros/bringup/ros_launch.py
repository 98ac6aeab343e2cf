"""Turns a graph from :mod:`vla_ros.bringup.graph` into a ``launch`` LaunchDescription.

Used by ``launch/*.launch.py`` on a ROS 2 install (Humble or later); imports ``launch`` and
``launch_ros`` lazily so the rest of vla_ros never needs them. ``ros2 launch`` runs this in the ROS
install's Python, which lacks what the venv of ``scripts/ros_venv.sh`` adds (lerobot, torch, mujoco):
nothing here imports them, and the graph's preparation runs as ``vla-ros prepare`` with the package's
own interpreter.
"""

from __future__ import annotations

import subprocess
from typing import Any

from vla_ros.bringup.graph import SHARE, URDF_TEXT, NodeSpec, build_graph, launch_arguments
from vla_ros.bringup.launcher import find_executable
from vla_ros.bringup.network import discovery
from vla_ros.errors import ConfigError
from vla_ros.paths import share_dir, urdf_file

__all__ = ["generate_launch_description"]


def _value(value: Any) -> Any:
    if isinstance(value, str):
        return urdf_file().read_text() if value == URDF_TEXT else value.replace(SHARE, str(share_dir()))
    if isinstance(value, list):
        return [_value(v) for v in value]
    return value


def _node_action(spec: NodeSpec, namespace: str) -> Any:
    from launch.actions import Shutdown
    from launch_ros.actions import Node

    parameters: list[Any] = []
    if spec.params_file:
        parameters.append(str(share_dir() / "config" / spec.params_file))
    if spec.parameters:
        parameters.append({k: _value(v) for k, v in spec.parameters.items()})
    return Node(
        package=spec.package,
        executable=spec.executable,
        name=spec.name,
        namespace=namespace or None,
        parameters=parameters,
        remappings=list(spec.remappings),
        arguments=[_value(a) for a in spec.arguments],
        output="screen",
        on_exit=Shutdown(reason=f"required node {spec.name} exited") if spec.required else None,
    )


def _prepare(graph: str, values: dict[str, str]) -> None:
    """``vla-ros prepare`` with the package's interpreter (see the module docstring).

    Raises:
        ConfigError: the vla-ros executable is missing, or preparing failed (its output says why).
    """
    exe = find_executable(NodeSpec("vla-ros", "vla-ros"))
    if exe is None:
        raise ConfigError("vla-ros executable not found (is the workspace built and sourced?)")
    words = [f"{name}:={value}" for name, value in values.items()]
    if subprocess.run([exe, "prepare", graph, *words], check=False).returncode != 0:
        raise ConfigError(f"vla-ros prepare {graph} failed (see above)")


def _discovery_actions(network: str) -> list[Any]:
    """Print the discovery range, and set it for every node launched after (SetEnvironmentVariable)."""
    from launch.actions import LogInfo, SetEnvironmentVariable, UnsetEnvironmentVariable

    setting = discovery(network)
    return [LogInfo(msg=setting.summary),
            *(SetEnvironmentVariable(name, value) if value is not None else UnsetEnvironmentVariable(name)
              for name, value in setting.env)]


def generate_launch_description(graph: str) -> Any:
    """The LaunchDescription of ``graph`` (``deploy``, ``record`` or ``view``)."""
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, LogInfo, OpaqueFunction, Shutdown, TimerAction
    from launch.substitutions import LaunchConfiguration

    arguments = launch_arguments(graph)

    def setup(context: Any) -> list[Any]:
        values = {a.name: LaunchConfiguration(a.name).perform(context) for a in arguments}
        _prepare(graph, values)
        actions: list[Any] = _discovery_actions(values.get("network", "localhost"))
        for spec in build_graph(graph, values):
            if spec.optional and find_executable(spec) is None:
                actions.append(LogInfo(msg=f"skipping {spec.name}: {spec.package} is not installed"))
                continue
            actions.append(_node_action(spec, values.get("namespace", "")))
        duration = float(values.get("duration", "0") or 0)
        if duration > 0:
            actions.append(TimerAction(period=duration, actions=[Shutdown(reason="duration reached")]))
        return actions

    declared = [DeclareLaunchArgument(a.name, default_value=a.default, description=a.description)
                for a in arguments]
    return LaunchDescription([*declared, OpaqueFunction(function=setup)])
