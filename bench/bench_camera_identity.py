#!/usr/bin/env python3
"""Camera identity by content: margins over simulated scenes, and the cost of one check.

Training signatures are made from the simulator's front and wrist cameras in the scenes of one seed
(each scene its own randomised lighting, table and cube colours; the arm at several poses), as
``vla-ros contract`` makes them from a dataset's episodes. Live frames come from scenes of another
seed, along an arm motion, plain and with the seed colour challenge's validation colour shift. For the
descriptor in use (:mod:`vla_ros.contract.signature`) and, for the choice, two alternatives (grey
levels, Lab chroma), it prints per condition:

* the smallest and median *correct margin*: per camera, how much the correct assignment outscores the
  swapped one (a swap is refused above ``MIN_MARGIN``; a correct mapping must stay above it too);
* the largest *cross score*: a live camera's score against the other camera's signature;
* the milliseconds of one check (two cameras, one frame each) with the descriptor in use.

    python bench/bench_camera_identity.py [--scenes 20] [--size 64x48]
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
import torch

from vla_ros.contract.signature import MIN_MARGIN, CameraSignature, descriptor, make_signature, match_cameras
from vla_ros.sim.config import SimConfig
from vla_ros.sim.render import CameraRenderer
from vla_ros.sim.world import SimWorld
from vla_ros.training.data import color_transforms
from vla_ros.training.evaluate import SEED_VAL_COLORS

CAMS = ("front", "wrist")


def render(seed: int, scenes: int, poses: int, size: tuple[int, int]) -> list[dict[str, list[np.ndarray]]]:
    world = SimWorld(SimConfig(image_width=size[0], image_height=size[1], seed=seed, two_cubes=True))
    renderer = CameraRenderer(world, *size)
    rng = np.random.default_rng(seed)
    out = []
    for scene in range(scenes):
        world.reset(scene)
        goal = world.start_pose_rad + rng.uniform(-1, 1, 6) * np.array([0.5, 0.3, 0.3, 0.3, 0.6, 0.3])
        views: dict[str, list[np.ndarray]] = {c: [] for c in CAMS}
        for t in np.linspace(0, 1, poses):
            world.set_joint_positions(world.start_pose_rad + t * (goal - world.start_pose_rad))
            for c in CAMS:
                views[c].append(renderer.render(c))
        out.append(views)
    renderer.close()
    return out


def shift(frames: list[np.ndarray], transform) -> list[np.ndarray]:
    out = []
    for f in frames:
        chw = torch.from_numpy(f).permute(2, 0, 1).float() / 255
        out.append((transform(chw).clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy())
    return out


def _unit(v: np.ndarray) -> np.ndarray | None:
    v = v.astype(np.float32).ravel()
    v -= v.mean()
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-6 else None


def grey_levels(img: np.ndarray) -> np.ndarray | None:
    return _unit(cv2.resize(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), (16, 12), interpolation=cv2.INTER_AREA))


def lab_chroma(img: np.ndarray) -> np.ndarray | None:
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
    return _unit(cv2.resize(lab[..., 1:], (8, 6), interpolation=cv2.INTER_AREA))


def margins(method, train, scenes) -> tuple[np.ndarray, float]:
    sigs = {c: np.stack([d for v in train for f in v[c] if (d := method(f)) is not None]) for c in CAMS}

    def s(frames, c):
        return float(np.mean([np.max(sigs[c] @ method(f)) for f in frames]))

    out, cross = [], -1.0
    for v in scenes:
        m = np.array([[s(v[a], b) for b in CAMS] for a in CAMS])
        out.append((m[0, 0] + m[1, 1] - m[0, 1] - m[1, 0]) / 2)
        cross = max(cross, m[0, 1], m[1, 0])
    return np.array(out), cross


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=20)
    parser.add_argument("--size", default="64x48", help="camera WIDTHxHEIGHT")
    args = parser.parse_args()
    size = tuple(int(x) for x in args.size.split("x"))
    train = render(0, 6, 4, size)
    live = render(100, args.scenes, 3, size)
    transform = color_transforms(SEED_VAL_COLORS, max_num_transforms=4)
    torch.manual_seed(0)
    shifted = [{c: shift(v[c], transform) for c in CAMS} for v in live]
    print(f"{args.scenes} live scenes (seed 100) vs signatures of 6 training scenes (seed 0), {args.size}; "
          f"refusal needs a margin > {MIN_MARGIN} per camera")
    print(f"{'descriptor':<24}{'live frames':<14}{'min margin':>11}{'median':>9}{'max cross score':>17}")
    for name, method in (("sobel structure (used)", descriptor), ("grey levels", grey_levels),
                         ("Lab chroma", lab_chroma)):
        for label, scenes in (("plain", live), ("colour shift", shifted)):
            m, cross = margins(method, train, scenes)
            print(f"{name:<24}{label:<14}{m.min():>11.3f}{np.median(m):>9.3f}{cross:>17.3f}")
    sigs = {f"observation.images.{c}": make_signature([f for v in train for f in v[c]]) for c in CAMS}
    assigned = {c: f"observation.images.{c}" for c in CAMS}
    refused_swaps = sum(not match_cameras({c: v[o] for c, o in zip(CAMS, CAMS[::-1])}, assigned, sigs).ok
                        for v in live + shifted)
    accepted = sum(match_cameras(v, assigned, sigs).ok for v in live + shifted)
    print(f"decision: correct mapping accepted {accepted}/{2 * args.scenes}, swap refused "
          f"{refused_swaps}/{2 * args.scenes}")
    one = {c: [live[0][c][0]] for c in CAMS}
    runs = 200
    t0 = time.perf_counter()
    for _ in range(runs):
        match_cameras(one, assigned, sigs)
    ms = (time.perf_counter() - t0) / runs * 1000
    frames = sum(len(s.frames) for s in sigs.values() if isinstance(s, CameraSignature))
    print(f"one check (2 cameras x 1 frame of {args.size}, {frames} stored descriptors): {ms:.3f} ms")
    big = {c: [cv2.resize(live[0][c][0], (640, 480))] for c in CAMS}
    t0 = time.perf_counter()
    for _ in range(50):
        match_cameras(big, assigned, sigs)
    print(f"one check at 640x480: {(time.perf_counter() - t0) / 50 * 1000:.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
