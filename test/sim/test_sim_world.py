"""The simulated world: model from our URDF, servo-like goal tracking, limp torque-off, episodes,
randomisation from the seed, task queries, and MujocoPhysics' tick mapping."""

import mujoco
import numpy as np
import pytest
import yaml

from vla_ros.bus import MotorPhysics
from vla_ros.config import param_specs
from vla_ros.errors import ConfigError
from vla_ros.paths import config_file, urdf_file
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.robot.kinematics import KinematicTree
from vla_ros.sim.config import SimConfig, SimNodeConfig
from vla_ros.sim.errors import UnknownCubeError
from vla_ros.sim.physics import MujocoPhysics, angle_to_ticks, ticks_to_angle
from vla_ros.sim.randomization import CUBE_REGION_X_M, CUBE_REGION_Y_M, sample_layout
from vla_ros.sim.scene import CUBE_HALF_SIZE_M
from vla_ros.sim.world import SERVO_MAX_SPEED_RAD_S, SimWorld

SHOULDER_LIFT = JOINT_NAMES.index("shoulder_lift")


@pytest.fixture(scope="module")
def world() -> SimWorld:
    return SimWorld(SimConfig(two_cubes=True, seed=7))


def test_model_has_the_arm_the_scene_and_both_cameras(world):
    m = world.model
    for name in JOINT_NAMES:
        assert m.joint(name).type == mujoco.mjtJoint.mjJNT_HINGE
        assert m.actuator(name).trnid[0] == m.joint(name).id
    for name in ("front", "wrist", "table", "cube_red", "cube_blue", "bin"):
        assert name in {m.camera(i).name for i in range(m.ncam)} | {m.geom(i).name for i in range(m.ngeom)} \
            | {m.body(i).name for i in range(m.nbody)}, name
    assert m.nlight >= 2
    assert m.opt.timestep == pytest.approx(1 / 500)


def test_simulated_kinematics_equal_the_urdf(world):
    tree = KinematicTree(urdf_file())
    rng = np.random.default_rng(1)
    for _ in range(20):
        q = rng.uniform(-1.0, 1.0, len(JOINT_NAMES))
        world.set_joint_positions(q)
        expected = tree.link_pose("gripper_frame_link", dict(zip(JOINT_NAMES, world.joint_positions())))
        np.testing.assert_allclose(world.gripper_frame_position(), expected[:3, 3], atol=1e-6)
    world.reset()


def test_goal_is_followed_at_servo_speed_and_held():
    world = SimWorld(SimConfig())
    start = world.joint_positions()[SHOULDER_LIFT]
    world.set_goal(SHOULDER_LIFT, start + 0.6)
    world.step(50)  # 0.1 s: at most ~0.46 rad at the servo's speed
    moved = world.joint_positions()[SHOULDER_LIFT] - start
    assert 0.1 < moved <= SERVO_MAX_SPEED_RAD_S * 0.1 + 0.02
    world.step(500)
    assert world.joint_positions()[SHOULDER_LIFT] == pytest.approx(start + 0.6, abs=0.03)
    world.set_goal(SHOULDER_LIFT, 99.0)  # clamped to the joint limit
    assert world.goals()[SHOULDER_LIFT] == pytest.approx(1.74533)


def test_torque_off_is_limp_and_torque_on_holds_where_it_is():
    world = SimWorld(SimConfig(start_pose_rad=[0.0, 0.5, 0.0, 0.0, 0.0, 0.0]))  # arm leaning forward
    world.step(250)
    held = world.joint_positions()[SHOULDER_LIFT]
    world.set_torque(SHOULDER_LIFT, False)
    world.step(500)
    sagged = world.joint_positions()[SHOULDER_LIFT]
    assert sagged > held + 0.1, (held, sagged)  # gravity pulls the unpowered arm down (forward)
    world.set_torque(SHOULDER_LIFT, True)
    world.set_goal(SHOULDER_LIFT, sagged)
    world.step(500)
    assert world.joint_positions()[SHOULDER_LIFT] == pytest.approx(sagged, abs=0.05)
    assert world.torque().all()


