"""Loading checkpoints with lerobot's classes: offline, clear errors, training tasks, rename map, dtype."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from policy_testlib import CHUNK, IMAGE_KEYS, TASKS, snapshot

from vla_ros.policy.checkpoint import inspect_checkpoint, load_policy, recorded_tasks
from vla_ros.policy.errors import CheckpointError
from vla_ros.policy.pipeline import PolicyPipeline

SHARED_DATASET = Path("/work/shared/data/lerobot_v3_nimi_example")


def copy_ckpt(src: Path, dst: Path, *, drop: tuple[str, ...] = ()) -> Path:
    shutil.copytree(src, dst)
    for name in drop:
        (dst / name).unlink()
    return dst


def test_inspect_reads_everything_without_weights(tiny_ckpt):
    info = inspect_checkpoint(tiny_ckpt)
    assert info.tasks == TASKS and str(info.path) in info.tasks_source
    assert info.image_features == {k: (3, 48, 64) for k in IMAGE_KEYS}
    assert (info.state_dim, info.action_dim, info.fps) == (6, 6, 15.0)
    # the inverse of the pre-processor's rename step
    assert info.batch_key("observation.images.camera1") == "observation.images.front"
    assert info.config.load_vlm_weights is False


def test_training_output_directory_is_accepted(tiny_ckpt, tmp_path):
    copy_ckpt(tiny_ckpt, tmp_path / "outputs" / "checkpoints" / "last" / "pretrained_model")
    assert inspect_checkpoint(tmp_path / "outputs").path.name == "pretrained_model"


def test_missing_files_are_all_named(tiny_ckpt, tmp_path):
    state = "policy_postprocessor_step_0_unnormalizer_processor.safetensors"
    ckpt = copy_ckpt(tiny_ckpt, tmp_path / "broken", drop=("model.safetensors", state))
    with pytest.raises(CheckpointError) as info:
        inspect_checkpoint(ckpt)
    message = str(info.value)
    assert str(ckpt) in message
    assert "model.safetensors" in message and "policy_postprocessor_step_0_unnormalizer_processor" in message


@pytest.mark.parametrize(
    ("path", "fragment"),
    [("/nonexistent/ckpt", "no such directory"), ("nobody/no-such-policy", "neither a local directory")],
)
def test_unknown_checkpoint(path, fragment):
    with pytest.raises(CheckpointError, match=fragment):
        inspect_checkpoint(path)


def test_moved_checkpoint_without_vlm_needs_vlm_dir(tiny_ckpt, tmp_path):
    ckpt = copy_ckpt(tiny_ckpt, tmp_path / "novlm")
    shutil.move(str(ckpt / "vlm"), tmp_path / "vlm_elsewhere")
    config = json.loads((ckpt / "config.json").read_text())
    config["vlm_model_name"] = "/gone/vlm"
    (ckpt / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="set vlm_dir"):
        inspect_checkpoint(ckpt)
    with pytest.raises(CheckpointError, match=r"has no config\.json"):
        inspect_checkpoint(ckpt, vlm_dir=tmp_path)
    info = inspect_checkpoint(ckpt, vlm_dir=tmp_path / "vlm_elsewhere")
    assert info.vlm_dir == str((tmp_path / "vlm_elsewhere").resolve())
    assert load_policy(info).policy.config.vlm_model_name == info.vlm_dir


def test_hub_vlm_not_cached_is_a_clear_error(tiny_ckpt, tmp_path):
    ckpt = copy_ckpt(tiny_ckpt, tmp_path / "hubvlm")
    shutil.rmtree(ckpt / "vlm")
    config = json.loads((ckpt / "config.json").read_text())
    config["vlm_model_name"] = "nobody/NoSuchVLM-1B"
    (ckpt / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="huggingface-cli download nobody/NoSuchVLM-1B"):
        inspect_checkpoint(ckpt)


def test_not_a_smolvla_checkpoint(tiny_ckpt, tmp_path):
    ckpt = copy_ckpt(tiny_ckpt, tmp_path / "act")
    (ckpt / "config.json").write_text(json.dumps({"type": "act"}))
    with pytest.raises(CheckpointError, match=r"ACTConfig|not a readable"):
        inspect_checkpoint(ckpt)


def _without_contract(tiny_ckpt: Path, dst: Path, dataset: dict) -> Path:
    ckpt = copy_ckpt(tiny_ckpt, dst, drop=("vla_ros_contract.json",))
    (ckpt / "train_config.json").write_text(json.dumps({"dataset": dataset}))
    return ckpt


def test_tasks_from_the_training_dataset(tiny_ckpt, tmp_path):
    meta = tmp_path / "data" / "meta"
    meta.mkdir(parents=True)
    pd.DataFrame({"task_index": [0, 1]}, index=pd.Index(["fold the towel", "open the box"], name="task")) \
        .to_parquet(meta / "tasks.parquet")
    dataset = {"repo_id": "me/towels", "root": str(tmp_path / "data")}
    ckpt = _without_contract(tiny_ckpt, tmp_path / "ckpt", dataset)
    info = inspect_checkpoint(ckpt)
    assert info.tasks == ("fold the towel", "open the box") and str(meta) in info.tasks_source
    assert info.fps is None


def test_tasks_from_a_v21_dataset(tiny_ckpt, tmp_path):
    meta = tmp_path / "v21" / "meta"
    meta.mkdir(parents=True)
    (meta / "tasks.jsonl").write_text('{"task_index": 0, "task": "sort the screws"}\n')
    ckpt = _without_contract(tiny_ckpt, tmp_path / "ckpt", {"root": str(tmp_path / "v21")})
    assert recorded_tasks(ckpt)[0] == ("sort the screws",)


@pytest.mark.skipif(not SHARED_DATASET.is_dir(), reason="shared reference dataset not available")
def test_tasks_from_the_shared_lerobot_v3_dataset(tiny_ckpt, tmp_path):
    ckpt = _without_contract(tiny_ckpt, tmp_path / "ckpt", {"root": str(SHARED_DATASET)})
    assert recorded_tasks(ckpt)[0] == ("pick and place",)


def test_no_record_of_tasks(tiny_ckpt, tmp_path):
    ckpt = _without_contract(tiny_ckpt, tmp_path / "ckpt", {"repo_id": "nobody/not-downloaded"})
    tasks, why = recorded_tasks(ckpt)
    assert tasks == () and "not found locally" in why


def test_bfloat16_matches_float32(tiny_ckpt, converter):
    info = inspect_checkpoint(tiny_ckpt)
    chunks = {}
    for dtype in ("float32", "bfloat16"):
        pipeline = PolicyPipeline(load_policy(info, dtype=dtype), converter)
        out = pipeline.predict(snapshot(1.0), TASKS[0], now_s=1.0, max_age_s=1.0,
                               generator=torch.Generator().manual_seed(0))
        chunks[dtype] = out.actions_rad
    assert chunks["float32"].shape == (CHUNK, 6)
    assert np.abs(chunks["bfloat16"] - chunks["float32"]).max() < 0.05  # radians


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [({"dtype": "float16"}, "dtype='float16'"), ({"n_action_steps": 99}, "exceeds the chunk_size=20")],
)
def test_bad_load_options(tiny_ckpt, kwargs, fragment):
    with pytest.raises(CheckpointError, match=fragment):
        load_policy(inspect_checkpoint(tiny_ckpt), **kwargs)


def test_load_options_apply(tiny_ckpt):
    from lerobot.policies.rtc.configuration_rtc import RTCConfig

    loaded = load_policy(inspect_checkpoint(tiny_ckpt), num_flow_steps=3, n_action_steps=7,
                         rtc_config=RTCConfig(enabled=True))
    config = loaded.policy.config
    assert (config.num_steps, config.n_action_steps, config.rtc_config.enabled) == (3, 7, True)
    assert loaded.policy.rtc_processor is not None
