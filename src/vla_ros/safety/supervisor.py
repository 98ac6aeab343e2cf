"""The safety supervisor's state machine, without ROS: what goes to the arm at each output step.

States (the ``STATE_*`` constants of ``vla_ros/msg/SafetyStatus``):

* ``PASSING``: policy commands pass, limited by :mod:`vla_ros.safety.rules` in this order: position
  clamp (URDF limits shrunk by a margin), ramp-from-state (the goal stays within ``far_jump_rad`` of the
  measured state), optional acceleration limit, per-step velocity limit at the actual step ``dt``.
* ``HOLDING``: the last output is published again unchanged (startup, command stream silent, a
  rejected command, after a reset or an e-stop release). The next valid policy command resumes
  ``PASSING``, ramped from the last output. If the arm is found far from the held pose (moved by
  hand while limp, a simulator reset), the hold restarts where the arm is instead of pulling it back
  at the servos' full speed (see :data:`MOVED_AWAY_FACTOR`).
* ``RESETTING``: a minimum-jerk move to the home pose (:mod:`vla_ros.safety.trajectory`), limited like
  policy commands; policy commands are ignored. Ends in ``HOLDING`` when the state is within
  tolerance of home, or when it is not after the planned time plus ``reset_timeout_s``.
* ``ESTOP``: latched by :meth:`SafetySupervisor.estop`; nothing is output at all until it is released
  explicitly. Output then resumes from the measured state.
* ``FAULT``: ``joint_states`` went stale: hold the last output, never ramp from an old state. Clears to
  ``HOLDING`` when fresh states arrive again.

The ``dt`` of the velocity and acceleration limits is the actual time since the previous output,
capped at two periods of ``rate_hz`` so that a stalled timer cannot license a jump. Time comes from an
injectable clock (seconds, monotonic within a run), so tests can step it. Joint vectors are ``(6,)``
float64 radians in :data:`vla_ros.robot.joints.JOINT_NAMES` order.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from vla_ros.config import param, range_problems
from vla_ros.errors import BadInputError, ConfigError
from vla_ros.robot.description import JointLimit
from vla_ros.robot.joints import JOINT_NAMES, order_positions
from vla_ros.robot.units import UnitConverter, Units
from vla_ros.safety import rules
from vla_ros.safety.start_state import StartStateDistribution, StartStateReport, check_start_state
from vla_ros.safety.trajectory import MinimumJerkTrajectory, plan_minimum_jerk

__all__ = [
    "MOVED_AWAY_FACTOR", "Output", "SafetyConfig", "SafetyState", "SafetySupervisor", "SupervisorStatus",
]

DEFAULT_MAX_VELOCITY_RAD_S = [1.5, 1.5, 1.5, 1.5, 1.5, 3.0]
"""Default speed limits. The URDF allows 10 rad/s and an STS3215 at 12 V does about 4.7 rad/s unloaded
(0.222 s/60°, Feetech datasheet); 1.5 rad/s (86°/s) on the arm is about the top speed of teleoperated
SO-101 demonstrations, and a third of the servo's, so it stops a runaway policy while letting every
demonstrated motion through. The gripper gets 3 rad/s so a grasp still closes in about 0.6 s over its
full travel (-10°..100°)."""


MOVED_AWAY_FACTOR = 1.5
"""While holding, an arm more than ``MOVED_AWAY_FACTOR * far_jump_rad`` from the held pose on some joint
was moved from outside: outputs lead the state by at most ``far_jump_rad`` when they are computed, and
servos only close that gap. The 1.5 keeps a held grasp (a gripper stopped by the object, up to
``far_jump_rad`` short of its goal) from being mistaken for one."""


class SafetyState(IntEnum):
    """Supervisor states, numbered as ``SafetyStatus.STATE_*``."""

    PASSING = 0
    HOLDING = 1
    RESETTING = 2
    ESTOP = 3
    FAULT = 4


@dataclass
class SafetyConfig:
    """Parameters of the safety supervisor (every field is a ROS parameter of ``safety_supervisor``)."""

    rate_hz: float = field(default=30.0, metadata=param(
        "output rate of joint_commands, Hz (the control rate); limits apply per step at the actual dt",
        range=(1.0, 500.0)))
    status_rate_hz: float = field(default=5.0, metadata=param(
        "rate of safety/status, Hz (also published on every change)", range=(0.1, 100.0)))
    position_margin_rad: float = field(default=0.02, metadata=param(
        "distance kept from each URDF joint limit, rad", range=(0.0, 0.5)))
    max_velocity_rad_s: list[float] = field(default_factory=lambda: list(DEFAULT_MAX_VELOCITY_RAD_S),
                                            metadata=param("per-joint speed limit (6 values, JOINT_NAMES "
                                                           "order), rad/s; capped at the URDF's"))
    max_acceleration_rad_s2: float = field(default=0.0, metadata=param(
        "acceleration limit for every joint, rad/s^2; 0 = off", range=(0.0, 1000.0)))
    command_timeout_s: float = field(default=0.5, metadata=param(
        "policy/joint_commands silent this long -> HOLDING (hold the last output), s", range=(0.01, 60.0)))
    state_timeout_s: float = field(default=0.5, metadata=param(
        "joint_states older than this -> FAULT (hold), s", range=(0.01, 60.0)))
    far_jump_rad: float = field(default=0.5, metadata=param(
        "largest lead of a command over the measured state; farther goals are ramped, rad",
        range=(0.01, 6.3)))
    home_pose_rad: list[float] = field(default_factory=lambda: [0.0] * len(JOINT_NAMES), metadata=param(
        "home pose (6 values, rad) used when neither policy_path nor dataset_root gives one; default: "
        "the URDF zero pose = LeRobot's mid-range calibration pose"))
    home_tolerance_rad: float = field(default=0.05, metadata=param(
        "a reset ends when every joint is this close to home, rad", range=(0.001, 1.0)))
    reset_speed_fraction: float = field(default=0.5, metadata=param(
        "fraction of the speed/acceleration limits the reset trajectory plans with", range=(0.05, 1.0)))
    reset_timeout_s: float = field(default=5.0, metadata=param(
        "time allowed after the planned reset duration to reach home within tolerance, s",
        range=(0.1, 120.0)))
    policy_path: str = field(default="", metadata=param(
        "checkpoint (pretrained_model) dir; its vla_ros_contract.json gives home and start distribution"))
    dataset_root: str = field(default="", metadata=param(
        "LeRobot dataset dir whose episode-start states give home and start distribution"))
    dataset_units: str = field(default=Units.LEROBOT, metadata=param(
        "units of the dataset's observation.state", choices=Units.ALL))
    robot_id: str = field(default="", metadata=param(
        "lerobot calibration id, to convert LeRobot units to radians"))
    calibration_dir: str = field(default="", metadata=param(
        "lerobot calibration root ('' = lerobot's default)"))
    start_state_k: float = field(default=2.0, metadata=param(
        "start-state check: allowed distance from the demonstrations' mean, in std", range=(0.1, 20.0)))
    start_state_min_std_rad: float = field(default=0.05, metadata=param(
        "start-state check: floor on each joint's std, rad", range=(0.0, 1.0)))
    urdf: str = field(default="", metadata=param("robot description for joint limits ('' = project URDF)"))
    estop_torque_off: bool = field(default=False, metadata=param(
        "on e-stop also call the driver's torque_enable(false); torque back on at release"))
    command_source: str = field(default="smolvla_policy", metadata=param(
        "the only node whose policy/joint_commands are taken (relative to the supervisor's namespace, or "
        "absolute; the record graph names its teleop node); while any other node publishes there, hold",
        read_only=True))

    def __post_init__(self) -> None:
        problems = range_problems(self)
        n = len(JOINT_NAMES)
        for name in ("max_velocity_rad_s", "home_pose_rad"):
            values = getattr(self, name)
            if len(values) != n or not all(math.isfinite(v) for v in values):
                problems.append(f"{name} needs {n} finite values, got {values}")
        if not all(v > 0 for v in self.max_velocity_rad_s):
            problems.append(f"max_velocity_rad_s must all be > 0, got {self.max_velocity_rad_s}")
        if problems:
            raise ConfigError("; ".join(problems))


@dataclass(frozen=True)
class SupervisorStatus:
    """What ``safety/status`` reports.

    Attributes:
        state: the state.
        reason: why it is in this state; empty while passing.
        estop_latched: the e-stop is latched.
        clamp_counts: per joint, the output steps in which any limit changed that joint's value.
        joint_names: the joints of ``clamp_counts``.
    """

    state: SafetyState
    reason: str
    estop_latched: bool
    clamp_counts: tuple[int, ...]
    joint_names: tuple[str, ...] = JOINT_NAMES

    @property
    def key(self) -> tuple[SafetyState, str, bool]:
        """The part whose change triggers an immediate status publication."""
        return self.state, self.reason, self.estop_latched


@dataclass(frozen=True)
class Output:
    """One output step: positions for ``joint_commands`` and the clock time they were computed at.

    Attributes:
        time_s: clock time, seconds.
        positions_rad: ``(6,)`` float64, radians.
    """

    time_s: float
    positions_rad: np.ndarray


@dataclass
class _Reset:
    trajectory: MinimumJerkTrajectory
    start_s: float


class SafetySupervisor:
    """The supervisor core; the node feeds it messages and service calls and publishes its output.

    Not thread-safe: call it from one thread (the node's callbacks share one mutually exclusive group).

    Args:
        config: the parameters.
        limits: ``{joint: JointLimit}`` for every joint of :data:`JOINT_NAMES` (from the URDF).
        start_distribution: the demonstrations' start distribution, if known; its mean is the home
            pose, else ``config.home_pose_rad``.
        converter: LeRobot units converter, to report the gripper in percent.
        clock: returns the time in seconds.
        home_source: where the home pose came from, for messages.
        unknown_start_reason: why no start distribution is known (e.g. the contract's
            ``unknown: ...`` source), for the refusal of :meth:`check_start_state`.

    Raises:
        ConfigError: a joint has no limit, the margin leaves no room, or home is outside the limits.
    """

    def __init__(
        self,
        config: SafetyConfig,
        limits: Mapping[str, JointLimit],
        start_distribution: StartStateDistribution | None = None,
        converter: UnitConverter | None = None,
        clock: Callable[[], float] = time.monotonic,
        home_source: str = "",
        unknown_start_reason: str = "",
    ) -> None:
        self.config = config
        self._unknown_start_reason = unknown_start_reason
        self._clock = clock
        self._distribution = start_distribution
        self._converter = converter
        self._lower, self._upper, self._vmax = _limit_arrays(limits, config)
        home = start_distribution.mean_rad if start_distribution is not None else config.home_pose_rad
        self.home_rad = np.array(home, dtype=np.float64)
        self.home_source = home_source or (start_distribution.source if start_distribution
                                           else "home_pose_rad")
        self._check_home()
        self._max_step_dt_s = 2.0 / config.rate_hz
        self._state, self._reason, self._estop = SafetyState.HOLDING, "waiting for joint_states", False
        self._measured: np.ndarray | None = None
        self._measured_s = -math.inf
        self._target: np.ndarray | None = None
        self._command_s: float | None = None
        self._output: np.ndarray | None = None
        self._output_s = 0.0
        self._velocity = np.zeros(len(JOINT_NAMES))
        self._reset: _Reset | None = None
        self._released_s = -math.inf
        self.clamp_counts = np.zeros(len(JOINT_NAMES), dtype=np.int64)
        self.rejected_commands = 0
        self._blocked_reason: str | None = None

    def _check_home(self) -> None:
        outside = [f"{n}={v:.3f} not in [{lo:.3f}, {hi:.3f}]"
                   for n, v, lo, hi in zip(JOINT_NAMES, self.home_rad, self._lower, self._upper)
                   if not lo <= v <= hi]
        if outside:
            raise ConfigError(
                f"home pose ({self.home_source}) outside the joint limits: {', '.join(outside)}")

    # -- inputs ---------------------------------------------------------------------------------

    def on_state(self, names: Sequence[str], positions: Sequence[float]) -> str | None:
        """Take a ``joint_states`` sample (radians); other joints than the SO-101's are ignored.

        Returns:
            None, or why the sample was rejected (it then does not count as fresh).
        """
        if len(names) != len(positions):
            return f"rejected joint_states: {len(names)} names but {len(positions)} positions"
        pairs = [(n, p) for n, p in zip(names, positions) if n in JOINT_NAMES]
        try:
            by_name = order_positions([n for n, _ in pairs], [p for _, p in pairs])
        except BadInputError as err:
            return f"rejected joint_states: {err}"
        self._measured = np.fromiter(by_name.values(), dtype=np.float64)
        self._measured_s = self._clock()
        return None

    def on_command(self, names: Sequence[str], positions: Sequence[float],
                   stamp_s: float | None = None) -> str | None:
        """Take a policy command (radians; a subset of joints keeps the others' last targets).

        Args:
            names, positions: the command.
            stamp_s: its header stamp on this clock, if it has one; a command stamped before the last
                e-stop release was sent while latched and is ignored even if it arrives later.

        Returns:
            None if accepted, else why it was ignored or rejected. A malformed command (NaN, unknown
            joint...) puts the supervisor in ``HOLDING`` at the last output until a valid one comes.
        """
        if self._state in (SafetyState.ESTOP, SafetyState.RESETTING, SafetyState.FAULT):
            return f"command ignored while {self._state.name}"
        if stamp_s is not None and stamp_s < self._released_s:
            return "command ignored: stamped before the e-stop release"
        if self._output is None or self._target is None:
            return "command ignored: no joint_states yet"
        try:
            by_name = order_positions(names, positions, allow_subset=True)
        except BadInputError as err:
            self.rejected_commands += 1
            self._hold(f"rejected policy command: {err}")
            return str(err)
        for name, value in by_name.items():
            self._target[JOINT_NAMES.index(name)] = value
        self._command_s = self._clock()
        self._set(SafetyState.PASSING, "")
        return None

    def block_commands(self, reason: str | None) -> None:
        """Another publisher is on the command input (``reason``), or it is gone again (None).

        Blocked, ``PASSING`` or ``HOLDING`` becomes ``HOLDING`` at the last output with ``reason`` (the
        node then passes no command at all); other states are left as they are. Unblocked, the hold
        says so and the next accepted command resumes, ramped from the last output.
        """
        blocked, self._blocked_reason = self._blocked_reason, reason
        if reason is not None and self._state in (SafetyState.PASSING, SafetyState.HOLDING):
            self._hold(reason)
        elif reason is None and self._state is SafetyState.HOLDING and self._reason == blocked:
            self._set(SafetyState.HOLDING, "the command input has its source alone again; holding until "
                                           "its next command")

    # -- services -------------------------------------------------------------------------------

    def estop(self, latch: bool) -> tuple[bool, str]:
        """Latch (True) or release (False) the e-stop; returns ``(success, message)``.

        While latched nothing is output. Releasing is the explicit reset: output resumes from the
        measured state (``HOLDING`` until the next policy command, which is then ramped).
        """
        if latch:
            if self._estop:
                return True, "e-stop already latched"
            self._estop, self._reset, self._command_s = True, None, None
            self._set(SafetyState.ESTOP, "e-stop latched (safety/estop); release with data=false")
            return True, "e-stop latched: nothing passes until safety/estop is called with data=false"
        if not self._estop:
            return True, "e-stop is not latched"
        self._estop, self._released_s = False, self._clock()
        if not self._state_fresh():
            self._set(SafetyState.FAULT, "e-stop released but joint_states is stale")
            return True, "e-stop released; FAULT: joint_states is stale"
        self._restart_from(self._measured)
        self._set(SafetyState.HOLDING, "e-stop released; holding the current position until a policy command")
        return True, "e-stop released; output resumes from the current state"

    def request_reset(self) -> tuple[bool, str]:
        """Start a smooth move to home; returns ``(success, message)`` at once.

        Refused while the e-stop is latched or without fresh ``joint_states``.
        """
        if self._estop:
            return False, "e-stop is latched; release it first (safety/estop data=false)"
        if not self._state_fresh() or self._output is None:
            return False, f"no fresh joint_states ({self._state_age_text()})"
        if self._reset is not None:
            return True, f"already resetting to home ({self.home_source})"
        goal = rules.clamp_position(self.home_rad, self._lower, self._upper,
                                    self.config.position_margin_rad).values
        frac = self.config.reset_speed_fraction
        amax = self.config.max_acceleration_rad_s2 * frac or None
        trajectory = plan_minimum_jerk(self._output, goal, self._vmax * frac, amax)
        self._reset = _Reset(trajectory, self._clock())
        self._set(SafetyState.RESETTING, f"resetting to home ({self.home_source}), "
                                         f"{trajectory.duration_s:.1f} s planned")
        return True, f"resetting to home ({self.home_source}) over {trajectory.duration_s:.1f} s"

    def check_start_state(self) -> StartStateReport:
        """Compare the measured state with the demonstrations' start distribution.

        Without fresh ``joint_states`` the check fails; without a known distribution it fails too,
        saying why (only the policy's explicit ``start_state_check:=skip`` goes without it).
        """
        if not self._state_fresh() or self._measured is None:
            return StartStateReport(False, (), f"no fresh joint_states ({self._state_age_text()})")
        if self._distribution is None:
            why = f" ({self._unknown_start_reason})" if self._unknown_start_reason else ""
            return StartStateReport(False, (), (
                f"the demonstrations' start-state statistics are unknown{why}: refused. Set policy_path to "
                "a checkpoint whose training dataset is on this machine (or write its contract with "
                "`vla-ros contract CKPT --dataset ROOT --out CKPT`), or dataset_root; or set the policy's "
                "start_state_check:=skip to go without the check"))
        return check_start_state(self._measured, self._distribution, self.config.start_state_k,
                                 self.config.start_state_min_std_rad, self._converter)

    # -- output ---------------------------------------------------------------------------------

    def step(self) -> Output | None:
        """Compute the next output (call at ``rate_hz``); None when nothing may be published."""
        now = self._clock()
        self._watchdogs(now)
        if self._state is SafetyState.ESTOP or self._measured is None:
            return None
        if self._output is None:
            if not self._state_fresh():
                return None
            self._restart_from(self._measured)
            self._set(SafetyState.HOLDING, "waiting for policy commands")
        assert self._output is not None and self._target is not None
        if self._state is SafetyState.HOLDING:
            self._hold_where_moved()
        if self._state in (SafetyState.PASSING, SafetyState.RESETTING):
            goal = self._target if self._reset is None else self._reset.trajectory.position(
                now - self._reset.start_s)
            self._advance(goal, now)
        self._output_s = now
        if self._reset is not None:
            self._check_reset_done(now)
        return Output(now, self._output.copy())

    def status(self) -> SupervisorStatus:
        """The current status."""
        return SupervisorStatus(self._state, self._reason, self._estop,
                                tuple(int(c) for c in self.clamp_counts))

    @property
    def state(self) -> SafetyState:
        """The current state."""
        return self._state

    # -- internals ------------------------------------------------------------------------------

    def _advance(self, goal: np.ndarray, now: float) -> None:
        assert self._output is not None and self._measured is not None
        try:
            goal = rules.check_finite(goal)  # inputs are validated already: this is the last gate
        except BadInputError as err:
            self._reset = None
            self._hold(f"holding: {err}")
            return
        dt = min(max(now - self._output_s, 0.0), self._max_step_dt_s)
        cfg = self.config
        limited = rules.clamp_position(goal, self._lower, self._upper, cfg.position_margin_rad)
        clamped = limited.clamped
        step = rules.ramp_from_state(limited.values, self._measured, cfg.far_jump_rad)
        clamped |= step.clamped
        if cfg.max_acceleration_rad_s2 > 0:
            step = rules.limit_acceleration(step.values, self._output, self._velocity,
                                            cfg.max_acceleration_rad_s2, dt)
            clamped |= step.clamped
        step = rules.limit_velocity(step.values, self._output, self._vmax, dt)
        clamped |= step.clamped
        self.clamp_counts += clamped
        self._velocity = (step.values - self._output) / dt if dt > 0 else np.zeros_like(self._output)
        self._output = step.values

    def _watchdogs(self, now: float) -> None:
        if self._measured is None or self._state is SafetyState.ESTOP:
            return
        stale = now - self._measured_s > self.config.state_timeout_s
        if stale and self._state is not SafetyState.FAULT:
            self._reset = None
            self._hold(f"joint_states stale ({self._state_age_text()}); holding", SafetyState.FAULT)
        elif not stale and self._state is SafetyState.FAULT:
            self._hold("joint_states fresh again after a fault; holding until a policy command")
        elif (self._state is SafetyState.PASSING and self._command_s is not None
              and now - self._command_s > self.config.command_timeout_s):
            self._hold(f"no policy command for {now - self._command_s:.2f} s "
                       f"(command_timeout_s={self.config.command_timeout_s}); holding")

    def _check_reset_done(self, now: float) -> None:
        assert self._reset is not None and self._measured is not None
        elapsed = now - self._reset.start_s
        error = np.abs(self._measured - self._reset.trajectory.goal_rad)
        if self._reset.trajectory.done(elapsed) and np.all(error <= self.config.home_tolerance_rad):
            self._reset = None
            self._hold(f"home reached ({self.home_source})")
        elif elapsed > self._reset.trajectory.duration_s + self.config.reset_timeout_s:
            self._reset = None
            off = ", ".join(f"{n} off by {e:.3f} rad" for n, e in zip(JOINT_NAMES, error)
                            if e > self.config.home_tolerance_rad)
            self._hold(f"home not reached after {elapsed:.1f} s: {off}")

    def _hold_where_moved(self) -> None:
        assert self._output is not None and self._measured is not None
        off = np.abs(self._output - self._measured)
        moved = off > MOVED_AWAY_FACTOR * self.config.far_jump_rad
        if np.any(moved):
            joints = ", ".join(f"{n} by {d:.2f} rad" for n, d, m in zip(JOINT_NAMES, off, moved) if m)
            self._restart_from(self._measured)
            self._set(SafetyState.HOLDING, f"the arm was moved away from the held pose ({joints}); "
                                           "holding where it is")

    def _hold(self, reason: str, state: SafetyState = SafetyState.HOLDING) -> None:
        if self._output is not None:
            self._target = self._output.copy()
        self._velocity = np.zeros(len(JOINT_NAMES))
        self._command_s = None
        self._set(state, reason)

    def _restart_from(self, positions: np.ndarray | None) -> None:
        assert positions is not None
        self._output, self._target = positions.copy(), positions.copy()
        self._velocity = np.zeros(len(JOINT_NAMES))
        self._output_s, self._command_s = self._clock(), None

    def _set(self, state: SafetyState, reason: str) -> None:
        self._state, self._reason = state, reason

    def _state_fresh(self) -> bool:
        return self._clock() - self._measured_s <= self.config.state_timeout_s

    def _state_age_text(self) -> str:
        if self._measured is None:
            return "none received yet"
        return (f"last one {self._clock() - self._measured_s:.2f} s ago, "
                f"state_timeout_s={self.config.state_timeout_s}")


def _limit_arrays(limits: Mapping[str, JointLimit], config: SafetyConfig
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    missing = [n for n in JOINT_NAMES if n not in limits]
    if missing:
        raise ConfigError(f"no joint limits for {missing}")
    lower = np.array([limits[n].lower_rad for n in JOINT_NAMES])
    upper = np.array([limits[n].upper_rad for n in JOINT_NAMES])
    urdf_v = np.array([limits[n].velocity_rad_s for n in JOINT_NAMES])
    vmax = np.array(config.max_velocity_rad_s, dtype=np.float64)
    vmax = np.where(np.isfinite(urdf_v) & (urdf_v > 0), np.minimum(vmax, urdf_v), vmax)
    if np.any(upper - lower <= 2 * config.position_margin_rad):
        raise ConfigError(f"position_margin_rad={config.position_margin_rad} leaves no room within the "
                          "joint limits")
    return lower, upper, vmax
