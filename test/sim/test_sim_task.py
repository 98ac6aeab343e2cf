"""The reach task: the success rule (vla_ros.sim.task), the "slots" cube layout and SimWorld.success."""

import subprocess
import sys

import mujoco
import numpy as np
import pytest

from vla_ros.errors import BadInputError, ConfigError
from vla_ros.sim.config import SimConfig
from vla_ros.sim.randomization import CUBE_SLOTS_XY_M, MIN_CUBE_SEPARATION_M, sample_layout
from vla_ros.sim.task import SUCCESS_TOLERANCE_M, reach_distance_m, reached
from vla_ros.sim.world import SUCCESS_TOLERANCE_M as WORLD_TOLERANCE_M
from vla_ros.sim.world import SimWorld

BOTH = ("red", "blue")


@pytest.mark.parametrize(("offset_m", "tolerance_m", "expected"), [
    ((0.0, 0.0, 0.0), SUCCESS_TOLERANCE_M, True),
    ((0.0199, 0.0, 0.0), SUCCESS_TOLERANCE_M, True),
    ((0.0, 0.0, 0.0201), SUCCESS_TOLERANCE_M, False),
    ((0.011, 0.011, 0.011), SUCCESS_TOLERANCE_M, True),    # sqrt(3) * 1.1 cm = 1.91 cm
    ((0.012, 0.012, 0.012), SUCCESS_TOLERANCE_M, False),   # sqrt(3) * 1.2 cm = 2.08 cm
    ((0.0, -0.03, 0.0), SUCCESS_TOLERANCE_M, False),
    ((0.0, -0.03, 0.0), 0.05, True),
    ((0.0, 0.0, 0.0), 0.0, True),
    ((0.001, 0.0, 0.0), 0.0, False),
])
def test_reached_is_a_2cm_sphere_around_the_cube_centre(offset_m, tolerance_m, expected):
    cube = np.array([0.23, -0.1, 0.0125])
    gripper = cube + np.array(offset_m)
    distance = float(np.linalg.norm(offset_m))
    assert reach_distance_m(gripper, cube) == pytest.approx(distance)
    assert reached(gripper, cube, tolerance_m) is expected
    assert reached(list(gripper), tuple(cube), tolerance_m) is expected


def test_the_tolerance_is_2cm_the_boundary_counts_and_the_world_re_exports_it():
    assert SUCCESS_TOLERANCE_M == WORLD_TOLERANCE_M == 0.02
    assert reached([0, 0, 0.02], [0, 0, 0]) and reached([0.5, 0.0, 0.0], [0.5, 0.02, 0.0])
    assert not reached([0, 0, 0.0201], [0, 0, 0])


def test_bad_points_and_tolerances_are_refused_with_every_problem():
    with pytest.raises(BadInputError) as err:
        reached([0.0, np.nan, 0.0], [1.0, 2.0], tolerance_m=-0.01)
    text = str(err.value)
    assert "gripper_xyz" in text and "cube_xyz" in text and "tolerance_m" in text
    with pytest.raises(BadInputError, match="cube_xyz"):
        reach_distance_m([0, 0, 0], ["a", 0, 0])
    with pytest.raises(BadInputError, match="tolerance_m"):
        reached([0, 0, 0], [0, 0, 0], tolerance_m=float("inf"))


def test_slot_layout_is_reproducible_and_jitters_within_bounds():
    jitter = 0.015
    layouts = [sample_layout(9, e, BOTH, "slots", jitter, swap_slots=False) for e in range(200)]
    assert layouts[17] == sample_layout(9, 17, BOTH, "slots", jitter, swap_slots=False)
    assert layouts[17] != sample_layout(10, 17, BOTH, "slots", jitter, swap_slots=False)
    for colour, (sx, sy) in CUBE_SLOTS_XY_M.items():
        xy = np.array([lay.cube_poses[colour][:2] for lay in layouts])
        offsets = xy - [sx, sy]
        assert np.abs(offsets).max() <= jitter
        assert np.abs(offsets).max() > 0.8 * jitter  # the whole range is used ...
        assert np.abs(offsets.mean(axis=0)).max() < 0.003  # ... around the slot
        yaws = np.array([lay.cube_poses[colour][2] for lay in layouts])
        assert yaws.min() < -2.5 and yaws.max() > 2.5 and len(set(yaws)) == len(yaws)
    assert not any(lay.slots_swapped for lay in layouts)
    # the rest of the randomisation (lights, colours) stays as it is
    assert len({lay.key_light_diffuse for lay in layouts}) == 200
    assert len({lay.cube_rgba["red"] for lay in layouts}) == 200


