"""The checks: each compares one aspect of the deployment with the training data and returns its
statistics (JSON-ready) and its findings.

Thresholds are module constants, each with where it comes from; the messages carry the seed
documents' likely cause (../shared/seeds 001 and 004: task string, camera swap, gripper never
closing, start pose, chunk-boundary jumps, mean-seeking outputs, 15.87 epochs).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vla_ros.diagnose.checkpoint import CheckpointFacts
from vla_ros.diagnose.findings import Finding
from vla_ros.diagnose.sources import Recording
from vla_ros.diagnose.statistics import (
    distribution,
    gripper_events,
    gripper_threshold,
    image_distance,
    outside_fraction,
    step_changes,
    wasserstein,
)
from vla_ros.robot.units import Units

__all__ = [
    "CheckResult",
    "all_checks",
    "check_cameras",
    "check_control",
    "check_distribution",
    "check_epoch_budget",
    "check_gripper",
    "check_smoothness",
    "check_start_state",
    "check_task",
    "check_zrange",
    "joint_label",
]

START_Z_WARN, START_Z_CRITICAL = 4.0, 6.0
"""Start-state |z| thresholds (training std units): beyond 4 is rare by chance even with the std
estimated from a dozen episodes (3 is passed by ~1 % of such draws); 6 is far outside any
demonstration (seed: deployment starts 137 degrees, ~45 std, from the training mean)."""
START_STD_FLOOR = 0.01
"""Smallest start-state std used, as a fraction of the joint's range in the training states (identical
starts would make every z infinite)."""
JUMP_RATIO_WARN = 1.5
"""Deployed/training largest per-step change above which motion is jerky (seed: 26 vs 13 degrees, 2x)."""
OUTSIDE_WARN = 0.2
"""Fraction of deployment frames outside the training range that is a distribution shift (at least)."""
W1_WARN = 1.0
"""Wasserstein-1 distance in training std units above which two distributions differ (at least)."""
BASELINE_FACTOR, BASELINE_DRAWS = 2.0, 32
"""A few deployment episodes never cover the training distribution, so both thresholds are raised to
twice the 95th percentile of what held-out training episodes show against the rest (``BASELINE_DRAWS``
random draws of as many episodes as were deployed)."""
GRIPPER_RATIO_WARN = 0.5
"""Deployed/training closed fraction below which the gripper closes too rarely (a warning); it never
closes (critical) at 0 % of the frames, or in no deployment episode while at least half the training
episodes close it (seed: 54.5 % of training frames closed, 0 % deployed)."""
ZSPAN_RATIO_WARN = 0.5
"""Deployed/training z-span ratio below which outputs are stuck near the mean (seed: +-1.5 vs -0.54..3.25)."""
EPOCHS_BAND = (3.0, 7.0)
"""Sound epochs below 500 episodes (seed: 3-7 typical; 15.87 overfit, 6.35 generalised better)."""
RATE_RATIO_WARN = 0.8
"""Command rate / training fps below which the policy does not keep up."""
GAP_WARN_S = 0.2
"""Longest pause between commands that goes unnoticed on the arm, s (6 frames at 30 fps)."""
SIGNATURE_CHANGE = 0.08
"""Mean absolute image-signature difference (0-1 scale) above which a camera's view has changed."""


@dataclass
class CheckResult:
    """The statistics and findings of one check."""

    name: str
    stats: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def joint_label(name: str) -> str:
    """The URDF joint name of a feature name (``shoulder_pan.pos`` -> ``shoulder_pan``)."""
    return name.split(".")[0]


def _unit(rec: Recording, name: str) -> str:
    if rec.units == Units.LEROBOT:
        return " %" if "gripper" in name else "°"
    return " rad" if rec.units == Units.RADIANS else ""


def _fmt(x: float, unit: str) -> str:
    return f"{x:.2f}{unit}" if abs(x) < 10 else f"{x:.1f}{unit}"


def _gripper(rec: Recording) -> int | None:
    return next((i for i, n in enumerate(rec.names) if "gripper" in n), None)


