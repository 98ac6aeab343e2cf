"""The scripted reach expert: IK against our URDF's forward kinematics, the reach plan, and the expert
reaching the named cube in the real MuJoCo world (no ROS; goals set per joint as the bus emulator does)."""

import numpy as np
import pytest

from vla_ros.errors import BadInputError
from vla_ros.paths import urdf_file
from vla_ros.robot.description import joint_limits
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.robot.kinematics import KinematicTree
from vla_ros.sim.config import DEFAULT_START_POSE_RAD, SimConfig
from vla_ros.sim.task import SUCCESS_TOLERANCE_M, reach_distance_m
from vla_ros.sim.world import SimWorld
from vla_ros.teleop.errors import UnreachableTargetError
from vla_ros.teleop.expert import (
    CUBE_IN_GRIPPER_M,
    LIMIT_MARGIN_RAD,
    REACH_JOINTS,
    ReachIk,
    plan_reach,
    reach_task,
)

LIMITS = joint_limits()
LOWER = np.array([LIMITS[n].lower_rad for n in JOINT_NAMES])
UPPER = np.array([LIMITS[n].upper_rad for n in JOINT_NAMES])
START = np.array(DEFAULT_START_POSE_RAD)


@pytest.fixture(scope="module")
def tree() -> KinematicTree:
    return KinematicTree(urdf_file())


def _tool_frame(tree: KinematicTree, joints: np.ndarray) -> np.ndarray:
    return tree.link_pose("gripper_frame_link", dict(zip(JOINT_NAMES, joints)))


def test_fk_of_ik_is_the_target_within_the_limits_pointing_down(tree):
    ik = ReachIk(tree, LIMITS)
    rng = np.random.default_rng(3)
    targets = np.column_stack([rng.uniform(0.17, 0.29, 25), rng.uniform(-0.13, 0.09, 25),
                               rng.uniform(0.015, 0.09, 25)])
    for target in targets:
        sol = ik.solve(target, START)
        pose = _tool_frame(tree, sol.joints_rad)  # KinematicTree's own FK, not the solver's
        np.testing.assert_allclose(pose[:3, 3], target, atol=5e-4)
        assert sol.position_error_m == pytest.approx(np.linalg.norm(pose[:3, 3] - target), abs=1e-9)
        assert np.all(sol.joints_rad >= LOWER + LIMIT_MARGIN_RAD - 1e-9)
        assert np.all(sol.joints_rad <= UPPER - LIMIT_MARGIN_RAD + 1e-9)
        held = [JOINT_NAMES.index(n) for n in JOINT_NAMES if n not in REACH_JOINTS]
        np.testing.assert_array_equal(sol.joints_rad[held], START[held])
        assert sol.tilt_rad < 0.35, (target, sol.tilt_rad)
        assert np.degrees(np.arccos(-pose[2, 2])) == pytest.approx(np.degrees(sol.tilt_rad), abs=1e-6)


def test_tool_offset_is_the_point_placed(tree):
    ik = ReachIk(tree, LIMITS, tool_offset_m=CUBE_IN_GRIPPER_M)
    target = np.array([0.23, -0.10, 0.0125])
    sol = ik.solve(target, START)
    pose = _tool_frame(tree, sol.joints_rad)
    np.testing.assert_allclose(pose[:3, 3] + pose[:3, :3] @ CUBE_IN_GRIPPER_M, target, atol=5e-4)
    assert reach_distance_m(pose[:3, 3], target) == pytest.approx(np.linalg.norm(CUBE_IN_GRIPPER_M), abs=6e-4)
    assert np.linalg.norm(CUBE_IN_GRIPPER_M) < SUCCESS_TOLERANCE_M


@pytest.mark.parametrize("target", [(0.6, 0.0, 0.1), (0.0, 0.0, 0.6)])
def test_out_of_reach_raises_with_the_distance(tree, target):
    with pytest.raises(UnreachableTargetError, match=r"cannot reach .* mm away"):
        ReachIk(tree, LIMITS).solve(target, START)
    with pytest.raises(UnreachableTargetError):
        plan_reach(START, target, LIMITS, tree)


def test_reachable_only_sideways_is_refused(tree):
    with pytest.raises(UnreachableTargetError, match="not reachable from above"):
        plan_reach(START, (0.34, 0.0, 0.0125), LIMITS, tree)


