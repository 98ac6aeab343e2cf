"""A tiny SmolVLA checkpoint, built fully offline, for tests, benchmarks and the demo.

SmolVLA (lerobot 0.4.4 ``policies/smolvla``) builds its backbone from ``vlm_model_name``: a SmolVLM
config (vision tower, connector, Llama text model) and a processor whose tokenizer knows SmolVLM's
special tokens (``<fake_token_around_image>``, ``<image>``, ``<global-img>``, ``<end_of_utterance>``;
``VLAFlowMatching.__init__`` reads ``tokenizer.fake_image_token_id``). :func:`make_tiny_vlm` writes
such a directory with a few-thousand-parameter architecture and a small byte-level BPE tokenizer
trained with the ``tokenizers`` library, so nothing is downloaded. :func:`make_tiny_policy` then
writes a complete LeRobot checkpoint directory (what ``lerobot-train`` saves as
``checkpoints/<step>/pretrained_model``): ``config.json``, ``model.safetensors``, the saved
pre/post-processors with normalisation statistics, the tiny VLM in ``vlm/`` and a
:class:`~vla_ros.contract.DeploymentContract`.

``config.json`` names the VLM by its absolute path, so lerobot's own
``SmolVLAPolicy.from_pretrained(dir)`` loads the checkpoint in place; :mod:`vla_ros.policy.checkpoint`
also finds the bundled ``vlm/`` after the directory has been moved or copied.

The weights are random (seeded): the policy's actions are its flow-matching noise shaped by the
action statistics, which is what tests of timing, units, guards and chunk merging need.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vla_ros.contract import DeploymentContract
from vla_ros.errors import ConfigError
from vla_ros.robot.units import Units

__all__ = [
    "DEFAULT_TASKS",
    "SPECIAL_TOKENS",
    "VLM_DIR_NAME",
    "default_stats",
    "main",
    "make_tiny_config",
    "make_tiny_policy",
    "make_tiny_vlm",
    "make_vlm_dir",
    "tiny_features",
]

VLM_DIR_NAME = "vlm"
"""Sub-directory of a tiny checkpoint that holds its SmolVLM config, tokenizer and processor."""

DEFAULT_TASKS: tuple[str, ...] = ("pick up the red cube and place it in the bowl",)

SPECIAL_TOKENS: dict[str, str] = {
    "fake_image_token": "<fake_token_around_image>",
    "image_token": "<image>",
    "global_image_token": "<global-img>",
    "end_of_utterance_token": "<end_of_utterance>",
}
"""SmolVLM's extra special tokens (``tokenizer_config.json`` of SmolVLM2-500M-Video-Instruct)."""

_BASE_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")

_CORPUS = (
    "pick up the red cube and place it in the bowl",
    "pick and place the green block on the plate",
    "push the blue cube to the left side of the table",
    "grasp the object, lift it and put it down in the box",
    "open the gripper, move the arm to the right and close the drawer",
    "stack the yellow block on top of the orange one",
    "wave hello, point at the cup, pour water into the glass",
)
"""Text the tiny BPE tokenizer is trained on; byte-level, so any instruction still tokenizes."""

# Plausible SO-101 ranges in LeRobot units (degrees, 0 at mid-range; gripper 0-100 %), from the
# joint limits of the official so101_new_calib.urdf: pan +-110, lift +-100, elbow +-97, wrist
# flex +-95, roll -157..163 degrees.
_SO101_MIN = (-110.0, -100.0, -97.0, -95.0, -157.0, 0.0)
_SO101_MAX = (110.0, 100.0, 97.0, 95.0, 163.0, 100.0)
_SO101_MEAN = (0.0, 0.0, 0.0, 0.0, 0.0, 25.0)
_SO101_STD = (25.0, 30.0, 30.0, 30.0, 40.0, 20.0)


