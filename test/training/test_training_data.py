"""Episode split, delta timestamps, split datasets, colour transforms and the weighted sampler."""

from __future__ import annotations

import resource
import shutil
from collections import Counter
from pathlib import Path

import pytest
import torch
from lerobot.policies.smolvla.configuration_smolvla import SmolVLAConfig

from vla_ros.training.data import (
    ColorJitterRanges,
    color_transforms,
    delta_timestamps,
    episode_sampler,
    load_metadata,
    make_split_datasets,
    split_episodes,
)
from vla_ros.training.errors import DatasetMismatchError
from vla_ros.training.frame_cache import FrameCache, cache_bytes

TRAIN_RANGES = ColorJitterRanges((0.8, 1.2), (0.8, 1.2), (0.5, 1.5), (-0.05, 0.05))
VAL_RANGES = ColorJitterRanges((0.7, 1.0), (1.0, 1.3), (0.5, 1.2), (-0.08, 0.06))


def test_split_is_by_episode_and_seedable() -> None:
    split = split_episodes([10, 1, 4], 0.2, seed=3)
    for train, val, n in zip(split.train, split.val, (10, 1, 4)):
        assert not set(train) & set(val)
        assert sorted(train + val) == list(range(n))
    assert [len(v) for v in split.val] == [2, 0, 1]
    assert split_episodes([10, 1, 4], 0.2, seed=3) == split
    assert any(split_episodes([10, 1, 4], 0.2, seed=s) != split for s in range(4, 10))
    assert split_episodes([5], 0.0, seed=0).val == ((),)
    with pytest.raises(ValueError):
        split_episodes([5], 1.0, seed=0)


def test_delta_timestamps_follow_chunk_size_and_fps(so101_dataset: Path) -> None:
    meta = load_metadata([so101_dataset])[0]
    deltas = delta_timestamps(SmolVLAConfig(chunk_size=10, n_action_steps=5), meta)
    assert deltas["action"] == pytest.approx([i / 30 for i in range(10)])
    assert deltas["observation.state"] == [0.0]
    assert deltas["observation.images.front"] == [0.0]


def test_split_datasets_items(so101_dataset: Path) -> None:
    meta = load_metadata([so101_dataset])[0]
    deltas = delta_timestamps(SmolVLAConfig(chunk_size=10, n_action_steps=5), meta)
    split = split_episodes([meta.total_episodes], 0.34, seed=0)
    train = make_split_datasets([so101_dataset], split.train, deltas, transforms=None, video_backend="pyav")
    val = make_split_datasets([so101_dataset], split.val, deltas, transforms=None, video_backend="pyav")
    assert train is not None and val is not None
    assert len(train) + len(val) == meta.total_frames
    train_eps = {int(train[i]["episode_index"]) for i in range(0, len(train), 7)}
    val_eps = {int(val[i]["episode_index"]) for i in range(len(val))}
    assert val_eps == set(split.val[0]) and not train_eps & val_eps
    first, last = val[0], val[int(meta.episodes["length"][split.val[0][0]]) - 1]
    assert first["progress"] == 0.0 and last["progress"] == pytest.approx(1.0)
    assert first["action"].shape == (10, 6) and first["observation.images.front"].shape == (3, 48, 64)
    assert not first["action_is_pad"].any() and last["action_is_pad"][1:].all()
    assert int(first["dataset_index"]) == 0
    assert make_split_datasets([so101_dataset], [()], deltas, transforms=None, video_backend="pyav") is None


def test_metadata_mismatch_lists_every_problem(tmp_path: Path, so101_dataset: Path, dataset_factory) -> None:
    other = dataset_factory(tmp_path / "one_cam", episodes=1, lengths=(5,), cameras=("front",))
    with pytest.raises(DatasetMismatchError) as err:
        load_metadata([so101_dataset, other])
    assert "cameras" in str(err.value)
    with pytest.raises(DatasetMismatchError, match="not LeRobot datasets"):
        load_metadata([so101_dataset, tmp_path / "nothing"])
    shutil.rmtree(other)


