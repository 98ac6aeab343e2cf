"""``vla-ros contract CKPT [--dataset ROOT_OR_REPO_ID] [--out FILE]``: what a checkpoint was trained on."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vla_ros.contract.model import CONTRACT_FILE, DeploymentContract
from vla_ros.contract.reader import read_contract
from vla_ros.contract.signature import CameraSignature

__all__ = ["describe", "main"]


def _signature_lines(contract: DeploymentContract) -> list[str]:
    sigs = {k: CameraSignature.from_dict(v) for k, v in contract.camera_signatures.items()}
    lines = []
    for key, sig in sigs.items():
        cross = ", ".join(f"{other.removeprefix('observation.images.')} "
                          f"{float(np.max(sig.frames @ o.frames.T)):.2f}"
                          for other, o in sigs.items() if other != key)
        own = sig.frames @ sig.frames.T - 2 * np.eye(len(sig.frames))
        typical = float(np.median(np.max(own, axis=1))) if len(sig.frames) > 1 else 1.0
        lines.append(f"  {key}: {len(sig.frames)} frames, {sig.method}; nearest own frame {typical:.2f}"
                     + (f", closest other camera {cross}" if cross else ""))
    return lines


def describe(contract: DeploymentContract) -> str:
    """A readable summary of a contract: every fact and where it came from."""
    src = contract.source
    lines = [f"tasks ({len(contract.tasks)}) — {src('tasks')}"]
    lines += [f"  {t!r}" for t in contract.tasks]
    lines.append(f"cameras: dataset feature -> policy feature [H, W, C] — {src('camera_map')}")
    for key, policy in contract.camera_map.items():
        shape = contract.camera_features.get(key)
        lines.append(f"  {key} -> {policy}" + (f" {shape}" if shape else ""))
    lines.append(f"camera features — {src('camera_features')}")
    lines.append(f"fps: {contract.fps:g} Hz — {src('fps')}" if contract.fps else f"fps: ? — {src('fps')}")
    lines.append(f"units: {contract.units} — {src('units')}")
    lines.append(f"start state (mean ± std per joint, {contract.units} units) — {src('start_state')}")
    if contract.has_start_state:
        for name, m, s in zip(contract.joint_names, contract.start_state_mean, contract.start_state_std):
            lines.append(f"  {name:<14} {m:9.3f} ± {s:.3f}")
    lines.append(f"camera signatures — {src('camera_signatures')}")
    lines += _signature_lines(contract)
    lines.append(f"robot type: {contract.robot_type} — {src('robot_type')}")
    lines.append(f"datasets: {contract.datasets} — {src('datasets')}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print a checkpoint's contract and, with ``--out``, write it as JSON."""
    parser = argparse.ArgumentParser(
        prog="vla-ros contract",
        description="Show the facts a LeRobot SmolVLA checkpoint was trained on (tasks, cameras, fps, units, "
                    "start state, camera signatures) and where each came from; nothing is downloaded.")
    parser.add_argument("checkpoint", type=Path, help="checkpoint directory (pretrained_model or above)")
    parser.add_argument("--dataset", default=None,
                        help="training dataset directory or repo id, if the checkpoint does not lead to it")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"write the contract as JSON to this file (a directory gets {CONTRACT_FILE})")
    parser.add_argument("--no-signatures", action="store_true",
                        help="do not decode frames for camera signatures")
    args = parser.parse_args(argv)
    if not args.checkpoint.is_dir():
        parser.error(f"{args.checkpoint}: no such directory")
    contract = read_contract(args.checkpoint, args.dataset, signatures=not args.no_signatures)
    print(describe(contract))
    if args.out is not None:
        out = args.out / CONTRACT_FILE if args.out.is_dir() else args.out
        print(f"written: {contract.write(out)}")
    return 0
