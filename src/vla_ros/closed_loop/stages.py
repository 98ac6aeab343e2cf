"""The stages of the closed loop, each through the project's user-facing commands.

record: ``vla-ros launch record teleop:=expert`` (the simulator's scripted IK expert, one task per
episode; in the swapped-slots scene two recordings, :mod:`vla_ros.closed_loop.curriculum`) -> convert:
``vla-ros convert`` -> train: ``vla-ros train`` from a tiny SmolVLA with random weights (one stage per
recording, each from the last one's checkpoint) -> offline
(:mod:`vla_ros.closed_loop.offline`) -> evaluate: ``vla-ros launch deploy evaluate:=M`` per condition
(``sim_evaluator`` in the deploy graph measures success in the simulator) -> diagnose
(:mod:`vla_ros.closed_loop.diagnosis`).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vla_ros.closed_loop.config import ClosedLoopConfig
from vla_ros.closed_loop.curriculum import Recording, recordings
from vla_ros.closed_loop.runner import StageError, StageResult, run_stage, vla_ros_command
from vla_ros.paths import config_file

__all__ = ["CAMERA_MAP", "CONDITIONS", "NAMELESS_TASKS", "REWORDED_TASKS", "Condition", "RunPaths",
           "conditions", "convert", "evaluate", "evaluate_log", "make_start_policy", "record", "train"]

CAMERA_MAP = {"observation.images.front": "observation.images.camera1",
              "observation.images.wrist": "observation.images.camera2"}
"""Dataset camera -> policy camera, as ``lerobot-train --rename_map`` maps them for SmolVLA."""
VCODEC = "h264"
"""Video codec of the closed loop's dataset: frame loading dominates a tiny policy's CPU training step,
and PyAV decodes these H.264 frames about 1.7x faster than lerobot's default AV1 (0.27 vs 0.47 ms a
frame at 128x96 on this 2-core machine)."""
CONVERT_TOLERANCE_S = 0.25
"""Per-stream age/lead limit of the conversion: generous, because a loaded 2-core machine delays
best-effort images; ticks beyond it split the episode (``on_gap: split``)."""


@dataclass(frozen=True)
class Condition:
    """One evaluation run of the deploy graph.

    Attributes:
        name: directory and report key; policy: ``trained`` or ``start`` (untrained);
        launch_args: extra ``name:=value`` arguments; expect_refusal: a guard should stop the policy
        before the arm moves, at start-up or at every enable (the run then counts as caught, not as
        failed; :mod:`vla_ros.closed_loop.report` tells which).
    """

    name: str
    policy: str
    launch_args: tuple[str, ...] = ()
    expect_refusal: bool = False


REWORDED_TASKS = ("go to the red block", "go to the blue block")
"""The evaluation instructions of ``instruction_reworded``: the training tasks said otherwise (seed 001's
"Grab the brain" for "Grasp a brain and put it in the bin"), run with ``allow_new_task``."""
NAMELESS_TASKS = ("reach the cube", "touch the cube")
"""The language-blind control's instructions: one per target, neither naming a cube."""
_NAMELESS = f"eval_tasks:={','.join(NAMELESS_TASKS)}"
_SWAPPED = "camera_map:=front=observation.images.camera2,wrist=observation.images.camera1"
CONDITIONS = (
    Condition("trained", "trained"),
    Condition("instructions_exchanged", "trained", ("exchange_tasks:=true",)),
    Condition("instruction_reworded", "trained", (f"eval_tasks:={','.join(REWORDED_TASKS)}",
                                                  "allow_new_task:=true")),  # the seeds' task string
    Condition("cameras_swapped", "trained", (_SWAPPED,), expect_refusal=True),
    Condition("cameras_swapped_physically", "trained", ("swap_cameras:=true", "camera_check:=refuse"),
              expect_refusal=True),  # the seed's swapped devices: refused at enable, by what they see
    Condition("cameras_swapped_allowed", "trained",
              (_SWAPPED, "allow_camera_remap:=true", "camera_check:=off")),  # measure the drop
    Condition("blind", "trained", ("freeze_cameras:=true",)),  # each camera's first frame, for ever
    Condition("language_blind", "trained", (_NAMELESS, "allow_new_task:=true")),
    Condition("language_blind_exchanged", "trained",
              (_NAMELESS, "allow_new_task:=true", "exchange_tasks:=true")),
    Condition("random_baseline", "start"),
)
"""What the report can compare (the config's ``conditions`` picks some)."""


