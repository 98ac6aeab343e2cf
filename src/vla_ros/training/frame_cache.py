"""Training items decoded once and kept in memory, for runs bound by video decoding.

lerobot's :class:`LeRobotDataset` decodes every camera frame from its MP4 on each access (a seek to
the previous keyframe and a decode up to the frame). On few CPU cores that decoding, not the model,
is the training cost: measured on 2 cores with the closed loop's tiny SmolVLA (batch 16, 128x96
frames, two cameras), 0.44 s of data loading per 0.12 s update with ``num_workers=0``, and 0.51 s
updates with ``num_workers=2`` (the workers take the cores). :class:`FrameCache` decodes each item
once, keeps its camera frames as uint8 (the decoder's own values: lerobot divides uint8 frames by
255, so ``round(x * 255)`` gives them back exactly) and applies the colour transforms on each access,
so augmentation still differs every epoch.

Memory: ``frames x cameras x 3 x H x W`` bytes plus the action chunks (``chunk x action_dim x 4``
bytes per frame); :func:`cache_bytes` estimates it before anything is decoded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

__all__ = ["FrameCache", "available_memory", "cache_bytes"]


def cache_bytes(frames: int, image_shapes: Sequence[Sequence[int]], chunk: int, action_dim: int) -> int:
    """Bytes a :class:`FrameCache` of ``frames`` items takes (images uint8, action chunks float32).

    Args:
        frames: items cached.
        image_shapes: shape of each camera's frame, e.g. ``[(3, 96, 128), (3, 96, 128)]``.
        chunk: actions per item (the policy's ``chunk_size``).
        action_dim: values per action.
    """
    image = sum(int(np.prod(s)) for s in image_shapes)
    return frames * (image + chunk * (action_dim * 4 + 1))


def available_memory() -> int:
    """Bytes of physical memory free now (``sysconf``: ``SC_AVPHYS_PAGES x SC_PAGE_SIZE``)."""
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


class FrameCache(Dataset[dict[str, Any]]):
    """Every item of ``part`` decoded once, in order, at construction; served from memory after.

    Items are those of ``part`` with each camera frame (``camera_keys``) a float32 ``(3, H, W)``
    tensor in [0, 1] passed through ``transforms`` on each access, as lerobot's dataset does.
    ``dataset_index`` and ``frame_episodes()`` are forwarded, so the episode sampler works on it.
    Filling the cache leaves torch's global RNG as it was, so a seeded run draws the same weights
    and noise with and without it.

    Args:
        part: the dataset to cache (a :class:`vla_ros.training.data.ProgressDataset`), built
            without image transforms.
        camera_keys: the items' camera keys (``observation.images.<cam>``).
        transforms: image transform per access (lerobot's ``ImageTransforms``), or None.
        num_workers: DataLoader workers decoding the items once.
        progress_bar: show a tqdm bar while decoding.

    Raises:
        ValueError: a camera frame of an item is not a float tensor in [0, 1].
    """

    def __init__(
        self,
        part: Any,
        camera_keys: Sequence[str],
        transforms: Callable[[torch.Tensor], torch.Tensor] | None = None,
        *,
        num_workers: int = 0,
        progress_bar: bool = True,
    ) -> None:
        self.part = part
        self.dataset_index = part.dataset_index
        self.camera_keys = tuple(camera_keys)
        self.transforms = transforms
        loader = DataLoader(part, batch_size=None, shuffle=False, num_workers=num_workers)
        items = tqdm(loader, total=len(part), desc="decoding frames", unit="frame", disable=not progress_bar)
        with torch.random.fork_rng(devices=[]):  # the loader draws a seed: keep the run's RNG stream
            self._items = [self._pack(item) for item in items]

    def _pack(self, item: dict[str, Any]) -> dict[str, Any]:
        # a worker's tensors arrive in shared memory, one file descriptor each, held while they live:
        # kept as they are, a cache of thousands of items ran out of descriptors ("Too many open files")
        # (the camera frames are copied anyway, into uint8)
        item = {k: v.clone() if isinstance(v, torch.Tensor) and k not in self.camera_keys else v
                for k, v in item.items()}
        for key in self.camera_keys:
            frame = item[key]
            if not torch.is_floating_point(frame) or frame.min() < 0 or frame.max() > 1:
                raise ValueError(f"{key}: expected a float frame in [0, 1], got {frame.dtype} "
                                 f"in [{frame.min()}, {frame.max()}]")
            item[key] = (frame * 255).round_().to(torch.uint8)
        return item

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, idx: int) -> dict[str, Any]:
        item = dict(self._items[idx])
        for key in self.camera_keys:
            frame = item[key].to(torch.float32).div_(255)
            item[key] = self.transforms(frame) if self.transforms is not None else frame
        return item

    def frame_episodes(self) -> np.ndarray:
        """Episode index of every cached frame, shape ``(len(self),)`` int64."""
        return self.part.frame_episodes()

    @property
    def nbytes(self) -> int:
        """Bytes held by the cached tensors."""
        return sum(v.element_size() * v.nelement() for item in self._items for v in item.values()
                   if isinstance(v, torch.Tensor))
