"""``smolvla_policy``: runs a LeRobot SmolVLA checkpoint on the SO-101 at the dataset's control rate.

Thin ROS adapter over :mod:`vla_ros.policy` (STYLE.md rule 1). Before anything moves it refuses to
start on a deployment mismatch: a checkpoint that is not an SO-101 SmolVLA, a camera feature neither
mapped nor declared empty, a task outside the training tasks or unknown training tasks (unless
``allow_new_task``), cameras that see what other training cameras saw (``camera_check``). The training
facts come from :func:`vla_ros.contract.read_contract` (any LeRobot checkpoint), each logged with its source.

Topics: subscribes ``joint_states`` and ``cameras/<name>/image_raw`` (best effort) and, optionally,
``task_topic`` (std_msgs/String); publishes ``policy/joint_commands`` (sensor_msgs/JointState, radians),
``policy/action_chunk`` (vla_ros/ActionChunk) and ``policy/status`` (vla_ros/PolicyStatus, latched,
``status_rate_hz`` and on change). Service ``policy/enable`` (std_srvs/SetBool); the node starts
disabled unless ``autostart``. Enabling asks the safety supervisor (``safety/reset_to_home``,
``safety/status``, ``safety/check_start_state``) according to ``start_state_check``, without blocking
the executor (coroutine callbacks).

Control: a timer at ``fps`` publishes one action per tick from the :class:`ChunkQueue` (holding the
last command, and saying so, when it runs dry); inference runs in an :class:`InferenceWorker` thread,
started when the queue falls to ``replan_threshold``.
"""

from __future__ import annotations

import dataclasses
import gc
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.task import Future
from rclpy.time import Time
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import String
from std_srvs.srv import SetBool, Trigger

from vla_ros.camera.image import msg_to_rgb
from vla_ros.config import parse_mapping
from vla_ros.errors import BadInputError, ConfigError, StaleDataError
from vla_ros.log_throttle import LogThrottle
from vla_ros.msg import ActionChunk, PolicyStatus, SafetyStatus
from vla_ros.policy.camera_identity import CameraIdentityGuard
from vla_ros.policy.checkpoint import inspect_checkpoint
from vla_ros.policy.chunk_queue import Chunk, ChunkQueue, inference_delay_steps
from vla_ros.policy.config import CAMERA_CHECKS, START_STATE_CHECKS, PolicyNodeConfig
from vla_ros.policy.errors import NonFiniteChunkError, TaskRefusedError
from vla_ros.policy.guards import (
    CameraPlan,
    check_camera_map,
    check_camera_swap,
    check_robot_fit,
    check_task,
    unknown_tasks,
)
from vla_ros.policy.pipeline import ObservationSnapshot, PipelineOutput, describe_error
from vla_ros.policy.process import PipelineProcess, PipelineSpec, build_pipeline
from vla_ros.policy.worker import InferenceWorker, JobResult
from vla_ros.robot.calibration import calibration_path, load_calibration
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.robot.units import UnitConverter
from vla_ros.ros.image import stamp_to_s
from vla_ros.ros.node_main import run_node
from vla_ros.ros.params import declare_config
from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS, STATUS_QOS

__all__ = ["SmolVLAPolicyNode", "main"]

AUTOSTART_RETRY_S = 5.0
"""Seconds between autostart attempts while the supervisor refuses (e.g. no joint_states yet)."""

_STATE_NAMES = {
    PolicyStatus.STATE_LOADING: "LOADING",
    PolicyStatus.STATE_DISABLED: "DISABLED",
    PolicyStatus.STATE_WAITING: "WAITING",
    PolicyStatus.STATE_RUNNING: "RUNNING",
    PolicyStatus.STATE_HOLDING: "HOLDING",
    PolicyStatus.STATE_FAULT: "FAULT",
}
_RUNTIME = ("task", "allow_new_task", "replan_threshold", "max_obs_age_s", "start_state_check",
            "reset_timeout_s", "service_timeout_s", "extra_inference_delay_s", "camera_check")


