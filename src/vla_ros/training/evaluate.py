"""Offline evaluation: replay held-out episodes through one or more checkpoints and score them.

For each episode the policy sees the recorded observations and predicts a chunk every
``replan_every`` frames (default: the checkpoint's ``n_action_steps``, as deployed); the executed
parts of the chunks, stitched, form the predicted trajectory, compared frame by frame with the
demonstrated actions in the data's physical units (the checkpoint's post-processor unnormalises;
seed lesson: comparing normalised outputs with raw data gave "MAE in the thousands").
``replan_every=1`` scores the first action of a fresh chunk at every frame, as the seed colour
challenge did. Images can be colour-shifted with the validation distribution of training. With two
or more tasks in the data every episode is replayed again under another task
(:mod:`vla_ros.training.task_effect`): a policy that ignores the instruction predicts the same actions.

Checkpoints load through :mod:`vla_ros.policy.checkpoint`; the held-out episodes come from the
training record saved with each checkpoint (:class:`vla_ros.training.layout.TrainRecord`).

Core module: no ROS.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lerobot.datasets.lerobot_dataset import LeRobotDataset
from lerobot.utils.constants import ACTION, OBS_PREFIX
from torch.utils.data import default_collate

from vla_ros.errors import ConfigError
from vla_ros.policy.checkpoint import LoadedPolicy, inspect_checkpoint, load_policy
from vla_ros.training.config import EvalConfig, parse_episode_ref
from vla_ros.training.data import (
    ColorJitterRanges,
    check_camera_features,
    color_transforms,
    combined_stats,
    load_metadata,
)
from vla_ros.training.layout import TrainRecord
from vla_ros.training.metrics import trajectory_metrics
from vla_ros.training.plots import plot_checkpoint_comparison, plot_error_histograms, plot_trajectories
from vla_ros.training.task_effect import describe, swapped_tasks, task_effect

__all__ = [
    "CheckpointResult",
    "EvalReport",
    "evaluate",
    "format_table",
    "predict_episodes",
    "select_episodes",
    "write_outputs",
]

log = logging.getLogger(__name__)

REPORT_FILE = "report.json"
SEED_VAL_COLORS = ColorJitterRanges((0.7, 1.0), (1.0, 1.3), (0.5, 1.2), (-0.08, 0.06))
"""The seed colour challenge's validation distribution: darker, higher contrast."""


@dataclass
class CheckpointResult:
    """One checkpoint's evaluation.

    Attributes:
        name: label in tables and plots.
        path: the pretrained_model directory.
        step: training step from its record (-1 if unknown).
        metrics: :func:`vla_ros.training.metrics.trajectory_metrics` output.
        preds: per evaluated episode, ``(T, D)`` predicted actions (not written to JSON).
    """

    name: str
    path: str
    step: int
    metrics: dict[str, Any]
    preds: list[np.ndarray] = field(default_factory=list, repr=False)


