"""End to end on CPU: train a tiny SmolVLA a few steps, crash, resume, evaluate; report and plots.

Real lerobot datasets (written by the fixtures), the tiny offline SmolVLA, lerobot's checkpoint
layout, Accelerate on the CPU. Nothing is mocked.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file

from vla_ros.contract import DeploymentContract
from vla_ros.errors import ConfigError
from vla_ros.training.cli import eval_main, train_main
from vla_ros.training.config import EvalConfig, TrainConfig
from vla_ros.training.errors import CheckpointError, DatasetMismatchError, TrainingError
from vla_ros.training.evaluate import evaluate, format_table
from vla_ros.training.layout import TrainRecord, last_checkpoint, list_checkpoints
from vla_ros.training.trainer import Trainer

pytestmark = pytest.mark.slow


def _config(run: Path, data: list[Path], ckpt: Path, rename: list[str], **kw: object) -> TrainConfig:
    base = dict(datasets=[str(d) for d in data], policy_path=str(ckpt), output_dir=str(run), steps=4,
                batch_size=4, num_workers=0, val_freq=2, save_freq=2, log_freq=1, rename_map=rename, cpu=True,
                progress_bar=False, val_fraction=0.2)
    return TrainConfig(**{**base, **kw})


def pretrained_dir(run: Path) -> Path:
    last = last_checkpoint(run)
    assert last is not None
    return last / "pretrained_model"


def _metrics(run: Path) -> list[tuple[int, str, float]]:
    with (run / "logs" / "metrics.csv").open() as f:
        return [(int(r["step"]), r["metric"], float(r["value"])) for r in csv.DictReader(f)]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory, so101_dataset: Path, tiny_checkpoint: Path,
                rename_map: list[str]) -> Path:
    """A run that crashes after step 2 (checkpoint 2 saved) and is resumed to step 4."""
    run = tmp_path_factory.mktemp("runs") / "crash_resume"
    cfg = _config(run, [so101_dataset], tiny_checkpoint, rename_map, temporal_alpha=1.0,
                  joint_weights=[1, 1, 2, 1, 1, 1.5])

    class Crash(Trainer):
        def _train_step(self, batches):  # type: ignore[no-untyped-def]
            if self.step == 2:
                raise TrainingError("simulated crash")
            return super()._train_step(batches)

    with pytest.raises(TrainingError, match="simulated crash"):
        Crash(cfg).setup().train()
    assert [p.name for p in list_checkpoints(run)] == ["000002"]
    with pytest.raises(CheckpointError, match="--resume"):
        Trainer(cfg).setup()  # a fresh run must not overwrite it
    assert train_main(["--resume", "--output-dir", str(run), "--no-progress-bar"]) == 0
    return run


def test_checkpoints_in_lerobot_layout(trained_run: Path, so101_dataset: Path) -> None:
    assert [p.name for p in list_checkpoints(trained_run)] == ["000002", "000004"]
    last = last_checkpoint(trained_run)
    assert last is not None and last.name == "000004"
    pretrained = pretrained_dir(trained_run)
    for name in ("config.json", "model.safetensors", "train_config.json", "policy_preprocessor.json",
                 "policy_postprocessor.json", "vla_ros_contract.json", "vla_ros_train.json",
                 "vlm/config.json"):
        assert (pretrained / name).is_file(), name
    state = last / "training_state"
    assert json.loads((state / "training_step.json").read_text()) == {"step": 4}
    steps = {k: v for k, v in load_file(state / "optimizer_state.safetensors").items() if k.endswith("step")}
    assert steps and all(float(v) == 4 for v in steps.values())  # AdamW resumed its state
    contract = DeploymentContract.load(pretrained)
    assert contract is not None and contract.tasks == ["pick up the cube"] and contract.fps == 30
    assert contract.camera_map == {"observation.images.front": "observation.images.camera1",
                                   "observation.images.wrist": "observation.images.camera2"}
    assert len(contract.start_state_mean) == 6 and contract.joint_names[5] == "gripper"
    assert set(contract.camera_signatures) == {"observation.images.front", "observation.images.wrist"}
    assert contract.source("camera_signatures").startswith(f"dataset {so101_dataset}")
    record = TrainRecord.load(pretrained)
    assert record is not None and record.step == 4 and record.datasets == [str(so101_dataset)]
    assert not set(record.split.train[0]) & set(record.split.val[0]) and record.split.val[0]


def test_resume_continued_the_run(trained_run: Path) -> None:
    rows = _metrics(trained_run)
    assert sorted({s for s, m, _ in rows if m == "train/loss"}) == [1, 2, 3, 4]  # no step twice
    assert {s for s, m, _ in rows if m == "val/loss"} == {2, 4}
    assert all(math.isfinite(v) for _, _, v in rows)
    w2 = load_file(trained_run / "checkpoints/000002/pretrained_model/model.safetensors")
    w4 = load_file(trained_run / "checkpoints/000004/pretrained_model/model.safetensors")
    assert any(not (w2[k] == w4[k]).all() for k in w2)


def test_evaluation_report_and_plots(trained_run: Path, tmp_path: Path, so101_dataset: Path) -> None:
    out = tmp_path / "eval"
    cfg = EvalConfig(checkpoints=[str(trained_run / "checkpoints" / "000002"), str(trained_run)],
                     output_dir=str(out), plot_episodes=1)
    report = evaluate(cfg)
    assert report.episodes_source.startswith("held-out")
    record = TrainRecord.load(pretrained_dir(trained_run))
    assert record is not None and report.episodes == [list(record.split.val[0])]
    data = json.loads((out / "report.json").read_text())
    assert [c["name"] for c in data["checkpoints"]] == ["000002", "000004"]
    for c in data["checkpoints"]:
        m = c["metrics"]
        assert m["frames"] == sum(len(t) for t in report.truths) > 0
        assert all(0 < v < 1000 for v in m["mae"]) and all(r >= a for r, a in zip(m["rmse"], m["mae"]))
        assert all(0 <= s <= 1 for s in m["success_rate"])
        assert 0 <= m["gripper_closed_fraction"]["pred"] <= 1
        assert m["replan_every"] == 5
        assert m["task_effect"] is None  # one task: nothing to swap
    demo_jump = np.max([np.abs(np.diff(t, axis=0)).max(axis=0) for t in report.truths], axis=0)
    assert data["checkpoints"][0]["metrics"]["max_jump"]["truth"] == pytest.approx(demo_jump.tolist())
    with np.load(out / "trajectories.npz") as npz:
        assert sorted(npz.files)[0].startswith("pred_000002_ds0_ep")
        assert npz[f"truth_ds0_ep{report.episodes[0][0]}"].shape == report.truths[0].shape
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert "error_histograms.png" in pngs and "checkpoint_comparison.png" in pngs
    assert sum(p.startswith("trajectories_") for p in pngs) == 2
    for p in out.glob("*.png"):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000
    table = format_table(report)
    assert "000004" in table and "gripper.pos" in table


def test_eval_cli_colour_shift_every_frame(trained_run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "eval_cli"
    assert eval_main([str(trained_run), "--output-dir", str(out), "--color-shift", "--replan-every", "1",
                      "--plot-episodes", "0", "--num-flow-steps", "3"]) == 0
    printed = capsys.readouterr().out
    assert "colour-shifted" in printed and "report.json" in printed
    metrics = json.loads((out / "report.json").read_text())["checkpoints"][0]["metrics"]
    assert metrics["replan_every"] == 1 and metrics["frames"] > 0
    assert eval_main([str(tmp_path / "nothing"), "--output-dir", str(out)]) == 1
    assert eval_main([str(trained_run), "--output-dir", str(out), "--episodes", "0:1", "5",
                      "--max-episodes", "1", "--plot-episodes", "1", "--num-flow-steps", "2"]) == 0
    data = json.loads((out / "report.json").read_text())
    assert data["episodes"] == [[1]] and data["episodes_source"] == "--episodes"
    with pytest.raises(ConfigError, match="episodes"):
        EvalConfig(checkpoints=["x"], episodes=["a:b"])


def test_two_datasets_weights_tensorboard(tmp_path: Path, so101_dataset: Path, so101_dataset_b: Path,
                                          tiny_checkpoint: Path, rename_map: list[str], capsys) -> None:
    run = tmp_path / "multi"
    argv = [str(so101_dataset), str(so101_dataset_b), "--policy-path", str(tiny_checkpoint), "--output-dir",
            str(run), "--steps", "2", "--batch-size", "2", "--num-workers", "0", "--val-freq", "2",
            "--val-max-batches", "1", "--save-freq", "2", "--cpu", "--no-progress-bar", "--log-backend",
            "tensorboard", "--episode-weights", "1:0=4", "1:1=4", "1:2=4", "1:3=4", "--chunk-size", "8",
            "--rename-map", *rename_map]
    assert train_main([*argv, "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "'place the cube'" in printed and "epochs" in printed and "below 3" in printed
    assert "held-out (validation) episodes [(1," in printed
    assert not run.exists() or not list_checkpoints(run)
    assert train_main(argv) == 0
    pretrained = pretrained_dir(run)
    contract = DeploymentContract.load(pretrained)
    assert contract is not None and contract.tasks == ["pick up the cube", "place the cube"]
    assert json.loads((pretrained / "config.json").read_text())["chunk_size"] == 8
    assert list((run / "logs").glob("events.out.tfevents.*"))
    record = TrainRecord.load(pretrained)
    assert record is not None and len(record.split.train) == 2


def test_bad_camera_mapping_is_refused(tmp_path: Path, so101_dataset: Path, tiny_checkpoint: Path) -> None:
    cfg = _config(tmp_path / "bad", [so101_dataset], tiny_checkpoint,
                  ["observation.images.front=observation.images.camera1"])  # wrist maps to nothing
    with pytest.raises(DatasetMismatchError, match=r"observation\.images\.wrist"):
        Trainer(cfg).setup()
    with pytest.raises(ConfigError):
        EvalConfig(checkpoints=[])
    # the untrained tiny checkpoint has no rename map: front/wrist reach none of its cameras
    with pytest.raises(DatasetMismatchError, match="camera mapping"):
        evaluate(EvalConfig(checkpoints=[str(tiny_checkpoint)], datasets=[str(so101_dataset)],
                            output_dir=str(tmp_path / "eval")))


def test_help_and_no_ros_in_core() -> None:
    out = subprocess.run([sys.executable, "training/train_smolvla.py", "--help"], capture_output=True,
                         text=True, cwd=Path(__file__).parents[2], timeout=120)
    assert out.returncode == 0 and "--rename-map" in out.stdout and "--temporal-alpha" in out.stdout
    code = ("import sys, vla_ros.training.trainer, vla_ros.training.evaluate, vla_ros.training.cli; "
            "assert 'rclpy' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", code], timeout=300).returncode == 0


def test_validation_is_repeatable(tmp_path: Path, so101_dataset: Path, tiny_checkpoint: Path,
                                  rename_map: list[str]) -> None:
    import torch

    trainer = Trainer(_config(tmp_path / "val", [so101_dataset], tiny_checkpoint, rename_map,
                              val_fraction=0.34, val_max_batches=2)).setup()
    assert "validation episodes" in trainer.describe() and trainer.val_loader is not None
    state = torch.get_rng_state()
    first, second = trainer.validate(), trainer.validate()
    assert first == second and math.isfinite(first) and first > 0  # colour jitter and noise are seeded
    assert torch.equal(state, torch.get_rng_state())  # the training RNG stream is untouched


def test_cached_frames_train_exactly_like_decoded_ones(tmp_path: Path, so101_dataset: Path,
                                                       tiny_checkpoint: Path, rename_map: list[str]) -> None:
    runs = {}
    for name, extra in (("decoded", {}), ("cached", {"cache_frames": True, "num_workers": 2})):
        cfg = _config(tmp_path / name, [so101_dataset], tiny_checkpoint, rename_map, steps=3, save_freq=3,
                      augment=False, **extra)
        trainer = Trainer(cfg).setup()
        assert ("frames cached in memory" in trainer.describe()) == (name == "cached")
        assert trainer.train_loader.num_workers == 0
        trainer.train()
        runs[name] = [(s, m, v) for s, m, v in _metrics(tmp_path / name) if m == "train/loss"]
    assert len(runs["cached"]) == 3 and runs["cached"] == runs["decoded"]


def test_cache_that_does_not_fit_is_refused(tmp_path: Path, so101_dataset: Path, tiny_checkpoint: Path,
                                            rename_map: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # a machine with 1 MiB free cannot exist here: the free-memory reading is replaced
    monkeypatch.setattr("vla_ros.training.trainer.available_memory", lambda: 2**20)
    cfg = _config(tmp_path / "big", [so101_dataset], tiny_checkpoint, rename_map, cache_frames=True)
    with pytest.raises(ConfigError, match="cache_frames: the frames need"):
        Trainer(cfg).setup()
    assert not (tmp_path / "big").exists() or not list_checkpoints(tmp_path / "big")
