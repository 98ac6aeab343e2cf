"""Benchmark of ``vla-ros convert``: throughput (frames/s) and peak memory, two 640×480 cameras, next to
lerobot's own ``add_frame``/``save_episode`` on the same, already decoded frames.

Run: ``python bench/bench_convert.py [--seconds 5] [--vcodec libsvtav1]``. Each measurement runs in its
own process so its peak RSS (``ru_maxrss``; encoder worker processes reported separately) is its own.
The baseline holds all decoded frames in memory before it starts (that is part of its peak).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
SIZE = (480, 640)
CAMERAS = ("front", "wrist")


def _frame(i: int, cam: int) -> np.ndarray:
    """A moving gradient with a square, so the encoder has real work."""
    h, w = SIZE
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([(x + 4 * i) % 256, (y + 3 * i + 40 * cam) % 256, (x + y + 2 * i) % 256], axis=-1)
    img[100:200, (10 * i) % (w - 100):(10 * i) % (w - 100) + 100] = 255
    return img.astype(np.uint8)


def write_bag(path: Path, seconds: float) -> None:
    """A bag with 100 Hz joint_states/joint_commands and two 30 Hz 640×480 rgb8 cameras."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    from vla_ros.robot.joints import JOINT_NAMES

    ts = get_typestore(Stores.ROS2_JAZZY)
    t_ = ts.types

    def header(t: int) -> Any:
        return t_["std_msgs/msg/Header"](stamp=t_["builtin_interfaces/msg/Time"](sec=t // NS, nanosec=t % NS),
                                         frame_id="")

    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as w:
        w.set_custom_data("task", "benchmark")
        conns = {t: w.add_connection(t, "sensor_msgs/msg/JointState", typestore=ts)
                 for t in ("/joint_states", "/joint_commands")}
        cams = {c: w.add_connection(f"/cameras/{c}/image_raw", "sensor_msgs/msg/Image", typestore=ts)
                for c in CAMERAS}
        events = [(T0 + k * 10_000_000, "j", k) for k in range(int(seconds * 100) + 1)]
        events += [(T0 + 1_000_000 + round(k * NS / 30), "c", k) for k in range(int(seconds * 30) + 1)]
        for t, kind, k in sorted(events):
            if kind == "j":
                for conn in conns.values():
                    msg = t_["sensor_msgs/msg/JointState"](
                        header=header(t), name=list(JOINT_NAMES), position=np.full(6, 0.001 * k),
                        velocity=np.zeros(0), effort=np.zeros(0))
                    w.write(conn, t, ts.serialize_cdr(msg, "sensor_msgs/msg/JointState"))
                continue
            for c, conn in enumerate(cams.values()):
                msg = t_["sensor_msgs/msg/Image"](header=header(t), height=SIZE[0], width=SIZE[1],
                                                  encoding="rgb8", is_bigendian=0, step=SIZE[1] * 3,
                                                  data=_frame(k, c).reshape(-1))
                w.write(conn, t, ts.serialize_cdr(msg, "sensor_msgs/msg/Image"))


def _peaks() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mb": own, "peak_child_rss_mb": children}


def _import_lerobot() -> float:
    """Import what the conversion uses up front (one-off cost, not throughput); returns seconds."""
    start = time.perf_counter()
    import lerobot.datasets.lerobot_dataset
    import lerobot.datasets.pipeline_features
    import lerobot.processor  # noqa: F401

    return time.perf_counter() - start


def child_convert(bag: Path, out: Path, vcodec: str) -> dict[str, Any]:
    from vla_ros.convert import convert_bags, load_config

    imports = _import_lerobot()
    config = load_config(units="rad", vcodec=vcodec)
    start = time.perf_counter()
    result = convert_bags([bag], out, config, progress=False)
    seconds = time.perf_counter() - start
    return {"frames": result.frames, "seconds": seconds, "imports_s": imports, **_peaks()}


def child_lerobot(bag: Path, out: Path, vcodec: str) -> dict[str, Any]:
    """lerobot alone: the converter's own frames, decoded beforehand, fed to add_frame/save_episode."""
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    from vla_ros.convert import load_config
    from vla_ros.convert.converter import plan_bag
    from vla_ros.convert.reader import iter_frames
    from vla_ros.convert.writer import dataset_features

    config = load_config(units="rad", vcodec=vcodec)
    plan = plan_bag(bag, config, None)
    episode = plan.episodes[0]
    images = list(iter_frames(plan.scan, episode.image_indices))
    features = dataset_features("rad", {c: (*SIZE, 3) for c in CAMERAS})
    start = time.perf_counter()
    ds = LeRobotDataset.create("local/bench", 30, features, root=out, robot_type="so101_follower",
                               image_writer_threads=config.image_writer_threads * len(CAMERAS), vcodec=vcodec)
    try:
        for k, imgs in enumerate(images):
            frame = {f"observation.images.{c}": img for c, img in imgs.items()}
            frame.update({"observation.state": episode.state[k], "action": episode.action[k]})
            frame["task"] = "benchmark"
            ds.add_frame(frame)
        ds.save_episode()
    finally:
        ds.finalize()
        ds.stop_image_writer()
    seconds = time.perf_counter() - start
    return {"frames": len(images), "seconds": seconds, **_peaks()}


def _run_child(kind: str, bag: Path, out: Path, vcodec: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", kind, "--bag", str(bag), "--out", str(out),
           "--vcodec", vcodec]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=5.0, help="bag length, s (30 fps)")
    p.add_argument("--vcodec", default="libsvtav1")
    p.add_argument("--child", choices=("convert", "lerobot"))
    p.add_argument("--bag")
    p.add_argument("--out")
    args = p.parse_args()
    if args.child:
        run = child_convert if args.child == "convert" else child_lerobot
        print(json.dumps(run(Path(args.bag), Path(args.out), args.vcodec)))
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench_convert_"))
    try:
        bag = tmp / "bag"
        start = time.perf_counter()
        write_bag(bag, args.seconds)
        size_mb = sum(f.stat().st_size for f in bag.iterdir()) / 2**20
        print(f"bag: {args.seconds:.1f} s, two {SIZE[1]}x{SIZE[0]} rgb8 cameras at 30 Hz, joints at 100 Hz, "
              f"{size_mb:.0f} MB, written in {time.perf_counter() - start:.1f} s; codec {args.vcodec}")
        ours = _run_child("convert", bag, tmp / "ours", args.vcodec)
        base = _run_child("lerobot", bag, tmp / "lerobot", args.vcodec)
        for name, r in (("vla-ros convert (read+align+decode+write)", ours),
                        ("lerobot add_frame/save_episode (pre-decoded)", base)):
            rate = r["frames"] / r["seconds"]
            print(f"{name:<46} {r['frames']:>5} frames {r['seconds']:>7.2f} s {rate:>7.1f} frames/s  "
                  f"peak RSS {r['peak_rss_mb']:>6.0f} MB (encoder workers {r['peak_child_rss_mb']:.0f} MB)")
        ratio = (ours["frames"] / ours["seconds"]) / (base["frames"] / base["seconds"])
        print(f"throughput ratio convert / lerobot alone: {ratio:.2f} "
              f"(lerobot import time, excluded above: {ours['imports_s']:.1f} s)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