def test_zero_jitter_puts_cubes_exactly_on_their_slots_and_slots_are_far_apart():
    lay = sample_layout(0, 3, BOTH, "slots", 0.0)
    for colour, (sx, sy) in CUBE_SLOTS_XY_M.items():
        assert lay.cube_poses[colour][:2] == pytest.approx((sx, sy), abs=1e-12)
    red, blue = np.array(CUBE_SLOTS_XY_M["red"]), np.array(CUBE_SLOTS_XY_M["blue"])
    assert 0.12 <= np.linalg.norm(red - blue) <= 0.16 and abs(red[0] - blue[0]) < 1e-9  # across y


def test_even_the_largest_jitter_keeps_the_cubes_apart():
    for e in range(300):
        poses = sample_layout(5, e, BOTH, "slots", 0.05).cube_poses
        distance = np.linalg.norm(np.subtract(poses["red"][:2], poses["blue"][:2]))
        assert distance >= MIN_CUBE_SEPARATION_M > 2 * SUCCESS_TOLERANCE_M


def test_swap_slots_swaps_about_half_the_episodes_and_changes_nothing_else():
    n = 400
    swapped = [sample_layout(2, e, BOTH, "slots", 0.01, swap_slots=True) for e in range(n)]
    plain = [sample_layout(2, e, BOTH, "slots", 0.01, swap_slots=False) for e in range(n)]
    flags = np.array([lay.slots_swapped for lay in swapped])
    assert 0.4 * n < flags.sum() < 0.6 * n  # binomial(400, 0.5): 5 sigma is +-50
    for lay, ref, flag in zip(swapped, plain, flags):
        red_on_blue_slot = abs(lay.cube_poses["red"][1] - CUBE_SLOTS_XY_M["blue"][1]) <= 0.01
        blue_on_red_slot = abs(lay.cube_poses["blue"][1] - CUBE_SLOTS_XY_M["red"][1]) <= 0.01
        assert red_on_blue_slot == blue_on_red_slot == bool(flag)
        assert (lay.cube_rgba, lay.table_rgba, lay.key_light_dir) == (ref.cube_rgba, ref.table_rgba,
                                                                       ref.key_light_dir)
        if not flag:
            assert lay.cube_poses == ref.cube_poses
    # the swap is a property of the episode: same seed and episode, same answer
    assert [sample_layout(2, e, BOTH, "slots", swap_slots=True).slots_swapped for e in range(20)] \
        == list(flags[:20])


def test_swap_probability_sets_the_share_of_swapped_scenes_from_one_draw():
    n = 400
    share = {p: [sample_layout(3, e, BOTH, "slots", 0.01, swap_slots=True, swap_probability=p).slots_swapped
                 for e in range(n)] for p in (0.0, 0.3, 0.5, 1.0)}
    assert not any(share[0.0]) and all(share[1.0])
    assert 0.22 * n < sum(share[0.3]) < 0.38 * n  # binomial(400, 0.3): 4 sigma is +-37
    assert all(half for low, half in zip(share[0.3], share[0.5]) if low)  # same draw: a subset
    assert sample_layout(3, 7, BOTH, "slots", swap_slots=True) == \
        sample_layout(3, 7, BOTH, "slots", swap_slots=True, swap_probability=0.5)
    with pytest.raises(ConfigError, match="swap_probability"):
        sample_layout(3, 0, BOTH, "slots", swap_slots=True, swap_probability=1.5)
    with pytest.raises(ConfigError, match="swap_probability"):
        SimConfig(swap_probability=-0.1)
    world = SimWorld(SimConfig(two_cubes=True, cube_layout="slots", swap_slots=True, seed=3,
                               swap_probability=0.3))
    assert [world.reset(e).slots_swapped for e in range(10)] == share[0.3][:10]


