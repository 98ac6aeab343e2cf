"""A SmolVLA checkpoint trained by the real ``lerobot-train`` on a dataset rendered in the simulator.

Importable from any test module (``from lerobot_train_testlib import lerobot_checkpoint``). The dataset
is written with lerobot's ``LeRobotDataset`` writer: episodes of the simulated SO-101 (each episode its
own randomised lighting and cube colours) moving smoothly from a start pose, its front and wrist cameras
rendered at 64x48, states and actions in LeRobot units (degrees, gripper %) of the simulated arm's
calibration. The checkpoint is a tiny offline SmolVLA (``vla_ros.policy.tiny``) fine-tuned for two steps
by ``lerobot-train`` with ``--rename_map`` front -> camera1, wrist -> camera2; it has no
``vla_ros_contract.json``, like every checkpoint a seed user brought. Built once per test session.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vla_ros.scheduling import keep_scheduling

TASKS = ("pick up the cube", "push the cube to the left")
IMAGE_HW = (48, 64)
FPS = 30
CAMERAS = ("front", "wrist")
RENAME = {"observation.images.front": "observation.images.camera1",
          "observation.images.wrist": "observation.images.camera2"}
START_SPREAD_RAD = np.array([0.05, 0.04, 0.04, 0.05, 0.06, 0.03])
"""Standard deviation of the episodes' start poses around the simulator's start pose, rad."""


@dataclass(frozen=True)
class TrainedCheckpoint:
    """What :func:`lerobot_checkpoint` built.

    Attributes:
        path: the ``pretrained_model`` directory ``lerobot-train`` wrote.
        dataset: the training dataset's root.
        first_states: ``(episodes, 6)`` first ``observation.state`` of each episode, LeRobot units.
        calibration: ``(robot_id, calibration_dir)`` of the simulated arm (the data's units).
    """

    path: Path
    dataset: Path
    first_states: np.ndarray
    calibration: tuple[str, Path]


def _converter(calibration: tuple[str, Path]):
    from vla_ros.robot.calibration import calibration_path, load_calibration
    from vla_ros.robot.units import UnitConverter

    return UnitConverter.from_calibration(load_calibration(calibration_path(*calibration)))


def write_calibration(root: Path, robot_id: str = "sim_lerobot_train") -> tuple[str, Path]:
    """The simulated arm's lerobot calibration under ``root``."""
    from vla_ros.robot.calibration import calibration_path, save_calibration, sim_calibration
    from vla_ros.robot.description import joint_limits

    limits = {n: (lim.lower_rad, lim.upper_rad) for n, lim in joint_limits().items()}
    save_calibration(sim_calibration(limits), calibration_path(robot_id, root))
    return robot_id, root


def make_sim_dataset(root: Path, calibration: tuple[str, Path], *, episodes: int = 6, frames: int = 12,
                     seed: int = 0) -> np.ndarray:
    """Write the dataset at ``root`` (must not exist); returns each episode's first state (LeRobot units)."""
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    from vla_ros.robot.joints import LEROBOT_FEATURE_NAMES
    from vla_ros.sim.config import SimConfig
    from vla_ros.sim.render import CameraRenderer
    from vla_ros.sim.world import SimWorld

    converter = _converter(calibration)
    names = list(LEROBOT_FEATURE_NAMES)
    features = {k: {"dtype": "float32", "shape": (6,), "names": names}
                for k in ("observation.state", "action")}
    for cam in CAMERAS:
        features[f"observation.images.{cam}"] = {"dtype": "video", "shape": (*IMAGE_HW, 3),
                                                 "names": ["height", "width", "channels"]}
    ds = LeRobotDataset.create("local/" + root.name, fps=FPS, features=features, root=root,
                               robot_type="so101_follower", use_videos=True)
    world = SimWorld(SimConfig(image_width=IMAGE_HW[1], image_height=IMAGE_HW[0], seed=seed, two_cubes=True))
    renderer = CameraRenderer(world, IMAGE_HW[1], IMAGE_HW[0])
    rng = np.random.default_rng(seed)
    firsts = []
    try:
        for ep in range(episodes):
            world.reset(ep)
            start = world.start_pose_rad + rng.normal(0, START_SPREAD_RAD)
            goal = start + rng.uniform(-1, 1, 6) * np.array([0.5, 0.3, 0.3, 0.3, 0.6, 0.3])
            t = 0.5 - 0.5 * np.cos(np.pi * np.linspace(0, 1, frames + 1))[:, None]
            traj = converter.to_lerobot(start + (goal - start) * t)
            for i in range(frames):
                world.set_joint_positions(converter.to_ros(traj[i]))
                frame = {"observation.state": traj[i].astype(np.float32),
                         "action": traj[i + 1].astype(np.float32), "task": TASKS[ep % len(TASKS)]}
                for cam in CAMERAS:
                    frame[f"observation.images.{cam}"] = renderer.render(cam)
                ds.add_frame(frame)
            with keep_scheduling():  # the AV1 encoder would leave pytest real-time
                ds.save_episode()
            firsts.append(traj[0].astype(np.float32).astype(np.float64))
        ds.finalize()
    finally:
        renderer.close()
    return np.stack(firsts)


def train_with_lerobot(dataset: Path, out: Path, policy: Path, steps: int = 2) -> Path:
    """Fine-tune ``policy`` on ``dataset`` with ``lerobot-train`` (CPU, offline); returns pretrained_model."""
    exe = Path(sys.executable).with_name("lerobot-train")
    cmd = [str(exe), f"--policy.path={policy}", f"--dataset.repo_id=local/{dataset.name}",
           f"--dataset.root={dataset}", "--dataset.video_backend=pyav", "--batch_size=4", f"--steps={steps}",
           "--num_workers=0", "--log_freq=1", f"--save_freq={steps}", "--eval_freq=0", f"--output_dir={out}",
           "--policy.device=cpu", "--policy.push_to_hub=false", "--wandb.enable=false", "--seed=0",
           f"--rename_map={json.dumps(RENAME)}"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", WANDB_MODE="disabled")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"lerobot-train failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return out / "checkpoints" / "last" / "pretrained_model"


def lerobot_checkpoint(base: Path) -> TrainedCheckpoint:
    """Build (once per ``base``, e.g. the session's base temp dir) the dataset and the trained checkpoint."""
    from vla_ros.policy.tiny import make_tiny_policy

    root = base / "lerobot_train"
    done = root / "done.json"
    calibration = ("sim_lerobot_train", root / "calibration")
    if not done.is_file():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        write_calibration(calibration[1], calibration[0])
        firsts = make_sim_dataset(root / "sim_pick", calibration)
        tiny = make_tiny_policy(root / "tiny", image_size=IMAGE_HW, chunk_size=10, n_action_steps=5, fps=FPS)
        path = train_with_lerobot(root / "sim_pick", root / "train", tiny)
        done.write_text(json.dumps({"path": str(path), "first_states": firsts.tolist()}))
    info = json.loads(done.read_text())
    return TrainedCheckpoint(Path(info["path"]), root / "sim_pick", np.array(info["first_states"]),
                             calibration)