@dataclass
class EvalReport:
    """The whole evaluation; :meth:`to_dict` is ``report.json``."""

    config: dict[str, Any]
    datasets: list[str]
    episodes: list[list[int]]
    episodes_source: str
    joint_names: list[str]
    color_shift: bool
    results: list[CheckpointResult]
    truths: list[np.ndarray] = field(default_factory=list, repr=False)
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (no trajectories)."""
        return {
            "config": self.config, "datasets": self.datasets, "episodes": self.episodes,
            "episodes_source": self.episodes_source, "joint_names": self.joint_names,
            "color_shift": self.color_shift, "files": self.files,
            "checkpoints": [{"name": r.name, "path": r.path, "step": r.step, "metrics": r.metrics}
                            for r in self.results],
        }


def select_episodes(cfg: EvalConfig, record: TrainRecord | None) -> tuple[list[str], list[list[int]], str]:
    """Datasets and episodes to evaluate, and a note of where the choice came from.

    Explicit ``episodes`` win; else the record's held-out episodes when the datasets are the
    record's; else every episode of the datasets.

    Raises:
        ConfigError: no datasets given and no training record naming them, or episodes naming a
            dataset number out of range.
    """
    datasets = list(cfg.datasets) or (list(record.datasets) if record else [])
    if not datasets:
        raise ConfigError("no --datasets given and the checkpoint has no training record naming them")
    metas = load_metadata(datasets)
    if cfg.episodes:
        chosen: list[list[int]] = [[] for _ in datasets]
        for d, e in map(parse_episode_ref, cfg.episodes):
            if d >= len(datasets):
                raise ConfigError(f"episodes: dataset number {d} but only {len(datasets)} datasets")
            chosen[d].append(e)
        return datasets, [sorted(c) for c in chosen], "--episodes"
    same = record is not None and [str(Path(d).resolve()) for d in record.datasets] == [
        str(Path(d).resolve()) for d in datasets]
    if same and record is not None and any(record.split.val):
        return datasets, [list(v) for v in record.split.val], "held-out episodes of the training record"
    every = [list(range(m.total_episodes)) for m in metas]
    return datasets, every, "all episodes (not held out from training)"


def _episode_rows(dataset: LeRobotDataset) -> dict[int, tuple[int, int]]:
    """Episode -> (first, end) row of the loaded (filtered) dataset; episodes are contiguous."""
    eps = np.asarray(dataset.hf_dataset.with_format(None)["episode_index"])
    rows = {}
    for e in np.unique(eps):
        where = np.flatnonzero(eps == e)
        rows[int(e)] = (int(where[0]), int(where[-1]) + 1)
    return rows


def _observation(item: dict[str, Any], task_map: Mapping[str, str] | None) -> dict[str, Any]:
    obs = {k: v for k, v in item.items() if k.startswith(OBS_PREFIX) or k == "task"}
    if task_map:
        obs["task"] = task_map.get(obs["task"], obs["task"])
    return obs


def predict_episodes(
    loaded: LoadedPolicy,
    dataset: LeRobotDataset,
    episodes: Sequence[int],
    *,
    replan_every: int,
    batch_size: int,
    seed: int,
    task_map: Mapping[str, str] | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Predicted and demonstrated action trajectories of ``episodes``, in the data's units.

    Args:
        loaded: the checkpoint (policy, pre- and post-processor).
        dataset: a dataset holding the episodes (its own image transforms apply).
        episodes: episode indices to replay.
        replan_every: frames between chunks; the first ``replan_every`` actions of each are kept.
        batch_size: observations per inference batch.
        seed: seed of the flow-matching noise.
        task_map: replaces each frame's task (``{recorded: used}``; tasks not in it are kept), for
            :mod:`vla_ros.training.task_effect`.

    Returns:
        ``(preds, truths)``: per episode ``(T, D)`` float64 arrays.

    Raises:
        ConfigError: ``replan_every`` exceeds the checkpoint's chunk size.
    """
    cfg = loaded.policy.config
    if not 1 <= replan_every <= cfg.chunk_size:
        raise ConfigError(f"replan_every={replan_every} must be in [1, chunk_size={cfg.chunk_size}]")
    rows = _episode_rows(dataset)
    hf = dataset.hf_dataset.with_format(None)
    truths = [np.asarray(hf[rows[e][0]:rows[e][1]][ACTION], dtype=np.float64) for e in episodes]
    preds = [np.zeros_like(t) for t in truths]
    queries = [(k, t0) for k, e in enumerate(episodes) for t0 in range(0, len(truths[k]), replan_every)]
    gen = torch.Generator().manual_seed(seed)
    for start in range(0, len(queries), batch_size):
        part = queries[start:start + batch_size]
        batch = default_collate([_observation(dataset[rows[episodes[k]][0] + t0], task_map)
                                 for k, t0 in part])
        noise = torch.randn((len(part), cfg.chunk_size, cfg.max_action_dim), generator=gen)
        loaded.policy.reset()
        chunk = loaded.postprocessor(loaded.policy.predict_action_chunk(
            loaded.preprocessor(batch), noise=noise.to(loaded.device)))
        chunk = chunk.detach().float().cpu().numpy()
        for (k, t0), actions in zip(part, chunk):
            stop = min(t0 + replan_every, len(truths[k]))
            preds[k][t0:stop] = actions[:stop - t0]
    return preds, truths


def _val_colors(record: TrainRecord | None) -> ColorJitterRanges:
    """The validation colour jitter the checkpoint was trained with, else the seed's."""
    names = ("brightness", "contrast", "saturation", "hue")
    conf = record.config if record is not None else {}
    if all(f"val_{n}" in conf for n in names):
        return ColorJitterRanges(*(tuple(conf[f"val_{n}"]) for n in names))
    return SEED_VAL_COLORS


def _label(paths: Sequence[Path]) -> list[str]:
    paths = [p.resolve() for p in paths]  # checkpoints/last -> checkpoints/<step>
    names = [p.parent.name if p.name == "pretrained_model" else p.name for p in paths]
    if len(set(names)) == len(names):
        return names
    return [str(p) for p in paths]


