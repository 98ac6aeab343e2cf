"""Fine-tuning SmolVLA: lerobot's pieces in an Accelerate loop with the corrected, weighted loss.

The loop mirrors lerobot 0.4.4 ``scripts/lerobot_train.py`` (same policy factory, processors,
optimizer and scheduler presets, checkpoint helpers and layout), and adds: several local datasets,
an episode-level train/validation split with a validation loss, colour augmentation with a shifted
validation distribution, the loss of :mod:`vla_ros.training.loss`, oversampling of episodes, an
epoch budget, and a :class:`~vla_ros.contract.DeploymentContract` plus a training record in every
``pretrained_model``.

Multi-GPU and multi-node runs go through ``accelerate launch training/train_smolvla.py ...``; only
the main process logs and saves.

Core module: no ROS.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import DistributedDataParallelKwargs
from lerobot.configs.default import DatasetConfig, WandBConfig
from lerobot.configs.train import TrainPipelineConfig
from lerobot.optim.factory import make_optimizer_and_scheduler
from lerobot.policies.factory import make_policy, make_pre_post_processors
from lerobot.utils.constants import ACTION, PRETRAINED_MODEL_DIR
from lerobot.utils.random_utils import set_seed
from lerobot.utils.train_utils import (
    get_step_checkpoint_dir,
    load_training_state,
    save_checkpoint,
    update_last_checkpoint,
)
from torch.utils.data import DataLoader
from tqdm import tqdm

from vla_ros.contract import DeploymentContract
from vla_ros.contract.reader import dataset_signatures
from vla_ros.errors import ConfigError
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.training.budget import DatasetSummary, TrainingBudget, plan_budget, summarize_datasets
from vla_ros.training.config import TrainConfig, parse_episode_weights
from vla_ros.training.data import (
    ColorJitterRanges,
    EpisodeSplit,
    check_camera_features,
    color_transforms,
    combined_stats,
    delta_timestamps,
    episode_sampler,
    load_metadata,
    make_split_datasets,
    split_episodes,
)
from vla_ros.training.errors import CheckpointError, DatasetMismatchError, TrainingError
from vla_ros.training.frame_cache import available_memory, cache_bytes
from vla_ros.training.layout import TRAIN_RECORD_FILE, TrainRecord, last_checkpoint, list_checkpoints
from vla_ros.training.loss import ChunkLoss
from vla_ros.training.policy_source import bundle_vlm, keep_vlm_name, policy_config, processor_overrides
from vla_ros.training.runlog import RunLog

__all__ = ["RESUME_FIXED", "Trainer", "make_contract", "resume_config"]

log = logging.getLogger(__name__)

_EXTRA_KEYS = ("progress", "dataset_index")

RESUME_FIXED = ("rename_map", "chunk_size", "n_action_steps")
"""Settings a resumed run must share with its start (besides the datasets): they shape the model."""


def _resolved(path: str | Path) -> str:
    return str(Path(path).resolve())


def resume_config(run_dir: str | Path, **overrides: Any) -> TrainConfig:
    """The config a run was started with (from ``checkpoints/last``), with ``overrides`` applied.

    ``resume`` is set; typical overrides are ``steps`` (to extend a run) and run-control flags.

    Raises:
        CheckpointError: the run has no complete checkpoint with a training record.
    """
    last = last_checkpoint(Path(run_dir))
    record = TrainRecord.load(last / PRETRAINED_MODEL_DIR) if last is not None else None
    if record is None:
        raise CheckpointError(f"{run_dir}: no complete checkpoint with a {TRAIN_RECORD_FILE} to resume")
    return TrainConfig.from_dict({**record.config, "output_dir": str(run_dir), **overrides, "resume": True})


def make_contract(summary: DatasetSummary, rename: dict[str, str], units: str) -> DeploymentContract:
    """The deployment contract of a run: its data's tasks, cameras (after renaming), fps and start pose."""
    joints = [n.removesuffix(".pos") for n in summary.state_names]
    if len(joints) != len(summary.start_state_mean):  # unnamed state: SO-101 order when it fits
        n = len(summary.start_state_mean)
        joints = list(JOINT_NAMES) if n == len(JOINT_NAMES) else [f"joint_{i}" for i in range(n)]
    return DeploymentContract(
        tasks=list(summary.tasks),
        camera_map={cam: rename.get(cam, cam) for cam in summary.cameras},
        fps=summary.fps,
        units=units,
        joint_names=joints,
        start_state_mean=list(summary.start_state_mean),
        start_state_std=list(summary.start_state_std),
        robot_type=summary.robot_type or "so101_follower",
        datasets=list(summary.roots),
    )