def test_layout_is_reproducible_per_seed_and_episode_and_varies():
    a, b = sample_layout(3, 5, ("red", "blue")), sample_layout(3, 5, ("red", "blue"))
    assert a == b
    layouts = [sample_layout(3, e, ("red", "blue")) for e in range(20)]
    assert len({lay.cube_poses["red"] for lay in layouts}) == 20
    assert len({lay.table_rgba for lay in layouts}) == 20
    assert len({lay.key_light_diffuse for lay in layouts}) == 20
    for lay in layouts:
        for x, y, _ in lay.cube_poses.values():
            assert CUBE_REGION_X_M[0] <= x <= CUBE_REGION_X_M[1]
            assert CUBE_REGION_Y_M[0] <= y <= CUBE_REGION_Y_M[1]
        red, blue = lay.cube_rgba["red"], lay.cube_rgba["blue"]
        assert red[0] > 0.6 > max(red[1:3]) and blue[2] > 0.6 > max(blue[:2])
    assert sample_layout(4, 5, ("red",)).cube_poses != a.cube_poses


def test_reset_restores_the_start_state_with_the_next_episode(world):
    world.set_joint_positions(np.zeros(len(JOINT_NAMES)))
    world.step(100)
    t = world.sim_time_s
    layout = world.reset()
    assert layout.episode == world.episode
    np.testing.assert_allclose(world.joint_positions(), world.cfg.start_pose_rad, atol=1e-9)
    np.testing.assert_allclose(world.goals(), world.cfg.start_pose_rad)
    assert world.sim_time_s == t  # simulated time never jumps back
    for name, pos in world.cube_positions().items():
        x, y, _ = layout.cube_poses[name]
        np.testing.assert_allclose(pos, [x, y, CUBE_HALF_SIZE_M], atol=1e-9)
        np.testing.assert_allclose(world.model.geom(f"cube_{name}").rgba, layout.cube_rgba[name])
    again = world.reset(episode=layout.episode)
    assert again == layout
    world.step(200)  # cubes rest on the table
    for pos in world.cube_positions().values():
        assert pos[2] == pytest.approx(CUBE_HALF_SIZE_M, abs=2e-3)


def test_success_when_the_gripper_frame_reaches_the_named_cube(world):
    world.reset()
    assert not world.success("red")
    with world.lock:  # put the cube where the gripper frame is (no grasping needed for the check)
        adr = world.model.joint("cube_red").qposadr[0]
        world.data.qpos[adr:adr + 3] = world.gripper_frame_position() + np.array([0.01, 0.0, 0.0])
        mujoco.mj_forward(world.model, world.data)
    assert world.success("red") and not world.success("blue")
    assert not world.success("red", tolerance_m=0.005)
    with pytest.raises(UnknownCubeError, match="green"):
        world.success("green")
    assert SimWorld(SimConfig()).cube_names == ("red",)


def test_physics_maps_ticks_like_the_sim_calibration(world):
    physics = MujocoPhysics(world)
    assert isinstance(physics, MotorPhysics)
    assert angle_to_ticks(0.0) == 2048
    assert angle_to_ticks(np.pi / 2) == round(2048 + 4095 / 4)
    assert ticks_to_angle(angle_to_ticks(1.0)) == pytest.approx(1.0, abs=2 * np.pi / 4095)
    world.reset()
    ticks = [physics.present(i) for i in physics.motor_ids]
    assert ticks == [angle_to_ticks(a) for a in world.cfg.start_pose_rad]
    physics.set_goal(2, angle_to_ticks(0.0))
    assert world.goals()[SHOULDER_LIFT] == pytest.approx(0.0, abs=1e-3)
    world.step(25)  # moving up from -1.0 rad towards 0 at up to ~3000 ticks/s
    assert 200 < physics.velocity(2) < 3500
    assert physics.velocity(1) == pytest.approx(0.0, abs=20)
    world.reset()


def test_bad_configuration_is_refused_with_every_problem():
    with pytest.raises(ConfigError) as err:
        SimConfig(camera_fps=0.0, image_width=3, start_pose_rad=[0.0])
    for name in ("camera_fps", "image_width", "start_pose_rad"):
        assert name in str(err.value)
    with pytest.raises(ConfigError, match="elbow_flex"):
        SimWorld(SimConfig(start_pose_rad=[0.0, 0.0, 3.0, 0.0, 0.0, 0.0]))


def test_the_shipped_parameter_file_declares_valid_parameters_only():
    values = yaml.safe_load(config_file("so101_sim.yaml").read_text())["/**"]["ros__parameters"]
    assert set(values) == set(param_specs(SimNodeConfig))
    cfg = SimNodeConfig(**values)
    assert cfg.start_pose_rad == list(SimNodeConfig().start_pose_rad)