@dataclass(frozen=True)
class RunPaths:
    """Where a run keeps each stage's output, under ``root``."""

    root: Path

    @property
    def bags(self) -> Path:
        return self.root / "bags"

    @property
    def dataset(self) -> Path:
        """The first recording's dataset (the diagnose stage's training data)."""
        return self.root / "dataset"

    def recording_bags(self, recording: Recording) -> Path:
        """Bags of a recording: ``bags/`` for the first, ``bags_image/`` for the image stage's."""
        return self.root / f"bags{recording.suffix}"

    def recording_dataset(self, recording: Recording) -> Path:
        return self.root / f"dataset{recording.suffix}"

    @property
    def start_policy(self) -> Path:
        return self.root / "start_policy"

    @property
    def train(self) -> Path:
        return self.root / "train"

    def stage_train(self, recording: Recording, last: bool) -> Path:
        """A training stage's run directory: ``train/`` for the last, ``train_words/`` before it."""
        return self.train if last else self.root / f"train_{recording.name}"

    @property
    def trained_policy(self) -> Path:
        return self.train / "checkpoints" / "last" / "pretrained_model"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def home(self) -> Path:
        """``VLA_ROS_HOME`` of the run's graphs (simulated calibration)."""
        return self.root / "home"

    def eval_dir(self, condition: str) -> Path:
        return self.root / "eval" / condition


def _sim_args(cfg: ClosedLoopConfig, seed: int, namespace: str) -> list[str]:
    return ["use_sim:=true", "two_cubes:=true", f"cube_layout:={cfg.cube_layout}",
            f"swap_slots:={str(cfg.swap_slots).lower()}",
            f"image_size:={cfg.image_size}", f"seed:={seed}", f"namespace:={namespace}", "monitor:=false"]


def _fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    return path


def record(cfg: ClosedLoopConfig, paths: RunPaths) -> StageResult:
    """Record each recording's expert demonstrations in simulation, one MCAP bag per episode (the
    result's time is all recordings')."""
    results = [_record(cfg, paths, rec) for rec in recordings(cfg)]
    return _combined("record", results)


def _record(cfg: ClosedLoopConfig, paths: RunPaths, rec: Recording) -> StageResult:
    out = _fresh(paths.recording_bags(rec))
    command = vla_ros_command("launch", "record", *_sim_args(cfg, rec.seed, "cl_record"), "teleop:=expert",
                              f"scene_repeats:={2 if cfg.paired_scenes else 1}", f"episodes:={rec.episodes}",
                              f"swap_probability:={rec.swap_probability}",
                              f"episode_duration_s:={cfg.episode_duration_s}", f"output_dir:={out}")
    result = run_stage(_stage_name("record", rec), command, paths.logs, timeout_s=cfg.stage_timeout_s,
                       env={"VLA_ROS_HOME": str(paths.home)})
    bags = _bags(out)
    if len(bags) != rec.episodes:
        raise StageError(f"record: expected {rec.episodes} bags in {out}, found {len(bags)}; "
                         f"log {result.log}:\n{result.tail()}")
    return result


def _stage_name(stage: str, rec: Recording) -> str:
    """A stage's log name for one recording (``record``, ``convert_image``)."""
    return f"{stage}{rec.suffix}"


def _combined(name: str, results: list[StageResult]) -> StageResult:
    last = results[-1]
    return StageResult(name, last.returncode, sum(r.wall_s for r in results), last.log)


