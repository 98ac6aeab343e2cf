"""Benchmark of ``vla-ros diagnose``: time for 50 training vs 10 deployment episodes (goal: under 60 s on
2 cores with ``--no-images``, i.e. without video decoding), and with images for comparison.

Run: ``python bench/bench_diagnose.py [--train-episodes 50] [--deploy-episodes 10] [--frames 400]``.
The training dataset (lerobot, H.264, two 96×128 cameras; 400 frames per episode is the seed
dataset's 100 832 frames / 241 episodes) and the deployment bags (100 Hz joint_states and
joint_commands in radians, two 30 Hz 96×128 rgb8 cameras, the recorder's bag writer) are built first
and not timed. The timed part is the whole ``diagnose`` plus ``write_diagnosis`` (report and plots).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
FPS = 30
SIZE = (96, 128)
CAMERAS = ("front", "wrist")


def trajectory(rng: np.random.Generator, frames: int) -> np.ndarray:
    """``(frames, 6)`` LeRobot units: a smooth reach from near the home pose, gripper open then closed."""
    s = np.linspace(0, 1, frames)[:, None]
    home = np.array([-8.0, -98.0, 100.0, 75.0, -52.0, 0.5]) + rng.normal(0, [3, 1, 1, 2, 2, 0.2])
    arm = home + rng.normal(0, 15, 6) * (10 * s**3 - 15 * s**4 + 6 * s**5)
    arm[:, 5] = np.where((s[:, 0] > 0.1) & (s[:, 0] < 0.5), 35.0, 2.0)
    return arm + rng.normal(0, 0.05, arm.shape)


def frame(k: int, cam: int) -> np.ndarray:
    """A moving gradient (the encoder gets real work)."""
    h, w = SIZE
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([(x + 2 * k) % 256, (y + 40 * cam) % 256, (x + y + k) % 256], axis=-1).astype(np.uint8)


def write_training(root: Path, episodes: int, frames: int) -> Path:
    """The training dataset, with lerobot through the converter's writer."""
    from vla_ros.convert.writer import DatasetWriter, dataset_features

    rng = np.random.default_rng(0)
    images = [{f"observation.images.{c}": frame(k, i) for i, c in enumerate(CAMERAS)} for k in range(frames)]
    features = dataset_features("lerobot", {c: (*SIZE, 3) for c in CAMERAS})
    with DatasetWriter(root, features, FPS, "so101_follower", vcodec="h264") as w:
        for _ in range(episodes):
            a = trajectory(rng, frames).astype(np.float32)
            w.add_episode(({"observation.state": a[max(k - 2, 0)], "action": a[k], **images[k]}
                           for k in range(frames)), "Grab the brain")
    return root


def write_bags(out: Path, episodes: int, frames: int) -> list[Path]:
    """Deployment bags with the recorder's rosbags writer (radians, as the arm publishes them)."""
    from vla_ros.record.bag import EpisodeBagWriter, typestore_for
    from vla_ros.robot.calibration import sim_calibration
    from vla_ros.robot.description import joint_limits
    from vla_ros.robot.joints import JOINT_NAMES
    from vla_ros.robot.units import UnitConverter

    ts = typestore_for()
    t_ = ts.types
    units = UnitConverter.from_calibration(sim_calibration(
        {n: (lim.lower_rad, lim.upper_rad) for n, lim in joint_limits().items()}))
    topics = {"/joint_states": "sensor_msgs/msg/JointState", "/joint_commands": "sensor_msgs/msg/JointState",
              **{f"/cameras/{c}/image_raw": "sensor_msgs/msg/Image" for c in CAMERAS}}
    writer = EpisodeBagWriter(out, topics, typestore=ts, prefix="deploy")
    rng = np.random.default_rng(1)
    imgs = [[frame(k, i).reshape(-1) for i in range(len(CAMERAS))] for k in range(frames)]

    def header(t: int) -> Any:
        return t_["std_msgs/msg/Header"](stamp=t_["builtin_interfaces/msg/Time"](sec=t // NS, nanosec=t % NS),
                                         frame_id="")

    def joints(t: int, q: np.ndarray) -> bytes:
        msg = t_["sensor_msgs/msg/JointState"](header=header(t), name=list(JOINT_NAMES), position=q,
                                               velocity=np.zeros(0), effort=np.zeros(0))
        return ts.serialize_cdr(msg, "sensor_msgs/msg/JointState")

    bags = []
    for _ in range(episodes):
        writer.start("Grab the brain")
        rad = units.to_ros(trajectory(rng, frames))
        span_s = (frames - 1) / FPS
        times = np.arange(0, span_s, 0.01)
        q = np.stack([np.interp(times, np.arange(frames) / FPS, rad[:, j]) for j in range(6)], axis=1)
        for t_s, qi in zip(times, q):
            t = T0 + round(t_s * NS)
            writer.write("/joint_states", t, joints(t, qi))
            writer.write("/joint_commands", t + 2_000_000, joints(t + 2_000_000, qi))
        for k in range(frames):
            t = T0 + round(k * NS / FPS) + 1_000_000
            for i, c in enumerate(CAMERAS):
                msg = t_["sensor_msgs/msg/Image"](header=header(t), height=SIZE[0], width=SIZE[1],
                                                  encoding="rgb8", is_bigendian=0, step=SIZE[1] * 3,
                                                  data=imgs[k][i])
                writer.write(f"/cameras/{c}/image_raw", t, ts.serialize_cdr(msg, "sensor_msgs/msg/Image"))
        bags.append(writer.stop())
    return bags


def timed(train: Path, bags: list[Path], out: Path, images: bool) -> tuple[float, int]:
    from vla_ros.convert.mapping import load_config
    from vla_ros.diagnose import diagnose, write_diagnosis

    start = time.perf_counter()
    result = diagnose(train, bags, images=images, config=load_config(sim_calibration=True), progress=False)
    write_diagnosis(result, out)
    return time.perf_counter() - start, len(result.findings)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train-episodes", type=int, default=50)
    p.add_argument("--deploy-episodes", type=int, default=10)
    p.add_argument("--frames", type=int, default=400, help="frames per episode")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_diagnose_"))
    try:
        t = time.perf_counter()
        train = write_training(work / "train", args.train_episodes, args.frames)
        bags = write_bags(work / "bags", args.deploy_episodes, args.frames)
        print(f"setup (not timed): {time.perf_counter() - t:.1f} s; training {args.train_episodes} x "
              f"{args.frames} frames, deployment {args.deploy_episodes} bags x {args.frames} frames")
        no_img, n = timed(train, bags, work / "diag_noimg", images=False)
        print(f"diagnose --no-images: {no_img:.1f} s ({n} findings); goal < 60 s: ratio {no_img / 60:.2f}")
        with_img, _ = timed(train, bags, work / "diag_img", images=True)
        print(f"diagnose with images: {with_img:.1f} s (ratio to --no-images {with_img / no_img:.2f})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
