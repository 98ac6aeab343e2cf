"""``vla-ros task|estop|enable|disable|status``: the operator's commands for a running graph.

Each talks to the graph over DDS (:class:`~vla_ros.session.client_node.GraphClient`) through the
interfaces ``ros2 param``/``ros2 service`` use, so a ROS install is not needed:

* ``task TEXT``: the ``task`` parameter of ``smolvla_policy`` and/or ``bag_recorder``
  (``<node>/set_parameters``); the policy's task guard applies and its refusal is printed;
* ``estop [--release]``: ``safety/estop`` (std_srvs/SetBool) of the safety supervisor, latched;
* ``enable`` / ``disable``: ``policy/enable`` (std_srvs/SetBool; enabling runs the start-state gate);
* ``status [--follow]``: one line from the latched ``policy/status``, ``safety/status`` and
  ``record/status``, or one per ``--period-s`` until Ctrl-C.

Every command takes ``--namespace`` (the graph's ``namespace:=``), ``--network`` and ``--timeout-s``, and
fails (exit status 1, :class:`~vla_ros.session.client_node.GraphNotFoundError`) with the namespace and
domain it looked in when no graph answers.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import Any

from vla_ros.bringup.network import NETWORKS
from vla_ros.session.client_node import GraphClient, GraphNotFoundError

__all__ = ["TASK_NODES", "disable_main", "enable_main", "estop_main", "format_graph_status", "status_main",
           "task_main"]

TASK_NODES = ("smolvla_policy", "bag_recorder")
"""Nodes whose ``task`` parameter ``vla-ros task`` sets (those of them that run)."""


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"vla-ros {prog}", description=description)
    parser.add_argument("--namespace", default="", help="the graph's namespace (launch argument namespace:=)")
    parser.add_argument("--network", default="localhost", choices=NETWORKS, help="discovery, as the graph's")
    parser.add_argument("--timeout-s", type=float, default=5.0, help="wait for the graph, s")
    return parser


def _connect(ns: argparse.Namespace) -> GraphClient:
    return GraphClient(ns.namespace, ns.network, ns.timeout_s)


def task_main(argv: Sequence[str]) -> int:
    """``vla-ros task TEXT``: set the task of the running policy and/or recorder."""
    parser = _parser("task", "Set the language instruction of the running graph (policy and/or recorder).")
    parser.add_argument("task", help="the instruction, e.g. 'pick up the red cube'")
    ns = parser.parse_args(argv)
    with _connect(ns) as graph:
        answers = graph.set_string_parameter(list(TASK_NODES), "task", ns.task)
    for node, ok, reason in answers:
        print(f"{node}: task set to {ns.task!r}" if ok else f"{node} refused the task: {reason}")
    return 0 if all(ok for _, ok, _ in answers) else 1


def _set_bool(prog: str, description: str, service: str, value_of: Callable[[argparse.Namespace], bool],
              argv: Sequence[str], extra: Callable[[argparse.ArgumentParser], None] | None = None) -> int:
    parser = _parser(prog, description)
    if extra is not None:
        extra(parser)
    ns = parser.parse_args(argv)
    with _connect(ns) as graph:
        success, message = graph.set_bool(service, value_of(ns))
    print(message)
    return 0 if success else 1


def estop_main(argv: Sequence[str]) -> int:
    """``vla-ros estop [--release]``: latch (or release) the safety supervisor's e-stop."""
    def flag(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--release", action="store_true", help="release the latched e-stop")

    return _set_bool("estop", "Latch the safety supervisor's e-stop (nothing reaches the arm) or release it.",
                     "safety/estop", lambda ns: not ns.release, argv, flag)


def enable_main(argv: Sequence[str]) -> int:
    """``vla-ros enable``: enable the policy (after the start-state gate)."""
    return _set_bool("enable", "Enable the policy (the start-state gate runs first).", "policy/enable",
                     lambda _: True, argv)


def disable_main(argv: Sequence[str]) -> int:
    """``vla-ros disable``: disable the policy (the supervisor holds the arm)."""
    return _set_bool("disable", "Disable the policy (the arm holds its position).", "policy/enable",
                     lambda _: False, argv)


def format_graph_status(latest: dict[str, Any]) -> str:
    """One line from the latest ``policy``, ``safety`` and ``record`` status messages (those present)."""
    parts = []
    if "policy" in latest:
        p = latest["policy"]
        parts.append(f"policy {p.state_name} task {p.task!r} queue {p.queue_depth} latency "
                     f"{p.latency_last_s:.2f}s" + (f" ({p.last_error})" if p.last_error else ""))
    if "safety" in latest:
        s = latest["safety"]
        parts.append(f"safety {s.state_name} e-stop {'LATCHED' if s.estop_latched else 'off'} clamps "
                     f"{sum(s.clamp_counts)}" + (f" ({s.reason})" if s.reason else ""))
    if "record" in latest:
        try:
            r = json.loads(latest["record"].data)
            parts.append(f"recorder {r.get('state')} task {r.get('task', '')!r} saved {r.get('saved', 0)}"
                         + (f" {r.get('bag')} {r.get('elapsed_s', 0):.1f}s" if r.get("bag") else ""))
        except (ValueError, AttributeError):
            parts.append("recorder (unreadable record/status)")
    return " | ".join(parts)


def status_main(argv: Sequence[str]) -> int:
    """``vla-ros status [--follow]``: the running graph's state in one line."""
    parser = _parser("status", "Print the running graph's policy, safety and recorder state.")
    parser.add_argument("--follow", action="store_true", help="print a line every --period-s until Ctrl-C")
    parser.add_argument("--period-s", type=float, default=1.0, help="--follow: seconds between lines")
    ns = parser.parse_args(argv)
    with _connect(ns) as graph:
        latest = graph.watch_status()
        if not latest:
            raise GraphNotFoundError(graph.missing("policy/status, safety/status or record/status"))
        print(format_graph_status(latest), flush=True)
        try:
            while ns.follow and graph.follow(ns.period_s):
                print(format_graph_status(latest), flush=True)
        except KeyboardInterrupt:
            pass  # Ctrl-C is how --follow ends, wherever it lands
    return 0