def make_tiny_vlm(
    out_dir: str | Path,
    *,
    image_size: int = 32,
    patch_size: int = 8,
    hidden_size: int = 64,
    num_layers: int = 2,
    vision_hidden_size: int = 32,
    vision_layers: int = 1,
) -> Path:
    """Write a tiny SmolVLM (config, tokenizer, processor) into ``out_dir``, offline.

    Args:
        out_dir: directory to create or overwrite.
        image_size: side of the square images the vision tower takes, pixels (SmolVLA resizes with
            padding to it; ``SmolVLAConfig.resize_imgs_with_padding``).
        patch_size: vision patch side, pixels; ``(image_size / patch_size)`` must be even (the
            connector's pixel shuffle uses scale factor 2).
        hidden_size: text model width (4 heads of ``hidden_size / 4``).
        num_layers: text model layers (SmolVLA uses them all and an expert of the same depth).
        vision_hidden_size: vision tower width (2 heads), ``vision_layers`` its depth.

    Returns:
        ``out_dir`` as a Path; pass it as ``SmolVLAConfig.vlm_model_name``.

    Raises:
        ConfigError: the sizes do not fit together.
    """
    grid = image_size // patch_size
    if (image_size % patch_size or grid % 2 or hidden_size % 4 or num_layers < 1
            or vision_hidden_size % 2 or vision_layers < 1):
        raise ConfigError(
            f"tiny VLM: image_size={image_size} must be an even multiple of patch_size={patch_size}, "
            f"hidden_size={hidden_size} a multiple of 4, vision_hidden_size={vision_hidden_size} even "
            f"and num_layers={num_layers}, vision_layers={vision_layers} >= 1"
        )
    vision = {"hidden_size": vision_hidden_size, "intermediate_size": 2 * vision_hidden_size,
              "num_hidden_layers": vision_layers, "num_attention_heads": 2,
              "image_size": image_size, "patch_size": patch_size}
    text = {"hidden_size": hidden_size, "intermediate_size": 2 * hidden_size, "num_hidden_layers": num_layers,
            "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": hidden_size // 4,
            "max_position_embeddings": 512}
    return make_vlm_dir(out_dir, vision=vision, text=text, scale_factor=2)


def make_vlm_dir(
    out_dir: str | Path,
    *,
    vision: Mapping[str, Any],
    text: Mapping[str, Any],
    scale_factor: int,
    vocab_size: int | None = None,
) -> Path:
    """Write a SmolVLM directory of any size with the small offline tokenizer, for random-weight models.

    Args:
        out_dir: directory to create or overwrite.
        vision: ``SmolVLMVisionConfig`` fields (``image_size``, ``patch_size``, widths, depths).
        text: Llama ``text_config`` fields.
        scale_factor: the connector's pixel-shuffle factor (``SmolVLMConfig.scale_factor``).
        vocab_size: text vocabulary size (default: the tokenizer's; a larger one keeps a real
            model's embedding size).

    Returns:
        ``out_dir`` as a Path.
    """
    from transformers import SmolVLMConfig, SmolVLMImageProcessor, SmolVLMProcessor
    from transformers.models.smolvlm.video_processing_smolvlm import SmolVLMVideoProcessor

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = _tiny_tokenizer()
    side = int(vision["image_size"])
    grid = side // int(vision["patch_size"])
    image_processor = SmolVLMImageProcessor(
        size={"longest_edge": side},
        max_image_size={"longest_edge": side},
        do_image_splitting=False,
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
    )
    processor = SmolVLMProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=SmolVLMVideoProcessor(),
        image_seq_len=grid * grid // scale_factor**2,
    )
    processor.save_pretrained(out)
    config = SmolVLMConfig(
        vision_config=dict(vision),
        text_config={
            "model_type": "llama",
            "rms_norm_eps": 1e-5,
            "tie_word_embeddings": False,
            **text,
            "vocab_size": max(vocab_size or 0, len(tokenizer)),
            "pad_token_id": tokenizer.pad_token_id,
        },
        scale_factor=scale_factor,
        image_token_id=tokenizer.convert_tokens_to_ids(SPECIAL_TOKENS["image_token"]),
        pad_token_id=tokenizer.pad_token_id,
    )
    config.save_pretrained(out)
    return out


