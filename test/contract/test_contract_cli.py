"""``vla-ros contract`` on a checkpoint trained by the real ``lerobot-train`` (no vla_ros contract):
the installed executable prints the facts and where each came from, writes them with ``--out``, and
finds the training dataset in the Hugging Face Hub cache (never downloading)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from lerobot_train_testlib import TASKS, lerobot_checkpoint

from vla_ros.contract import DeploymentContract, read_contract

pytestmark = pytest.mark.slow
EXE = Path(sys.executable).with_name("vla-ros")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return lerobot_checkpoint(tmp_path_factory.getbasetemp())


def _run(*args: str, **env: str) -> str:
    proc = subprocess.run([str(EXE), "contract", *args], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, HF_HUB_OFFLINE="1", **env))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_prints_the_facts_and_their_sources_and_writes_them(trained, tmp_path):
    out = _run(str(trained.path), "--out", str(tmp_path / "contract.json"))
    ds = trained.dataset
    assert f"tasks (2) — dataset {ds}/meta/tasks" in out and all(repr(t) in out for t in TASKS)
    assert "observation.images.front -> observation.images.camera1 [48, 64, 3]" in out
    assert "observation.images.wrist -> observation.images.camera2 [48, 64, 3]" in out
    assert f"fps: 30 Hz — dataset {ds}/meta/info.json" in out
    assert "units: lerobot — assumed: lerobot SO-101 recordings" in out
    assert f"start state (mean ± std per joint, lerobot units) — dataset {ds}: first observation.state" in out
    mean, std = trained.first_states.mean(axis=0), trained.first_states.std(axis=0)
    assert f"shoulder_lift  {mean[1]:9.3f} ± {std[1]:.3f}" in out
    assert f"camera signatures — dataset {ds}: 24 frames across 6 episodes" in out
    assert "observation.images.front: 24 frames, sobel-magnitude-16x12-ncc" in out
    written = DeploymentContract.read(tmp_path / "contract.json")
    assert written == read_contract(trained.path)
    np.testing.assert_allclose(written.start_state_mean, mean, atol=1e-4)


def test_finds_the_dataset_in_the_hub_cache(trained, tmp_path):
    ckpt = shutil.copytree(trained.path, tmp_path / "ckpt")
    config = json.loads((ckpt / "train_config.json").read_text())
    config["dataset"].update(repo_id="someone/sim_pick", root=None)
    (ckpt / "train_config.json").write_text(json.dumps(config))
    repo = tmp_path / "hub" / "datasets--someone--sim_pick"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    shutil.copytree(trained.dataset, repo / "snapshots" / ("0" * 40))
    out = _run(str(ckpt), "--no-signatures", HF_HUB_CACHE=str(tmp_path / "hub"),
               HF_LEROBOT_HOME=str(tmp_path / "empty"))
    assert f"tasks (2) — dataset {repo / 'snapshots' / ('0' * 40)}/meta/tasks" in out
    missing = _run(str(ckpt), "--no-signatures", HF_HUB_CACHE=str(tmp_path / "nohub"),
                   HF_LEROBOT_HOME=str(tmp_path / "empty"))
    assert "tasks (0) — unknown: training dataset not found locally" in missing
    assert "Hub cache of dataset someone/sim_pick" in missing
