"""Scripted expert for "reach the <colour> cube": inverse kinematics and a reach plan (ROS-agnostic).

:class:`ReachIk` solves the position of a point fixed in ``gripper_frame_link`` (the tool frame
between the finger tips; its z axis points from the palm to the tips) over shoulder_pan,
shoulder_lift, elbow_flex and wrist_flex, with wrist_roll and the gripper held. It is damped least
squares (Nakamura & Hanafusa 1986, "Inverse kinematic solutions with singularity robustness for
robot manipulator control", J. Dyn. Syst. Meas. Control 108(3)) on a numerical Jacobian of
:class:`~vla_ros.robot.kinematics.KinematicTree`'s forward kinematics, with task priority
(Siciliano & Slotine 1991, ICAR): the position task first, and in its null space the tool z axis
turned towards straight down, so the gripper approaches a cube from above and the fingers never
sweep sideways over the table. Joints stay :data:`LIMIT_MARGIN_RAD` inside their URDF limits.

:func:`plan_reach` turns a cube position into a :class:`~vla_ros.teleop.script.ScriptedEpisode`:
start → :data:`DEFAULT_HOVER_M` above the cube, gripper opening → straight down until the cube sits
between the jaws → hold. Every segment is a minimum-jerk move (:mod:`vla_ros.safety.trajectory`), so
the same cube position gives the same smooth trajectory.

Positions in metres in the URDF root frame (``base_link``; the simulator's world frame), angles in
radians in :data:`~vla_ros.robot.joints.JOINT_NAMES` order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from vla_ros.errors import BadInputError
from vla_ros.robot.description import JointLimit
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.robot.kinematics import KinematicTree
from vla_ros.safety.trajectory import plan_minimum_jerk
from vla_ros.teleop.errors import UnreachableTargetError
from vla_ros.teleop.script import ScriptedEpisode

__all__ = [
    "CUBE_IN_GRIPPER_M",
    "DEFAULT_HOVER_M",
    "DEFAULT_TASK_TEMPLATE",
    "GRIPPER_OPEN_RAD",
    "LIMIT_MARGIN_RAD",
    "REACH_JOINTS",
    "TOOL_LINK",
    "IkSolution",
    "ReachIk",
    "plan_reach",
    "reach_task",
]

TOOL_LINK = "gripper_frame_link"
REACH_JOINTS: tuple[str, ...] = ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex")
LIMIT_MARGIN_RAD = 0.05
"""IK solutions stay this far inside the URDF joint limits."""
GRIPPER_OPEN_RAD = 1.2
"""Gripper angle while reaching: the moving jaw swung well clear (its tip about 3 cm behind the
tool frame), so only the fixed finger comes down beside the cube."""
CUBE_IN_GRIPPER_M: tuple[float, float, float] = (-0.013, 0.0, 0.005)
"""Where the cube centre ends up in ``gripper_frame_link`` coordinates at the reach pose, metres:
1.3 cm from the tool frame towards the open jaw (the frame sits at the fixed finger's inner edge) and
5 mm past it, so the fixed finger comes down beside a 2.5 cm cube of any yaw and the open jaw passes
above it. In the simulator (finger = box tilted 0.25 rad) 1.1 cm already grazes a diagonal cube and
1.2 cm clears all; the tool frame ends |offset| = 1.4 cm from the centre, inside the task's 2 cm."""
DEFAULT_HOVER_M = 0.06
"""Height of the pre-reach pose above the reach pose, metres."""
DEFAULT_TASK_TEMPLATE = "reach the {target} cube"
"""Task string of a reach episode (issue #10); ``{target}`` is the cube's colour name."""
_DOWN = np.array([0.0, 0.0, -1.0])
_FD_STEP_RAD = 1e-6
_MAX_STEP_RAD = 0.2
_STALL_ITERATIONS = 25
"""Give up when the error has not shrunk by a micrometre for this many iterations."""


@dataclass(frozen=True)
class IkSolution:
    """A solved reach pose.

    Attributes:
        joints_rad: ``(6,)`` float64 joint angles, radians, JOINT_NAMES order.
        position_error_m: distance from the tool point to the target, metres.
        tilt_rad: angle between the tool z axis and straight down, radians.
        iterations: solver iterations used.
    """

    joints_rad: np.ndarray
    position_error_m: float
    tilt_rad: float
    iterations: int


def _vector(value: ArrayLike, size: int, what: str) -> tuple[np.ndarray, list[str]]:
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.shape != (size,):
        return np.zeros(size), [f"{what} must have {size} values, got {arr.size}"]
    if not np.all(np.isfinite(arr)):
        return np.zeros(size), [f"{what}={arr.tolist()} is not finite"]
    return arr, []


class ReachIk:
    """Position IK of a tool point in ``gripper_frame_link``, approaching from above.

    Args:
        tree: kinematic tree of the arm (``KinematicTree(vla_ros.paths.urdf_file())``).
        limits: joint limits by JOINT_NAMES name (:func:`vla_ros.robot.description.joint_limits`).
        tool_offset_m: ``(3,)`` the point to place, in ``gripper_frame_link`` coordinates, metres.
        margin_rad: solutions stay this far inside the joint limits.
        damping: damped-least-squares factor (metres; radians for the orientation task).
        orientation_weight: gain of the point-down task in the position task's null space (0 = off).
    """

    def __init__(self, tree: KinematicTree, limits: Mapping[str, JointLimit], *,
                 tool_offset_m: ArrayLike = (0.0, 0.0, 0.0), margin_rad: float = LIMIT_MARGIN_RAD,
                 damping: float = 0.01, orientation_weight: float = 1.0) -> None:
        self.tree = tree
        self._chain = tree.chain(TOOL_LINK)
        self.tool_offset_m = np.asarray(tool_offset_m, dtype=np.float64)
        self._active = [JOINT_NAMES.index(n) for n in REACH_JOINTS]
        self._lower = np.array([limits[REACH_JOINTS[i]].lower_rad + margin_rad for i in range(4)])
        self._upper = np.array([limits[REACH_JOINTS[i]].upper_rad - margin_rad for i in range(4)])
        self.damping = damping
        self.orientation_weight = orientation_weight

    def forward(self, joints_rad: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Tool point ``(3,)`` m and tool z axis ``(3,)`` (unit) in the root frame at ``joints_rad`` (6,)."""
        angles = dict(zip(JOINT_NAMES, np.asarray(joints_rad, dtype=float)))
        pose = np.eye(4)
        for joint in self._chain:  # KinematicTree.link_pose without its per-call lookups
            pose = pose @ joint.transform(angles.get(joint.name, 0.0))
        return pose[:3, 3] + pose[:3, :3] @ self.tool_offset_m, pose[:3, 2].copy()

    def _jacobians(self, q: np.ndarray, point: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        jp, jz = np.zeros((3, 4)), np.zeros((3, 4))
        for col, idx in enumerate(self._active):
            dq = q.copy()
            dq[idx] += _FD_STEP_RAD
            p, z = self.forward(dq)
            jp[:, col], jz[:, col] = (p - point) / _FD_STEP_RAD, (z - axis) / _FD_STEP_RAD
        return jp, jz

    def _dls(self, jac: np.ndarray, err: np.ndarray) -> np.ndarray:
        gram = jac @ jac.T + self.damping**2 * np.eye(jac.shape[0])
        return jac.T @ np.linalg.solve(gram, err)

    def _task_step(self, jp: np.ndarray, jz: np.ndarray, err: np.ndarray, axis: np.ndarray,
                   weight: float) -> np.ndarray:
        step = self._dls(jp, err)
        if weight > 0:
            null = np.eye(jp.shape[1]) - np.linalg.pinv(jp, rcond=1e-4) @ jp
            tilt_err = weight * (_DOWN - axis) - jz @ step
            step = step + null @ self._dls(jz @ null, tilt_err)
        return step

    def _step(self, q: np.ndarray, target: np.ndarray, weight: float) -> tuple[np.ndarray, float]:
        """One iteration; a joint that the step would push past its limit stops there and the
        others take over its share (clamping, as in Baerlocher & Boulic 2004)."""
        point, axis = self.forward(q)
        err = target - point
        jp, jz = self._jacobians(q, point, axis)
        here = q[self._active]
        step, free = np.zeros(4), np.ones(4, dtype=bool)
        for _ in range(4):
            locked = ~free
            step[free] = self._task_step(jp[:, free], jz[:, free], err - jp[:, locked] @ step[locked],
                                         axis + jz[:, locked] @ step[locked], weight)
            ahead = here + step
            hit = free & ((ahead < self._lower) | (ahead > self._upper))
            if not hit.any():
                break
            step[hit] = np.clip(ahead[hit], self._lower[hit], self._upper[hit]) - here[hit]
            free &= ~hit
        norm = float(np.linalg.norm(step))
        if norm > _MAX_STEP_RAD:
            step *= _MAX_STEP_RAD / norm
        out = q.copy()
        out[self._active] = np.clip(here + step, self._lower, self._upper)
        return out, float(np.linalg.norm(err))

    def _iterate(self, q: np.ndarray, target: np.ndarray, weight: float, tolerance_m: float,
                 max_iterations: int) -> tuple[np.ndarray, float, int]:
        best, best_err, used, best_at = q, np.inf, 0, 0
        while used < max_iterations and used - best_at < _STALL_ITERATIONS:
            used += 1
            q_next, err = self._step(q, target, weight)
            if err < best_err - 1e-6:
                best_at = used
            if err < best_err:
                best, best_err = q, err
            if err < tolerance_m * 0.2 or np.abs(q_next - q).max() < 1e-7:
                break
            q = q_next
        return best, best_err, used

    def solve(self, target_xyz: ArrayLike, seed_rad: ArrayLike, *, tolerance_m: float = 5e-4,
              max_iterations: int = 300) -> IkSolution:
        """Joint angles that put the tool point at ``target_xyz``, tool z axis as near down as it goes.

        Args:
            target_xyz: ``(3,)`` target, metres, root frame.
            seed_rad: ``(6,)`` start of the iteration, radians; wrist_roll and gripper are kept.
            tolerance_m: largest accepted distance between tool point and target, metres.
            max_iterations: iteration budget.

        Raises:
            BadInputError: target or seed is not finite or has the wrong size.
            UnreachableTargetError: no pose within the joint limits puts the tool point within
                ``tolerance_m`` of the target (the message gives the closest distance).
        """
        target, problems = _vector(target_xyz, 3, "target_xyz")
        q, seed_problems = _vector(seed_rad, len(JOINT_NAMES), "seed_rad")
        if problems + seed_problems:
            raise BadInputError("; ".join(problems + seed_problems))
        q[self._active] = np.clip(q[self._active], self._lower, self._upper)
        best, error, iterations = q, np.inf, 0
        for weight in dict.fromkeys((self.orientation_weight, 0.0)):  # pointing down first, then any way
            best, error, iterations = self._iterate(q, target, weight, tolerance_m, max_iterations)
            if error <= tolerance_m:
                break
        if error > tolerance_m:
            raise UnreachableTargetError(
                f"cannot reach {np.round(target, 4).tolist()} m: the closest pose within the joint limits "
                f"(minus {LIMIT_MARGIN_RAD} rad) leaves the gripper {error * 1000:.1f} mm away")
        _, axis = self.forward(best)
        tilt = float(np.arccos(np.clip(axis @ _DOWN, -1.0, 1.0)))
        return IkSolution(best.copy(), error, tilt, iterations)


def _check_reach_args(start_rad: ArrayLike, target_xyz: ArrayLike, max_velocity_rad_s: float,
                      hover_m: float, hold_s: float) -> tuple[np.ndarray, np.ndarray]:
    start, problems = _vector(start_rad, len(JOINT_NAMES), "start_rad")
    target, target_problems = _vector(target_xyz, 3, "target_xyz")
    problems += target_problems
    for name, value in (("max_velocity_rad_s", max_velocity_rad_s), ("hover_m", hover_m)):
        if not value > 0:
            problems.append(f"{name}={value} must be > 0")
    if not hold_s >= 0:
        problems.append(f"hold_s={hold_s} must be >= 0")
    if problems:
        raise BadInputError("plan_reach: " + "; ".join(problems))
    return start, target


def plan_reach(
    start_rad: ArrayLike,
    target_xyz: ArrayLike,
    limits: Mapping[str, JointLimit],
    tree: KinematicTree,
    *,
    max_velocity_rad_s: float = 0.8,
    hover_m: float = DEFAULT_HOVER_M,
    cube_in_gripper_m: Sequence[float] = CUBE_IN_GRIPPER_M,
    gripper_rad: float = GRIPPER_OPEN_RAD,
    approach_s: float = 1.5,
    descend_s: float = 1.2,
    hold_s: float = 1.0,
    max_tilt_rad: float = 0.35,
) -> ScriptedEpisode:
    """Plan a reach of the cube centred at ``target_xyz``, from above.

    Segments: ``start_rad`` → pre-reach (``hover_m`` above the reach pose, gripper at
    ``gripper_rad``) → reach pose (the cube centre at ``cube_in_gripper_m`` in the tool frame) →
    hold for ``hold_s``. wrist_roll keeps its start value.

    Args:
        start_rad: ``(6,)`` current joint positions, radians, JOINT_NAMES order.
        target_xyz: ``(3,)`` cube centre, metres, root frame (the simulator's world frame).
        limits: joint limits (from the URDF).
        tree: kinematic tree of the same URDF.
        max_velocity_rad_s: speed limit of every joint, rad/s.
        hover_m: height of the pre-reach pose above the reach pose, metres.
        cube_in_gripper_m: ``(3,)`` where the cube centre ends up in ``gripper_frame_link``, metres.
        gripper_rad: gripper angle during the reach, radians.
        approach_s: shortest duration of the move to the pre-reach pose, seconds.
        descend_s: shortest duration of the descent, seconds (slow, so the finger does not swing).
        hold_s: time held at the reach pose at the end, seconds.
        max_tilt_rad: largest accepted angle between the tool z axis and straight down, radians.

    Returns:
        The episode: three minimum-jerk segments (the last one a hold).

    Raises:
        BadInputError: non-finite or wrongly sized inputs, non-positive speed or hover height (all listed).
        UnreachableTargetError: the pre-reach or reach pose is out of reach, or only reachable with the
            gripper tilted more than ``max_tilt_rad`` from vertical.
    """
    start, target = _check_reach_args(start_rad, target_xyz, max_velocity_rad_s, hover_m, hold_s)
    ik = ReachIk(tree, limits, tool_offset_m=cube_in_gripper_m)
    seed = start.copy()
    seed[JOINT_NAMES.index("gripper")] = gripper_rad
    above = ik.solve(target + np.array([0.0, 0.0, hover_m]), seed)
    reach = ik.solve(target, above.joints_rad)
    for name, sol in (("pre-reach", above), ("reach", reach)):
        if sol.tilt_rad > max_tilt_rad:
            raise UnreachableTargetError(
                f"the {name} pose for {np.round(target, 4).tolist()} m tilts the gripper "
                f"{sol.tilt_rad:.2f} rad from vertical (max {max_tilt_rad} rad): not reachable from above")
    return ScriptedEpisode((
        plan_minimum_jerk(start, above.joints_rad, max_velocity_rad_s, min_duration_s=approach_s),
        plan_minimum_jerk(above.joints_rad, reach.joints_rad, max_velocity_rad_s, min_duration_s=descend_s),
        plan_minimum_jerk(reach.joints_rad, reach.joints_rad, max_velocity_rad_s,
                          min_duration_s=max(hold_s, 1e-3)),
    ))


def reach_task(target: str, template: str = DEFAULT_TASK_TEMPLATE) -> str:
    """The task string (language instruction) of reaching the ``target`` cube.

    Args:
        target: cube colour name, e.g. ``"red"``.
        template: format string with one ``{target}`` field.

    Raises:
        BadInputError: an empty target, or a template without ``{target}`` or with other fields.
    """
    problems = [] if target.strip() else ["the target colour is empty"]
    try:
        text = template.format(target=target)
    except (KeyError, IndexError, ValueError) as err:
        problems.append(f"task template {template!r} must have only a {{target}} field ({err!r})")
        text = ""
    if "{target}" not in template:
        problems.append(f"task template {template!r} has no {{target}} field")
    if problems:
        raise BadInputError("; ".join(problems))
    return text
