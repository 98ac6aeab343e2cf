"""``eval_session``: the operator-scored evaluation session (:mod:`vla_ros.session.evaluation`) on the
deploy graph, for the real arm (``vla-ros launch deploy use_sim:=false evaluate:=N``).

Drives ``smolvla_policy`` (its ``task`` through ``<policy_node>/set_parameters``, as ``ros2 param set``;
``policy/enable``, whose start-state gate resets the arm to the training start pose through the safety
supervisor and checks it), the supervisor's ``safety/estop``, and with ``record_eval`` the
``bag_recorder`` (its ``task`` likewise, ``record/start``/``record/stop``/``record/discard``), so every
scored episode is a bag ``vla-ros convert`` turns into a dataset of deployment episodes. Writes
``<output_dir>/results.json`` (schema ``vla_ros.sim_evaluation/1``, ``config.scoring = "operator"``) after
every scored episode; the bags' paths are its ``episode_files``. Keys, status line, speech and Ctrl-C
as ``record_session`` (:mod:`vla_ros.session.node`). Subscribes ``policy/status`` for the policy's task.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import SetParameters

from vla_ros.errors import ConfigError
from vla_ros.msg import PolicyStatus
from vla_ros.ros.node_main import run_node
from vla_ros.ros.params import declare_config
from vla_ros.ros.qos import STATUS_QOS
from vla_ros.session.errors import SessionError
from vla_ros.session.evaluation import EvaluationPlan, EvaluationSession
from vla_ros.session.io_node import ServiceCaller
from vla_ros.session.node import SessionNode, _Estop, _Recorder
from vla_ros.session.status import EVAL_KEYS_HELP

__all__ = ["EvalSessionNode", "main"]

ENABLE_TIMEOUT_S = 180.0
"""Longest wait for ``policy/enable`` to answer: it resets the arm to the start pose first, s."""


def _set_task(calls: ServiceCaller, node: str, task: str) -> str:
    value = ParameterValue(type=ParameterType.PARAMETER_STRING, string_value=task)
    response = calls.call(SetParameters, f"{node}/set_parameters",
                          SetParameters.Request(parameters=[Parameter(name="task", value=value)]))
    result = response.results[0]
    if not result.successful:
        raise SessionError(f"{node} refused the task {task!r}: {result.reason}")
    return f"{node}: task {task!r}"


class _Policy:
    """:class:`~vla_ros.session.evaluation.PolicyControl` over the policy's services (and the recorder's
    task, so each bag carries the task given)."""

    def __init__(self, calls: ServiceCaller, enable_calls: ServiceCaller, record: bool) -> None:
        self.calls, self.enable_calls, self.record = calls, enable_calls, record

    def set_task(self, task: str) -> str:
        answer = _set_task(self.calls, "smolvla_policy", task)
        if self.record:
            _set_task(self.calls, "bag_recorder", task)
        return answer

    def enable(self, on: bool) -> str:
        return self.enable_calls.set_bool("policy/enable", on)


class EvalSessionNode(SessionNode):
    """The ``eval_session`` node (see the module docstring)."""

    keys_help = EVAL_KEYS_HELP
    count_label = "successes"

    def __init__(self, **node_kwargs: Any) -> None:
        super().__init__("eval_session", **node_kwargs)
        self.plan = declare_config(self, EvaluationPlan)
        self.create_subscription(PolicyStatus, "policy/status", self._on_policy_status, STATUS_QOS)
        self._policy_seen = False
        enable_calls = ServiceCaller(self, ENABLE_TIMEOUT_S)
        self._policy = _Policy(self.calls, enable_calls, self.plan.record_eval)
        self.start_session()

    def _on_policy_status(self, msg: PolicyStatus) -> None:
        self._policy_seen = True
        self.task = msg.task

    def missing(self) -> str:
        return "smolvla_policy (policy/status)" if not self._policy_seen else super().missing()

    def _run(self) -> None:
        try:
            self._wait_for_graph()
            episodes = self.plan.episodes(self.task)
        except (SessionError, ConfigError) as err:
            self.session = _Failed(str(err))
            self._end()
            return
        recorder = _Recorder(self.calls) if self.plan.record_eval else None
        self.session = EvaluationSession(self.plan, episodes, self._policy, recorder, _Estop(self.calls),
                                         self._speak, self._now_s, _delete_bag)
        super()._run()

    def intro(self) -> str:
        n = len(self.session.planned)
        return (f"{n} evaluation episode(s) of up to {self.plan.episode_time_s:g} s; keys: → end the run, "
                "then s success / f failure / r redo; Esc stop, space e-stop")

    def summary(self) -> list[str]:
        if not isinstance(self.session, EvaluationSession):
            return []
        results = self.session.results
        done = len(results.episodes)
        ok = sum(e.success for e in results.episodes)
        path = Path(self.plan.output_dir) / "results.json"
        return [f"evaluation over: {ok}/{done} successes ({done} of {results.planned_episodes} scored); "
                f"{path}"]


class _Failed:
    """Stands for a session that could not be planned (its ``error`` is reported)."""

    def __init__(self, error: str) -> None:
        self.error = error


def _delete_bag(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def main(args: list[str] | None = None) -> int:
    """Entry point of ``eval_session``."""
    return run_node(EvalSessionNode, args)