@dataclass(frozen=True)
class _Job:
    """One inference request: the observation, the task, RTC inputs, and the enable generation."""

    snap: ObservationSnapshot
    task: str
    leftover: np.ndarray | None
    delay_steps: int
    generation: int


class SmolVLAPolicyNode(Node):
    """The ``smolvla_policy`` node (see the module docstring).

    Raises:
        ConfigError: (and subclasses) a refusal to start, with what is expected and what was given.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("smolvla_policy", **kwargs)
        self.cfg = declare_config(self, PolicyNodeConfig)
        log = self.get_logger()
        self.info = inspect_checkpoint(self.cfg.policy_path, vlm_dir=self.cfg.vlm_dir,
                                       dataset=self.cfg.training_dataset or None,
                                       signatures=self.cfg.camera_check != "off")
        contract = self.info.contract
        units = contract.units
        check_robot_fit(self.info.state_dim, self.info.action_dim, contract.joint_names, units)
        self.plan = self._camera_plan()
        self.camera_guard = CameraIdentityGuard(contract, self.plan, self.cfg.camera_check)
        for fact in ("tasks", "camera_map", "fps", "units", "camera_signatures"):
            log.info(f"training {fact} from {contract.source(fact)}")
        log.info(self.camera_guard.describe())
        self._task = self._initial_task()
        self.fps = self.cfg.fps or self.info.fps or 0.0
        if not self.fps:
            raise ConfigError(f"{self.info.path} records no fps (no deployment contract): set the fps "
                              "parameter")
        spec = PipelineSpec(
            policy_path=str(self.info.path), vlm_dir=self.info.vlm_dir, device=self.cfg.device,
            dtype=self.cfg.dtype, num_flow_steps=self.cfg.num_flow_steps,
            n_action_steps=self.cfg.n_action_steps,
            rtc=self._rtc_fields(), gripper_span_rad=self._converter().gripper_span_rad, units=units,
            empty_features=self.plan.empty, noise=self.cfg.noise, torch_threads=self.cfg.torch_threads,
            nice=self.cfg.inference_nice,
        )
        where = "a child process" if self.cfg.inference_process else "a thread"
        log.info(f"loading {self.info.path} on {self.cfg.device} ({self.cfg.dtype}) in {where}; "
                 f"VLM {self.info.vlm_dir}")
        if self.cfg.inference_process:
            self.pipeline: Any = PipelineProcess(spec)
        else:
            sys.setswitchinterval(0.001)  # shorter GIL hand-offs between inference and control threads
            self.pipeline = build_pipeline(spec)
        self.n_action_steps = self.cfg.n_action_steps or int(self.info.config.n_action_steps)
        self.queue = ChunkQueue(self.fps, self.cfg.overlap, self.n_action_steps)
        self.worker = InferenceWorker(self._infer)
        self._lock = threading.Lock()
        self._control_lock = threading.Lock()  # a tick never publishes (or says RUNNING) after a disable
        self._joint: tuple[list[str], list[float], float] | None = None
        self._images: dict[str, tuple[Any, float]] = {}
        self._safety: tuple[int, float] | None = None
        self._enabled = False
        self._enabling = False
        self._generation = 0
        self._last_command: np.ndarray | None = None
        self._force_replan = False
        self._state = PolicyStatus.STATE_DISABLED
        self._last_error = ""
        self._counts = {"chunks_done": 0, "chunks_dropped": 0, "dry_ticks": 0}
        self._pending_logs: deque[tuple[str, str]] = deque()
        self._logged = LogThrottle()
        self._wire()
        self._publish_chunk(PipelineOutput(0.0, np.zeros((1, 6)), np.zeros((1, 6))), 0, np.zeros((0, 6)), 0.0,
                            publish=False)  # first use builds message type support: not on the first tick
        gc.collect()
        gc.freeze()  # the loaded model's objects leave the cyclic GC: its pauses stay short in the loop
        log.info(
            f"ready: {self.fps:g} Hz, {self.n_action_steps} actions/chunk, overlap={self.cfg.overlap}, "
            f"cameras {self.plan.cameras}, empty {list(self.plan.empty)}, task {self._task!r}; "
            + ("enabling (autostart)" if self.cfg.autostart else "disabled: call policy/enable")
        )
        if self.cfg.autostart:
            self._autostart = self.create_timer(0.1, self._on_autostart, callback_group=self._service_group)

    # ----------------------------------------------------------------- setup
    def _camera_plan(self) -> CameraPlan:
        given = parse_mapping(self.cfg.camera_map, "camera_map")
        contract = self.info.contract
        if not given and contract.camera_map:
            given = {k.removeprefix("observation.images."): v for k, v in contract.camera_map.items()}
            self.get_logger().info(f"camera_map from {contract.source('camera_map')}: {given}")
        plan = check_camera_map(given, list(self.info.image_features))
        for line in check_camera_swap(plan, contract.camera_map, allow_remap=self.cfg.allow_camera_remap):
            self.get_logger().warning(f"camera_map: {line} (allow_camera_remap)")
        for key in plan.cameras.values():
            self.info.batch_key(key)
        return plan

    def _initial_task(self) -> str:
        task = self.cfg.task
        if not self.info.tasks and not task:  # refuses unless allow_new_task: no silent skip
            self.get_logger().warning(unknown_tasks("", self.info.tasks_source,
                                                    allow_new_task=self.cfg.allow_new_task))
        if not task and len(self.info.tasks) == 1:
            task = self.info.tasks[0]
            self.get_logger().info(f"task from the checkpoint's only training task: {task!r}")
            self.set_parameters([Parameter("task", value=task)])
        if task:
            self._check_task(task, self.cfg.allow_new_task)
        return task

    def _check_task(self, task: str, allow_new_task: bool) -> None:
        warning = check_task(task, self.info.tasks, allow_new_task=allow_new_task,
                             source=self.info.tasks_source)
        if warning:
            self.get_logger().warning(warning)

    def _converter(self) -> UnitConverter:
        path = calibration_path(self.cfg.robot_id, self.cfg.calibration_dir or None)
        return UnitConverter.from_calibration(load_calibration(path))

    def _rtc_fields(self) -> dict[str, Any] | None:
        if self.cfg.overlap != "rtc":
            return None
        return {"enabled": True, "execution_horizon": self.cfg.rtc_execution_horizon,
                "max_guidance_weight": self.cfg.rtc_max_guidance_weight}

    def _wire(self) -> None:
        self._control_group = MutuallyExclusiveCallbackGroup()
        self._input_group = MutuallyExclusiveCallbackGroup()
        self._service_group = ReentrantCallbackGroup()
        self.create_subscription(JointState, "joint_states", self._on_joint_states, SENSOR_QOS,
                                 callback_group=self._input_group)
        for cam, key in self.plan.cameras.items():
            self.create_subscription(Image, f"cameras/{cam}/image_raw", self._image_callback(key), SENSOR_QOS,
                                     callback_group=self._input_group)
        if self.cfg.task_topic:
            self.create_subscription(String, self.cfg.task_topic, self._on_task_msg, 10,
                                     callback_group=self._input_group)
        self.create_subscription(SafetyStatus, "safety/status", self._on_safety_status, STATUS_QOS,
                                 callback_group=self._input_group)
        self.cmd_pub = self.create_publisher(JointState, "policy/joint_commands", COMMAND_QOS)
        self.chunk_pub = self.create_publisher(ActionChunk, "policy/action_chunk", STATUS_QOS)
        self.status_pub = self.create_publisher(PolicyStatus, "policy/status", STATUS_QOS)
        self.create_service(SetBool, "policy/enable", self._on_enable, callback_group=self._service_group)
        group = self._service_group
        self.check_client = self.create_client(Trigger, "safety/check_start_state", callback_group=group)
        self.reset_client = self.create_client(Trigger, "safety/reset_to_home", callback_group=group)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.create_timer(1.0 / self.fps, self._tick, callback_group=self._control_group)
        report = MutuallyExclusiveCallbackGroup()
        self.create_timer(1.0 / self.cfg.status_rate_hz, self._publish_status, callback_group=report)
        self.create_timer(0.2, self._flush_logs, callback_group=report)
        if self.camera_guard.active:
            self.create_timer(self.cfg.camera_check_period_s, self._on_camera_check, callback_group=report)
        self._publish_status()

    def close(self) -> None:
        """Stop the inference worker (called by ``run_node`` before ``destroy_node``)."""
        self._enabled = False
        # An inference still running is cut short (its chunk would never be played): the node must
        # exit within ros2 launch's SIGINT grace (5 s) even while a full-size model computes.
        self.worker.close(timeout_s=0.2)
        if isinstance(self.pipeline, PipelineProcess):
            self.pipeline.close()
        self.worker.close(timeout_s=1.0)

    # ----------------------------------------------------------------- inputs
    def _now_s(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _msg_time(self, header: Any) -> float:
        stamp = stamp_to_s(header.stamp)
        return stamp if stamp > 0 else self._now_s()

    def _on_joint_states(self, msg: JointState) -> None:
        with self._lock:
            self._joint = (list(msg.name), list(msg.position), self._msg_time(msg.header))

    def _image_callback(self, key: str) -> Callable[[Image], None]:
        def on_image(msg: Image) -> None:
            with self._lock:
                self._images[key] = (msg, self._msg_time(msg.header))

        return on_image

    def _on_safety_status(self, msg: SafetyStatus) -> None:
        self._safety = (int(msg.state), self._now_s())

    def _on_task_msg(self, msg: String) -> None:
        result = self.set_parameters([Parameter("task", value=msg.data)])[0]
        if not result.successful:
            self._error(f"task from {self.cfg.task_topic} refused: {result.reason}")

    def _on_set_parameters(self, params: list[Parameter]) -> SetParametersResult:
        changes = {p.name: p.value for p in params if p.name in _RUNTIME}
        task = changes.get("task", self._task)
        allow = changes.get("allow_new_task", self.cfg.allow_new_task)
        try:
            if "start_state_check" in changes and changes["start_state_check"] not in START_STATE_CHECKS:
                raise ConfigError(f"start_state_check must be one of {list(START_STATE_CHECKS)}")
            if "camera_check" in changes and changes["camera_check"] not in CAMERA_CHECKS:
                raise ConfigError(f"camera_check must be one of {list(CAMERA_CHECKS)}")
            if ("task" in changes or "allow_new_task" in changes) and (task or self._enabled):
                self._check_task(task, allow)
            self.cfg = dataclasses.replace(self.cfg, **{k: v for k, v in changes.items() if k != "task"})
            self.camera_guard.mode = self.cfg.camera_check
        except (TaskRefusedError, ConfigError) as err:
            self._error(str(err))
            return SetParametersResult(successful=False, reason=str(err))
        if task != self._task:
            self.get_logger().info(f"task set to {task!r}")
            self._task = task
            self._force_replan = True
        return SetParametersResult(successful=True)

    # ----------------------------------------------------------------- control loop
    def _tick(self) -> None:
        now = self._now_s()
        for result in self.worker.poll():
            try:
                self._on_result(result, now)
            except Exception as err:  # a bug here must not stop the control loop
                self._counts["chunks_dropped"] += 1
                trace = traceback.format_exc()
                self._report("error", f"chunk dropped: {describe_error(err)}\n{trace}", "bug")
        with self._control_lock:
            if not self._enabled:
                return
            self._play(now)
        self._maybe_replan(now)

    def _play(self, now: float) -> None:
        action = self.queue.pop(now)
        if action is not None:
            self._last_command = action
            self._publish_command(action)
            self._set_state(PolicyStatus.STATE_RUNNING)
        elif self._last_command is not None:
            self._counts["dry_ticks"] += 1
            self._publish_command(self._last_command)
            if self._state != PolicyStatus.STATE_HOLDING:
                self._report("warning", "action queue ran dry: holding the last command until a chunk comes",
                             "dry")
            self._set_state(PolicyStatus.STATE_HOLDING)

    def _threshold(self) -> int:
        if self.cfg.replan_threshold >= 0:
            return min(self.cfg.replan_threshold, self.n_action_steps - 1)
        expected = self.worker.stats().p95_s + self.cfg.extra_inference_delay_s
        delay = inference_delay_steps(expected, self.fps)
        return min(self.n_action_steps - 1, max(self.n_action_steps // 2, delay + 2))

    def _maybe_replan(self, now: float) -> None:
        if self.worker.busy or not self._task:
            return
        if not self._force_replan and not self.queue.needs_replan(now, self._threshold()):
            return
        with self._lock:
            joint, images = self._joint, dict(self._images)
        missing = (["joint_states"] if joint is None else []) + [
            f"cameras/{cam}/image_raw" for cam, key in self.plan.cameras.items() if key not in images]
        if missing or joint is None:
            self._report("info", f"waiting for {missing}", "waiting", throttle_s=5.0)
            return
        names, positions, stamp = joint
        snap = ObservationSnapshot(names, positions, stamp, {k: m for k, (m, _) in images.items()},
                                   {k: s for k, (_, s) in images.items()})
        leftover = self.queue.leftover(snap.obs_time_s) if self.cfg.overlap == "rtc" else None
        expected = self.worker.stats().p95_s + self.cfg.extra_inference_delay_s
        self._force_replan = False
        self.worker.submit(_Job(snap, self._task, leftover, inference_delay_steps(expected, self.fps),
                                self._generation))

    def _infer(self, job: _Job) -> PipelineOutput:
        """Worker thread: one chunk for ``job`` (the debug delay is slept here, never in the timer)."""
        out = self.pipeline.predict(job.snap, job.task, now_s=self._now_s(), max_age_s=self.cfg.max_obs_age_s,
                                    inference_delay=job.delay_steps, leftover_raw=job.leftover)
        if self.cfg.extra_inference_delay_s > 0:
            threading.Event().wait(self.cfg.extra_inference_delay_s)
        return out

    def _on_result(self, result: JobResult, now: float) -> None:
        job: _Job = result.payload
        if job.generation != self._generation or not self._enabled:
            return
        if result.error is not None:
            if isinstance(result.error, NonFiniteChunkError):
                self._counts["chunks_dropped"] += 1
            self._error(describe_error(result.error), throttle_s=10.0, key=type(result.error).__name__)
            if not isinstance(result.error, (BadInputError, StaleDataError)):
                self._set_state(PolicyStatus.STATE_FAULT)  # not the data's fault: the model or a bug
            elif self._last_command is None:
                self._set_state(PolicyStatus.STATE_WAITING)
            return
        out: PipelineOutput = result.output
        report = self.queue.merge(Chunk(out.obs_time_s, out.actions_rad, out.raw), now)
        self._counts["chunks_done"] += 1
        self._last_error = ""
        if not len(report.executed):
            self._error(f"chunk came {now - out.obs_time_s:.2f} s after its observation, later than its last "
                        f"action's time: nothing to play (inference too slow for this chunk size)", 10.0,
                        key="late_chunk")
        self._publish_chunk(out, report.first_future_index, report.executed, now)

    # ----------------------------------------------------------------- outputs
    def _publish_command(self, action: np.ndarray) -> None:
        msg = JointState(name=list(JOINT_NAMES), position=[float(x) for x in action])
        msg.header.stamp = self.get_clock().now().to_msg()
        self.cmd_pub.publish(msg)

    def _publish_chunk(
        self, out: PipelineOutput, first: int, executed: np.ndarray, now: float, publish: bool = True
    ) -> None:
        actions = out.actions_rad.copy()
        actions[first:first + len(executed)] = executed
        msg = ActionChunk(joint_names=list(JOINT_NAMES), fps=float(self.fps), num_steps=len(actions),
                          actions=actions.astype(np.float32).ravel().tolist(), first_future_index=first,
                          inference_latency_s=float(now - out.obs_time_s))
        msg.header.stamp = Time(nanoseconds=int(out.obs_time_s * 1e9)).to_msg()
        if publish:
            self.chunk_pub.publish(msg)

    def _set_state(self, state: int) -> None:
        if state != self._state:
            self._state = state
            self._publish_status()

    def _error(self, message: str, throttle_s: float = 0.0, key: str = "error") -> None:
        self._report("error", message, key, throttle_s)
        self._last_error = message
        self._publish_status()

    def _report(self, level: str, message: str, key: str, throttle_s: float = 0.0) -> None:
        """Queue a log line for :meth:`_flush_logs` (rclpy's logger inspects the caller's source files,
        tens of milliseconds on a busy machine: never on the control thread).

        One line per ``key`` and ``throttle_s``, repeats counted
        (:class:`~vla_ros.log_throttle.LogThrottle`)."""
        line = self._logged.admit(key, message, throttle_s)
        if line is not None:
            self._pending_logs.append((level, line))

    def _flush_logs(self) -> None:
        log = self.get_logger()
        while self._pending_logs:
            level, message = self._pending_logs.popleft()
            if level == "error":
                log.error(message)
            elif level == "warning":
                log.warning(message)
            else:
                log.info(message)

    def _publish_status(self) -> None:
        stats = self.worker.stats()
        msg = PolicyStatus(state=self._state, state_name=_STATE_NAMES[self._state], task=self._task,
                           checkpoint_id=self.info.checkpoint_id, last_error=self._last_error,
                           queue_depth=self.queue.depth(self._now_s()), **self._counts)
        msg.latency_last_s, msg.latency_mean_s, msg.latency_p99_s = stats.last_s, stats.mean_s, stats.p99_s
        msg.header.stamp = self.get_clock().now().to_msg()
        self.status_pub.publish(msg)

    # ----------------------------------------------------------------- enable / disable
    async def _on_enable(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        if request.data:
            response.success, response.message = await self._enable()
        else:
            self._disable("disabled by policy/enable")
            response.success, response.message = True, "disabled"
        return response

    async def _on_autostart(self) -> None:
        # At bring-up the supervisor or the driver may not have state yet: retry until enabled.
        self.destroy_timer(self._autostart)
        ok, message = await self._enable()
        if not ok:
            self.get_logger().error(f"autostart: {message}; retrying in {AUTOSTART_RETRY_S:g} s")
            self._autostart = self.create_timer(AUTOSTART_RETRY_S, self._on_autostart,
                                                callback_group=self._service_group)

    async def _enable(self) -> tuple[bool, str]:
        if self._enabled:
            return True, "already enabled"
        if self._enabling:
            return False, "an enable request is already in progress"
        if not self._task:
            return self._refuse("no task set: set the 'task' parameter first")
        if not self.info.tasks:
            self.get_logger().warning(unknown_tasks(self._task, self.info.tasks_source, allow_new_task=True))
        self._enabling = True
        try:
            ok, message = await self._start_state_gate()
            if ok:
                ok, message = await self._camera_gate(message)
        finally:
            self._enabling = False
        if not ok:
            return self._refuse(message)
        self._generation += 1
        self.queue.clear()
        self._last_command = None
        self._force_replan = True
        self._last_error = ""
        self._enabled = True
        self._set_state(PolicyStatus.STATE_WAITING)
        self.get_logger().info(f"enabled ({message}); task {self._task!r}")
        return True, f"enabled: {message}"

    def _refuse(self, message: str) -> tuple[bool, str]:
        self._error(f"enable refused: {message}")
        return False, message

    def _disable(self, reason: str) -> None:
        with self._control_lock:
            self._enabled = False
            self._generation += 1
            self.queue.clear()
            self._last_command = None
            self._set_state(PolicyStatus.STATE_DISABLED)
        self.get_logger().info(reason)

    def _latest_frames(self) -> dict[str, list[np.ndarray]]:
        with self._lock:
            images = dict(self._images)
        frames = {}
        for cam, key in self.plan.cameras.items():
            if key in images:
                try:
                    frames[cam] = [msg_to_rgb(images[key][0])]
                except BadInputError:
                    continue
        return frames

    async def _camera_gate(self, previous: str) -> tuple[bool, str]:
        """Before the arm moves: the mapped cameras must look like the training cameras they feed."""
        if not self.camera_guard.active:
            return True, previous
        self.camera_guard.reset()
        cams = self.camera_guard.assigned
        if not await self._until(lambda: set(cams.values()) <= set(self._images), self.cfg.service_timeout_s):
            missing = sorted(c for c, key in cams.items() if key not in self._images)
            return False, (f"camera check: no image from {missing} within {self.cfg.service_timeout_s:g} s "
                           "(camera_check:=off to go without)")
        verdict = self.camera_guard.check(self._latest_frames())
        if verdict.refuse:
            return False, f"camera check: {verdict.message} (camera_check:={self.cfg.camera_check})"
        if verdict.warn:
            self.get_logger().warning(f"camera check: {verdict.message}")
        return True, f"{previous}; {verdict.message}"

    def _on_camera_check(self) -> None:
        if not self._enabled or self.cfg.camera_check == "off":
            return
        verdict = self.camera_guard.check(self._latest_frames(), running=True)
        if verdict.refuse:  # the error first: the DISABLED status then carries it
            self._error(f"camera check: {verdict.message}; holding (policy disabled)")
            self._disable(f"camera check while running: {verdict.message}; policy stopped, the safety "
                          "supervisor holds the arm")
        elif verdict.warn:
            self._report("warning", f"camera check: {verdict.message}", "camera", throttle_s=10.0)

    async def _start_state_gate(self) -> tuple[bool, str]:
        mode = self.cfg.start_state_check
        if mode == "skip":
            return True, "start-state check skipped (start_state_check=skip)"
        if mode == "reset":
            ok, message = await self._call(self.reset_client)
            if not ok:
                return False, f"reset to home failed: {message}"
            ok, message = await self._wait_reset_done()
            if not ok:
                return False, message
        ok, message = await self._call(self.check_client)
        return ok, (f"start state in distribution: {message}" if ok else f"start state refused: {message}")

    async def _call(self, client: Any) -> tuple[bool, str]:
        timeout = self.cfg.service_timeout_s
        if not await self._until(client.service_is_ready, timeout):
            return False, (f"service {client.srv_name} is not available (is safety_supervisor running?); "
                           "start it or set start_state_check:=skip")
        future = client.call_async(Trigger.Request())
        if not await self._until(future.done, timeout):
            return False, f"service {client.srv_name} did not answer within {timeout:g} s"
        result = future.result()
        return bool(result.success), str(result.message)

    async def _wait_reset_done(self) -> tuple[bool, str]:
        start = self._now_s()
        seen_resetting = [False]

        def done() -> bool:
            state = self._safety[0] if self._safety is not None else None
            if state == SafetyStatus.STATE_RESETTING:
                seen_resetting[0] = True
                return False
            return seen_resetting[0] or self._now_s() - start > 1.0

        if not await self._until(done, self.cfg.reset_timeout_s):
            return False, f"safety/status still RESETTING after {self.cfg.reset_timeout_s:g} s"
        state = self._safety[0] if self._safety is not None else None
        if state in (SafetyStatus.STATE_ESTOP, SafetyStatus.STATE_FAULT):
            return False, f"safety supervisor in state {state} after the reset"
        return True, "reset done"

    async def _until(self, condition: Callable[[], bool], timeout_s: float, poll_s: float = 0.05) -> bool:
        """Wait (without blocking an executor thread) until ``condition()`` or ``timeout_s`` passes."""
        waited = 0.0
        while not condition():
            if waited >= timeout_s:
                return False
            await self._sleep(poll_s)
            waited += poll_s
        return True

    async def _sleep(self, seconds: float) -> None:
        future = Future()
        timer = self.create_timer(seconds, lambda: future.done() or future.set_result(None),
                                  callback_group=self._service_group)
        try:
            await future
        finally:
            self.destroy_timer(timer)


def main(args: list[str] | None = None) -> int:
    """Entry point of ``smolvla_policy``."""
    return run_node(SmolVLAPolicyNode, args)