def test_a_lone_red_cube_uses_its_slot_even_with_swapping():
    for e in range(30):
        lay = sample_layout(1, e, ("red",), "slots", 0.01, swap_slots=True)
        assert np.abs(np.array(lay.cube_poses["red"][:2]) - CUBE_SLOTS_XY_M["red"]).max() <= 0.01
        assert not lay.slots_swapped


def test_random_layout_is_unchanged_by_the_new_options():
    # "random" draws exactly as before: the slot options do not touch it
    assert sample_layout(3, 5, BOTH) == sample_layout(3, 5, BOTH, "random", 0.04, swap_slots=True)


def test_bad_layout_options_are_refused_with_every_problem():
    with pytest.raises(ConfigError) as err:
        sample_layout(0, 0, ("green",), "slots", -0.01)
    assert "cube_jitter_m" in str(err.value) and "green" in str(err.value)
    with pytest.raises(ConfigError, match="cube_layout"):
        sample_layout(0, 0, BOTH, "grid")
    with pytest.raises(ConfigError) as err:
        SimConfig(cube_layout="grid", cube_jitter_m=0.2)
    assert "cube_layout" in str(err.value) and "cube_jitter_m" in str(err.value)


@pytest.fixture(scope="module")
def slot_world() -> SimWorld:
    return SimWorld(SimConfig(two_cubes=True, cube_layout="slots", swap_slots=True, seed=4))


def test_the_world_lays_cubes_on_their_slots_per_episode(slot_world):
    swaps = set()
    for episode in range(6):
        layout = slot_world.reset(episode)
        swaps.add(layout.slots_swapped)
        for colour, pos in slot_world.cube_positions().items():
            slot = CUBE_SLOTS_XY_M[colour if not layout.slots_swapped else
                                   {"red": "blue", "blue": "red"}[colour]]
            assert np.abs(pos[:2] - slot).max() <= slot_world.cfg.cube_jitter_m + 1e-9
            np.testing.assert_allclose(pos[:2], layout.cube_poses[colour][:2], atol=1e-9)
        np.testing.assert_allclose(slot_world.cube_orientations()["red"][[1, 2]], 0.0, atol=1e-9)  # yaw only
    assert swaps == {False, True}  # seed 4 swaps episodes 4 and 5


def test_scene_repeats_lays_out_each_scene_for_consecutive_episodes():
    paired = SimWorld(SimConfig(two_cubes=True, cube_layout="slots", swap_slots=True, seed=4,
                                scene_repeats=2))
    layouts = [paired.reset(e) for e in range(6)]  # scenes 0, 0, 1, 1, 2, 2
    for first, second in zip(layouts[::2], layouts[1::2]):
        assert (first.cube_poses, first.cube_rgba, first.key_light_dir) == \
            (second.cube_poses, second.cube_rgba, second.key_light_dir)
    assert layouts[0].cube_poses != layouts[2].cube_poses != layouts[4].cube_poses
    assert paired.reset(5) == sample_layout(4, 2, BOTH, "slots", 0.01, swap_slots=True)
    with pytest.raises(ConfigError, match="scene_repeats"):
        SimConfig(scene_repeats=0)


def test_world_success_uses_the_task_rule(slot_world):
    slot_world.reset(0)
    cubes = slot_world.cube_positions()
    gripper = slot_world.gripper_frame_position()
    for colour, pos in cubes.items():  # the start pose is about 9 cm above the table
        assert not slot_world.success(colour) and not reached(gripper, pos)
    with slot_world.lock:  # move the blue cube to 1.9 cm from the gripper frame, then 2.1 cm
        adr = slot_world.model.joint("cube_blue").qposadr[0]
        for offset, expected in ((0.019, True), (0.021, False)):
            slot_world.data.qpos[adr:adr + 3] = gripper + np.array([0.0, offset, 0.0])
            mujoco.mj_forward(slot_world.model, slot_world.data)
            assert slot_world.success("blue") is expected
            assert slot_world.success("blue", tolerance_m=0.03) is True
            assert slot_world.success("red") is False
    slot_world.reset(0)


def test_the_task_module_is_ros_and_simulator_agnostic():
    code = ("import sys, vla_ros.sim.task; "
            "assert not {'rclpy', 'mujoco'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
