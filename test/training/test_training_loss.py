"""The corrected SmolVLA loss: padding mask, real action dimension, joint and temporal weights.

lerobot 0.4.4 ``SmolVLAPolicy.forward`` reads the pad mask under ``actions_id_pad`` (the data says
``action_is_pad``) and averages over all 32 padded action dimensions; these tests show our loss
differs from it on a batch with padded steps and dims, and equals a hand computation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from vla_ros.policy.checkpoint import inspect_checkpoint, load_policy
from vla_ros.training.data import delta_timestamps, load_metadata, make_split_datasets
from vla_ros.training.loss import ChunkLoss, policy_chunk_losses, reduce_chunk_losses, temporal_weights


def test_reduce_by_hand() -> None:
    losses = torch.arange(2 * 3 * 4, dtype=torch.float32).reshape(2, 3, 4)  # B=2, T=3, Dmax=4
    is_pad = torch.tensor([[False, False, True], [False, True, True]])
    # action_dim 2: real entries are losses[..., :2]; unmasked steps: (0,0), (0,1), (1,0)
    real = [[0, 1], [4, 5], [12, 13]]
    assert float(reduce_chunk_losses(losses, 2, is_pad)) == pytest.approx(np.mean(real))
    jw = torch.tensor([1.0, 3.0])
    expected = (0 + 3 * 1 + 4 + 3 * 5 + 12 + 3 * 13) / (3 * (1 + 3))
    assert float(reduce_chunk_losses(losses, 2, is_pad, jw)) == pytest.approx(expected)
    sw = torch.tensor([2.0, 0.5])
    num = 2 * (0 + 3 * 1 + 4 + 3 * 5) + 0.5 * (12 + 3 * 13)
    den = 2 * 2 * 4 + 0.5 * 1 * 4
    assert float(reduce_chunk_losses(losses, 2, is_pad, jw, sw)) == pytest.approx(num / den)
    assert float(reduce_chunk_losses(losses, 2, torch.ones(2, 3, dtype=torch.bool))) == 0.0


def test_temporal_weights_seed_table() -> None:
    w = temporal_weights(torch.tensor([0.0, 0.5, 0.8, 1.0]), alpha=1.0)
    assert w.tolist() == pytest.approx([1.0, 1.25, 1.64, 2.0])
    assert temporal_weights(torch.tensor([0.3]), 0.0).tolist() == [1.0]


@pytest.fixture(scope="module")
def padded_batch(tiny_checkpoint: Path, so101_dataset: Path, rename_map: list[str]) -> tuple:
    loaded = load_policy(inspect_checkpoint(tiny_checkpoint))
    loaded.preprocessor.steps[0].rename_map = dict(r.split("=") for r in rename_map)
    meta = load_metadata([so101_dataset])[0]
    data = make_split_datasets([so101_dataset], [(0,)], delta_timestamps(loaded.policy.config, meta),
                               transforms=None, video_backend="pyav")
    n = len(data)
    raw = default_collate([data[i] for i in (0, n // 2, n - 4, n - 1)])  # the last two run past the end
    progress = raw.pop("progress")
    raw.pop("dataset_index")
    batch = loaded.preprocessor(raw)
    assert batch["action_is_pad"].any() and not batch["action_is_pad"][0].any()
    gen = torch.Generator().manual_seed(0)
    cfg = loaded.policy.config
    noise = torch.randn((4, cfg.chunk_size, cfg.max_action_dim), generator=gen)
    time = torch.rand(4, generator=gen) * 0.9 + 0.05
    return loaded.policy, batch, progress, noise, time


def test_loss_differs_from_lerobot_and_matches_hand(padded_batch: tuple) -> None:
    policy, batch, progress, noise, time = padded_batch
    policy.eval()
    with torch.no_grad():
        raw = policy_chunk_losses(policy, dict(batch), noise, time)  # (B, T, Dmax)
        ours, info = ChunkLoss(policy)(dict(batch), progress, noise, time)
        lerobot, _ = policy.forward(dict(batch), noise=noise, time=time)
    assert raw.shape == (4, 10, policy.config.max_action_dim) and policy.config.max_action_dim > 6
    # lerobot 0.4.4: no mask (wrong key), mean over every padded dimension
    assert float(lerobot) == pytest.approx(float(raw.mean()), rel=1e-5)
    keep = ~batch["action_is_pad"]
    hand = raw[:, :, :6][keep].mean()
    assert float(ours) == pytest.approx(float(hand), rel=1e-5)
    assert abs(float(ours) - float(lerobot)) > 1e-3
    # masking alone matters: the unmasked mean over the real dims differs from the masked one
    assert abs(float(raw[:, :, :6].mean()) - float(hand)) > 1e-4
    assert info["pad_fraction"] == pytest.approx(float((~keep).float().mean()))


def test_joint_and_temporal_weights_change_the_loss_as_specified(padded_batch: tuple) -> None:
    policy, batch, progress, noise, time = padded_batch
    jw = [1.0, 1.0, 2.0, 1.0, 1.0, 3.0]
    with torch.no_grad():
        raw = policy_chunk_losses(policy, dict(batch), noise, time)[:, :, :6].double()
        weighted, _ = ChunkLoss(policy, jw, temporal_alpha=1.5)(dict(batch), progress, noise, time)
    keep = (~batch["action_is_pad"]).double()
    w = keep[:, :, None] * torch.tensor(jw, dtype=torch.float64)[None, None, :]
    w = w * (1 + 1.5 * progress.double() ** 2)[:, None, None]
    hand = (raw * w).sum() / w.sum()
    assert float(weighted) == pytest.approx(float(hand), rel=1e-5)
    with torch.no_grad():
        uniform, _ = ChunkLoss(policy)(dict(batch), progress, noise, time)
    assert abs(float(weighted) - float(uniform)) > 1e-4
    with pytest.raises(ValueError, match="joint weights"):
        ChunkLoss(policy, [1.0, 2.0])
