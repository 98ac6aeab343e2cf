"""Bench: the SmolVLA policy node's timing on this machine.

Prints three tables:

1. control-tick jitter of ``smolvla_policy`` (its executable, in its own process, as deployed) while
   inference runs back to back: gaps between the header stamps of consecutive ``policy/joint_commands``
   (p50, p99, largest) against the control period;
2. per-chunk time of the node's whole inference pipeline (observation decoding and checks, the saved
   pre-processor, ``predict_action_chunk``, post-processor, unit conversion, NaN check) against a bare
   ``predict_action_chunk`` on the same, already pre-processed inputs: the overhead ratio;
3. a full-size SmolVLA (random weights; the SmolVLM2-500M-Video-Instruct architecture: SigLIP
   12 x 768, patch 16, 512 px, pixel shuffle 4; Llama text 960 wide, 15 heads / 5 KV heads, of whose
   32 layers SmolVLA keeps 16; action expert 0.75 x width), built offline: per-chunk time on CPU in
   float32 and faster settings (bfloat16 backbone, fewer flow steps), each with its largest action
   difference from float32 / 10 steps on the same inputs and noise.

Run: ``python bench/bench_policy.py`` (about three minutes on 2 quiet cores, more when they are shared;
``--quick`` skips the full-size model, ``--repeats N`` times more chunks). Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(101, 200)))
os.environ.setdefault("ROS_LOCALHOST_ONLY", "1")
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch

from vla_ros.camera.image import rgb_to_fields
from vla_ros.policy.checkpoint import (
    CheckpointInfo,
    LoadedPolicy,
    cast_backbone,
    inspect_checkpoint,
    load_policy,
)
from vla_ros.policy.pipeline import ObservationSnapshot, PolicyPipeline
from vla_ros.policy.tiny import (
    default_stats,
    make_tiny_config,
    make_tiny_policy,
    make_vlm_dir,
    tiny_features,
)
from vla_ros.robot.calibration import (
    calibration_path,
    load_calibration,
    save_calibration,
    sim_calibration,
)
from vla_ros.robot.description import joint_limits
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.robot.units import UnitConverter

TASK = "pick up the red cube and place it in the bowl"
TOLERANCE_DEG = 1.0
"""A setting counts as correct when no action differs from float32 / 10 steps by more than this (about
11 encoder ticks of an STS3215, 4096 per turn)."""
HOME_RAD = [0.1, -0.2, 0.3, -0.4, 0.5, 0.2]

SMOLVLM2_500M_VISION = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
                        "num_attention_heads": 12, "patch_size": 16, "image_size": 512}
SMOLVLM2_500M_TEXT = {"hidden_size": 960, "intermediate_size": 2560, "num_hidden_layers": 32,
                      "num_attention_heads": 15, "num_key_value_heads": 5, "head_dim": 64,
                      "max_position_embeddings": 8192, "rope_theta": 100000.0}
SMOLVLM2_500M_VOCAB = 49280
"""HuggingFaceTB/SmolVLM2-500M-Video-Instruct ``config.json`` (scale_factor 4); SmolVLA keeps the first
``num_vlm_layers=16`` text layers and an expert ``expert_width_multiplier=0.75`` as wide
(lerobot ``SmolVLAConfig`` defaults)."""


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def executable(name: str, module: str) -> list[str]:
    script = Path(sys.executable).parent / name
    return [str(script)] if script.exists() else [sys.executable, "-c", f"import sys, {module} as m; "
                                                  "sys.exit(m.main())"]


def sim_calibration_dir(root: Path) -> tuple[str, Path]:
    limits = {n: (lim.lower_rad, lim.upper_rad) for n, lim in joint_limits().items()}
    save_calibration(sim_calibration(limits), calibration_path("bench", root))
    return "bench", root


# ----------------------------------------------------------------------------- 1. jitter
def bench_jitter(ckpt: Path, calib: tuple[str, Path], seconds: float, torch_threads: int,
                 inference_process: bool, fps: float = 0.0) -> None:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from sensor_msgs.msg import Image, JointState
    from std_srvs.srv import SetBool

    from vla_ros.msg import PolicyStatus
    from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS, STATUS_QOS

    info = inspect_checkpoint(ckpt)
    fps, steps = fps or info.fps or 30.0, info.config.n_action_steps
    cmd = [*executable("smolvla_policy", "vla_ros.policy.node"), "--ros-args", "-r", "__ns:=/bench_policy",
           "-p", f"policy_path:={ckpt}", "-p", f"robot_id:={calib[0]}", "-p", f"calibration_dir:={calib[1]}",
           "-p", f"task:={TASK}", "-p", "start_state_check:=skip", "-p", f"torch_threads:={torch_threads}",
           "-p", f"inference_process:={str(inference_process).lower()}", "-p", f"fps:={fps}",
           "-p", f"replan_threshold:={steps - 1}",  # inference back to back
           "-p", "camera_map:=[front=camera1, wrist=camera2]", "--log-level", "warn"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rclpy.init()
    node = Node("bench_policy_io", namespace="/bench_policy")
    stamps: list[float] = []
    status: list[PolicyStatus] = []
    node.create_subscription(JointState, "policy/joint_commands",
                             lambda m: stamps.append(m.header.stamp.sec + m.header.stamp.nanosec * 1e-9),
                             COMMAND_QOS)
    node.create_subscription(PolicyStatus, "policy/status", status.append, STATUS_QOS)
    js_pub = node.create_publisher(JointState, "joint_states", SENSOR_QOS)
    img_pubs = [node.create_publisher(Image, f"cameras/{cam}/image_raw", SENSOR_QOS)
                for cam in ("front", "wrist")]
    h, w = info.image_features["observation.images.camera1"][1:]
    image = Image(**rgb_to_fields(np.full((h, w, 3), 90, np.uint8)))

    def publish() -> None:
        now = node.get_clock().now()
        js = JointState(name=list(JOINT_NAMES), position=HOME_RAD)
        js.header.stamp = image.header.stamp = now.to_msg()
        js_pub.publish(js)
        for pub in img_pubs:
            pub.publish(image)

    node.create_timer(1 / 30, publish)
    client = node.create_client(SetBool, "policy/enable")
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()
    try:
        deadline = time.monotonic() + 120
        while not client.service_is_ready() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        if not client.service_is_ready():
            print(f"  node did not come up: {proc.stderr.read() if proc.poll() is not None else 'timeout'}")
            return
        client.call_async(SetBool.Request(data=True))
        while len(stamps) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        start = len(stamps)
        time.sleep(seconds)
        gaps_ms = list(np.diff(np.array(stamps[start:])) * 1e3)
    finally:
        executor.shutdown(timeout_sec=2.0)
        node.destroy_node()
        rclpy.try_shutdown()
        proc.terminate()
        proc.wait(timeout=20)
    last = status[-1] if status else None
    period_ms = 1e3 / fps
    where = "child process" if inference_process else "thread"
    print(f"  inference in a {where}: {fps:g} Hz (period {period_ms:.1f} ms), {len(gaps_ms) + 1} commands in "
          f"{seconds:g} s, torch_threads={torch_threads}")
    if last is not None:
        print(f"  inference: {last.chunks_done} chunks, mean {last.latency_mean_s * 1e3:.0f} ms, "
              f"p99 {last.latency_p99_s * 1e3:.0f} ms; dry ticks {last.dry_ticks}")
    if not gaps_ms:
        print("  no commands: every chunk came after its last action's time")
        return
    print(f"  gap between commands: p50 {percentile(gaps_ms, 50):.1f} ms, "
          f"p99 {percentile(gaps_ms, 99):.1f} ms, largest {max(gaps_ms):.1f} ms "
          f"= {max(gaps_ms) / period_ms:.2f} periods")


# ----------------------------------------------------------------------------- 2. overhead
def snapshot_for(info: CheckpointInfo) -> ObservationSnapshot:
    images, stamps = {}, {}
    for key, (_, h, w) in info.image_features.items():
        rgb = np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)
        images[key] = type("Img", (), rgb_to_fields(rgb))()
        stamps[key] = 1.0
    return ObservationSnapshot(list(JOINT_NAMES), HOME_RAD, 1.0, images, stamps)


def bench_overhead(label: str, loaded: LoadedPolicy, converter: UnitConverter, repeats: int) -> None:
    pipeline = PolicyPipeline(loaded, converter)
    snap = snapshot_for(loaded.info)
    obs = pipeline.prepare(snap, now_s=1.0, max_age_s=1.0)
    obs["task"] = TASK
    batch = loaded.preprocessor(obs)
    cfg = loaded.policy.config
    noise = torch.randn((1, cfg.chunk_size, cfg.max_action_dim), generator=torch.Generator().manual_seed(0))
    whole, bare = [], []
    pipeline.predict(snap, TASK, now_s=1.0, max_age_s=1.0)  # warm-up
    for _ in range(repeats):
        t0 = time.perf_counter()
        pipeline.predict(snap, TASK, now_s=1.0, max_age_s=1.0, generator=torch.Generator().manual_seed(0))
        t1 = time.perf_counter()
        loaded.policy.predict_action_chunk(dict(batch), noise=noise.clone())
        t2 = time.perf_counter()
        whole.append(t1 - t0)
        bare.append(t2 - t1)
    w, b = statistics.median(whole), statistics.median(bare)
    print(f"  {label:<34} pipeline {w * 1e3:9.1f} ms   bare predict_action_chunk {b * 1e3:9.1f} ms   "
          f"ratio {w / b:5.2f}")


# ----------------------------------------------------------------------------- 3. full size
def full_size_policy(tmp: Path) -> LoadedPolicy:
    from lerobot.policies.smolvla.modeling_smolvla import SmolVLAPolicy
    from lerobot.policies.smolvla.processor_smolvla import make_smolvla_pre_post_processors

    vlm = make_vlm_dir(tmp / "smolvlm2_500m", vision=SMOLVLM2_500M_VISION, text=SMOLVLM2_500M_TEXT,
                       scale_factor=4, vocab_size=SMOLVLM2_500M_VOCAB)
    inputs, outputs = tiny_features(("camera1", "camera2"), (480, 640))
    config = make_tiny_config(vlm, inputs, outputs, chunk_size=50, num_vlm_layers=16, max_state_dim=32,
                              max_action_dim=32)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        policy = SmolVLAPolicy(config).eval()
    stats = {k: {s: torch.as_tensor(v) for s, v in d.items()} for k, d in default_stats().items()}
    pre, post = make_smolvla_pre_post_processors(config, dataset_stats=stats)
    info = CheckpointInfo(tmp, "SmolVLA (SmolVLM2-500M architecture, random weights)", config, str(vlm),
                          None, (), "", {})
    return LoadedPolicy(info, policy, pre, post, "cpu", "float32")


def bench_full_size(tmp: Path, converter: UnitConverter, repeats: int) -> None:
    t0 = time.perf_counter()
    loaded = full_size_policy(tmp)
    policy = loaded.policy
    params = sum(p.numel() for p in policy.parameters())
    print(f"  built {params / 1e6:.0f} M parameters in {time.perf_counter() - t0:.0f} s "
          f"(torch {torch.get_num_threads()} threads)")
    pipeline = PolicyPipeline(loaded, converter)
    obs = pipeline.prepare(snapshot_for(loaded.info), now_s=1.0, max_age_s=1.0)
    obs["task"] = TASK
    batch = loaded.preprocessor(obs)
    cfg = policy.config
    noise = torch.randn((1, cfg.chunk_size, cfg.max_action_dim), generator=torch.Generator().manual_seed(0))
    reference, best = None, None
    print(f"  {'setting':<26} {'per chunk':>10} {'vs fp32':>8} {'largest diff':>22}")
    for dtype, steps in (("float32", 10), ("float32", 5), ("bfloat16", 10), ("bfloat16", 5)):
        cast_backbone(policy, dtype)
        cfg.num_steps = steps
        policy.predict_action_chunk(dict(batch), noise=noise.clone())  # warm-up
        times, out = [], None
        for _ in range(repeats):
            t = time.perf_counter()
            out = policy.predict_action_chunk(dict(batch), noise=noise.clone())
            times.append(time.perf_counter() - t)
        degrees = loaded.postprocessor(out)[0].float().numpy()
        per_chunk = statistics.median(times)
        if reference is None:
            reference = (degrees, per_chunk)
        diff = np.abs(degrees - reference[0]).max()
        name = f"{dtype}, {steps} flow steps"
        print(f"  {name:<26} {per_chunk:9.2f}s {reference[1] / per_chunk:7.2f}x "
              f"{diff:8.3f} deg ({np.radians(diff):.4f} rad)")
        if diff <= TOLERANCE_DEG and (best is None or per_chunk < best[1]):
            best = (name, per_chunk)
    if best is not None:
        print(f"  fastest setting within {TOLERANCE_DEG:g} deg of float32 / 10 steps: {best[0]} "
              f"({reference[1] / best[1]:.2f}x)")
    cast_backbone(policy, "float32")
    cfg.num_steps = 10
    bench_overhead("full size, float32, 10 flow steps", loaded, converter, repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the full-size model")
    parser.add_argument("--jitter-s", type=float, default=10.0, help="seconds of control ticks to measure")
    parser.add_argument("--repeats", type=int, default=1, help="timed chunks per setting (full size)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_policy_") as tmp_str:
        tmp = Path(tmp_str)
        calib = sim_calibration_dir(tmp / "calibration")
        converter = UnitConverter.from_calibration(load_calibration(calibration_path(*calib)))
        ckpt = make_tiny_policy(tmp / "tiny", fps=30.0, chunk_size=20)
        print("1. control-tick jitter of smolvla_policy while inference runs back to back (tiny checkpoint, "
              f"{os.cpu_count()} cores)")
        for inference_process in (True, False):
            bench_jitter(ckpt, calib, args.jitter_s, torch_threads=1, inference_process=inference_process)
        print("2. per-chunk time: the node's whole pipeline vs bare predict_action_chunk, same inputs")
        torch.set_num_threads(1)
        bench_overhead("tiny, float32, 10 flow steps", load_policy(inspect_checkpoint(ckpt)), converter, 20)
        torch.set_num_threads(os.cpu_count() or 1)
        if not args.quick:
            print("3. full-size SmolVLA on CPU (random weights, SmolVLM2-500M architecture)")
            bench_full_size(tmp, converter, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
