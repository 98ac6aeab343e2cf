"""Training data: local LeRobot datasets, an episode-level split, colour transforms, weighted sampling.

Everything is lerobot's own machinery (lerobot 0.4.4): :class:`LeRobotDataset` per dataset and split,
``resolve_delta_timestamps`` for the action chunk, :class:`ImageTransforms` for the colour jitter,
``aggregate_stats`` for normalisation over several datasets. What this module adds:

* the split is by episode, so no episode is on both sides (seed lesson: frame-level splits leak);
* each item gets ``progress`` (``frame_index / (episode_length - 1)``, in [0, 1]) and
  ``dataset_index``, which the loss's temporal weighting and the episode sampler need;
* oversampling of chosen episodes by weight (lerobot's ``EpisodeAwareSampler`` cannot weight).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lerobot.configs.policies import PreTrainedConfig
from lerobot.datasets.compute_stats import aggregate_stats
from lerobot.datasets.factory import resolve_delta_timestamps
from lerobot.datasets.lerobot_dataset import LeRobotDataset, LeRobotDatasetMetadata
from lerobot.datasets.transforms import ImageTransformConfig, ImageTransforms, ImageTransformsConfig
from lerobot.utils.constants import ACTION, OBS_STATE
from torch.utils.data import ConcatDataset, Dataset, RandomSampler, Sampler, WeightedRandomSampler

from vla_ros.training.errors import DatasetMismatchError
from vla_ros.training.frame_cache import FrameCache

__all__ = [
    "ColorJitterRanges",
    "EpisodeSplit",
    "ProgressDataset",
    "check_camera_features",
    "color_transforms",
    "combined_stats",
    "delta_timestamps",
    "episode_sampler",
    "load_metadata",
    "make_split_datasets",
    "split_episodes",
]

INFO_FILE = Path("meta") / "info.json"


def load_metadata(roots: Sequence[str | Path]) -> list[LeRobotDatasetMetadata]:
    """Open the metadata of local LeRobot datasets and check they can be trained on together.

    Args:
        roots: dataset directories (each holding ``meta/info.json``).

    Returns:
        One :class:`LeRobotDatasetMetadata` per root, in order.

    Raises:
        DatasetMismatchError: a directory is not a dataset, or the datasets differ in fps, in
            ``observation.state``/``action`` shape or names, or in camera keys; every problem at once.
    """
    missing = [str(r) for r in roots if not (Path(r) / INFO_FILE).is_file()]
    if missing:
        raise DatasetMismatchError(f"not LeRobot datasets (no {INFO_FILE}): {missing}")
    metas = [LeRobotDatasetMetadata(Path(r).name, root=Path(r)) for r in roots]
    problems = []
    first = metas[0]
    for root, meta in zip(roots[1:], metas[1:]):
        if meta.fps != first.fps:
            problems.append(f"{root}: fps {meta.fps} != {first.fps} of {roots[0]}")
        for key in (OBS_STATE, ACTION):
            a, b = meta.features.get(key, {}), first.features.get(key, {})
            if tuple(a.get("shape", ())) != tuple(b.get("shape", ())) or a.get("names") != b.get("names"):
                problems.append(f"{root}: {key} {a.get('names')} differs from {b.get('names')} of {roots[0]}")
        if sorted(meta.camera_keys) != sorted(first.camera_keys):
            problems.append(f"{root}: cameras {meta.camera_keys} != {first.camera_keys} of {roots[0]}")
    for root, meta in zip(roots, metas):
        for key in (OBS_STATE, ACTION):
            if key not in meta.features:
                problems.append(f"{root}: no '{key}' feature")
    if problems:
        raise DatasetMismatchError("datasets cannot be combined: " + "; ".join(problems))
    return metas


@dataclass(frozen=True)
class EpisodeSplit:
    """Train and validation episode indices, one tuple per dataset (sorted).

    Attributes:
        train: ``train[d]`` are the training episodes of dataset ``d``.
        val: ``val[d]`` are the held-out episodes of dataset ``d``; disjoint from ``train[d]``.
    """

    train: tuple[tuple[int, ...], ...]
    val: tuple[tuple[int, ...], ...]

    def to_dict(self) -> dict[str, list[list[int]]]:
        """JSON-ready form."""
        return {"train": [list(t) for t in self.train], "val": [list(v) for v in self.val]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EpisodeSplit:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(tuple(t) for t in data["train"]), tuple(tuple(v) for v in data["val"]))

    def save(self, path: Path) -> None:
        """Write as JSON."""
        path.write_text(json.dumps(self.to_dict()))


def check_camera_features(
    policy_cfg: PreTrainedConfig, cameras: Sequence[str], rename: Mapping[str, str]
) -> list[str]:
    """Check the renamed dataset cameras against the policy's image features.

    Args:
        policy_cfg: the policy config (``image_features`` are its cameras).
        cameras: the dataset's camera keys.
        rename: dataset key -> policy key.

    Returns:
        Warnings: policy cameras no dataset camera feeds (SmolVLA leaves them out).

    Raises:
        DatasetMismatchError: a rename key is not a dataset feature, a dataset camera lands on no
            policy camera (it would be silently ignored), or two cameras land on the same one.
    """
    wanted = set(policy_cfg.image_features)
    problems = []
    unknown = sorted(k for k in rename if k not in cameras and not k.startswith("observation.state"))
    if unknown:
        problems.append(f"rename_map keys {unknown} are not dataset cameras {cameras}")
    targets = [rename.get(c, c) for c in cameras]
    for cam, target in zip(cameras, targets):
        if target not in wanted:
            problems.append(f"dataset camera {cam} -> {target} is not a policy camera {sorted(wanted)}")
    dupes = sorted({t for t in targets if targets.count(t) > 1})
    if dupes:
        problems.append(f"several dataset cameras map onto {dupes}")
    if problems:
        raise DatasetMismatchError("camera mapping: " + "; ".join(problems)
                                   + " (use --rename-map dataset_key=policy_key)")
    return [f"policy camera {k} gets no images (left out)" for k in sorted(wanted - set(targets))]


def split_episodes(num_episodes: Sequence[int], val_fraction: float, seed: int) -> EpisodeSplit:
    """Hold out whole episodes of each dataset for validation, reproducibly.

    Each dataset with at least two episodes gives ``round(n * val_fraction)`` episodes, at least one
    when ``val_fraction > 0`` and at most ``n - 1``; a single-episode dataset stays in training.

    Args:
        num_episodes: episodes per dataset.
        val_fraction: fraction in [0, 1).
        seed: the same seed and counts give the same split.

    Raises:
        ValueError: ``val_fraction`` outside [0, 1).
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction={val_fraction} must be in [0, 1)")
    rng = np.random.default_rng(seed)
    train, val = [], []
    for n in num_episodes:
        order = rng.permutation(n)
        n_val = 0
        if val_fraction > 0 and n >= 2:
            n_val = min(max(1, round(n * val_fraction)), n - 1)
        val.append(tuple(sorted(int(e) for e in order[:n_val])))
        train.append(tuple(sorted(int(e) for e in order[n_val:])))
    return EpisodeSplit(tuple(train), tuple(val))


