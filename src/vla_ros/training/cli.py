"""Command lines of the training subpackage: ``train_main`` and ``eval_main``.

``training/train_smolvla.py`` and ``training/eval_offline.py`` call these, and ``vla-ros`` can
dispatch to them. Flags are generated from :class:`~vla_ros.training.config.TrainConfig` and
:class:`~vla_ros.training.evaluate.EvalConfig`, so ``--help`` lists every field with its meaning.
Printing belongs here, not in the library.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from vla_ros.errors import VlaRosError
from vla_ros.training.config import EvalConfig, TrainConfig, add_config_arguments, config_from_args

__all__ = ["eval_main", "train_main"]

TRAIN_EPILOG = """examples:
  python training/train_smolvla.py DATASET --output-dir runs/a --steps 20000 --batch-size 32 \\
      --rename-map observation.images.front=observation.images.camera1 \\
                   observation.images.wrist=observation.images.camera2
  python training/train_smolvla.py --resume --output-dir runs/a            # after a crash
  python training/train_smolvla.py --resume --output-dir runs/a --steps 30000   # extend
  accelerate launch --multi_gpu --num_processes 4 training/train_smolvla.py DATASET ...
"""


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", force=True)


def train_main(argv: Sequence[str] | None = None) -> int:
    """Fine-tune SmolVLA on local LeRobot datasets (``training/train_smolvla.py``)."""
    parser = argparse.ArgumentParser(
        prog="train_smolvla.py", epilog=TRAIN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Fine-tune a SmolVLA checkpoint on local LeRobot datasets (lerobot layout checkpoints).")
    add_config_arguments(parser, TrainConfig, positional="datasets")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the datasets, split and budget, then exit without training")
    args = parser.parse_args(argv)
    dry_run = args.__dict__.pop("dry_run")
    _setup_logging()
    from vla_ros.training.trainer import Trainer, resume_config

    try:
        if getattr(args, "resume", False):  # the run's recorded settings, then the flags given now
            explicit = {k: v for k, v in vars(args).items() if k != "resume"}
            cfg = resume_config(getattr(args, "output_dir", TrainConfig.output_dir), **explicit)
        else:
            cfg = config_from_args(TrainConfig, args)
        trainer = Trainer(cfg).setup()
        if trainer.is_main:
            print(trainer.describe(), flush=True)
        if dry_run:
            return 0
        run_dir = trainer.train()
    except VlaRosError as err:
        print(f"train_smolvla: error: {err}", file=sys.stderr)
        return 1
    if trainer.is_main:
        print(f"done: {run_dir}/checkpoints/last/pretrained_model")
    return 0


def eval_main(argv: Sequence[str] | None = None) -> int:
    """Evaluate checkpoints offline on held-out episodes (``training/eval_offline.py``)."""
    parser = argparse.ArgumentParser(
        prog="eval_offline.py",
        description="Replay held-out episodes through SmolVLA checkpoints: per-joint MAE/RMSE in physical "
                    "units, success within tolerance, z-score range, gripper-closed fraction, largest jump; "
                    "console table, report.json and PNG plots.")
    add_config_arguments(parser, EvalConfig, positional="checkpoints")
    args = parser.parse_args(argv)
    _setup_logging()
    from vla_ros.training.evaluate import evaluate, format_table

    try:
        report = evaluate(config_from_args(EvalConfig, args))
    except VlaRosError as err:
        print(f"eval_offline: error: {err}", file=sys.stderr)
        return 1
    print(format_table(report))
    outputs = {"report": f"{report.config['output_dir']}/report.json", "plots": report.files}
    print(json.dumps(outputs, indent=2))
    return 0
