"""The inference pipeline with a real tiny checkpoint: units, guards, NaN chunks, empty cameras, and
how replace / blend / rtc meet at chunk boundaries on the same inputs (simulated clock)."""

import shutil

import numpy as np
import pytest
import torch
from policy_testlib import CHUNK, FPS, HOME_RAD, IMAGE_KEYS, TASKS, image_msg, snapshot
from safetensors.torch import load_file, save_file

from vla_ros.errors import BadInputError, StaleDataError
from vla_ros.policy.checkpoint import inspect_checkpoint, load_policy
from vla_ros.policy.chunk_queue import Chunk, ChunkQueue
from vla_ros.policy.errors import NonFiniteChunkError
from vla_ros.policy.pipeline import PolicyPipeline, smooth_noise


@pytest.fixture(scope="module")
def pipeline(tiny_ckpt, converter):
    return PolicyPipeline(load_policy(inspect_checkpoint(tiny_ckpt)), converter)


def test_chunk_in_radians_from_state_in_lerobot_units(pipeline, converter):
    obs = pipeline.prepare(snapshot(5.0), now_s=5.0, max_age_s=0.5)
    expected = converter.to_lerobot(np.array(HOME_RAD))
    np.testing.assert_allclose(obs["observation.state"].numpy(), expected, rtol=1e-6)
    # images go in under the dataset's names; the checkpoint's rename step maps them to camera1/2
    assert set(obs) == {"observation.state", "observation.images.front", "observation.images.wrist"}
    assert obs["observation.images.front"].shape == (3, 48, 64)
    assert float(obs["observation.images.front"].max()) == pytest.approx(100 / 255)
    out = pipeline.predict(snapshot(5.0, image_t=4.9), TASKS[0], now_s=5.0, max_age_s=0.5)
    assert out.obs_time_s == 4.9  # the oldest part
    assert out.actions_rad.shape == (CHUNK, 6) and out.raw.shape == (CHUNK, 6)
    # postprocessor(raw) is LeRobot units; the pipeline's radians are its conversion
    lerobot = pipeline.loaded.postprocessor(torch.from_numpy(out.raw)[None])[0].double().numpy()
    np.testing.assert_allclose(out.actions_rad, converter.to_ros(lerobot), atol=1e-5)
    assert set(out.timings_s) == {"prepare", "preprocess", "predict", "postprocess"}


@pytest.mark.parametrize(
    ("snap", "error", "fragment"),
    [
        (snapshot(1.0, image_t=0.2), StaleDataError, "observation.images.camera1 is 0.800 s old"),
        (snapshot(1.0, images={IMAGE_KEYS[0]: image_msg()}), StaleDataError,
         "no observation.images.camera2 received yet"),
        (snapshot(1.0, images={k: image_msg(480, 640) for k in IMAGE_KEYS}), BadInputError,
         "image is 640x480, the checkpoint was trained on 64x48"),
        (snapshot(1.0, images={IMAGE_KEYS[0]: image_msg(encoding="16UC1"), IMAGE_KEYS[1]: image_msg()}),
         BadInputError, "unsupported encoding '16UC1'"),
        (snapshot(1.0, names=("shoulder_pan", "elbow"), positions=(0.0, 0.0)), BadInputError,
         "joint_states: unknown joints ['elbow']"),
    ],
)
def test_no_inference_on_bad_observations(pipeline, snap, error, fragment):
    with pytest.raises(error) as info:
        pipeline.predict(snap, TASKS[0], now_s=1.0, max_age_s=0.5)
    assert fragment in str(info.value)


def test_empty_camera_is_masked_not_dropped(tiny_ckpt, converter):
    pipe = PolicyPipeline(load_policy(inspect_checkpoint(tiny_ckpt)), converter,
                          empty_features=["observation.images.camera2"])
    out = pipe.predict(snapshot(1.0, images={IMAGE_KEYS[0]: image_msg()}), TASKS[0], now_s=1.0, max_age_s=0.5)
    assert np.isfinite(out.actions_rad).all()


def test_nan_chunk_is_refused(tiny_ckpt, converter, tmp_path):
    ckpt = shutil.copytree(tiny_ckpt, tmp_path / "nan")
    weights = load_file(ckpt / "model.safetensors")
    weights["model.action_out_proj.bias"][2] = float("nan")  # a corrupted checkpoint
    save_file(weights, ckpt / "model.safetensors")
    pipe = PolicyPipeline(load_policy(inspect_checkpoint(ckpt)), converter)
    with pytest.raises(NonFiniteChunkError, match=r"NaN/inf values at steps \[0, 1, 2"):
        pipe.predict(snapshot(1.0), TASKS[0], now_s=1.0, max_age_s=0.5)


def test_smooth_noise_is_smooth_with_unit_variance():
    noise = smooth_noise((4000, 20, 3), torch.Generator().manual_seed(0))
    assert noise.std(dim=(0, 2)).sub(1).abs().max() < 0.06
    assert noise.diff(dim=1).abs().mean() < 0.15 * noise.abs().mean()


def simulate(tiny_ckpt, converter, overlap: str, *, ticks: int = 60, delay: int = 3, threshold: int = 8):
    """Control loop on a simulated clock: inference takes ``delay`` ticks; returns the commands and the
    indices of the ticks at which a new chunk took over."""
    from lerobot.policies.rtc.configuration_rtc import RTCConfig

    rtc = RTCConfig(enabled=True, execution_horizon=10) if overlap == "rtc" else None
    loaded = load_policy(inspect_checkpoint(tiny_ckpt), rtc_config=rtc, num_flow_steps=5)
    pipe = PolicyPipeline(loaded, converter, noise="smooth")
    queue = ChunkQueue(FPS, overlap)
    generator = torch.Generator().manual_seed(0)
    pending, commands, switches = None, [], []
    for k in range(ticks):
        now = k / FPS
        if pending is not None and pending[0] == k:
            out = pending[1]
            queue.merge(Chunk(out.obs_time_s, out.actions_rad, out.raw), now)
            switches.append(len(commands))
            pending = None
        action = queue.pop(now)
        if action is not None or commands:  # hold the last command when dry
            commands.append(action if action is not None else commands[-1])
        if pending is None and queue.needs_replan(now, threshold):
            leftover = queue.leftover(now) if overlap == "rtc" else None
            out = pipe.predict(snapshot(now), TASKS[0], now_s=now, max_age_s=0.5, inference_delay=delay,
                               leftover_raw=leftover, generator=generator)
            pending = (k + delay, out)
    return np.array(commands), switches[1:]  # the first chunk meets nothing


def test_blend_and_rtc_smooth_chunk_boundaries(tiny_ckpt, converter):
    """Same observations, same noise, same inference delay: the largest step at the ticks where a new
    chunk takes over is smaller with blend and rtc than with replace. The random-weight policy's
    actions are its noise, so the noise is smooth in time (one random ramp per chunk), as a trained
    policy's chunks are; consecutive chunks disagree, as a multimodal policy's do."""
    jumps = {}
    for overlap in ("replace", "blend", "rtc"):
        commands, switches = simulate(tiny_ckpt, converter, overlap)
        assert len(switches) >= 3
        steps = np.abs(np.diff(commands, axis=0)).max(axis=1)  # radians per tick, worst joint
        jumps[overlap] = max(steps[s - 1] for s in switches)
    assert jumps["blend"] < 0.5 * jumps["replace"], jumps
    assert jumps["rtc"] < 0.5 * jumps["replace"], jumps