def delta_timestamps(policy_cfg: PreTrainedConfig, meta: LeRobotDatasetMetadata) -> dict[str, list[float]]:
    """Relative times of the frames each sample needs, from the policy's chunk size and the fps.

    For SmolVLA: observations at ``[0.0]`` and actions at ``[i / fps for i in range(chunk_size)]``,
    so a sample carries the whole chunk the model is trained to predict (seed lesson: without it the
    model sees one action and fails with a size mismatch). lerobot's ``resolve_delta_timestamps``.
    """
    return resolve_delta_timestamps(policy_cfg, meta) or {}


@dataclass(frozen=True)
class ColorJitterRanges:
    """Ranges of torchvision ``ColorJitter`` factors: each ``(low, high)``, sampled uniformly.

    brightness/contrast/saturation are multiplicative factors (1 = unchanged); hue is a shift in
    [-0.5, 0.5] of the colour wheel.
    """

    brightness: tuple[float, float]
    contrast: tuple[float, float]
    saturation: tuple[float, float]
    hue: tuple[float, float]


def color_transforms(ranges: ColorJitterRanges, max_num_transforms: int = 2) -> ImageTransforms:
    """lerobot's :class:`ImageTransforms` applying up to ``max_num_transforms`` jitters, random order.

    The seed colour challenge's setup (``ImageTransformsConfig`` with one ``ColorJitter`` per factor).
    """
    tfs = {
        name: ImageTransformConfig(weight=1.0, type="ColorJitter",
                                   kwargs={name: tuple(getattr(ranges, name))})
        for name in ("brightness", "contrast", "saturation", "hue")
    }
    cfg = ImageTransformsConfig(enable=True, max_num_transforms=max_num_transforms, random_order=True,
                                tfs=tfs)
    return ImageTransforms(cfg)