def _tiny_tokenizer() -> Any:
    """A byte-level BPE tokenizer (a few hundred tokens) with SmolVLM's special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        special_tokens=[*_BASE_TOKENS, *SPECIAL_TOKENS.values()],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(_CORPUS, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token="<|im_start|>",
        eos_token=SPECIAL_TOKENS["end_of_utterance_token"],
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        extra_special_tokens=dict(SPECIAL_TOKENS),
        model_max_length=512,
    )


def tiny_features(
    cameras: Sequence[str] = ("camera1", "camera2"),
    image_size: tuple[int, int] = (48, 64),
    state_dim: int = 6,
    action_dim: int = 6,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """LeRobot policy features: ``observation.state``, ``observation.images.<cam>`` and ``action``.

    Args:
        cameras: camera names (``camera1`` -> ``observation.images.camera1``).
        image_size: ``(height, width)`` of the camera images, pixels.
        state_dim, action_dim: vector lengths.

    Returns:
        ``(input_features, output_features)`` of :class:`lerobot.configs.types.PolicyFeature`.
    """
    from lerobot.configs.types import FeatureType, PolicyFeature

    h, w = image_size
    inputs = {"observation.state": PolicyFeature(FeatureType.STATE, (state_dim,))}
    for cam in cameras:
        inputs[_image_key(cam)] = PolicyFeature(FeatureType.VISUAL, (3, h, w))
    return inputs, {"action": PolicyFeature(FeatureType.ACTION, (action_dim,))}


def make_tiny_config(
    vlm_dir: str | Path,
    input_features: Mapping[str, Any],
    output_features: Mapping[str, Any],
    *,
    chunk_size: int = 20,
    n_action_steps: int | None = None,
    num_steps: int = 10,
    device: str = "cpu",
    **overrides: Any,
) -> Any:
    """A ``SmolVLAConfig`` for the tiny VLM in ``vlm_dir``, ready to construct a policy.

    The training side builds a fresh tiny policy from a dataset's features with it:
    ``SmolVLAPolicy(make_tiny_config(make_tiny_vlm(d), inputs, outputs))``.

    Args:
        vlm_dir: a directory written by :func:`make_tiny_vlm`.
        input_features, output_features: policy features (see :func:`tiny_features`, or
            ``lerobot.datasets.utils.dataset_to_policy_features``).
        chunk_size: actions per predicted chunk.
        n_action_steps: actions executed per chunk (default: ``chunk_size``).
        num_steps: flow-matching denoising steps.
        device: torch device of the policy.
        overrides: any other ``SmolVLAConfig`` field.

    Raises:
        ConfigError: lerobot rejects the combination (e.g. ``n_action_steps > chunk_size``).
    """
    from lerobot.policies.smolvla.configuration_smolvla import SmolVLAConfig

    vlm = json.loads((Path(vlm_dir) / "config.json").read_text())
    side = int(vlm["vision_config"]["image_size"])
    dims = [f.shape[0] for f in (*input_features.values(), *output_features.values()) if len(f.shape) == 1]
    max_dim = max(8, *dims) if dims else 8
    fields = {
        "input_features": dict(input_features),
        "output_features": dict(output_features),
        "vlm_model_name": str(Path(vlm_dir).resolve()),
        "num_vlm_layers": int(vlm["text_config"]["num_hidden_layers"]),
        "chunk_size": chunk_size,
        "n_action_steps": chunk_size if n_action_steps is None else n_action_steps,
        "num_steps": num_steps,
        "resize_imgs_with_padding": (side, side),
        "max_state_dim": max_dim,
        "max_action_dim": max_dim,
        "device": device,
        "push_to_hub": False,
        **overrides,
    }
    try:
        return SmolVLAConfig(**fields)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"tiny SmolVLA config: {err}") from err


def default_stats(state_dim: int = 6, action_dim: int = 6) -> dict[str, dict[str, np.ndarray]]:
    """Normalisation statistics with plausible SO-101 ranges in LeRobot units.

    Degrees (0 at mid-range) for the arm joints, 0-100 for the gripper; ranges from the official
    SO-101 URDF limits. Vectors longer than 6 repeat the arm's figures.

    Returns:
        ``{"observation.state": {...}, "action": {...}}`` with float32 ``mean``, ``std``, ``min``,
        ``max`` arrays.
    """

    def one(dim: int) -> dict[str, np.ndarray]:
        def pick(values: tuple[float, ...]) -> np.ndarray:
            return np.array([values[min(i, 5)] for i in range(dim)], dtype=np.float32)

        return {"mean": pick(_SO101_MEAN), "std": pick(_SO101_STD), "min": pick(_SO101_MIN),
                "max": pick(_SO101_MAX)}

    return {"observation.state": one(state_dim), "action": one(action_dim)}


def make_tiny_policy(
    out_dir: str | Path,
    *,
    cameras: Sequence[str] = ("camera1", "camera2"),
    image_size: tuple[int, int] = (48, 64),
    state_dim: int = 6,
    action_dim: int = 6,
    chunk_size: int = 20,
    n_action_steps: int | None = None,
    fps: float = 30.0,
    tasks: Sequence[str] = DEFAULT_TASKS,
    stats: Mapping[str, Mapping[str, Any]] | None = None,
    camera_map: Mapping[str, str] | None = None,
    seed: int = 0,
    vlm: Mapping[str, int] | None = None,
    train_backbone: bool = False,
) -> Path:
    """Write a complete tiny SmolVLA checkpoint directory, offline, in a couple of seconds.

    Args:
        out_dir: the checkpoint directory to create (what ``policy_path`` points at).
        cameras: the policy's camera names (``observation.images.<name>``).
        image_size: ``(height, width)`` of each camera's images, pixels.
        state_dim, action_dim: length of ``observation.state`` and ``action``.
        chunk_size: actions per chunk; ``n_action_steps``: executed per chunk (default all).
        fps: control rate of the (imaginary) training data, Hz; recorded in the contract.
        tasks: training instructions recorded in the contract.
        stats: normalisation statistics ``{feature: {"mean"|"std"|"min"|"max": array}}``
            (default :func:`default_stats`).
        camera_map: dataset camera key -> policy camera key (``observation.images.*``, short names
            accepted); renamed keys go into the saved pre-processor's rename step, as
            ``lerobot-train --rename_map`` does. Default: identity.
        seed: torch seed of the random weights.
        vlm: sizes of the tiny VLM (:func:`make_tiny_vlm`'s keyword arguments; default its defaults).
        train_backbone: fine-tuning also trains the vision tower and the VLM
            (``freeze_vision_encoder=False``, ``train_expert_only=False``; SmolVLA's defaults freeze
            both, right for a pretrained backbone, not for random weights that must learn to see).

    Returns:
        The checkpoint directory.

    Raises:
        ConfigError: inconsistent arguments (camera_map naming unknown cameras, no tasks, ...).
    """
    import torch
    from lerobot.policies.smolvla.modeling_smolvla import SmolVLAPolicy
    from lerobot.policies.smolvla.processor_smolvla import make_smolvla_pre_post_processors

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    inputs, outputs = tiny_features(cameras, image_size, state_dim, action_dim)
    rename = _check_tiny_args(inputs, tasks, camera_map)
    vlm_dir = make_tiny_vlm(out / VLM_DIR_NAME, **(vlm or {}))
    frozen = not train_backbone
    config = make_tiny_config(vlm_dir, inputs, outputs, chunk_size=chunk_size, n_action_steps=n_action_steps,
                              freeze_vision_encoder=frozen, train_expert_only=frozen)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        policy = SmolVLAPolicy(config)
    policy.save_pretrained(out)
    stats = stats if stats is not None else default_stats(state_dim, action_dim)
    tensors = {k: {s: torch.as_tensor(np.asarray(v), dtype=torch.float32) for s, v in d.items()}
               for k, d in stats.items()}
    pre, post = make_smolvla_pre_post_processors(config, dataset_stats=tensors)
    if rename:
        pre.steps[0].rename_map = dict(rename)
    pre.save_pretrained(out)
    post.save_pretrained(out)
    state = {k: np.asarray(v, dtype=np.float64).tolist()
             for k, v in stats.get("observation.state", {}).items()}
    identity = {k: k for k in inputs if k != "observation.state"}
    DeploymentContract(
        tasks=list(tasks),
        camera_map={_image_key(k): _image_key(v) for k, v in (camera_map or identity).items()},
        fps=float(fps),
        units=Units.LEROBOT,
        start_state_mean=state.get("mean", []) if state_dim == 6 else [],
        start_state_std=state.get("std", []) if state_dim == 6 else [],
        datasets=["vla_ros.policy.tiny (random weights)"],
    ).save(out)
    return out


def _image_key(name: str) -> str:
    return name if name.startswith("observation.images.") else f"observation.images.{name}"


def _check_tiny_args(
    inputs: Mapping[str, Any], tasks: Sequence[str], camera_map: Mapping[str, str] | None
) -> dict[str, str]:
    problems = []
    if not tasks or not all(isinstance(t, str) and t for t in tasks):
        problems.append(f"tasks must be non-empty strings, got {list(tasks)!r}")
    rename: dict[str, str] = {}
    if camera_map is not None:
        images = [k for k in inputs if k.startswith("observation.images.")]
        targets = [_image_key(v) for v in camera_map.values()]
        unknown = sorted(set(targets) - set(images))
        if unknown:
            problems.append(f"camera_map targets {unknown} are not policy cameras {images}")
        if sorted(targets) != sorted(images):
            problems.append(f"camera_map must map onto every policy camera {images} once, got {targets}")
        pairs = {_image_key(k): _image_key(v) for k, v in camera_map.items()}
        rename = {k: v for k, v in pairs.items() if k != v}
    if problems:
        raise ConfigError("make_tiny_policy: " + "; ".join(problems))
    return rename


def main(argv: Sequence[str] | None = None) -> int:
    """``vla-ros make-tiny-policy DIR [--tasks ...] [--cameras ...]``: write a tiny checkpoint."""
    parser = argparse.ArgumentParser(
        prog="vla-ros make-tiny-policy",
        description="Write a tiny random-weight SmolVLA checkpoint (offline) for tests and the demo.",
    )
    parser.add_argument("dir", type=Path, help="checkpoint directory to create")
    parser.add_argument("--tasks", nargs="+", default=list(DEFAULT_TASKS), help="training instructions")
    parser.add_argument("--cameras", nargs="+", default=["camera1", "camera2"], help="policy camera names")
    parser.add_argument("--image-size", nargs=2, type=int, default=[48, 64], metavar=("H", "W"))
    parser.add_argument("--fps", type=float, default=30.0, help="control rate, Hz")
    parser.add_argument("--chunk-size", type=int, default=20)
    parser.add_argument("--n-action-steps", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        path = make_tiny_policy(
            args.dir, cameras=args.cameras, image_size=tuple(args.image_size), fps=args.fps,
            chunk_size=args.chunk_size, n_action_steps=args.n_action_steps, tasks=args.tasks,
            seed=args.seed,
        )
    except ConfigError as err:
        parser.error(str(err))
    print(path)
    return 0