def check_task(train: Recording, deploy: Recording) -> CheckResult:
    """Deployment instructions against the training ones: exact match, else the closest."""
    trained = sorted({e.task for e in train.episodes})
    counts: dict[str, int] = {}
    for e in deploy.episodes:
        counts[e.task] = counts.get(e.task, 0) + 1
    res = CheckResult("task", {"training": trained, "deployment": counts, "unmatched": []})
    for task, n in sorted(counts.items()):
        if task in trained:
            continue
        ratios = [(difflib.SequenceMatcher(None, task.lower(), t.lower()).ratio(), t) for t in trained]
        sim, closest = max(ratios) if ratios else (0.0, "")
        res.stats["unmatched"].append({"task": task, "episodes": n, "closest": closest, "similarity": sim})
        hint = " (differs only in case or spaces)" if closest.lower().split() == task.lower().split() else ""
        res.findings.append(Finding(
            "task", "critical",
            f"deployment task {task!r} ({n} of {len(deploy.episodes)} episodes) is not a training task; "
            f"closest {closest!r} (similarity {sim:.2f}){hint}: SmolVLA is conditioned on the exact string, "
            "use it verbatim (seed: a different instruction left the gripper open, 0 % success)",
            score=float(n), data={"task": task, "closest": closest, "similarity": sim}))
    if not res.findings:
        res.findings.append(Finding("task", "info", "every deployment task is a training task: "
                                    + "; ".join(repr(t) for t in sorted(counts))))
    return res


def _camera_images(train: Recording, deploy: Recording, res: CheckResult) -> None:
    """Image statistics per camera, a swapped camera and a changed view."""
    means = {side: {c: s.mean(axis=0) for c, s in rec.signatures.items()}
             for side, rec in (("training", train), ("deployment", deploy))}
    spread = {c: float(np.mean([image_distance(x, means["training"][c]) for x in s]))
              for c, s in train.signatures.items()}
    for side, rec in (("training", train), ("deployment", deploy)):
        for c, s in rec.signatures.items():
            bright = s.mean(axis=(1, 2, 3))
            res.stats["images"].setdefault(c, {})[side] = {
                "frames_sampled": len(s), "mean_rgb": s.mean(axis=(0, 1, 2)).tolist(),
                "brightness_mean": float(bright.mean()), "brightness_std": float(bright.std())}
    for c, sig in means["deployment"].items():
        if c not in means["training"]:
            continue
        dist = {t: image_distance(sig, m) for t, m in means["training"].items()}
        res.stats["images"][c]["distance_to_training"] = dist
        res.stats["images"][c]["training_spread"] = spread[c]
        best = min(dist, key=dist.__getitem__)
        limit = max(3 * spread[c], SIGNATURE_CHANGE)
        if best != c and dist[c] > limit:
            res.findings.append(Finding(
                "cameras", "critical",
                f"deployment camera {c} looks like training camera {best} (image distance "
                f"{dist[best]:.3f} vs {dist[c]:.3f} to training {c}): cameras swapped, check the device "
                "mapping / camera_map (seed: camera1 and camera2 swapped, the arm crashed into the bin)",
                camera=c, score=dist[c] / max(dist[best], 1e-6), data={"distances": dist}))
        elif dist[c] > limit:
            res.findings.append(Finding(
                "cameras", "warning",
                f"camera {c} looks different from training (image distance {dist[c]:.3f}, training "
                f"frames vary by {spread[c]:.3f}): moved camera, lighting or scene change (seed: visual "
                "distribution shift kept the gripper open)", camera=c, score=dist[c] / limit,
                data={"distance": dist[c], "spread": spread[c]}))