class Trainer:
    """One fine-tuning run: :meth:`setup` opens data and model and plans the budget, :meth:`train` runs.

    Args:
        cfg: the run's configuration.
        accelerator: an Accelerate accelerator (default: one from ``cfg``; ``accelerate launch``
            sets up the processes).
    """

    def __init__(self, cfg: TrainConfig, accelerator: Accelerator | None = None) -> None:
        self.cfg = cfg
        self.accelerator = accelerator or Accelerator(
            cpu=cfg.cpu, mixed_precision=cfg.mixed_precision, step_scheduler_with_optimizer=False,
            kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)])
        self.run_dir = cfg.run_dir
        self.step = 0
        self.summary: DatasetSummary | None = None
        self.budget: TrainingBudget | None = None
        self.split: EpisodeSplit | None = None
        self.warnings: list[str] = []
        self._resume_from: Path | None = None

    @property
    def is_main(self) -> bool:
        """Whether this process logs and saves."""
        return bool(self.accelerator.is_main_process)

    # ----------------------------------------------------------------------------------- setup
    def setup(self) -> Trainer:
        """Open datasets and policy, split, plan the budget, build optimizer and loaders.

        Raises:
            CheckpointError: resuming without a complete checkpoint, or a fresh run into a run
                directory that already has checkpoints.
            DatasetMismatchError: datasets that cannot be combined or do not fit the policy.
        """
        cfg = self.cfg
        source = self._source()
        set_seed(cfg.seed, accelerator=self.accelerator)
        metas = load_metadata(cfg.datasets)
        self.summary = summarize_datasets(cfg.datasets, metas)
        pcfg, info = policy_config(source, device=self.accelerator.device.type, chunk_size=cfg.chunk_size,
                                   n_action_steps=cfg.n_action_steps)
        self.warnings += check_camera_features(pcfg, list(metas[0].camera_keys), cfg.rename())
        deltas = delta_timestamps(pcfg, metas[0])
        self.split = self._split([m.total_episodes for m in metas])
        train_tf, val_tf = self._transforms()
        common = {"video_backend": cfg.video_backend, "tolerance_s": cfg.tolerance_s,
                  **self._cache_options(metas, deltas)}
        self.train_set = make_split_datasets(cfg.datasets, self.split.train, deltas, transforms=train_tf,
                                             **common)
        self.val_set = make_split_datasets(cfg.datasets, self.split.val, deltas, transforms=val_tf, **common)
        if self.train_set is None:
            raise DatasetMismatchError("the split leaves no training episode")
        self.budget = plan_budget(cfg.steps, cfg.batch_size, len(self.train_set), cfg.epochs_band,
                                  self.accelerator.num_processes)
        stats = combined_stats(metas)
        self.policy = make_policy(pcfg, ds_meta=metas[0], rename_map=cfg.rename())
        device = self.accelerator.device.type
        self.preprocessor, self.postprocessor = make_pre_post_processors(
            self.policy.config, pretrained_path=str(info.path), dataset_stats=stats,
            **processor_overrides(info, self.policy.config, stats, cfg.rename(), device))
        self.vlm_dir = Path(info.vlm_dir)
        keep_vlm_name(info, self.policy.config, self.preprocessor)
        self.contract = make_contract(self.summary, cfg.rename(), cfg.units)
        self._add_camera_signatures()
        self._build_optimizer()
        self._build_loaders()
        return self

    def _cache_options(self, metas: list[Any], deltas: dict[str, list[float]]) -> dict[str, Any]:
        """``make_split_datasets`` options of ``cache_frames``; refused if the cache would not fit."""
        cfg = self.cfg
        if not cfg.cache_frames:
            return {}
        need = sum(cache_bytes(m.total_frames, [m.features[c]["shape"] for c in m.camera_keys],
                               len(deltas.get(ACTION, [0])), int(m.features[ACTION]["shape"][0]))
                   for m in metas)
        free = available_memory()
        if need > free // 2:
            raise ConfigError(f"cache_frames: the frames need ~{need / 2**30:.1f} GiB, more than half the "
                              f"{free / 2**30:.1f} GiB of free memory; train without --cache-frames")
        log.info("cache_frames: decoding every frame once, ~%.0f MiB", need / 2**20)
        return {"cache_workers": cfg.num_workers, "progress_bar": cfg.progress_bar and self.is_main}

    def _add_camera_signatures(self) -> None:
        """What each training camera saw, for the policy's camera-identity check (not fatal if unreadable)."""
        try:
            sigs, source = dataset_signatures(self.summary.roots)
        except ConfigError as err:
            log.warning("no camera signatures in the deployment contract: %s", err)
            self.contract.sources["camera_signatures"] = f"unknown: {err}"
            return
        self.contract.camera_signatures = sigs
        self.contract.sources["camera_signatures"] = source

    def _source(self) -> Path | str:
        cfg = self.cfg
        existing = list_checkpoints(self.run_dir)
        if cfg.resume:
            last = last_checkpoint(self.run_dir)
            if last is None:
                raise CheckpointError(f"resume: no complete checkpoint at {self.run_dir}/checkpoints/last")
            self._resume_from = last
            return last / PRETRAINED_MODEL_DIR
        if existing:
            raise CheckpointError(f"{self.run_dir} already holds checkpoints {[p.name for p in existing]}; "
                                  "pass --resume to continue it or choose another --output-dir")
        return cfg.policy_path

    def _split(self, num_episodes: list[int]) -> EpisodeSplit:
        if self._resume_from is None:
            return split_episodes(num_episodes, self.cfg.val_fraction, self.cfg.seed)
        record = TrainRecord.load(self._resume_from / PRETRAINED_MODEL_DIR)
        if record is None:
            raise CheckpointError(f"{self._resume_from} has no training record to resume from")
        problems = []
        if [_resolved(d) for d in record.datasets] != [_resolved(d) for d in self.cfg.datasets]:
            problems.append(f"datasets {self.cfg.datasets} != {record.datasets}")
        for name in RESUME_FIXED:
            if name in record.config and record.config[name] != getattr(self.cfg, name):
                problems.append(f"{name}={getattr(self.cfg, name)!r} != {record.config[name]!r}")
        if problems:
            raise DatasetMismatchError(f"resume of {self.run_dir}: the run was started with other settings: "
                                       + "; ".join(problems))
        return record.split

    def _transforms(self) -> tuple[Any, Any]:
        cfg = self.cfg
        if not cfg.augment:
            return None, None
        ranges = {split: ColorJitterRanges(*(tuple(getattr(cfg, f"{split}_{n}"))
                                             for n in ("brightness", "contrast", "saturation", "hue")))
                  for split in ("train", "val")}
        return (color_transforms(ranges["train"], cfg.augment_max_transforms),
                color_transforms(ranges["val"], cfg.augment_max_transforms))

    def _lerobot_config(self) -> TrainPipelineConfig:
        """The run as lerobot's config, saved as ``train_config.json`` (first dataset only)."""
        cfg = self.cfg
        opt = self.policy.config.get_optimizer_preset()
        sched = self.policy.config.get_scheduler_preset()
        if cfg.lr > 0:
            opt.lr, sched.peak_lr = cfg.lr, cfg.lr
            sched.decay_lr = min(sched.decay_lr, cfg.lr)
        if cfg.warmup_steps >= 0:
            sched.num_warmup_steps = cfg.warmup_steps
        if cfg.decay_steps >= 0:
            sched.num_decay_steps = max(cfg.decay_steps, 1)
        assert self.split is not None
        return TrainPipelineConfig(
            dataset=DatasetConfig(repo_id=Path(cfg.datasets[0]).name, root=str(cfg.datasets[0]),
                                  episodes=list(self.split.train[0]), video_backend=cfg.video_backend),
            policy=self.policy.config, output_dir=self.run_dir, resume=cfg.resume, seed=cfg.seed,
            num_workers=cfg.num_workers, batch_size=cfg.batch_size, steps=cfg.steps, eval_freq=0,
            log_freq=cfg.log_freq, save_freq=cfg.save_freq, tolerance_s=cfg.tolerance_s,
            use_policy_training_preset=False, optimizer=opt, scheduler=sched,
            wandb=WandBConfig(enable=cfg.wandb, project=cfg.wandb_project), rename_map=cfg.rename(),
        )

    def _build_optimizer(self) -> None:
        self.lerobot_cfg = self._lerobot_config()
        self.optimizer, self.scheduler = make_optimizer_and_scheduler(self.lerobot_cfg, self.policy)
        if self._resume_from is not None:
            self.step, self.optimizer, self.scheduler = load_training_state(
                self._resume_from, self.optimizer, self.scheduler)
        self.loss_fn = ChunkLoss(self.policy, self.cfg.joint_weights, self.cfg.temporal_alpha)

    def _build_loaders(self) -> None:
        cfg = self.cfg
        assert self.train_set is not None
        assert self.split is not None
        weights = parse_episode_weights(cfg.episode_weights)
        held = sorted(k for k in weights if k[0] < len(self.split.val) and k[1] in self.split.val[k[0]])
        if held:
            self.warnings.append(f"episode_weights of held-out (validation) episodes {held} are ignored")
        weights = {k: v for k, v in weights.items() if k not in held}
        sampler = episode_sampler(self.train_set, weights, cfg.seed + self.step)
        workers = 0 if cfg.cache_frames else cfg.num_workers
        common: dict[str, Any] = {"batch_size": cfg.batch_size, "num_workers": workers,
                                  "pin_memory": self.accelerator.device.type == "cuda",
                                  "prefetch_factor": 2 if workers > 0 else None}
        train_loader = DataLoader(self.train_set, sampler=sampler, drop_last=False, **common)
        self.loss_fn, self.optimizer, self.train_loader, self.scheduler = self.accelerator.prepare(
            self.loss_fn, self.optimizer, train_loader, self.scheduler)
        self.val_loader = None
        if self.val_set is not None and cfg.val_freq > 0:
            self.val_loader = self.accelerator.prepare(DataLoader(self.val_set, shuffle=False, **common))

    def describe(self) -> str:
        """The pre-training report: datasets, split, budget and warnings."""
        assert self.summary is not None and self.budget is not None and self.split is not None
        n_val = sum(len(v) for v in self.split.val)
        lines = [self.summary.describe(),
                 f"split: {sum(len(t) for t in self.split.train)} training / {n_val} validation episodes "
                 f"(seed {self.cfg.seed}); {len(self.train_set or [])} / {len(self.val_set or [])} frames",
                 self.budget.describe()]
        if self.cfg.cache_frames and self.train_set is not None:
            cached = sum(part.nbytes for part in self.train_set.datasets)  # type: ignore[attr-defined]
            lines.append(f"frames cached in memory: {cached / 2**20:.0f} MiB of training items, no workers")
        lines += [f"WARNING: {w}" for w in self.warnings]
        if n_val == 0 and self.cfg.val_freq > 0:
            lines.append("WARNING: no validation episodes: validation loss disabled")
        return "\n".join(lines)

    # ------------------------------------------------------------------------------------ loop
    def _batches(self) -> Iterator[dict[str, Any]]:
        while True:
            yield from self.train_loader

    def _prepare(self, raw: dict[str, Any]) -> tuple[dict[str, Any], torch.Tensor]:
        progress = raw["progress"]
        for key in _EXTRA_KEYS:
            raw.pop(key, None)
        return self.preprocessor(raw), progress

    def train(self) -> Path:
        """Run from the current step to ``cfg.steps``; returns the run directory.

        Raises:
            TrainingError: the loss became NaN or infinite (the last checkpoint is kept).
        """
        cfg, acc = self.cfg, self.accelerator
        runlog = RunLog(self.run_dir / "logs", cfg.log_backend, cfg.wandb_project if cfg.wandb else None,
                        asdict(cfg)) if self.is_main else None
        bar = tqdm(total=cfg.steps, initial=self.step, desc="training", unit="step",
                   disable=not (cfg.progress_bar and self.is_main))
        window: dict[str, float] = {}
        batches = self._batches()
        self.loss_fn.train()
        try:
            while self.step < cfg.steps:
                metrics = self._train_step(batches)
                self.step += 1
                for k, v in metrics.items():
                    window[k] = window.get(k, 0.0) + v
                window["n"] = window.get("n", 0.0) + 1
                bar.update(1)
                bar.set_postfix(loss=f"{metrics['loss']:.4f}")
                if self.step % cfg.log_freq == 0 or self.step == cfg.steps:
                    self._log_window(runlog, window)
                    window = {}
                if self.val_loader is not None and (self.step % cfg.val_freq == 0 or self.step == cfg.steps):
                    val = self.validate()
                    if runlog is not None:
                        runlog.log(self.step, {"loss": val}, prefix="val")
                        log.info("step %d: validation loss %.5f", self.step, val)
                if self.step % cfg.save_freq == 0 or self.step == cfg.steps:
                    self.save()
        finally:
            bar.close()
            if runlog is not None:
                runlog.close()
        acc.wait_for_everyone()
        return self.run_dir

    def _train_step(self, batches: Iterator[dict[str, Any]]) -> dict[str, float]:
        acc = self.accelerator
        t0 = time.perf_counter()
        batch, progress = self._prepare(next(batches))
        t1 = time.perf_counter()
        with acc.autocast():
            loss, info = self.loss_fn(batch, progress)
        if not torch.isfinite(loss):
            raise TrainingError(f"non-finite loss {float(loss)} at step {self.step + 1}; "
                                f"the last checkpoint in {self.run_dir} is intact")
        acc.backward(loss)
        clip = self.lerobot_cfg.optimizer.grad_clip_norm
        grad_norm = acc.clip_grad_norm_(self.loss_fn.parameters(), clip if clip > 0 else math.inf)
        self.optimizer.step()
        self.optimizer.zero_grad()
        if self.scheduler is not None:
            self.scheduler.step()
        t2 = time.perf_counter()
        samples = len(progress) * acc.num_processes
        return {**info, "grad_norm": float(grad_norm), "lr": self.optimizer.param_groups[0]["lr"],
                "data_s": t1 - t0, "update_s": t2 - t1, "samples_per_s": samples / max(t2 - t0, 1e-9)}

    def _log_window(self, runlog: RunLog | None, window: dict[str, float]) -> None:
        n = window.pop("n", 1.0)
        means = {k: v / n for k, v in window.items()}
        assert self.budget is not None
        means["epoch"] = self.step * self.budget.epochs / self.budget.steps
        means["data_share"] = means["data_s"] / max(means["data_s"] + means["update_s"], 1e-9)
        if runlog is not None:
            runlog.log(self.step, means)
            log.info("step %d: %s", self.step, " ".join(f"{k}={v:.4g}" for k, v in means.items()))

    @torch.no_grad()
    def validate(self) -> float:
        """Mean loss over the validation split (colour-shifted when augmenting), with fixed noise.

        The colour jitter (also in DataLoader workers, whose seeds derive from the global RNG), the
        flow-matching noise and the times are seeded, so successive validations differ only by the
        model; the training RNG stream is left untouched. Times follow SmolVLA's Beta(1.5, 1)
        (sampled by its inverse CDF ``u ** (2/3)``) scaled into [0.001, 1], as
        ``VLAFlowMatching.sample_time``.
        """
        assert self.val_loader is not None
        self.loss_fn.eval()
        with torch.random.fork_rng():
            torch.manual_seed(self.cfg.seed)
            loss = self._validation_loss()
        self.loss_fn.train()
        return loss

    def _validation_loss(self) -> float:
        acc, cfg = self.accelerator, self.cfg
        total, count = torch.zeros((), device=acc.device), torch.zeros((), device=acc.device)
        policy_cfg = acc.unwrap_model(self.loss_fn).policy.config
        for i, raw in enumerate(self.val_loader or []):
            if cfg.val_max_batches and i >= cfg.val_max_batches:
                break
            batch, progress = self._prepare(raw)
            gen = torch.Generator().manual_seed(cfg.seed + i)
            n = len(progress)
            noise = torch.randn((n, policy_cfg.chunk_size, policy_cfg.max_action_dim), generator=gen)
            t = torch.rand(n, generator=gen) ** (2 / 3) * 0.999 + 0.001
            with acc.autocast():
                loss, _ = self.loss_fn(batch, progress, noise.to(acc.device), t.to(acc.device))
            total += loss.detach() * n
            count += n
        total, count = acc.reduce(total, "sum"), acc.reduce(count, "sum")
        return float(total / count.clamp_min(1))

    def save(self) -> Path:
        """Save a checkpoint of the current step (main process) and point ``last`` at it."""
        acc = self.accelerator
        step_dir = get_step_checkpoint_dir(self.run_dir, self.cfg.steps, self.step)
        if self.is_main:
            policy = acc.unwrap_model(self.loss_fn).policy
            save_checkpoint(step_dir, self.step, self.lerobot_cfg, policy, self.optimizer, self.scheduler,
                            self.preprocessor, self.postprocessor)
            pretrained = step_dir / PRETRAINED_MODEL_DIR
            bundle_vlm(self.vlm_dir, pretrained)
            self.contract.save(pretrained)
            assert self.split is not None and self.budget is not None
            TrainRecord(self.step, [_resolved(d) for d in self.cfg.datasets], self.split, asdict(self.cfg),
                        asdict(self.budget)).save(pretrained)
            update_last_checkpoint(step_dir)
            log.info("step %d: checkpoint %s", self.step, step_dir)
        acc.wait_for_everyone()
        return step_dir
