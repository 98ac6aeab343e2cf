"""Fine-tuning SmolVLA on recorded LeRobot datasets and evaluating checkpoints offline.

A ROS-agnostic core (STYLE.md rule 1): nothing here imports rclpy, so it runs on a GPU box with no
ROS install (``pip install -e ".[train]"``). ``training/train_smolvla.py`` and
``training/eval_offline.py`` are thin scripts over :mod:`~vla_ros.training.cli`.

* :mod:`~vla_ros.training.config`: ``TrainConfig`` / ``EvalConfig`` and their command-line flags;
* :mod:`~vla_ros.training.data`: datasets, episode split, delta timestamps, colour jitter, sampler;
* :mod:`~vla_ros.training.budget`: epochs of a run and what the datasets hold;
* :mod:`~vla_ros.training.loss`: the flow-matching loss with correct padding, joint/temporal weights;
* :mod:`~vla_ros.training.policy_source`: the checkpoint a run starts from;
* :mod:`~vla_ros.training.trainer`: the Accelerate loop, validation, checkpoints, resume;
* :mod:`~vla_ros.training.layout`: the run directory (lerobot's layout) and the training record;
* :mod:`~vla_ros.training.runlog`: CSV / TensorBoard / wandb metrics;
* :mod:`~vla_ros.training.evaluate`, :mod:`~vla_ros.training.metrics`, :mod:`~vla_ros.training.plots`:
  offline evaluation.

Submodules are imported on demand (lerobot and torch are heavy); this package imports nothing.
"""