class ProgressDataset(Dataset[dict[str, Any]]):
    """A :class:`LeRobotDataset` whose items also carry ``progress`` and ``dataset_index``.

    ``progress`` (float32 scalar) = ``frame_index / (episode_length - 1)``: 0 at an episode's first
    frame, 1 at its last (0 for one-frame episodes). ``dataset_index`` (int64 scalar) is the
    position of the dataset in the run's dataset list.
    """

    def __init__(self, dataset: LeRobotDataset, dataset_index: int) -> None:
        self.dataset = dataset
        self.dataset_index = dataset_index
        self._lengths = {int(e): int(n) for e, n in
                         zip(dataset.meta.episodes["episode_index"], dataset.meta.episodes["length"])}

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: int) -> dict[str, Any]:
        item = self.dataset[idx]
        length = self._lengths[int(item["episode_index"])]
        item["progress"] = torch.tensor(float(item["frame_index"]) / max(length - 1, 1), dtype=torch.float32)
        item["dataset_index"] = torch.tensor(self.dataset_index, dtype=torch.int64)
        return item

    def frame_episodes(self) -> np.ndarray:
        """Episode index of every frame of the dataset, shape ``(len(self),)`` int64."""
        return np.asarray(self.dataset.hf_dataset.with_format(None)["episode_index"], dtype=np.int64)


def make_split_datasets(
    roots: Sequence[str | Path],
    episodes: Sequence[Sequence[int]],
    deltas: Mapping[str, list[float]],
    *,
    transforms: ImageTransforms | None,
    video_backend: str,
    tolerance_s: float = 1e-4,
    cache_workers: int | None = None,
    progress_bar: bool = True,
) -> ConcatDataset[dict[str, Any]] | None:
    """One side of the split: the given episodes of every dataset, concatenated.

    Args:
        roots: dataset directories.
        episodes: ``episodes[d]``: episode indices to load from ``roots[d]`` (empty: none).
        deltas: :func:`delta_timestamps`.
        transforms: image transform applied to every camera frame, or None.
        video_backend: lerobot's video decoder (``pyav``, ``torchcodec``, ``video_reader``).
        tolerance_s: lerobot's timestamp tolerance, s.
        cache_workers: None: decode on each access; else decode every item once, with this many
            DataLoader workers, into a :class:`~vla_ros.training.frame_cache.FrameCache`.
        progress_bar: show a bar while filling the cache.

    Returns:
        A ``ConcatDataset`` of :class:`ProgressDataset` (or of their caches), or None if no
        episode was selected.
    """
    parts: list[Dataset[dict[str, Any]]] = []
    for d, (root, eps) in enumerate(zip(roots, episodes)):
        if not eps:
            continue
        dataset = LeRobotDataset(Path(root).name, root=Path(root), episodes=list(eps),
                                 delta_timestamps=dict(deltas),
                                 image_transforms=transforms if cache_workers is None else None,
                                 video_backend=video_backend, tolerance_s=tolerance_s)
        part: Dataset[dict[str, Any]] = ProgressDataset(dataset, d)
        if cache_workers is not None:
            part = FrameCache(part, dataset.meta.camera_keys, transforms, num_workers=cache_workers,
                              progress_bar=progress_bar)
        parts.append(part)
    return ConcatDataset(parts) if parts else None


def combined_stats(metas: Sequence[LeRobotDatasetMetadata]) -> dict[str, dict[str, np.ndarray]]:
    """Normalisation statistics over all datasets (lerobot's ``aggregate_stats``; one dataset: as is)."""
    if len(metas) == 1:
        return metas[0].stats
    return aggregate_stats([m.stats for m in metas])


def episode_sampler(
    dataset: ConcatDataset[dict[str, Any]],
    weights: Mapping[tuple[int, int], float],
    seed: int,
) -> Sampler[int]:
    """Shuffle frames; with ``weights``, draw them with probability proportional to their episode's weight.

    Args:
        dataset: training side from :func:`make_split_datasets`.
        weights: ``{(dataset_number, episode_index): weight}``; unlisted episodes weigh 1.
        seed: seed of the sampler's generator.

    Returns:
        ``RandomSampler`` without weights, else a ``WeightedRandomSampler`` (with replacement,
        ``len(dataset)`` draws per epoch).

    Raises:
        DatasetMismatchError: a weighted episode is not in the training split, or all weights are 0.
    """
    generator = torch.Generator().manual_seed(seed)
    if not weights:
        return RandomSampler(dataset, generator=generator)
    per_frame, present = [], set()
    for part in dataset.datasets:
        eps = part.frame_episodes()  # type: ignore[attr-defined]
        ds = part.dataset_index  # type: ignore[attr-defined]
        present.update((ds, int(e)) for e in np.unique(eps))
        per_frame.append(np.array([weights.get((ds, int(e)), 1.0) for e in eps], dtype=np.float64))
    unknown = sorted(set(weights) - present)
    if unknown:
        raise DatasetMismatchError(f"episode_weights name episodes not in the training split: {unknown}")
    frame_weights = np.concatenate(per_frame)
    if frame_weights.sum() <= 0:
        raise DatasetMismatchError("episode_weights leave no training frame with a positive weight")
    return WeightedRandomSampler(torch.as_tensor(frame_weights), num_samples=len(frame_weights),
                                 replacement=True, generator=generator)