def _bags(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if folder.is_dir() else []


def convert(cfg: ClosedLoopConfig, paths: RunPaths) -> StageResult:
    """Convert each recording's bags into a LeRobot v3.0 dataset (LeRobot units, the simulated arm's
    calibration)."""
    mapping = yaml.safe_load(config_file("convert.yaml").read_text())
    topics = mapping["topics"]
    for stream in [topics["state"], topics["action"], *topics["cameras"].values()]:
        stream["tolerance_s"] = CONVERT_TOLERANCE_S
    mapping["on_gap"] = "split"
    paths.root.mkdir(parents=True, exist_ok=True)
    mapping_file = paths.root / "convert.yaml"
    mapping_file.write_text(yaml.safe_dump(mapping))
    results = []
    for rec in recordings(cfg):
        out = _fresh(paths.recording_dataset(rec))
        command = vla_ros_command("convert", *map(str, _bags(paths.recording_bags(rec))), "--out", str(out),
                                  "--config", str(mapping_file), "--sim-calibration", "--namespace",
                                  "cl_record", "--vcodec", VCODEC, "--no-progress")
        results.append(run_stage(_stage_name("convert", rec), command, paths.logs,
                                 timeout_s=cfg.stage_timeout_s))
    return _combined("convert", results)


TINY_VLM = {"patch_size": 8, "vision_hidden_size": 64, "vision_layers": 2}
"""The start policy's vision tower apart from its input size (:func:`vla_ros.policy.tiny.make_tiny_vlm`)."""


def make_start_policy(cfg: ClosedLoopConfig, paths: RunPaths) -> Path:
    """A tiny SmolVLA with random weights for the dataset's tasks, cameras, image size and statistics:
    where training starts, and the random-policy baseline."""
    from vla_ros.policy.tiny import make_tiny_policy

    info = json.loads((paths.dataset / "meta" / "info.json").read_text())
    stats = json.loads((paths.dataset / "meta" / "stats.json").read_text())
    tasks = _dataset_tasks(paths.dataset)
    shape = info["features"]["observation.images.front"]["shape"]
    return make_tiny_policy(
        _fresh(paths.start_policy), image_size=(int(shape[0]), int(shape[1])), chunk_size=cfg.chunk_size,
        fps=float(info["fps"]), tasks=tasks, camera_map=CAMERA_MAP, seed=cfg.seed,
        vlm={"image_size": cfg.vision_size, **TINY_VLM}, train_backbone=cfg.train_backbone,
        stats={k: {s: stats[k][s] for s in ("mean", "std", "min", "max")}
               for k in ("observation.state", "action")},
    )


def _dataset_tasks(dataset: Path) -> list[str]:
    import pandas as pd

    return sorted(pd.read_parquet(dataset / "meta" / "tasks.parquet").index.tolist())


def train(cfg: ClosedLoopConfig, paths: RunPaths) -> StageResult:
    """Fine-tune the start policy with ``vla-ros train`` (CPU; the frames decoded once, into memory), one
    stage per recording, each from the previous stage's checkpoint on its recording and the earlier ones
    (new scenes added to the old), the last in ``train/`` (log ``train.log``), the first of two in
    ``train_words/`` (the result's time is all stages')."""
    start = make_start_policy(cfg, paths)
    stages = recordings(cfg)
    results = []
    for i, rec in enumerate(stages):
        out = paths.stage_train(rec, last=i == len(stages) - 1)
        datasets = [paths.recording_dataset(r) for r in stages[:i + 1]]
        results.append(_train_run(out.name, cfg, paths, datasets, start, out, rec.steps))
        start = out / "checkpoints" / "last" / "pretrained_model"
    return _combined("train", results)


def _train_run(name: str, cfg: ClosedLoopConfig, paths: RunPaths, datasets: list[Path], start: Path,
               out: Path, steps: int) -> StageResult:
    _fresh(out)
    rename = [f"{k}={v}" for k, v in CAMERA_MAP.items()]
    command = vla_ros_command(
        "train", *map(str, datasets), "--policy-path", str(start), "--output-dir", str(out),
        "--steps", str(steps), "--batch-size", str(cfg.batch_size), "--lr", str(cfg.lr),
        "--warmup-steps", str(min(100, steps // 10)), "--decay-steps", str(steps),
        "--num-workers", "2", "--cache-frames", "--val-freq", str(max(steps // 2, 1)),
        "--val-max-batches", "10",
        "--save-freq", str(steps), "--log-freq", "50", "--no-augment", "--no-progress-bar",
        "--rename-map", *rename,
    )
    return run_stage(name, command, paths.logs, timeout_s=cfg.stage_timeout_s)


def evaluate(cfg: ClosedLoopConfig, paths: RunPaths, condition: Condition) -> StageResult:
    """Deploy a policy through the deploy graph and run the evaluation episodes of one condition."""
    policy = paths.trained_policy if condition.policy == "trained" else paths.start_policy
    out = _fresh(paths.eval_dir(condition.name))
    command = vla_ros_command(
        "launch", "deploy", *_sim_args(cfg, cfg.eval_seed, f"cl_{condition.name}"), f"policy_path:={policy}",
        f"evaluate:={cfg.eval_episodes}", f"eval_output:={out}",
        f"eval_episode_duration_s:={cfg.eval_episode_duration_s}", "torch_threads:=1", *condition.launch_args,
    )
    return run_stage(evaluate_log(paths, condition.name).stem, command, paths.logs,
                     timeout_s=cfg.stage_timeout_s, check=not condition.expect_refusal,
                     env={"VLA_ROS_HOME": str(paths.home)})


def evaluate_log(paths: RunPaths, condition: str) -> Path:
    """The log of a condition's evaluation run."""
    return paths.logs / f"evaluate_{condition}.log"


def conditions(cfg: ClosedLoopConfig) -> list[Condition]:
    """The conditions this run evaluates, in :data:`CONDITIONS` order."""
    return [c for c in CONDITIONS if c.name in cfg.conditions]


def stage_outputs(cfg: ClosedLoopConfig, paths: RunPaths) -> dict[str, Any]:
    """What each stage left behind (for the report): bags and dataset per recording, the policy."""
    out: dict[str, Any] = {}
    for rec in recordings(cfg):
        out[f"bags{rec.suffix}"] = len(_bags(paths.recording_bags(rec)))
        out[f"dataset{rec.suffix}"] = str(paths.recording_dataset(rec))
    return {**out, "trained_policy": str(paths.trained_policy)}
