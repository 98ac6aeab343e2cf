"""The one reader of a checkpoint's training facts: sources in order, each fact with its source, real
files written and read back (a tiny SmolVLA checkpoint, a tiny LeRobot dataset written by lerobot)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from vla_ros.contract import CONTRACT_FILE, DeploymentContract, read_contract
from vla_ros.errors import ConfigError
from vla_ros.robot.joints import LEROBOT_FEATURE_NAMES
from vla_ros.scheduling import keep_scheduling

TASKS = ("stack the blocks", "open the drawer")
RENAME = {"observation.images.front": "observation.images.camera1",
          "observation.images.wrist": "observation.images.camera2"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from vla_ros.policy.tiny import make_tiny_policy

    return make_tiny_policy(tmp_path_factory.mktemp("tiny") / "ckpt", image_size=(48, 64), chunk_size=4,
                            camera_map={"front": "camera1", "wrist": "camera2"}, fps=15.0)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Three episodes of 4 frames, two 64x48 video cameras, starts 10 degrees apart on shoulder_pan."""
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    root = tmp_path_factory.mktemp("home") / "me" / "blocks"
    names = list(LEROBOT_FEATURE_NAMES)
    features = {k: {"dtype": "float32", "shape": (6,), "names": names}
                for k in ("observation.state", "action")}
    for cam in ("front", "wrist"):
        features[f"observation.images.{cam}"] = {"dtype": "video", "shape": (48, 64, 3),
                                                 "names": ["height", "width", "channels"]}
    ds = LeRobotDataset.create("me/blocks", fps=10, features=features, root=root, robot_type="so101_follower")
    rng = np.random.default_rng(0)
    for ep in range(3):
        for i in range(4):
            state = np.array([10.0 * ep + i, -90, 90, 70, 0, 5], dtype=np.float32)
            images = {f"observation.images.{c}": rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
                      for c in ("front", "wrist")}
            ds.add_frame({"observation.state": state, "action": state, "task": TASKS[ep % 2], **images})
        with keep_scheduling():  # the AV1 encoder would leave pytest real-time
            ds.save_episode()
    ds.finalize()
    return root


def _lerobot_checkpoint(tiny, dst, dataset_cfg):
    ckpt = shutil.copytree(tiny, dst)
    (ckpt / CONTRACT_FILE).unlink()
    (ckpt / "train_config.json").write_text(json.dumps({"dataset": dataset_cfg, "rename_map": RENAME}))
    return ckpt


def test_our_contract_is_the_first_source(tiny):
    contract = read_contract(tiny)
    assert contract.fps == 15.0 and contract.source("fps") == str(tiny / CONTRACT_FILE)
    assert contract.has_start_state and contract.source("start_state") == str(tiny / CONTRACT_FILE)
    assert contract.camera_signatures == {}
    assert contract.source("camera_signatures").startswith("unknown: training dataset not found locally")


def test_train_config_and_the_dataset_at_its_root(tiny, dataset, tmp_path):
    ckpt = _lerobot_checkpoint(tiny, tmp_path / "ckpt", {"repo_id": "me/blocks", "root": str(dataset)})
    contract = read_contract(ckpt)
    assert contract.tasks == list(TASKS) and contract.source("tasks") == f"dataset {dataset}/meta/tasks"
    assert contract.fps == 10.0 and contract.camera_map == RENAME
    assert contract.camera_features == {k: [48, 64, 3] for k in RENAME}
    np.testing.assert_allclose(contract.start_state_mean, [10, -90, 90, 70, 0, 5], atol=1e-5)
    np.testing.assert_allclose(contract.start_state_std[0], np.std([0, 10, 20]), atol=1e-5)
    assert "first observation.state of 3 episodes" in contract.source("start_state")
    assert set(contract.camera_signatures) == set(RENAME)
    assert contract.source("units").startswith("assumed")


def test_dataset_found_in_lerobots_cache_by_repo_id(tiny, dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_LEROBOT_HOME", str(dataset.parent.parent))
    ckpt = _lerobot_checkpoint(tiny, tmp_path / "ckpt", {"repo_id": "me/blocks", "root": None})
    contract = read_contract(ckpt, signatures=False)
    assert contract.tasks == list(TASKS) and str(dataset) in contract.source("tasks")
    assert contract.camera_signatures == {}


def test_nothing_found_leaves_facts_unknown_with_the_places_looked_at(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_LEROBOT_HOME", str(tmp_path / "empty"))
    ckpt = _lerobot_checkpoint(tiny, tmp_path / "ckpt", {"repo_id": "nobody/nothing", "root": None})
    contract = read_contract(ckpt)
    assert contract.tasks == [] and not contract.has_start_state and contract.fps == 0
    assert str(tmp_path / "empty" / "nobody" / "nothing") in contract.source("tasks")
    assert "Hub cache of dataset nobody/nothing" in contract.source("start_state")
    assert contract.camera_map == RENAME and "rename step" in contract.source("camera_map")


def test_an_explicit_dataset_is_tried_first(tiny, dataset, tmp_path):
    ckpt = _lerobot_checkpoint(tiny, tmp_path / "ckpt", {"repo_id": "nobody/nothing", "root": None})
    assert read_contract(ckpt, dataset, signatures=False).tasks == list(TASKS)


def test_written_contract_reads_back_and_becomes_the_first_source(tiny, dataset, tmp_path):
    ckpt = _lerobot_checkpoint(tiny, tmp_path / "ckpt", {"repo_id": "me/blocks", "root": str(dataset)})
    found = read_contract(ckpt)
    found.save(ckpt)
    assert DeploymentContract.load(ckpt) == found
    (ckpt / "train_config.json").write_text(json.dumps({"dataset": {"repo_id": "nobody/nothing"}}))
    again = read_contract(ckpt)  # the dataset is no longer reachable: the written contract has it all
    assert again.camera_signatures == found.camera_signatures
    assert again.source("tasks") == f"{ckpt / CONTRACT_FILE} (from dataset {dataset}/meta/tasks)"


def test_a_malformed_contract_is_refused(tmp_path):
    (tmp_path / CONTRACT_FILE).write_text(json.dumps({"tasks": [], "camera_map": {}, "fps": 30, "colour": 1}))
    with pytest.raises(ConfigError, match=r"unknown keys \['colour'\]"):
        read_contract(tmp_path)
    (tmp_path / CONTRACT_FILE).write_text(json.dumps({"tasks": [], "camera_map": {}, "fps": -1}))
    with pytest.raises(ConfigError, match="fps=-1"):
        read_contract(tmp_path)
