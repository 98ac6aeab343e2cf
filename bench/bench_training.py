#!/usr/bin/env python3
"""Training throughput on CPU: vla_ros's trainer (frames decoded per step, and ``--cache-frames``) next
to ``lerobot-train``, same data and settings.

Builds a small SO-101-like LeRobot dataset (two AV1 cameras) and a tiny offline SmolVLA checkpoint in
a temporary directory, then runs the same number of steps, batch size and DataLoader workers
through :class:`vla_ros.training.trainer.Trainer` (in this process) and through lerobot 0.4.4's
``lerobot-train`` (a subprocess). Both time each step the same way: ``data_s`` (next batch + the
pre-processor) and ``update_s`` (forward, backward, optimizer). Printed: median samples/s, the
share of time spent loading data, our/lerobot's throughput ratio and cached/decoded (the cache's
one-off decoding is in its wall time, not in the medians). The first steps (warm-up) are left out
of the medians.

    python bench/bench_training.py [--steps 15] [--batch-size 8] [--num-workers 0]

On a shared, loaded machine both figures move with the load; compare the ratio, not the absolutes.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")

NAMES = ["shoulder_pan.pos", "shoulder_lift.pos", "elbow_flex.pos", "wrist_flex.pos", "wrist_roll.pos",
         "gripper.pos"]
WARMUP_STEPS = 3
IMAGE_HW = (72, 96)


def make_dataset(root: Path, episodes: int, frames: int, hw: tuple[int, int]) -> Path:
    """Smooth random joint motions (LeRobot units) with two cameras, written by lerobot."""
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    features = {k: {"dtype": "float32", "shape": (6,), "names": NAMES}
                for k in ("observation.state", "action")}
    for cam in ("front", "wrist"):
        features[f"observation.images.{cam}"] = {"dtype": "video", "shape": (*hw, 3),
                                                 "names": ["height", "width", "channels"]}
    ds = LeRobotDataset.create("bench", fps=30, features=features, root=root, robot_type="so101_follower")
    rng = np.random.default_rng(0)
    for _ in range(episodes):
        traj = np.cumsum(rng.normal(0, 1.0, (frames + 1, 6)), axis=0).astype(np.float32)
        for i in range(frames):
            img = rng.integers(0, 255, (*hw, 3), dtype=np.uint8)
            ds.add_frame({"observation.state": traj[i], "action": traj[i + 1], "task": "pick up the cube",
                          "observation.images.front": img, "observation.images.wrist": img[::-1].copy()})
        ds.save_episode()
    ds.finalize()
    return root


def summarize(name: str, batch: int, data_s: list[float], update_s: list[float]) -> dict[str, float]:
    """Median samples/s and data-loading share of the steps after warm-up."""
    d, u = np.array(data_s[WARMUP_STEPS:]), np.array(update_s[WARMUP_STEPS:])
    step_s = d + u
    out = {"samples_per_s": batch / float(np.median(step_s)), "data_share": float(np.sum(d) / np.sum(step_s)),
           "data_s": float(np.median(d)), "update_s": float(np.median(u))}
    print(f"{name:<14} {out['samples_per_s']:10.1f} {100 * out['data_share']:10.1f} % "
          f"{1000 * out['data_s']:10.1f} {1000 * out['update_s']:10.1f}")
    return out


def run_ours(ds: Path, ckpt: Path, out: Path, args: argparse.Namespace,
             cache: bool = False) -> tuple[list[float], list[float]]:
    """Train with vla_ros and read its per-step timings back from metrics.csv."""
    import csv

    from vla_ros.training.config import TrainConfig
    from vla_ros.training.trainer import Trainer

    cfg = TrainConfig(datasets=[str(ds)], policy_path=str(ckpt), output_dir=str(out), steps=args.steps,
                      batch_size=args.batch_size, num_workers=args.num_workers, val_freq=0,
                      save_freq=args.steps, log_freq=1, cpu=True, progress_bar=False, val_fraction=0.0,
                      augment=False, seed=0, cache_frames=cache)
    Trainer(cfg).setup().train()
    timings: dict[str, list[float]] = {"train/data_s": [], "train/update_s": []}
    with (out / "logs" / "metrics.csv").open() as f:
        for row in csv.DictReader(f):
            if row["metric"] in timings:
                timings[row["metric"]].append(float(row["value"]))
    return timings["train/data_s"], timings["train/update_s"]


def run_lerobot(ds: Path, ckpt: Path, out: Path, args: argparse.Namespace) -> tuple[list[float], list[float]]:
    """Train with ``lerobot-train`` and parse ``updt_s``/``data_s`` from its per-step log lines."""
    exe = Path(sys.executable).with_name("lerobot-train")
    cmd = [str(exe), f"--policy.path={ckpt}", "--dataset.repo_id=bench", f"--dataset.root={ds}",
           "--dataset.video_backend=pyav", "--dataset.image_transforms.enable=false",
           f"--batch_size={args.batch_size}", f"--steps={args.steps}", f"--num_workers={args.num_workers}",
           "--log_freq=1", f"--save_freq={args.steps}", "--eval_freq=0", f"--output_dir={out}",
           "--policy.device=cpu", "--policy.push_to_hub=false", "--wandb.enable=false", "--seed=0"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"lerobot-train failed:\n{proc.stderr[-3000:]}")
    logs = proc.stdout + proc.stderr
    update = [float(x) for x in re.findall(r"updt_s:([\d.]+)", logs)]
    data = [float(x) for x in re.findall(r"data_s:([\d.]+)", logs)]
    return data, update


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--num-workers", type=int, default=0)
    parser.add_argument("--episodes", type=int, default=6)
    parser.add_argument("--frames", type=int, default=40, help="frames per episode")
    args = parser.parse_args()
    if args.steps <= WARMUP_STEPS + 1:
        parser.error(f"--steps must exceed {WARMUP_STEPS + 1}")
    import logging

    logging.disable(logging.INFO)
    from vla_ros.policy.tiny import make_tiny_policy

    with tempfile.TemporaryDirectory(prefix="bench_training_") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        ds = make_dataset(root / "dataset", args.episodes, args.frames, IMAGE_HW)
        ckpt = make_tiny_policy(root / "tiny", cameras=("front", "wrist"), image_size=IMAGE_HW,
                                chunk_size=10, n_action_steps=5)
        print(f"dataset {args.episodes} x {args.frames} frames, 2 cameras {IMAGE_HW[1]}x{IMAGE_HW[0]}, "
              "tiny SmolVLA "
              f"({time.perf_counter() - t0:.1f} s to build); {args.steps} steps, batch {args.batch_size}, "
              f"{args.num_workers} workers, CPU, first {WARMUP_STEPS} steps left out")
        t0 = time.perf_counter()
        ours = run_ours(ds, ckpt, root / "ours", args)
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        cached = run_ours(ds, ckpt, root / "cached", args, cache=True)
        t_cached = time.perf_counter() - t0
        t0 = time.perf_counter()
        theirs = run_lerobot(ds, ckpt, root / "lerobot", args)
        t_lerobot = time.perf_counter() - t0
    print(f"\n{'trainer':<14} {'samples/s':>10} {'data share':>12} {'data ms':>10} {'update ms':>10}")
    a = summarize("vla_ros", args.batch_size, *ours)
    c = summarize("vla_ros cached", args.batch_size, *cached)
    b = summarize("lerobot-train", args.batch_size, *theirs)
    print(f"\nratio vla_ros / lerobot-train: {a['samples_per_s'] / b['samples_per_s']:.2f}x samples/s")
    print(f"ratio --cache-frames / decoded: {c['samples_per_s'] / a['samples_per_s']:.2f}x samples/s")
    print(f"wall time incl. start-up: vla_ros {t_ours:.1f} s (in process), cached {t_cached:.1f} s (incl. "
          f"decoding once), lerobot-train {t_lerobot:.1f} s (subprocess, incl. imports)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
