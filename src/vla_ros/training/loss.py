"""SmolVLA's flow-matching loss with the padding handled right, plus joint and temporal weights.

lerobot 0.4.4 ``SmolVLAPolicy.forward`` (``policies/smolvla/modeling_smolvla.py``) has two padding bugs:

* it reads the pad mask as ``batch["actions_id_pad"]``, but datasets call it ``action_is_pad``, so the
  steps of a chunk past the episode's end (copies of the last action) are never masked;
* it slices the per-dimension losses to ``config.max_action_dim`` (32) instead of the real action
  dimension (6 for the SO-101), so the 26 zero-padded dimensions, trivially easy, dilute the mean.

Here the unreduced ``(B, T, max_action_dim)`` losses of ``policy.model.forward`` are sliced to the
action dimension, masked with ``action_is_pad``, weighted per joint (seed: "no native joint-specific
loss weighting") and per sample by ``1 + alpha * progress**2`` (seed: temporal weighting of the later,
harder part of an episode), and normalised by the sum of the weights of the unmasked entries:

    loss = sum(w * l) / sum(w),   w[b, t, j] = (1 - is_pad[b, t]) * joint_w[j] * (1 + alpha * p[b]^2)

Core module: no ROS.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from lerobot.policies.smolvla.modeling_smolvla import SmolVLAPolicy
from lerobot.utils.constants import ACTION, OBS_LANGUAGE_ATTENTION_MASK, OBS_LANGUAGE_TOKENS, OBS_STATE
from torch import Tensor, nn

__all__ = ["ACTION_PAD_KEY", "ChunkLoss", "policy_chunk_losses", "reduce_chunk_losses", "temporal_weights"]

ACTION_PAD_KEY = f"{ACTION}_is_pad"
"""The pad-mask key lerobot's dataset writes (``LeRobotDataset._get_query_indices``)."""


def temporal_weights(progress: Tensor, alpha: float) -> Tensor:
    """Per-sample weights ``1 + alpha * progress**2``.

    Args:
        progress: ``(B,)`` position of each sample's frame in its episode, 0 (first) to 1 (last).
        alpha: emphasis of late frames; 0 gives all ones. Seed example: alpha = 1 weighs the last
            frame 2x, the middle one 1.25x.
    """
    return 1.0 + alpha * progress.to(torch.float32) ** 2


def reduce_chunk_losses(
    losses: Tensor,
    action_dim: int,
    action_is_pad: Tensor | None = None,
    joint_weights: Tensor | None = None,
    sample_weights: Tensor | None = None,
) -> Tensor:
    """Weighted mean of per-step, per-dimension losses over real (unpadded) entries.

    Args:
        losses: ``(B, T, D_max)`` float, e.g. squared errors of the flow-matching velocity.
        action_dim: the real action dimension ``D <= D_max``; dimensions past it are padding.
        action_is_pad: ``(B, T)`` bool, True where the chunk step lies past the episode's end.
        joint_weights: ``(D,)`` non-negative weight of each action dimension.
        sample_weights: ``(B,)`` non-negative weight of each sample (e.g. :func:`temporal_weights`).

    Returns:
        Scalar ``sum(w * l) / sum(w)`` over the first ``action_dim`` dimensions; 0 when every entry
        is masked.
    """
    real = losses[:, :, :action_dim]
    weights = torch.ones_like(real)
    if action_is_pad is not None:
        weights = weights * (~action_is_pad.bool()).unsqueeze(-1).to(real.dtype)
    if joint_weights is not None:
        weights = weights * joint_weights.to(real)[None, None, :]
    if sample_weights is not None:
        weights = weights * sample_weights.to(real)[:, None, None]
    return (real * weights).sum() / weights.sum().clamp_min(torch.finfo(real.dtype).tiny)


def policy_chunk_losses(
    policy: SmolVLAPolicy, batch: dict[str, Any], noise: Tensor | None = None, time: Tensor | None = None
) -> Tensor:
    """Unreduced flow-matching losses ``(B, chunk_size, max_action_dim)`` of a preprocessed batch.

    The same inputs as ``SmolVLAPolicy.forward`` (lerobot's ``prepare_images``, ``prepare_state``,
    ``prepare_action``), without its reduction.

    Args:
        policy: the SmolVLA policy.
        batch: output of the policy's preprocessor pipeline (normalised, tokenised, on device).
        noise: optional ``(B, chunk_size, max_action_dim)`` flow-matching noise (random if None).
        time: optional ``(B,)`` flow-matching times in (0, 1] (Beta(1.5, 1) if None).
    """
    if policy.config.adapt_to_pi_aloha:
        batch[OBS_STATE] = policy._pi_aloha_decode_state(batch[OBS_STATE])
        batch[ACTION] = policy._pi_aloha_encode_actions_inv(batch[ACTION])
    images, img_masks = policy.prepare_images(batch)
    state = policy.prepare_state(batch)
    actions = policy.prepare_action(batch)
    return policy.model.forward(images, img_masks, batch[OBS_LANGUAGE_TOKENS],
                                batch[OBS_LANGUAGE_ATTENTION_MASK], state, actions, noise, time)


class ChunkLoss(nn.Module):
    """The training loss as a module around the policy, so Accelerate/DDP wraps the whole forward.

    Calling ``policy.model`` directly on a DDP-wrapped policy would skip DDP's gradient hooks;
    wrapping this module instead keeps multi-GPU gradients synchronised.

    Args:
        policy: the SmolVLA policy (its parameters are this module's).
        joint_weights: per-joint weights in action order (empty: uniform).
        temporal_alpha: the alpha of :func:`temporal_weights`.

    Raises:
        ValueError: ``joint_weights`` does not have one weight per action dimension.
    """

    def __init__(
        self, policy: SmolVLAPolicy, joint_weights: Sequence[float] = (), temporal_alpha: float = 0.0
    ) -> None:
        super().__init__()
        self.policy = policy
        self.action_dim = int(policy.config.action_feature.shape[0])
        if joint_weights and len(joint_weights) != self.action_dim:
            raise ValueError(f"{len(joint_weights)} joint weights for {self.action_dim} action dimensions")
        weights = torch.tensor(list(joint_weights) or [1.0] * self.action_dim, dtype=torch.float32)
        self.register_buffer("joint_weights", weights, persistent=False)
        self.temporal_alpha = float(temporal_alpha)

    def forward(
        self,
        batch: dict[str, Any],
        progress: Tensor | None = None,
        noise: Tensor | None = None,
        time: Tensor | None = None,
    ) -> tuple[Tensor, dict[str, float]]:
        """Loss of a preprocessed batch.

        Args:
            batch: preprocessed batch, with ``action_is_pad`` ``(B, chunk_size)`` when the dataset
                padded chunks past the episode's end.
            progress: ``(B,)`` episode progress of each sample (needed when ``temporal_alpha > 0``).
            noise, time: as :func:`policy_chunk_losses`.

        Returns:
            ``(loss, info)``: scalar loss with gradient, and floats for logging (``loss``,
            ``pad_fraction``).
        """
        losses = policy_chunk_losses(self.policy, batch, noise, time)
        is_pad = batch.get(ACTION_PAD_KEY)
        sample_w = None
        if self.temporal_alpha and progress is not None:
            sample_w = temporal_weights(progress.to(losses.device), self.temporal_alpha)
        loss = reduce_chunk_losses(losses, self.action_dim, is_pad, self.joint_weights, sample_w)
        pad = float(is_pad.float().mean()) if is_pad is not None else 0.0
        return loss, {"loss": float(loss.detach()), "pad_fraction": pad}
