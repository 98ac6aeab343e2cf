"""One observation in, one action chunk out: the whole inference path of the policy node.

``ObservationSnapshot`` (joint names/positions in radians, undecoded image messages, their capture
times) -> guards (freshness, image size and encoding) -> LeRobot observation dict (state in the
checkpoint's units via :class:`~vla_ros.robot.units.UnitConverter`, images ``(3, H, W)`` float in
``[0, 1]``, ``task``) -> the checkpoint's saved pre-processor -> ``predict_action_chunk`` (with RTC's
``inference_delay`` and ``prev_chunk_left_over`` when enabled) -> post-processor -> radians -> NaN guard.

Runs under ``torch.no_grad()`` (``predict_action_chunk``'s own decorator), not ``inference_mode``:
lerobot's RTC guidance needs autograd. Image features declared empty get a blank image with a
``<key>_padding_mask`` of False, which ``SmolVLAPolicy.prepare_images`` turns into masked-out tokens.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vla_ros.camera.image import msg_to_rgb
from vla_ros.errors import BadInputError, VlaRosError
from vla_ros.policy.checkpoint import LoadedPolicy
from vla_ros.policy.guards import check_chunk, check_observation
from vla_ros.robot.joints import JOINT_NAMES, order_positions
from vla_ros.robot.units import UnitConverter, Units

__all__ = [
    "NOISES",
    "ObservationSnapshot",
    "PipelineOutput",
    "PolicyPipeline",
    "describe_error",
    "smooth_noise",
]

NOISES = ("gaussian", "smooth")
"""Flow-matching noise: lerobot's i.i.d. Gaussian, or :func:`smooth_noise` (debugging random weights)."""

STATE_PART = "joint_states"
"""Name of the joint-state part of an observation in messages."""


@dataclass(frozen=True)
class ObservationSnapshot:
    """The latest inputs, as received (decoding happens in the worker, off the control thread).

    Attributes:
        joint_names: names of the ``joint_states`` message.
        positions_rad: its positions, radians.
        state_stamp_s: its capture time, seconds; None if none was received.
        images: policy image key -> ``sensor_msgs/Image``-like object (``height``, ``width``,
            ``encoding``, ``step``, ``data``); missing keys were never received.
        image_stamps_s: policy image key -> capture time, seconds.
    """

    joint_names: Sequence[str]
    positions_rad: Sequence[float]
    state_stamp_s: float | None
    images: Mapping[str, Any]
    image_stamps_s: Mapping[str, float]

    @property
    def obs_time_s(self) -> float:
        """Capture time of the observation: its oldest part, seconds."""
        stamps = [s for s in (self.state_stamp_s, *self.image_stamps_s.values()) if s is not None]
        return min(stamps) if stamps else float("nan")


@dataclass(frozen=True)
class PipelineOutput:
    """One predicted chunk.

    Attributes:
        obs_time_s: capture time of the observation it was predicted from, seconds.
        actions_rad: ``(T, 6)`` joint positions, radians, JOINT_NAMES order.
        raw: ``(T, A)`` float32 model-space (normalised) actions, for RTC.
        timings_s: ``prepare``, ``preprocess``, ``predict``, ``postprocess`` durations, seconds.
    """

    obs_time_s: float
    actions_rad: np.ndarray
    raw: np.ndarray
    timings_s: dict[str, float] = field(default_factory=dict)


def smooth_noise(shape: tuple[int, int, int], generator: Any = None) -> Any:
    """Temporally smooth unit-variance noise ``(B, T, D)``: a linear ramp between two Gaussian draws.

    For tests and benchmarks of random-weight checkpoints, whose actions are their noise: with it each
    chunk is smooth in time and different from the last, as a trained policy's chunks are.
    """
    import torch

    b, t, d = shape
    ends = torch.randn((2, b, 1, d), generator=generator)
    s = torch.linspace(0.0, 1.0, t).view(1, t, 1)
    return ((1 - s) * ends[0] + s * ends[1]) / torch.sqrt((1 - s) ** 2 + s**2)


