"""The tiny SmolVLA checkpoint: complete, offline, loadable by lerobot and by our loader after a move."""

import json
import shutil

import pytest
import torch
from policy_testlib import CAMERA_MAP, CHUNK, FPS, TASKS

from vla_ros.contract import DeploymentContract
from vla_ros.errors import ConfigError
from vla_ros.policy.checkpoint import REQUIRED_FILES, inspect_checkpoint, load_policy
from vla_ros.policy.tiny import (
    SPECIAL_TOKENS,
    VLM_DIR_NAME,
    default_stats,
    main,
    make_tiny_config,
    make_tiny_policy,
    make_tiny_vlm,
    tiny_features,
)


def test_checkpoint_files_and_contract(tiny_ckpt):
    for name in (*REQUIRED_FILES, "vla_ros_contract.json", f"{VLM_DIR_NAME}/config.json",
                 f"{VLM_DIR_NAME}/tokenizer.json"):
        assert (tiny_ckpt / name).is_file(), name
    contract = DeploymentContract.load(tiny_ckpt)
    assert contract.tasks == list(TASKS) and contract.fps == FPS
    prefix = "observation.images."
    assert contract.camera_map == {prefix + k: prefix + v for k, v in CAMERA_MAP.items()}
    assert contract.start_state_mean == default_stats()["observation.state"]["mean"].tolist()
    pre = json.loads((tiny_ckpt / "policy_preprocessor.json").read_text())
    assert pre["steps"][0]["config"]["rename_map"] == contract.camera_map  # as lerobot-train --rename_map


def test_lerobot_loads_it_in_place(tiny_ckpt):
    from lerobot.policies.factory import make_pre_post_processors
    from lerobot.policies.smolvla.modeling_smolvla import SmolVLAPolicy

    policy = SmolVLAPolicy.from_pretrained(tiny_ckpt)
    pre, post = make_pre_post_processors(policy.config, pretrained_path=str(tiny_ckpt))
    batch = pre({"observation.state": torch.zeros(6), "observation.images.front": torch.rand(3, 48, 64),
                 "observation.images.wrist": torch.rand(3, 48, 64), "task": TASKS[0]})
    actions = post(policy.predict_action_chunk(batch))
    assert actions.shape == (1, CHUNK, 6) and torch.isfinite(actions).all()


def test_moved_checkpoint_still_loads(tmp_path):
    original = make_tiny_policy(tmp_path / "a", chunk_size=4, seed=3)
    moved = tmp_path / "elsewhere" / "ckpt"
    shutil.move(str(original), moved)
    assert not original.exists()
    info = inspect_checkpoint(moved)
    assert info.vlm_dir == str((moved / VLM_DIR_NAME).resolve())
    loaded = load_policy(info)
    assert loaded.policy.config.chunk_size == 4


def test_tokenizer_has_smolvlm_special_tokens(tiny_ckpt):
    from transformers import AutoProcessor

    tokenizer = AutoProcessor.from_pretrained(tiny_ckpt / VLM_DIR_NAME).tokenizer
    ids = {name: getattr(tokenizer, f"{name}_id") for name in SPECIAL_TOKENS}
    assert len(set(ids.values())) == len(SPECIAL_TOKENS) and all(isinstance(i, int) for i in ids.values())
    text = "Stack the lilac cube — twice, ünd gently!"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text  # byte-level: any instruction tokenizes


def test_fresh_tiny_policy_for_training(tmp_path):
    from lerobot.policies.smolvla.modeling_smolvla import SmolVLAPolicy

    inputs, outputs = tiny_features(("top",), (32, 32), state_dim=6, action_dim=6)
    config = make_tiny_config(make_tiny_vlm(tmp_path / "vlm"), inputs, outputs, chunk_size=5)
    policy = SmolVLAPolicy(config)
    batch = {"observation.state": torch.zeros(2, 6), "observation.images.top": torch.rand(2, 3, 32, 32),
             "action": torch.zeros(2, 5, 6),
             "observation.language.tokens": torch.ones(2, 3, dtype=torch.long),
             "observation.language.attention_mask": torch.ones(2, 3, dtype=torch.bool)}
    loss, _ = policy.forward(batch)
    loss.backward()
    assert torch.isfinite(loss) and any(p.grad is not None for p in policy.parameters() if p.requires_grad)


def test_cli_writes_a_checkpoint(tmp_path, capsys):
    assert main([str(tmp_path / "cli"), "--tasks", "wave", "stack", "--cameras", "top", "--fps", "10",
                 "--chunk-size", "6"]) == 0
    assert str(tmp_path / "cli") in capsys.readouterr().out
    info = inspect_checkpoint(tmp_path / "cli")
    assert info.tasks == ("wave", "stack") and info.fps == 10.0
    assert list(info.image_features) == ["observation.images.top"]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"camera_map": {"front": "camera9", "wrist": "camera2"}}, "not policy cameras"),
        ({"tasks": ()}, "tasks must be non-empty"),
    ],
)
def test_bad_arguments_refused(tmp_path, kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        make_tiny_policy(tmp_path / "bad", **kwargs)


def test_bad_vlm_sizes_refused(tmp_path):
    with pytest.raises(ConfigError, match="even multiple"):
        make_tiny_vlm(tmp_path / "vlm", image_size=40, patch_size=8)