def test_bad_inputs_are_all_reported(tree):
    with pytest.raises(BadInputError) as err:
        plan_reach([0.0] * 5, (np.nan, 0.0, 0.0), LIMITS, tree, max_velocity_rad_s=0.0, hover_m=-1.0)
    for part in ("start_rad must have 6 values", "target_xyz", "max_velocity_rad_s", "hover_m"):
        assert part in str(err.value)
    with pytest.raises(BadInputError, match="seed_rad"):
        ReachIk(tree, LIMITS).solve((0.2, 0.0, 0.05), [np.inf] * 6)


def test_plan_is_smooth_deterministic_and_ends_at_the_reach_pose(tree):
    cube = np.array([0.23, 0.03, 0.0125])
    plan = plan_reach(START, cube, LIMITS, tree, max_velocity_rad_s=0.8, hover_m=0.06, hold_s=1.0)
    approach, descend, hold = plan.segments
    np.testing.assert_allclose(plan.position(0.0), START)
    assert 3.0 <= plan.duration_s <= 6.0 and hold.duration_s == pytest.approx(1.0)
    for segment in plan.segments:
        assert np.all(segment.peak_velocity_rad_s <= 0.8 + 1e-9)
    above = _tool_frame(tree, approach.goal_rad)
    hover = cube + np.array([0.0, 0.0, 0.06])
    np.testing.assert_allclose(above[:3, 3] + above[:3, :3] @ CUBE_IN_GRIPPER_M, hover, atol=6e-4)
    final = _tool_frame(tree, plan.position(plan.duration_s + 5.0))
    np.testing.assert_allclose(final[:3, 3] + final[:3, :3] @ CUBE_IN_GRIPPER_M, cube, atol=6e-4)
    assert final[2, 2] < -0.95  # the tool z axis (palm -> finger tips) points down
    assert plan.position(plan.duration_s)[JOINT_NAMES.index("gripper")] > 1.0  # open
    # the descent stays above the cube: the tool frame moves (nearly) straight down
    xy = np.array([_tool_frame(tree, descend.position(t))[:2, 3]
                   for t in np.linspace(0, descend.duration_s, 20)])
    assert np.linalg.norm(xy - xy[-1], axis=1).max() < 0.006
    again = plan_reach(START + 0.01, cube, LIMITS, tree)  # a slightly different start
    for t in np.linspace(0.0, plan.duration_s, 15):
        assert np.abs(again.position(t) - plan.position(t)).max() < 0.05


def _perform(world: SimWorld, plan, rate_hz: float = 30.0) -> None:
    """Play ``plan`` as sim_teleop does: one goal per joint at ``rate_hz`` (what the driver writes)."""
    steps = round(1.0 / rate_hz / world.model.opt.timestep)
    t = 0.0
    while t <= plan.duration_s + 0.3:
        for j, angle in enumerate(plan.position(t)):
            world.set_goal(j, angle)
        world.step(steps)
        t += steps * world.model.opt.timestep


@pytest.mark.parametrize("layout", ["random", "slots"])
def test_expert_reaches_the_named_cube_without_disturbing_the_other(tree, layout):
    world = SimWorld(SimConfig(two_cubes=True, seed=5, image_width=64, image_height=48, cube_layout=layout,
                               swap_slots=True))
    episodes = 20 if layout == "random" else 6
    results = []
    for episode in range(episodes):
        for target in ("red", "blue"):
            world.reset(episode)
            world.step(100)
            before = world.cube_positions()
            plan = plan_reach(world.joint_positions(), before[target], LIMITS, tree)
            _perform(world, plan)
            after = world.cube_positions()
            other = "blue" if target == "red" else "red"
            results.append((world.success(target), np.linalg.norm(after[other] - before[other]),
                            np.linalg.norm(after[target] - before[target]),
                            reach_distance_m(world.gripper_frame_position(), after[target])))
    success, other_moved, target_moved, distance = np.array(results).T
    assert success.mean() >= 0.95, distance
    assert other_moved.max() < 0.01
    assert np.median(target_moved) < 0.002  # reached beside the cube, not by pushing it
    assert np.median(distance) < SUCCESS_TOLERANCE_M - 0.003


def test_task_strings():
    assert reach_task("red") == "reach the red cube"
    assert reach_task("blue", "touch the {target} block") == "touch the blue block"
    with pytest.raises(BadInputError, match=r"no \{target\} field"):
        reach_task("red", "reach the cube")
    with pytest.raises(BadInputError, match=r"only a \{target\} field"):
        reach_task("red", "reach the {target} cube {colour}")
    with pytest.raises(BadInputError, match="empty"):
        reach_task(" ")