class PolicyPipeline:
    """Turns :class:`ObservationSnapshot` into :class:`PipelineOutput` with a loaded checkpoint.

    Args:
        loaded: the policy and its processors.
        converter: radians <-> LeRobot units.
        units: units of the checkpoint's state/action (the contract's; default LeRobot units).
        empty_features: policy image keys declared empty.
        noise: one of :data:`NOISES`.
        robot_type: ``robot_type`` passed in the observation (lerobot's convention).
    """

    def __init__(
        self,
        loaded: LoadedPolicy,
        converter: UnitConverter,
        *,
        units: str = Units.LEROBOT,
        empty_features: Sequence[str] = (),
        noise: str = "gaussian",
        robot_type: str = "so101_follower",
    ) -> None:
        if noise not in NOISES:
            raise ValueError(f"noise={noise!r} is not one of {NOISES}")
        self.loaded = loaded
        self.converter = converter
        self.units = units
        self.empty = tuple(empty_features)
        self.noise = noise
        self.robot_type = robot_type
        info = loaded.info
        self.expected_shapes = {k: s for k, s in info.image_features.items() if k not in self.empty}

    @property
    def chunk_size(self) -> int:
        """Actions per predicted chunk."""
        return int(self.loaded.policy.config.chunk_size)

    def prepare(self, snap: ObservationSnapshot, now_s: float, max_age_s: float) -> dict[str, Any]:
        """Validate the snapshot and build lerobot's observation dict (without ``task``).

        Raises:
            StaleDataError: a part is missing or older than ``max_age_s``.
            BadInputError: bad joint names/values, undecodable or wrongly sized images (all listed).
        """
        import torch

        images: dict[str, np.ndarray | Exception] = {}
        for key in self.expected_shapes:
            if key in snap.images:
                try:
                    images[key] = msg_to_rgb(snap.images[key])
                except BadInputError as err:
                    images[key] = err
        stamps = {STATE_PART: snap.state_stamp_s}
        stamps.update({k: snap.image_stamps_s.get(k) for k in self.expected_shapes})
        check_observation(now_s, max_age_s, stamps, images, self.expected_shapes)
        try:
            positions = order_positions(snap.joint_names, snap.positions_rad)
        except BadInputError as err:
            raise BadInputError(f"joint_states: {err}") from err
        rad = np.array([positions[n] for n in JOINT_NAMES])
        state = self.converter.convert(rad, Units.RADIANS, self.units)
        info = self.loaded.info
        obs: dict[str, Any] = {"observation.state": torch.from_numpy(state.astype(np.float32))}
        for key, img in images.items():
            assert isinstance(img, np.ndarray)
            obs[info.batch_key(key)] = torch.from_numpy(img).permute(2, 0, 1).float() / 255.0
        for key in self.empty:
            obs[info.batch_key(key)] = torch.zeros(info.image_features[key], dtype=torch.float32)
        return obs

    def predict(
        self,
        snap: ObservationSnapshot,
        task: str,
        *,
        now_s: float,
        max_age_s: float,
        inference_delay: int | None = None,
        leftover_raw: np.ndarray | None = None,
        generator: Any = None,
    ) -> PipelineOutput:
        """Predict one chunk.

        Args:
            snap: the observation.
            task: the language instruction (already validated).
            now_s: current time on the snapshot's clock, seconds; max_age_s: freshness limit.
            inference_delay: RTC's expected delay in control ticks (used when RTC is enabled).
            leftover_raw: RTC's ``prev_chunk_left_over``, ``(K, A)`` model-space actions.
            generator: torch generator for the noise (None = torch's global one).

        Raises:
            StaleDataError, BadInputError: see :meth:`prepare`.
            NonFiniteChunkError: the chunk has NaN/inf (it is dropped).
        """
        import torch

        t0 = time.perf_counter()
        obs = self.prepare(snap, now_s, max_age_s)
        obs["task"] = task
        obs["robot_type"] = self.robot_type
        t1 = time.perf_counter()
        batch = self.loaded.preprocessor(obs)
        for key in self.empty:
            batch[f"{key}_padding_mask"] = torch.zeros(1, dtype=torch.bool, device=self.loaded.device)
        t2 = time.perf_counter()
        kwargs: dict[str, Any] = {}
        config = self.loaded.policy.config
        if config.rtc_config is not None and config.rtc_config.enabled:
            kwargs["inference_delay"] = inference_delay or 0
            if leftover_raw is not None:
                kwargs["prev_chunk_left_over"] = torch.as_tensor(
                    leftover_raw, dtype=torch.float32, device=self.loaded.device
                )
        if self.noise == "smooth":
            shape = (1, config.chunk_size, config.max_action_dim)
            kwargs["noise"] = smooth_noise(shape, generator).to(self.loaded.device)
        elif generator is not None:
            shape = (1, config.chunk_size, config.max_action_dim)
            kwargs["noise"] = torch.randn(shape, generator=generator).to(self.loaded.device)
        raw = self.loaded.policy.predict_action_chunk(batch, **kwargs)
        t3 = time.perf_counter()
        lerobot_units = self.loaded.postprocessor(raw)[0].float().cpu().numpy().astype(np.float64)
        raw_np = raw[0].float().cpu().numpy()
        check_chunk(lerobot_units)
        actions = self.converter.convert(lerobot_units, self.units, Units.RADIANS)
        check_chunk(actions)
        t4 = time.perf_counter()
        timings = {"prepare": t1 - t0, "preprocess": t2 - t1, "predict": t3 - t2, "postprocess": t4 - t3}
        return PipelineOutput(snap.obs_time_s, actions, raw_np, timings)


def describe_error(err: BaseException) -> str:
    """A one-line description of a pipeline failure for status messages."""
    if isinstance(err, VlaRosError):
        return str(err)
    return f"{type(err).__name__}: {err}"