def check_cameras(train: Recording, deploy: Recording) -> CheckResult:
    """Camera features present, resolution, and (when sampled) image statistics and swaps."""
    res = CheckResult("cameras", {"training": {c: list(s) for c, s in train.cameras.items()},
                                  "deployment": {c: list(s) for c, s in deploy.cameras.items()},
                                  "images": {}})
    for c in train.cameras:
        if c not in deploy.cameras:
            res.findings.append(Finding(
                "cameras", "critical",
                f"training camera {c} is missing from the deployment (it has: "
                f"{', '.join(deploy.cameras) or 'none'}): the policy gets no {c} images (seed: the camera "
                "mapping must match training exactly)", camera=c, score=1.0))
        elif deploy.cameras[c][:2] != train.cameras[c][:2]:
            (h, w), (th, tw) = deploy.cameras[c][:2], train.cameras[c][:2]
            res.findings.append(Finding(
                "cameras", "warning", f"camera {c} is {w}x{h} deployed vs {tw}x{th} in training: another "
                "camera or driver setting", camera=c, score=1.0))
    for c in deploy.cameras:
        if c not in train.cameras:
            res.findings.append(Finding("cameras", "warning", f"deployment camera {c} is not in the "
                                        f"training data ({', '.join(train.cameras)}): renamed camera?",
                                        camera=c, score=0.5))
    if train.signatures and deploy.signatures:
        _camera_images(train, deploy, res)
    else:
        res.stats["images"] = "skipped (--no-images, or no camera)"
    if not res.findings:
        res.findings.append(Finding("cameras", "info", f"cameras match training: {', '.join(train.cameras)}"))
    return res