def test_validation_colours_are_shifted_darker() -> None:
    torch.manual_seed(0)
    img = torch.full((3, 48, 64), 0.5)
    img[0, :10] = 0.9
    train_tf, val_tf = color_transforms(TRAIN_RANGES), color_transforms(VAL_RANGES)
    train_mean = torch.stack([train_tf(img).mean() for _ in range(200)]).mean()
    val_mean = torch.stack([val_tf(img).mean() for _ in range(200)]).mean()
    assert abs(float(train_mean) - float(img.mean())) < 0.03
    assert float(val_mean) < float(img.mean()) - 0.03


def test_weighted_sampler_oversamples_episodes(so101_dataset: Path) -> None:
    meta = load_metadata([so101_dataset])[0]
    deltas = delta_timestamps(SmolVLAConfig(chunk_size=4, n_action_steps=4), meta)
    data = make_split_datasets([so101_dataset], [(0, 1, 2)], deltas, transforms=None, video_backend="pyav")
    assert data is not None
    lengths = [int(n) for n in meta.episodes["length"][:3]]
    episodes = data.datasets[0].frame_episodes()
    counts: Counter[int] = Counter()
    sampler = episode_sampler(data, {(0, 1): 5.0}, seed=0)
    for _ in range(20):
        counts.update(int(episodes[i]) for i in sampler)
    total = sum(counts.values())
    expected = lengths[1] * 5 / (lengths[0] + lengths[1] * 5 + lengths[2])
    assert counts[1] / total == pytest.approx(expected, abs=0.05)
    assert sorted(episode_sampler(data, {}, seed=0)) == list(range(len(data)))
    with pytest.raises(DatasetMismatchError, match="not in the training split"):
        episode_sampler(data, {(0, 5): 2.0}, seed=0)


def test_frame_cache_serves_the_decoded_items(so101_dataset: Path) -> None:
    meta = load_metadata([so101_dataset])[0]
    deltas = delta_timestamps(SmolVLAConfig(chunk_size=6, n_action_steps=6), meta)
    episodes = [(0, 2)]
    plain = make_split_datasets([so101_dataset], episodes, deltas, transforms=None, video_backend="pyav")
    cached = make_split_datasets([so101_dataset], episodes, deltas, transforms=None, video_backend="pyav",
                                 cache_workers=2, progress_bar=False)
    assert plain is not None and cached is not None and len(cached) == len(plain)
    part = cached.datasets[0]
    assert isinstance(part, FrameCache)
    for i in range(len(plain)):
        a, b = plain[i], cached[i]
        assert a.keys() == b.keys()
        for key, value in a.items():
            if isinstance(value, torch.Tensor):
                assert value.dtype == b[key].dtype and torch.equal(value, b[key]), (i, key)
            else:
                assert value == b[key]
    assert (part.frame_episodes() == plain.datasets[0].frame_episodes()).all()
    shapes = [meta.features[c]["shape"] for c in meta.camera_keys]
    estimate = cache_bytes(len(cached), shapes, 6, 6)
    assert estimate <= part.nbytes <= estimate * 1.5
    assert sorted(episode_sampler(cached, {(0, 2): 3.0}, seed=0))  # the sampler reads the cache's episodes


def test_frame_cache_jitters_on_every_access(so101_dataset: Path) -> None:
    meta = load_metadata([so101_dataset])[0]
    deltas = delta_timestamps(SmolVLAConfig(chunk_size=4, n_action_steps=4), meta)
    cached = make_split_datasets([so101_dataset], [(1,)], deltas, transforms=color_transforms(TRAIN_RANGES),
                                 video_backend="pyav", cache_workers=0, progress_bar=False)
    assert cached is not None
    torch.manual_seed(0)
    first, second = cached[3]["observation.images.front"], cached[3]["observation.images.front"]
    assert first.dtype == torch.float32 and first.shape == (3, 48, 64)
    assert not torch.equal(first, second)


def test_frame_cache_holds_no_worker_file_descriptors(so101_dataset: Path) -> None:
    meta = load_metadata([so101_dataset])[0]
    deltas = delta_timestamps(SmolVLAConfig(chunk_size=4, n_action_steps=4), meta)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(512, hard), hard))  # < items x tensors of the dataset
    try:
        cached = make_split_datasets([so101_dataset], [tuple(range(meta.total_episodes))], deltas,
                                     transforms=None, video_backend="pyav", cache_workers=2,
                                     progress_bar=False)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert cached is not None and len(cached) == meta.total_frames
    assert len(cached) * len(cached[0]) > 512
