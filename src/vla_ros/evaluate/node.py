"""``sim_evaluator``: closed-loop evaluation episodes of the deploy graph in simulation.

Thin ROS adapter over :mod:`vla_ros.evaluate.scoring` and :mod:`vla_ros.evaluate.trace` (STYLE.md
rule 1). It runs inside the deploy graph (``so101_sim`` with two cubes, ``so101_driver``,
``safety_supervisor``, ``smolvla_policy`` started with ``autostart:=false``), on simulated time
(``use_sim_time`` is switched on if it is not). For each episode (targets interleaved):

1. ``policy/enable`` false (std_srvs/SetBool), until ``policy/status`` shows DISABLED;
2. the policy's ``task`` parameter through ``<policy_node>/set_parameters``, until ``policy/status``
   reports it; a refused task stops the run (an error of the run, in ``results.json``, exit status 1);
3. ``sim/reset`` (std_srvs/Trigger), until a ``sim/objects`` message stamped after it (and fresh
   ``joint_states``: a driver reconnecting to the bus is waited for, not turned into refusals);
4. ``policy/enable`` true: the policy runs its start-state gate; a refusal is tried again (up to
   ``enable_attempts``: a driver reconnecting to the bus makes the supervisor refuse once), and
   recorded for the episode if it persists;
5. ``episode_duration_s`` of simulated time from the enable, scoring every ``sim/objects`` message
   (visualization_msgs/MarkerArray: ``cubes`` markers named by colour in ``text``, the
   ``gripper_frame`` sphere) with :class:`~vla_ros.evaluate.scoring.ReachTracker`;
6. disable; ``results.json`` is rewritten after every episode.

With ``continuous`` (the demo) the episodes never end (:class:`~vla_ros.evaluate.demo.ContinuousPlan`:
the tasks in turn, or a task someone else set on the policy); each logs
:func:`~vla_ros.evaluate.demo.demo_line`, and stopping the graph logs the summary and exits 0.

The episode ``record_episode`` also keeps ``joint_states``, ``policy/joint_commands`` and evenly spaced
``cameras/<name>/image_raw`` frames (the last two subscribed during that episode only) in
``episode_NNN.npz``.
When all episodes are done the node disables the policy, stops and exits 0, which ends the graph
(``ends_graph``); a graph that lacks a service or topic after ``startup_timeout_s``, or a run error
(a refused task, a scene without the named cube, simulated time standing still), exits 1 with the
reason, also written to ``results.json`` (``run_error``).
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rcl_interfaces.srv import SetParameters
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.task import Future
from sensor_msgs.msg import Image, JointState
from std_srvs.srv import SetBool, Trigger
from visualization_msgs.msg import MarkerArray

from vla_ros.camera.image import msg_to_rgb
from vla_ros.errors import BadInputError
from vla_ros.evaluate.config import SimEvaluatorConfig
from vla_ros.evaluate.demo import ContinuousPlan, demo_line
from vla_ros.evaluate.errors import EvaluationError, GraphError
from vla_ros.evaluate.scoring import (
    EpisodePlan,
    EpisodeResult,
    EvaluationResults,
    ReachTracker,
    plan_episodes,
    summarize,
)
from vla_ros.evaluate.trace import EpisodeTrace
from vla_ros.msg import PolicyStatus
from vla_ros.robot.joints import order_positions
from vla_ros.ros.image import stamp_to_s
from vla_ros.ros.node_main import run_node
from vla_ros.ros.objects import Objects, parse_objects
from vla_ros.ros.params import declare_config
from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS, STATUS_QOS

__all__ = ["SimEvaluator", "main"]

JOINT_STATES_FRESH_S = 1.0
"""joint_states older than this (wall seconds) mean the driver is not publishing: wait before enabling."""
ENABLE_RETRY_S = 1.0
"""Wall seconds between a refused policy/enable and the next attempt (a supervisor FAULT clears)."""
POLL_S = 0.05
"""Wall seconds between checks while waiting for a service answer, a status or simulated time."""
DISABLE_RETRY_S = 2.0
"""Wall seconds to wait for policy/status to show DISABLED before calling policy/enable(false) again."""


class _Episode:
    """What the subscriptions feed while an episode runs (guarded by the node's lock)."""

    def __init__(self, plan: EpisodePlan, start_s: float, end_s: float, trace: EpisodeTrace | None) -> None:
        self.plan, self.start_s, self.end_s, self.trace = plan, start_s, end_s, trace
        self.tracker = ReachTracker(plan.target_named)
        self.policy_errors: list[str] = []
        self.sample_errors: list[str] = []

    def covers(self, stamp_s: float) -> bool:
        return self.start_s <= stamp_s <= self.end_s


class SimEvaluator(Node):
    """The ``sim_evaluator`` node (see the module docstring).

    Attributes:
        exit_status: 0 after a complete run, 1 after a run error or a broken graph.
        results: the run so far.

    Raises:
        ConfigError: invalid parameters.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("sim_evaluator", **kwargs)
        self.cfg = declare_config(self, SimEvaluatorConfig)
        if not self.get_parameter("use_sim_time").value:
            self.set_parameters([Parameter("use_sim_time", Parameter.Type.BOOL, True)])
            self.get_logger().info("use_sim_time switched on: episodes are measured in simulated time")
        self.plans = plan_episodes(self.cfg.tasks, self.cfg.targets, self.cfg.episodes_per_task,
                                   self.cfg.exchange_tasks)
        self.exit_status = 0
        self.results = EvaluationResults(
            config=dataclasses.asdict(self.cfg), planned_episodes=len(self.plans),
            started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        self._wall0 = time.monotonic()
        self._done = False
        self.finished = False
        self._lock = threading.Lock()
        self._status: PolicyStatus | None = None
        self._objects: Objects | None = None
        self._episode: _Episode | None = None
        self._recording: list[Any] = []
        self._joint_state_rx = -math.inf  # time.monotonic() of the last joint_states message
        self._wall = Clock(clock_type=ClockType.STEADY_TIME)
        self._inputs = MutuallyExclusiveCallbackGroup()
        self._flow = ReentrantCallbackGroup()
        self.create_subscription(PolicyStatus, "policy/status", self._on_status, STATUS_QOS,
                                 callback_group=self._inputs)
        self.create_subscription(MarkerArray, "sim/objects", self._on_objects, STATUS_QOS,
                                 callback_group=self._inputs)
        self.create_subscription(JointState, "joint_states", self._joint_callback(False), SENSOR_QOS,
                                 callback_group=self._inputs)
        self._enable_client = self.create_client(SetBool, "policy/enable", callback_group=self._flow)
        self._param_client = self.create_client(SetParameters, f"{self.cfg.policy_node}/set_parameters",
                                                callback_group=self._flow)
        self._reset_client = self.create_client(Trigger, "sim/reset", callback_group=self._flow)
        self._begin = self.create_timer(0.1, self._run, callback_group=self._flow, clock=self._wall)
        count = "endless" if self.cfg.continuous else str(len(self.plans))
        self.get_logger().info(
            f"{count} episodes of {self.cfg.episode_duration_s:g} s (simulated), tasks "
            f"{[p.task for p in self.plans[:len(self.cfg.targets)]]}"
            + (" (exchanged)" if self.cfg.exchange_tasks else "")
            + f" -> {Path(self.cfg.output_dir).resolve()}")

    # ----------------------------------------------------------------- subscriptions
    def _on_status(self, msg: PolicyStatus) -> None:
        with self._lock:
            self._status = msg
            episode = self._episode
            if episode is not None and msg.last_error and msg.last_error not in episode.policy_errors:
                episode.policy_errors.append(msg.last_error)

    def _on_objects(self, msg: MarkerArray) -> None:
        objects = parse_objects(msg)
        if objects is None:
            return
        with self._lock:
            self._objects = objects
            episode = self._episode
            if episode is None or not episode.covers(objects.stamp_s):
                return
            try:
                if objects.gripper is None:
                    raise BadInputError("sim/objects has no gripper_frame marker")
                episode.tracker.update(objects.stamp_s, objects.gripper, objects.cubes)
            except BadInputError as err:
                if str(err) not in episode.sample_errors:
                    episode.sample_errors.append(str(err))
                    self.get_logger().warning(f"sample skipped: {err}")

    def _trace_sample(self, stamp: Any) -> tuple[EpisodeTrace, float] | None:
        episode = self._episode
        if episode is None or episode.trace is None:
            return None
        stamp_s = stamp_to_s(stamp) or self._sim_now()
        return (episode.trace, stamp_s) if episode.covers(stamp_s) else None

    def _joint_callback(self, command: bool) -> Callable[[JointState], None]:
        def on_joints(msg: JointState) -> None:
            if not command:
                self._joint_state_rx = time.monotonic()
            with self._lock:
                target = self._trace_sample(msg.header.stamp)
                if target is None:
                    return
                try:
                    positions = list(order_positions(list(msg.name), list(msg.position)).values())
                    add = target[0].add_command if command else target[0].add_joint_state
                    add(target[1], positions)
                except BadInputError as err:
                    self.get_logger().warning(f"not recorded: {err}", throttle_duration_sec=5.0)

        return on_joints

    def _image_callback(self, camera: str) -> Callable[[Image], None]:
        def on_image(msg: Image) -> None:
            with self._lock:
                target = self._trace_sample(msg.header.stamp)
                if target is None or not target[0].wants_frame(camera, target[1]):
                    return
                try:
                    target[0].add_frame(camera, target[1], msg_to_rgb(msg))
                except BadInputError as err:
                    self.get_logger().warning(f"{camera} frame not recorded: {err}",
                                              throttle_duration_sec=5.0)

        return on_image

    def _start_recording(self) -> None:
        subs = [self.create_subscription(JointState, "policy/joint_commands", self._joint_callback(True),
                                         COMMAND_QOS, callback_group=self._inputs)]
        subs += [self.create_subscription(Image, f"cameras/{cam}/image_raw", self._image_callback(cam),
                                          SENSOR_QOS, callback_group=self._inputs)
                 for cam in self.cfg.cameras]
        self._recording = subs

    def _stop_recording(self) -> None:
        for sub in self._recording:
            self.destroy_subscription(sub)
        self._recording = []

    # ----------------------------------------------------------------- the run
    async def _run(self) -> None:
        self.destroy_timer(self._begin)  # one shot
        log = self.get_logger()
        try:
            await self._wait_for_graph()
            if self.cfg.continuous:
                await self._run_continuous()
            else:
                for plan in self.plans:
                    result = await self._run_episode(plan)
                    self.get_logger().info(f"episode {plan.index + 1}/{len(self.plans)} {plan.task}: "
                                           f"{result.outcome()}")
        except (EvaluationError, GraphError) as err:
            self._fail(str(err))
        except Exception as err:  # a bug: still write what was measured, and say where it failed
            self._fail(f"{type(err).__name__}: {err}\n{traceback.format_exc()}")
        if self.exit_status == 0:
            try:
                await self._set_enabled(False)
            except (EvaluationError, GraphError) as err:
                log.warning(f"could not disable the policy at the end: {err}")
        self._done = True
        path = self._save()
        self._log_summary(path)
        self.finished = True  # run_node ends the process with exit_status

    def _fail(self, message: str) -> None:
        self.exit_status = 1
        self.results.run_error = message
        self.get_logger().error(f"evaluation stopped: {message}")

    async def _wait_for_graph(self) -> None:
        needs: dict[str, Callable[[], bool]] = {
            "service policy/enable (smolvla_policy)": self._enable_client.service_is_ready,
            f"service {self.cfg.policy_node}/set_parameters": self._param_client.service_is_ready,
            "service sim/reset (so101_sim)": self._reset_client.service_is_ready,
            "topic policy/status": lambda: self._status is not None,
            "topic sim/objects (so101_sim)": lambda: self._objects is not None,
            "topic joint_states (so101_driver)": self._joint_states_fresh,
            "/clock (simulated time)": lambda: self.get_clock().now().nanoseconds > 0,
        }
        self.get_logger().info(f"waiting for {list(needs)}")
        timeout = self.cfg.startup_timeout_s
        if not await self._until(lambda: all(ready() for ready in needs.values()), timeout):
            missing = [name for name, ready in needs.items() if not ready()]
            raise GraphError(f"after {timeout:g} s still missing: {missing}; is the deploy graph running "
                             "in this namespace (so101_sim, smolvla_policy)?")
        status = self._status
        self.results.checkpoint_id = status.checkpoint_id if status is not None else ""
        self.get_logger().info(f"graph ready; policy {self.results.checkpoint_id}")

    async def _run_continuous(self) -> None:
        """The demo's episodes, until the graph stops (never returns normally)."""
        plans = ContinuousPlan(self.cfg.tasks, self.cfg.targets)
        while True:
            status = self._status
            followed = plans.followed
            plan, scored = plans.next(status.task if status is not None else "")
            if plans.followed != followed:
                self.get_logger().info(f"following the task set on the policy: {plans.followed!r}")
            result = await self._run_episode(plan)
            self.get_logger().info(demo_line(result, scored))

    async def _run_episode(self, plan: EpisodePlan) -> EpisodeResult:
        wall0 = time.monotonic()
        result = EpisodeResult.from_plan(plan)
        recording = plan.index == self.cfg.record_episode
        if recording:
            self._start_recording()
        try:
            await self._set_enabled(False)
            await self._set_task(plan.task)
            result.reset_message = await self._reset_sim(plan)
            if await self._enable(plan, result):
                await self._play(plan, result, recording)
            await self._set_enabled(False)
        finally:
            self._stop_recording()
        result.wall_s = time.monotonic() - wall0
        self.results.episodes.append(result)
        self._save()
        return result

    async def _enable(self, plan: EpisodePlan, result: EpisodeResult) -> bool:
        """``policy/enable`` true, up to ``enable_attempts`` times; records refusals in ``result``."""
        for attempt in range(1, self.cfg.enable_attempts + 1):
            await self._wait_joint_states()
            response = await self._call(self._enable_client, SetBool.Request(data=True),
                                        self.cfg.enable_timeout_s)
            result.enable_attempts = attempt
            if response.success:
                result.refused, result.refusal = False, ""
                return True
            result.refused, result.refusal = True, response.message or "refused (no reason given)"
            result.earlier_refusals.append(result.refusal)
            if attempt < self.cfg.enable_attempts:
                self.get_logger().warning(f"episode {plan.index + 1}: enable refused ({result.refusal}); "
                                          f"trying again in {ENABLE_RETRY_S:g} s")
                await self._sleep(ENABLE_RETRY_S)
        result.earlier_refusals.pop()
        return False

    async def _play(self, plan: EpisodePlan, result: EpisodeResult, recording: bool) -> None:
        start = self._sim_now()
        end = start + self.cfg.episode_duration_s
        trace = EpisodeTrace(plan, start, self.cfg.episode_duration_s, self.cfg.cameras,
                             self.cfg.frames_per_camera) if recording else None
        episode = _Episode(plan, start, end, trace)
        with self._lock:
            status = self._status
            result.policy_task = status.task if status is not None else ""
            self._episode = episode
        try:
            await self._until_sim(end)
        finally:
            with self._lock:
                self._episode = None
        result.duration_s = self._sim_now() - start
        result.score(episode.tracker, start)
        result.policy_errors = list(episode.policy_errors)
        problems = list(episode.sample_errors)
        if not episode.tracker.samples:
            problems.append("no sim/objects sample during the episode")
        result.error = "; ".join(problems)
        if trace is not None:
            path = trace.save(self.cfg.output_dir, episode.tracker)
            self.results.episode_files[plan.index] = path.name

    # ----------------------------------------------------------------- steps
    async def _set_enabled(self, on: bool) -> None:
        """Enable or disable the policy; disabling waits until ``policy/status`` shows DISABLED, asking
        again every :data:`DISABLE_RETRY_S` (a status published by a control tick racing the disable can
        leave RUNNING showing although the policy is disabled)."""
        timeout = self.cfg.service_timeout_s
        deadline = time.monotonic() + timeout
        while True:
            response = await self._call(self._enable_client, SetBool.Request(data=on), timeout)
            if not response.success:
                raise EvaluationError(f"policy/enable({on}) failed: {response.message}")
            if on or await self._until(self._policy_disabled, DISABLE_RETRY_S):
                return
            if time.monotonic() >= deadline:
                raise GraphError(f"policy/status does not show DISABLED {timeout:g} s after "
                                 f"policy/enable(false); last status: {self._status}")
            status = self._status
            self.get_logger().warning(f"policy/status shows {status.state_name if status else None} after "
                                      "policy/enable(false): asking again")

    def _policy_disabled(self) -> bool:
        status = self._status
        return status is not None and status.state == PolicyStatus.STATE_DISABLED

    async def _set_task(self, task: str) -> None:
        status = self._status
        if status is not None and status.task == task:
            return
        request = SetParameters.Request(parameters=[Parameter("task", value=task).to_parameter_msg()])
        response = await self._call(self._param_client, request, self.cfg.service_timeout_s)
        result = response.results[0] if response.results else None
        if result is None or not result.successful:
            reason = result.reason if result is not None else "no result"
            raise EvaluationError(f"{self.cfg.policy_node} refused the task {task!r}: {reason}")

        def reported() -> bool:
            status = self._status
            return status is not None and status.task == task

        timeout = self.cfg.service_timeout_s
        if not await self._until(reported, timeout):
            raise GraphError(f"policy/status does not report the task {task!r} {timeout:g} s after "
                             f"setting it; last status: {self._status}")

    async def _reset_sim(self, plan: EpisodePlan) -> str:
        before = self._sim_now()  # our clock lags the simulator's: the reset is stamped later than this
        response = await self._call(self._reset_client, Trigger.Request(), self.cfg.service_timeout_s)
        if not response.success:
            raise EvaluationError(f"sim/reset failed: {response.message}")

        def fresh() -> bool:
            objects = self._objects
            return objects is not None and objects.stamp_s >= before

        if not await self._until(fresh, self.cfg.service_timeout_s):
            raise GraphError("no sim/objects stamped after the reset within "
                             f"{self.cfg.service_timeout_s:g} s")
        cubes = self._objects.cubes if self._objects is not None else {}
        missing = sorted({plan.target_named, plan.scene_target} - set(cubes))
        if missing:
            raise EvaluationError(f"the scene has cubes {sorted(cubes)}, episode {plan.index} names "
                                  f"{missing} (so101_sim two_cubes:=true? the evaluator's targets?)")
        return str(response.message)

    def _joint_states_fresh(self) -> bool:
        return time.monotonic() - self._joint_state_rx < JOINT_STATES_FRESH_S

    async def _wait_joint_states(self) -> None:
        """Wait for the arm's joint_states (a driver reconnecting to the bus): without them every
        enable is refused.

        Raises:
            GraphError: none within ``startup_timeout_s``.
        """
        if self._joint_states_fresh():
            return
        timeout = self.cfg.startup_timeout_s
        self.get_logger().warning(f"no joint_states for {time.monotonic() - self._joint_state_rx:.1f} s: "
                                  f"waiting up to {timeout:g} s for so101_driver")
        if not await self._until(self._joint_states_fresh, timeout):
            raise GraphError(f"no joint_states for {timeout:g} s: is so101_driver connected to the arm?")

    # ----------------------------------------------------------------- waiting (never blocks the executor)
    def _sim_now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    async def _call(self, client: Any, request: Any, timeout_s: float) -> Any:
        if not await self._until(client.service_is_ready, timeout_s):
            raise GraphError(f"service {client.srv_name} is not available after {timeout_s:g} s")
        future = client.call_async(request)
        if not await self._until(future.done, timeout_s):
            raise GraphError(f"service {client.srv_name} did not answer within {timeout_s:g} s")
        return future.result()

    async def _until(self, condition: Callable[[], bool], timeout_s: float) -> bool:
        """Wait (wall clock) until ``condition()`` or ``timeout_s`` passes; False on timeout."""
        end = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() >= end:
                return False
            await self._sleep(POLL_S)
        return True

    async def _until_sim(self, end_s: float) -> None:
        """Wait until simulated time reaches ``end_s``.

        Raises:
            GraphError: simulated time stood still for ``startup_timeout_s`` (wall).
        """
        last, moved = self._sim_now(), time.monotonic()
        while (now := self._sim_now()) < end_s:
            if now != last:
                last, moved = now, time.monotonic()
            elif time.monotonic() - moved > self.cfg.startup_timeout_s:
                raise GraphError(f"simulated time (/clock) stood still for {self.cfg.startup_timeout_s:g} s: "
                                 "is so101_sim running?")
            await self._sleep(POLL_S)

    async def _sleep(self, seconds: float) -> None:
        future = Future()
        timer = self.create_timer(seconds, lambda: future.done() or future.set_result(None),
                                  callback_group=self._flow, clock=self._wall)
        try:
            await future
        finally:
            self.destroy_timer(timer)

    # ----------------------------------------------------------------- output
    def _save(self) -> Path:
        self.results.wall_s = time.monotonic() - self._wall0
        return self.results.save(self.cfg.output_dir)

    def _log_summary(self, path: Path) -> None:
        per_task, overall = summarize(self.results.episodes)
        for s in per_task.values():
            self.get_logger().info(f"{s.task}: {s.successes}/{s.episodes} reached the {s.target} cube "
                                   f"({100 * s.success_rate:.0f} %), {s.refusals} refused, another cube "
                                   f"reached {s.other_reached}x")
        self.get_logger().info(f"overall {overall.successes}/{overall.episodes} "
                               f"({100 * overall.success_rate:.0f} %); results in {path}")

    def close(self) -> None:
        """Record an interrupted run (Ctrl-C) in ``results.json`` (called by ``run_node``); a continuous
        run ends this way, and logs its summary."""
        if self.cfg.continuous and not self._done:
            self._done = True
            self._log_summary(self._save())
        if not self._done:
            self.exit_status = 1
            self.results.run_error = self.results.run_error or "interrupted before the last episode"
            self._save()


def main(args: list[str] | None = None) -> int:
    """Entry point of ``sim_evaluator``: 0 after a complete run, 1 after a run error or broken graph."""
    return run_node(SimEvaluator, args)