def _baseline(episodes: list[np.ndarray], count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """95th percentiles of W1 (std units) and of the outside-range fraction of ``count`` held-out
    training episodes against the others, per column; zeros with fewer than two episodes."""
    dim = episodes[0].shape[1]
    k = min(count, len(episodes) - 1)
    if k < 1:
        return np.zeros(dim), np.zeros(dim)
    rng = np.random.default_rng(seed)
    w1s, outs = [], []
    for _ in range(BASELINE_DRAWS):
        pick = rng.permutation(len(episodes))
        held = np.concatenate([episodes[i] for i in pick[:k]])
        rest = np.concatenate([episodes[i] for i in pick[k:]])
        w1s.append(wasserstein(rest, held) / np.maximum(rest.std(axis=0), 1e-9))
        outs.append(outside_fraction(held, rest.min(axis=0), rest.max(axis=0)))
    return np.percentile(w1s, 95, axis=0), np.percentile(outs, 95, axis=0)


def check_distribution(train: Recording, deploy: Recording) -> CheckResult:
    """Per joint, for actions and states: distributions, Wasserstein-1 distance, time outside range,
    against thresholds raised to what held-out training episodes show (:data:`BASELINE_FACTOR`)."""
    res = CheckResult("distribution")
    for key, attr in (("action", "action"), ("observation.state", "state")):
        t_eps = [getattr(e, attr) for e in train.episodes]
        t_all, d_all = np.concatenate(t_eps), np.concatenate([getattr(e, attr) for e in deploy.episodes])
        t_dist, d_dist = distribution(t_all), distribution(d_all)
        std = np.maximum(np.asarray(t_dist["std"]), 1e-9)
        w1 = wasserstein(t_all, d_all) / std
        outside = outside_fraction(d_all, np.asarray(t_dist["min"]), np.asarray(t_dist["max"]))
        base_w1, base_out = _baseline(t_eps, len(deploy.episodes))
        w1_limit = np.maximum(W1_WARN, BASELINE_FACTOR * base_w1)
        out_limit = np.maximum(OUTSIDE_WARN, BASELINE_FACTOR * base_out)
        res.stats[key] = {"names": train.names, "training": t_dist, "deployment": d_dist,
                          "wasserstein_std": w1.tolist(), "wasserstein_std_limit": w1_limit.tolist(),
                          "outside_training_range": outside.tolist(), "outside_limit": out_limit.tolist()}
        for j, name in enumerate(train.names):
            if outside[j] < out_limit[j] and w1[j] < w1_limit[j]:
                continue
            u, label = _unit(train, name), joint_label(name)
            res.findings.append(Finding(
                "distribution", "warning",
                f"{label} {key}: mean {_fmt(d_dist['mean'][j], u)} deployed vs {_fmt(t_dist['mean'][j], u)} "
                f"in training (distance {w1[j]:.1f} std, held-out training episodes up to "
                f"{base_w1[j]:.1f}), {outside[j] * 100:.0f} % of deployment time outside the training range "
                f"{_fmt(t_dist['min'][j], u)}…{_fmt(t_dist['max'][j], u)}",
                joint=label, score=float(max(w1[j] / w1_limit[j], outside[j] / out_limit[j])),
                data={"key": key, "wasserstein_std": float(w1[j]), "outside": float(outside[j])}))
    if not res.findings:
        res.findings.append(Finding("distribution", "info", "actions and states stay within the training "
                                    "distribution (as far as held-out training episodes do)"))
    return res


def check_gripper(train: Recording, deploy: Recording) -> CheckResult:
    """Closed fraction of the gripper action (threshold from the training data) and open/close events."""
    g = _gripper(train)
    if g is None:
        return CheckResult("gripper", {"skipped": "no gripper joint"})
    name, u = train.names[g], _unit(train, train.names[g])
    thr = gripper_threshold(train.actions()[:, g])
    span = float(np.ptp(train.actions()[:, g]))
    hyst = 0.05 * span

    def side(rec: Recording) -> dict[str, Any]:
        a = rec.actions()[:, g]
        events = [gripper_events(e.action[:, g], thr.value, hyst) for e in rec.episodes]
        return {"closed_fraction": float((a < thr.value).mean()), "mean": float(a.mean()),
                "episodes_closing": int(sum(c > 0 for c, _ in events)),
                "events": [{"closes": c, "opens": o} for c, o in events]}

    t, d = side(train), side(deploy)
    res = CheckResult("gripper", {"joint": name, "threshold": thr.value, "threshold_method": thr.method,
                                  "threshold_rule": thr.describe(u), "training": t, "deployment": d})
    tc, dc = t["closed_fraction"], d["closed_fraction"]
    text = (f"gripper closes in {dc * 100:.1f} % of deployment frames vs {tc * 100:.1f} % in training "
            f"(action mean {_fmt(d['mean'], u)} vs {_fmt(t['mean'], u)}; {d['episodes_closing']} of "
            f"{len(deploy.episodes)} deployment episodes close it, {t['episodes_closing']} of "
            f"{len(train.episodes)} in training; {thr.describe(u)})")
    cause = ": check the task string first, then the cameras (seed: a different instruction, 54.5 % vs 0 %)"
    never = d["episodes_closing"] == 0 and t["episodes_closing"] >= 0.5 * len(train.episodes)
    if tc >= 0.05 and (dc == 0 or never):
        res.findings.append(Finding("gripper", "critical", text + cause, joint=joint_label(name),
                                    score=tc, data={"training": tc, "deployment": dc}))
    elif tc >= 0.05 and dc < GRIPPER_RATIO_WARN * tc:
        res.findings.append(Finding("gripper", "warning", text + cause, joint=joint_label(name),
                                    score=1 - dc / tc, data={"training": tc, "deployment": dc}))
    else:
        res.findings.append(Finding("gripper", "info", text, joint=joint_label(name)))
    return res


def check_start_state(train: Recording, deploy: Recording) -> CheckResult:
    """Each deployment episode's first state in training start-state std units, per joint."""
    t0 = np.stack([e.state[0] for e in train.episodes])
    d0 = np.stack([e.state[0] for e in deploy.episodes])
    states = train.states()
    mean, raw_std = t0.mean(axis=0), t0.std(axis=0)
    std = np.maximum(raw_std, np.maximum(START_STD_FLOOR * np.ptp(states, axis=0), 1e-9))
    z = (d0 - mean) / std
    res = CheckResult("start_state", {
        "names": train.names, "training_mean": mean.tolist(), "training_std": raw_std.tolist(),
        "std_used": std.tolist(), "std_floor_rule": f"max(std, {START_STD_FLOOR} x training state range)",
        "deployment": d0.tolist(), "z": z.tolist(), "episodes": [e.source for e in deploy.episodes]})
    for j, name in enumerate(train.names):
        worst = float(np.abs(z[:, j]).max())
        if worst <= START_Z_WARN:
            continue
        u, label = _unit(train, name), joint_label(name)
        beyond = int((np.abs(z[:, j]) > START_Z_WARN).sum())
        res.findings.append(Finding(
            "start_state", "critical" if worst > START_Z_CRITICAL else "warning",
            f"{label}: deployment episodes start at {_fmt(d0[:, j].min(), u)}…{_fmt(d0[:, j].max(), u)} vs "
            f"{_fmt(mean[j], u)} ± {_fmt(raw_std[j], u)} in training (up to {worst:.1f} std; {beyond} of "
            f"{len(d0)} episodes beyond {START_Z_WARN:g} std): reset the arm to the training start pose "
            "before each episode (seed: varying starts gave 0-33 % success)",
            joint=label, score=worst, data={"max_abs_z": worst, "episodes_beyond": beyond}))
    if not res.findings:
        res.findings.append(Finding("start_state", "info", f"every deployment start is within "
                                    f"{START_Z_WARN:g} std of the training starts"))
    return res


def _boundary_jumps(rec: Recording) -> tuple[np.ndarray, np.ndarray] | None:
    """Largest per-step change at chunk boundaries and within chunks, ``(J,)`` each, or None."""
    at, within = [], []
    for e in rec.episodes:
        if e.chunk_starts is None or e.frames < 2:
            continue
        steps = np.abs(np.diff(e.action, axis=0))
        mask = np.zeros(len(steps), dtype=bool)
        starts = e.chunk_starts[(e.chunk_starts >= 1) & (e.chunk_starts < e.frames)]
        mask[starts - 1] = True
        at.append(steps[mask])
        within.append(steps[~mask])
    if not at:
        return None
    a, w = np.concatenate(at), np.concatenate(within)
    dim = len(rec.names)
    return (a.max(axis=0) if len(a) else np.zeros(dim), w.max(axis=0) if len(w) else np.zeros(dim))


def check_smoothness(train: Recording, deploy: Recording) -> CheckResult:
    """Largest and 99th-percentile per-step action change per joint; at chunk boundaries if recorded."""
    ts = step_changes([e.action for e in train.episodes])
    ds = step_changes([e.action for e in deploy.episodes])
    if not len(ts) or not len(ds):
        return CheckResult("smoothness", {"skipped": "episodes of one frame"})
    floor = np.maximum(1e-3 * np.ptp(train.actions(), axis=0), 1e-9)
    t_max, d_max = ts.max(axis=0), ds.max(axis=0)
    t_p99, d_p99 = np.percentile(ts, 99, axis=0), np.percentile(ds, 99, axis=0)
    ratio = d_max / np.maximum(t_max, floor)
    res = CheckResult("smoothness", {"names": train.names, "training_max": t_max.tolist(),
                                     "deployment_max": d_max.tolist(), "training_p99": t_p99.tolist(),
                                     "deployment_p99": d_p99.tolist(), "max_ratio": ratio.tolist()})
    bounds = _boundary_jumps(deploy)
    if bounds is not None:
        res.stats["deployment_max_at_chunk_boundaries"] = bounds[0].tolist()
        res.stats["deployment_max_within_chunks"] = bounds[1].tolist()
    for j, name in enumerate(train.names):
        if ratio[j] < JUMP_RATIO_WARN:
            continue
        u, label = _unit(train, name), joint_label(name)
        where = ""
        if bounds is not None:
            where = (f"; at chunk boundaries {_fmt(bounds[0][j], u)} vs {_fmt(bounds[1][j], u)} within "
                     "chunks")
        res.findings.append(Finding(
            "smoothness", "warning",
            f"{label}: largest per-step action change {_fmt(d_max[j], u)} deployed vs {_fmt(t_max[j], u)} in "
            f"training ({ratio[j]:.1f}x; p99 {_fmt(d_p99[j], u)} vs {_fmt(t_p99[j], u)}){where}: jerky "
            "re-planning at chunk boundaries; use a longer chunk_size with fewer n_action_steps, or blend "
            "chunks (seed: chunk_size 10 gave 26° jumps vs 13° in training)",
            joint=label, score=float(ratio[j]), data={"ratio": float(ratio[j])}))
    if not res.findings:
        res.findings.append(Finding("smoothness", "info", f"per-step action changes stay within "
                                    f"{JUMP_RATIO_WARN:g}x of training's (largest ratio {ratio.max():.2f})"))
    return res


def check_zrange(train: Recording, deploy: Recording, ckpt: CheckpointFacts) -> CheckResult:
    """Normalised (z) range of deployed vs training actions, with the checkpoint's statistics."""
    from vla_ros.diagnose.errors import DiagnoseInputError

    if ckpt.action_mean.shape != (len(train.names),):
        raise DiagnoseInputError(f"checkpoint {ckpt.path}: action statistics of {ckpt.action_mean.shape[0]} "
                                 f"joints, the data has {len(train.names)} ({train.names})")
    std = np.where(ckpt.action_std > 0, ckpt.action_std, 1.0)
    tz, dz = (train.actions() - ckpt.action_mean) / std, (deploy.actions() - ckpt.action_mean) / std
    t_span, d_span = np.ptp(tz, axis=0), np.ptp(dz, axis=0)
    ratio = d_span / np.where(t_span > 0, t_span, 1.0)
    res = CheckResult("checkpoint_zrange", {
        "names": train.names, "normalization": ckpt.normalization, "action_mean": ckpt.action_mean.tolist(),
        "action_std": ckpt.action_std.tolist(),
        "training_z": {"min": tz.min(0).tolist(), "max": tz.max(0).tolist()},
        "deployment_z": {"min": dz.min(0).tolist(), "max": dz.max(0).tolist()}, "span_ratio": ratio.tolist()})
    for j, name in enumerate(train.names):
        if ratio[j] >= ZSPAN_RATIO_WARN or t_span[j] <= 1e-6:  # a joint training never moved: no span
            continue
        res.findings.append(Finding(
            "checkpoint_zrange", "warning",
            f"{joint_label(name)}: deployed actions span {dz[:, j].min():+.2f}…{dz[:, j].max():+.2f} z vs "
            f"{tz[:, j].min():+.2f}…{tz[:, j].max():+.2f} in training ({ratio[j]:.2f} of the span): "
            "mean-seeking outputs, the policy is not conditioned as in training (task, cameras) "
            "(seed: outputs stuck within ±1.5 while training spans -0.54…+3.25)",
            joint=joint_label(name), score=float(1 - ratio[j]), data={"span_ratio": float(ratio[j])}))
    if not res.findings:
        res.findings.append(Finding("checkpoint_zrange", "info", f"deployed actions span at least "
                                    f"{ZSPAN_RATIO_WARN:g} of the training z range on every joint"))
    return res


def check_epoch_budget(ckpt: CheckpointFacts) -> CheckResult:
    """The epochs the checkpoint was trained for, against :data:`EPOCHS_BAND`."""
    from vla_ros.training.budget import plan_budget

    if not (ckpt.steps and ckpt.batch_size and ckpt.frames):
        return CheckResult("epoch_budget", {"unknown": ckpt.budget_source}, [Finding(
            "epoch_budget", "info", f"epoch budget unknown: {ckpt.budget_source}")])
    b = plan_budget(ckpt.steps, ckpt.batch_size, ckpt.frames, EPOCHS_BAND, max(ckpt.num_processes, 1))
    stats = {"steps": b.steps, "batch_size": b.batch_size, "num_processes": b.num_processes,
             "frames": b.frames, "epochs": b.epochs, "band": list(b.band), "source": ckpt.budget_source}
    text = f"checkpoint trained {b.epochs:.2f} epochs ({b.steps} steps x {b.batch_size} / {b.frames} frames)"
    sev = "warning" if b.warning else "info"
    msg = f"{text}: {b.warning}" if b.warning else f"{text}, inside {EPOCHS_BAND[0]:g}-{EPOCHS_BAND[1]:g}"
    return CheckResult("epoch_budget", stats, [Finding("epoch_budget", sev, msg, score=b.epochs, data=stats)])


def _control_stats(deploy: Recording) -> dict[str, Any]:
    rates, gaps, lat, frame_gaps = [], [], [], []
    for e in deploy.episodes:
        c = e.command_stamps_ns
        if c is not None and len(c) > 1:
            rates.append((len(c) - 1) / ((c[-1] - c[0]) / 1e9))
            gaps.append(float(np.diff(c).max() / 1e9))
        if e.latencies_s is not None and len(e.latencies_s):
            lat.append(e.latencies_s)
        if len(e.frame_times_s) > 1:
            frame_gaps.append(float(np.diff(e.frame_times_s).max()))
    stats: dict[str, Any] = {"fps": deploy.fps}
    if rates:
        stats.update(command_rate_hz_min=float(min(rates)), command_rate_hz_mean=float(np.mean(rates)),
                     command_gap_max_s=float(max(gaps)))
    if frame_gaps:
        stats["frame_gap_max_s"] = float(max(frame_gaps))
    if lat:
        all_lat = np.concatenate(lat)
        stats.update(latency_p50_s=float(np.median(all_lat)), latency_p99_s=float(np.percentile(all_lat, 99)),
                     chunks=len(all_lat))
    return stats


def check_control(train: Recording, deploy: Recording, ckpt: CheckpointFacts | None) -> CheckResult:
    """Command rate, gaps and inference latency (where recorded), against the training fps."""
    stats = _control_stats(deploy)
    stats["training_fps"] = train.fps
    res = CheckResult("control", stats)
    if abs(deploy.fps - train.fps) > 1e-6:
        res.findings.append(Finding("control", "warning", f"deployment data at {deploy.fps:g} fps vs "
                                    f"{train.fps:g} in training: the policy's steps are 1/{train.fps:g} s",
                                    score=abs(deploy.fps - train.fps)))
    rate = stats.get("command_rate_hz_min")
    if rate is not None and rate < RATE_RATIO_WARN * train.fps:
        res.findings.append(Finding("control", "warning", f"commands at {rate:.1f} Hz in the slowest "
                                    f"episode vs {train.fps:g} fps in training: the policy does not keep up "
                                    "(inference latency, a loaded machine)",
                                    score=train.fps / max(rate, 1e-6)))
    gap = max(stats.get("command_gap_max_s", 0.0), stats.get("frame_gap_max_s", 0.0))
    if gap > GAP_WARN_S:
        res.findings.append(Finding("control", "warning", f"longest pause between commands {gap:.2f} s "
                                    f"(> {GAP_WARN_S:g} s): the arm held still while waiting for a chunk",
                                    score=gap / GAP_WARN_S))
    p99 = stats.get("latency_p99_s")
    if p99 is not None and ckpt is not None and ckpt.n_action_steps and p99 > ckpt.n_action_steps / train.fps:
        res.findings.append(Finding("control", "warning", f"inference latency p99 {p99:.2f} s exceeds the "
                                    f"{ckpt.n_action_steps} executed steps per chunk "
                                    f"({ckpt.n_action_steps / train.fps:.2f} s): chunks arrive late",
                                    score=p99 * train.fps / ckpt.n_action_steps))
    if not res.findings:
        parts = [f"{k} {v:.3g}" for k, v in stats.items() if isinstance(v, float)]
        res.findings.append(Finding("control", "info", "control timing as expected: " + ", ".join(parts)))
    return res


def all_checks(train: Recording, deploy: Recording, ckpt: CheckpointFacts | None) -> list[CheckResult]:
    """Every check, in :data:`vla_ros.diagnose.findings.CHECK_ORDER`."""
    results = [check_task(train, deploy), check_cameras(train, deploy), check_gripper(train, deploy),
               check_start_state(train, deploy), check_smoothness(train, deploy)]
    if ckpt is not None:
        results.append(check_zrange(train, deploy, ckpt))
    results += [check_distribution(train, deploy), check_control(train, deploy, ckpt)]
    if ckpt is not None:
        results.append(check_epoch_budget(ckpt))
    return results
