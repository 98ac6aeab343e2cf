"""Camera identity by content in simulation: the seed's swapped camera devices are caught by what the
cameras see, the correct mapping passes under randomised lighting, moving arm and the seed's validation
colour shift. Training signatures come from a checkpoint trained by ``lerobot-train`` on a dataset rendered
in the simulator (:mod:`lerobot_train_testlib`, AV1 video decoded by lerobot); live frames are rendered in
scenes of another seed."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lerobot_train_testlib import IMAGE_HW, TASKS, lerobot_checkpoint
from ros_testlib import NodeProcess, Probe

from vla_ros.bringup.graph import build_graph, parse_launch_args
from vla_ros.contract import read_contract
from vla_ros.policy.camera_identity import CameraIdentityGuard
from vla_ros.policy.guards import CameraPlan

SCENES = 12
PLAN = CameraPlan({"front": "observation.images.camera1", "wrist": "observation.images.camera2"}, ())
SWAP = {"front": "wrist", "wrist": "front"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return lerobot_checkpoint(tmp_path_factory.getbasetemp())


def colour_shift(frames: list[np.ndarray], seed: int) -> list[np.ndarray]:
    """The seed colour challenge's validation shift (darker, more contrast), as offline evaluation applies."""
    from vla_ros.training.data import color_transforms
    from vla_ros.training.evaluate import SEED_VAL_COLORS

    transform = color_transforms(SEED_VAL_COLORS, max_num_transforms=4)
    torch.manual_seed(seed)
    out = []
    for f in frames:
        chw = torch.from_numpy(f).permute(2, 0, 1).float() / 255
        out.append((transform(chw).clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy())
    return out


def render_scenes(seed: int = 100, scenes: int = SCENES, frames: int = 3
                  ) -> list[dict[str, list[np.ndarray]]]:
    """Per scene (randomised lighting, table and cube colours), frames of both cameras along an arm motion."""
    from vla_ros.sim.config import SimConfig
    from vla_ros.sim.render import CameraRenderer
    from vla_ros.sim.world import SimWorld

    world = SimWorld(SimConfig(image_width=IMAGE_HW[1], image_height=IMAGE_HW[0], seed=seed, two_cubes=True))
    renderer = CameraRenderer(world, IMAGE_HW[1], IMAGE_HW[0])
    rng = np.random.default_rng(seed)
    out = []
    try:
        for scene in range(scenes):
            world.reset(scene)
            goal = world.start_pose_rad + rng.uniform(-1, 1, 6) * np.array([0.5, 0.3, 0.3, 0.3, 0.6, 0.3])
            views: dict[str, list[np.ndarray]] = {"front": [], "wrist": []}
            for t in np.linspace(0, 1, frames):
                world.set_joint_positions(world.start_pose_rad + t * (goal - world.start_pose_rad))
                for cam in views:
                    views[cam].append(renderer.render(cam))
            out.append(views)
    finally:
        renderer.close()
    return out


def test_swap_cameras_launch_argument_reaches_the_simulator():
    specs = {s.name: s for s in build_graph("deploy", parse_launch_args("deploy", ["swap_cameras:=true"]))}
    assert specs["so101_sim"].parameters["swap_cameras"] is True
    specs = {s.name: s for s in build_graph("deploy", parse_launch_args("deploy", []))}
    assert specs["so101_sim"].parameters["swap_cameras"] is False
    assert specs["smolvla_policy"].parameters["camera_check"] == "refuse"


@pytest.mark.slow
def test_swapped_cameras_refused_and_correct_ones_accepted_in_every_scene(trained):
    guard = CameraIdentityGuard(read_contract(trained.path), PLAN, "refuse")
    assert guard.active, guard.describe()
    for i, views in enumerate(render_scenes()):
        shifted = {cam: colour_shift(frames, i) for cam, frames in views.items()}
        for live in (views, shifted):
            verdict = guard.check(live)
            assert not verdict.refuse and not verdict.warn, f"scene {i}: {verdict.message}"
        swapped = guard.check({cam: views[SWAP[cam]] for cam in views})
        assert swapped.refuse, f"scene {i}: {swapped.message}"
        assert "front looks like training's observation.images.camera2 (wrist)" in swapped.message


@pytest.mark.slow
def test_so101_sim_swap_cameras_is_refused_before_the_arm_moves(trained, tmp_path):
    from sensor_msgs.msg import JointState
    from std_srvs.srv import SetBool

    from vla_ros.policy.node import SmolVLAPolicyNode
    from vla_ros.ros.qos import COMMAND_QOS

    namespace = f"/swapcam_{tmp_path.name[-8:]}"
    sim = NodeProcess("so101_sim", tmp_path / "sim.log", namespace, port=str(tmp_path / "bus"),
                      calibration_dir=str(tmp_path / "calib"), image_width=IMAGE_HW[1],
                      image_height=IMAGE_HW[0], camera_fps=10.0, two_cubes=True, seed=7, swap_cameras=True)
    probe = Probe("swap_probe", namespace)
    try:
        robot_id, calib = trained.calibration
        commands = probe.record(JointState, "policy/joint_commands", COMMAND_QOS)
        probe.add(SmolVLAPolicyNode, policy_path=str(trained.path), robot_id=robot_id,
                  calibration_dir=str(calib), task=TASKS[0], start_state_check="skip",
                  camera_map=["front=camera1", "wrist=camera2"],
                  inference_process=False, torch_threads=1, service_timeout_s=60.0)
        response = probe.call(SetBool, "policy/enable", SetBool.Request(data=True), timeout_s=90.0)
        assert not response.success, response.message
        assert "front looks like training's observation.images.camera2 (wrist)" in response.message
        assert "devices swapped?" in response.message and not commands
    finally:
        probe.close()
        sim.stop()