def _stats_vectors(stats: dict[str, Any]) -> dict[str, np.ndarray]:
    return {k: np.asarray(stats[ACTION][k], dtype=np.float64).reshape(-1)
            for k in ("mean", "std", "min", "max")}


def evaluate(cfg: EvalConfig) -> EvalReport:
    """Evaluate every checkpoint of ``cfg`` on the same episodes; write report.json and PNGs.

    Raises:
        ConfigError: bad selection of datasets/episodes, or no frames to evaluate.
        vla_ros.training.errors.DatasetMismatchError: the datasets' cameras do not fit a checkpoint.
        vla_ros.policy.errors.CheckpointError: a checkpoint cannot be loaded.
    """
    infos = [inspect_checkpoint(c) for c in cfg.checkpoints]
    record = TrainRecord.load(infos[0].path)
    datasets, episodes, source = select_episodes(cfg, record)
    if cfg.max_episodes:
        budget, limited = cfg.max_episodes, []
        for eps in episodes:
            limited.append(eps[:budget])
            budget -= len(limited[-1])
        episodes = limited
    if not any(episodes):
        raise ConfigError("no episodes to evaluate")
    metas = load_metadata(datasets)
    stats = _stats_vectors(combined_stats(metas))
    names = [str(n) for n in metas[0].features[ACTION].get("names") or range(len(stats["mean"]))]
    gripper = next((i for i, n in enumerate(names) if "gripper" in n), None)
    transforms = color_transforms(_val_colors(record)) if cfg.color_shift else None
    swap = swapped_tasks(t for m in metas for t in m.tasks.index) if cfg.task_swap else {}
    out_dir = Path(cfg.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results, truths = [], []
    for info in infos:
        check_camera_features(info.config, list(metas[0].camera_keys), info.rename_map)
    for name, info in zip(_label([i.path for i in infos]), infos):
        loaded = load_policy(info, device=cfg.torch_device(), num_flow_steps=cfg.num_flow_steps)
        replan = cfg.replan_every or loaded.policy.config.n_action_steps
        preds, truths = _predict_all(loaded, cfg, datasets, episodes, transforms, replan, None)
        metrics = trajectory_metrics(
            preds, truths, action_mean=stats["mean"], action_std=stats["std"],
            joint_range=stats["max"] - stats["min"], tolerance_frac=cfg.tolerance_frac, gripper_index=gripper,
            gripper_closed_frac=cfg.gripper_closed_frac,
            gripper_min=float(stats["min"][gripper]) if gripper is not None else None)
        metrics["replan_every"] = replan
        metrics["task_effect"] = None
        if swap:
            swapped, _ = _predict_all(loaded, cfg, datasets, episodes, transforms, replan, swap)
            metrics["task_effect"] = task_effect(preds, swapped, stats["std"], swap)
        log.info("%s: %s", name, describe(metrics["task_effect"]))
        rec = TrainRecord.load(info.path)
        results.append(CheckpointResult(name, str(info.path), rec.step if rec else -1, metrics, preds))
        log.info("%s: mean MAE %.3f, mean success %s", name, metrics["mean_mae"],
                 _pct(metrics["mean_success_rate"]))
    report = EvalReport(asdict(cfg), datasets, episodes, source, names, cfg.color_shift, results, truths)
    report.files = [str(p) for p in write_outputs(report, out_dir, fps=float(metas[0].fps),
                                                   plot_episodes=cfg.plot_episodes)]
    (out_dir / REPORT_FILE).write_text(json.dumps(report.to_dict(), indent=2))
    return report


def _predict_all(loaded: LoadedPolicy, cfg: EvalConfig, datasets: Sequence[str],
                 episodes: Sequence[list[int]], transforms: Any, replan: int,
                 task_map: Mapping[str, str] | None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    torch.manual_seed(cfg.seed)  # the same colour shifts for every checkpoint and task swap
    preds, truths = [], []
    for root, eps in zip(datasets, episodes):
        if not eps:
            continue
        ds = LeRobotDataset(Path(root).name, root=Path(root), episodes=list(eps),
                            image_transforms=transforms, video_backend=cfg.video_backend)
        p, t = predict_episodes(loaded, ds, eps, replan_every=replan, batch_size=cfg.batch_size,
                                seed=cfg.seed, task_map=task_map)
        preds += p
        truths += t
    return preds, truths


def write_outputs(report: EvalReport, out_dir: Path, *, fps: float, plot_episodes: int) -> list[Path]:
    """The files of a report besides report.json.

    ``trajectories.npz`` (``truth_ds<d>_ep<e>`` and ``pred_<checkpoint>_ds<d>_ep<e>``, ``(T, D)`` in
    the data's units) and PNGs: trajectories of the first ``plot_episodes`` episodes per
    checkpoint, error histograms, checkpoint comparison.
    """
    files = []
    flat_eps = [(d, e) for d, eps in enumerate(report.episodes) for e in eps]
    for r in report.results:
        for k in range(min(plot_episodes, len(r.preds))):
            d, e = flat_eps[k]
            path = out_dir / f"trajectories_{_slug(r.name)}_ds{d}_ep{e}.png"
            files.append(plot_trajectories(path, r.preds[k], report.truths[k], report.joint_names,
                                           f"{r.name}: dataset {d} episode {e}", fps))
    arrays = {f"truth_ds{d}_ep{e}": t for (d, e), t in zip(flat_eps, report.truths)}
    for r in report.results:
        arrays.update({f"pred_{_slug(r.name)}_ds{d}_ep{e}": p for (d, e), p in zip(flat_eps, r.preds)})
    np.savez_compressed(out_dir / "trajectories.npz", **arrays)
    files.append(out_dir / "trajectories.npz")
    errors = {r.name: np.concatenate(r.preds) - np.concatenate(report.truths) for r in report.results}
    tolerance = report.results[0].metrics["tolerance"]
    files.append(plot_error_histograms(out_dir / "error_histograms.png", errors, report.joint_names,
                                       tolerance))
    files.append(plot_checkpoint_comparison(out_dir / "checkpoint_comparison.png",
                                            {r.name: r.metrics for r in report.results}, report.joint_names))
    return files


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{100 * rate:.1f}%"


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def format_table(report: EvalReport) -> str:
    """Console tables: one row per checkpoint, then per-joint rows of each checkpoint."""
    head = (f"{'checkpoint':<16}{'step':>8}{'frames':>8}{'MAE':>9}{'RMSE':>9}{'success':>9}"
            f"{'z-span':>8}{'grip pred/demo':>16}{'max jump pred/demo':>20}")
    lines = [f"evaluated {sum(map(len, report.episodes))} episodes ({report.episodes_source})"
             + (", colour-shifted" if report.color_shift else ""), head, "-" * len(head)]
    for r in report.results:
        m = r.metrics
        grip = m.get("gripper_closed_fraction", {"pred": float("nan"), "truth": float("nan")})
        lines.append(f"{r.name[:15]:<16}{r.step:>8}{m['frames']:>8}{m['mean_mae']:>9.3f}{m['mean_rmse']:>9.3f}"
                     f"{_pct(m['mean_success_rate']):>9}{min(m['zscore_span_ratio']):>8.2f}"
                     f"{100 * grip['pred']:>8.0f}/{100 * grip['truth']:<7.0f}"
                     f"{max(m['max_jump']['pred']):>10.2f}/{max(m['max_jump']['truth']):<9.2f}")
    lines += [f"{r.name}: {describe(r.metrics.get('task_effect'))}" for r in report.results]
    for r in report.results:
        m = r.metrics
        lines += ["", f"{r.name}: per joint (data units; success within +-tolerance)",
                  f"  {'joint':<18}{'MAE':>9}{'RMSE':>9}{'tol':>8}{'success':>9}{'z pred':>16}{'z demo':>16}"
                  f"{'jump pred/demo':>16}"]
        for j, name in enumerate(report.joint_names):
            zp = f"[{m['zscore_pred']['min'][j]:.1f},{m['zscore_pred']['max'][j]:.1f}]"
            zt = f"[{m['zscore_truth']['min'][j]:.1f},{m['zscore_truth']['max'][j]:.1f}]"
            lines.append(f"  {name:<18}{m['mae'][j]:>9.3f}{m['rmse'][j]:>9.3f}{m['tolerance'][j]:>8.2f}"
                         f"{_pct(m['success_rate'][j]):>9}{zp:>16}{zt:>16}"
                         f"{m['max_jump']['pred'][j]:>8.2f}/{m['max_jump']['truth'][j]:<7.2f}")
        lines += [f"  {report.joint_names[int(j)]}: success n/a, {why}; left out of the mean"
                  for j, why in m.get("success_na", {}).items()]
    return "\n".join(lines)
