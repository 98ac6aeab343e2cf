"""Offline-evaluation metrics of predicted joint trajectories against the demonstrations.

Each metric answers a failure seen in the seed documents:

* MAE / RMSE per joint in the data's physical units (LeRobot: degrees, gripper 0-100), not in
  normalised units (seed: "MAE in the thousands" from comparing normalised outputs with raw data);
* per-joint success: share of frames within a tolerance, by default 5 % of the joint's range in the
  data (seed colour challenge: 60.9 % average per-joint success at 5 %); a joint without range (a
  tolerance of 0) has no meaningful success: it is reported n/a, with the reason, and left out of the
  mean instead of scoring 100 %;
* z-score range of the outputs next to the data's: a model whose outputs span +-1.5 sigma where the
  data spans +-3 is conservative, mean-seeking (seed: "z-score range problem confirmed");
* gripper-closed fraction, predicted vs demonstrated (seed: 54.5 % closed in training, 0 % deployed);
* the largest per-step jump of each joint (seed: 10-26 deg jumps deployed vs 3-13 in training).

Core module: NumPy only, no ROS, no torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["largest_jump", "trajectory_metrics"]


def largest_jump(trajectories: Sequence[np.ndarray]) -> np.ndarray:
    """Largest absolute change between consecutive steps, per joint, over all trajectories.

    Args:
        trajectories: each ``(T_i, D)``; trajectories shorter than 2 steps contribute nothing.

    Returns:
        ``(D,)`` float64, in the trajectories' units per step.
    """
    dim = trajectories[0].shape[1]
    jumps = [np.abs(np.diff(t, axis=0)).max(axis=0) for t in trajectories if len(t) > 1]
    return np.max(jumps, axis=0) if jumps else np.zeros(dim)


def _zrange(values: np.ndarray, mean: np.ndarray, std: np.ndarray) -> dict[str, list[float]]:
    z = (values - mean) / np.where(std > 0, std, 1.0)
    return {"min": z.min(axis=0).tolist(), "max": z.max(axis=0).tolist()}


def trajectory_metrics(
    preds: Sequence[np.ndarray],
    truths: Sequence[np.ndarray],
    *,
    action_mean: np.ndarray,
    action_std: np.ndarray,
    joint_range: np.ndarray,
    tolerance_frac: float = 0.05,
    gripper_index: int | None = 5,
    gripper_closed_frac: float = 0.2,
    gripper_min: float | None = None,
) -> dict[str, Any]:
    """All metrics of predicted against ground-truth action trajectories.

    Args:
        preds: per episode, ``(T_i, D)`` predicted actions in physical units.
        truths: per episode, ``(T_i, D)`` demonstrated actions, same units and lengths.
        action_mean: ``(D,)`` mean of the data's actions (the normalisation statistics).
        action_std: ``(D,)`` standard deviation of the same.
        joint_range: ``(D,)`` max - min of the data's actions; the success tolerance is
            ``tolerance_frac * joint_range``.
        tolerance_frac: tolerance as a fraction of each joint's range (seed: 0.05).
        gripper_index: column of the gripper, or None for no gripper metric.
        gripper_closed_frac: the gripper counts as closed below ``gripper_min +
            gripper_closed_frac * joint_range[gripper_index]`` (LeRobot: 0 % is the closed end).
        gripper_min: the data's gripper minimum (the statistics' ``min``); None takes the minimum
            of ``truths``.

    Returns:
        JSON-ready dict: ``frames``, ``episodes``, ``tolerance`` (D), ``mae``, ``rmse``,
        ``success_rate`` (D, fraction, None = n/a), ``success_na`` (joint index as a string -> why
        it is n/a), ``mean_mae``, ``mean_rmse``, ``mean_success_rate`` (over the joints that have a
        success rate; None if none has),
        ``zscore_pred``/``zscore_truth`` (``min``/``max`` per joint), ``zscore_span_ratio`` (D:
        predicted span / demonstrated span; well below 1 flags mean-seeking outputs),
        ``gripper_closed_fraction`` (``pred``/``truth``), ``max_jump`` (``pred``/``truth``, D).

    Raises:
        ValueError: no frames, or predicted and true shapes differ.
    """
    if len(preds) != len(truths) or any(p.shape != t.shape for p, t in zip(preds, truths)):
        raise ValueError("each predicted trajectory needs a ground-truth one of the same shape")
    pred, truth = np.concatenate(preds).astype(np.float64), np.concatenate(truths).astype(np.float64)
    if pred.size == 0:
        raise ValueError("no frames to evaluate")
    err = pred - truth
    tolerance = tolerance_frac * np.asarray(joint_range, dtype=np.float64)
    mae, rmse = np.abs(err).mean(axis=0), np.sqrt((err**2).mean(axis=0))
    success = (np.abs(err) <= tolerance).mean(axis=0)
    na = {str(j): f"no range in the data (max - min = {float(joint_range[j]):g}): tolerance "
                  f"{tolerance_frac:g} x range = 0, so success would be 100 % for any exact value"
          for j in range(len(tolerance)) if not tolerance[j] > 0}
    rated = [float(success[j]) for j in range(len(tolerance)) if str(j) not in na]
    z_pred, z_truth = _zrange(pred, action_mean, action_std), _zrange(truth, action_mean, action_std)
    span_pred = np.subtract(z_pred["max"], z_pred["min"])
    span_truth = np.subtract(z_truth["max"], z_truth["min"])
    out: dict[str, Any] = {
        "frames": len(pred),
        "episodes": len(preds),
        "tolerance": tolerance.tolist(),
        "mae": mae.tolist(),
        "rmse": rmse.tolist(),
        "success_rate": [None if str(j) in na else float(v) for j, v in enumerate(success)],
        "success_na": na,
        "mean_mae": float(mae.mean()),
        "mean_rmse": float(rmse.mean()),
        "mean_success_rate": float(np.mean(rated)) if rated else None,
        "zscore_pred": z_pred,
        "zscore_truth": z_truth,
        "zscore_span_ratio": (span_pred / np.where(span_truth > 0, span_truth, 1.0)).tolist(),
        "max_jump": {"pred": largest_jump(preds).tolist(), "truth": largest_jump(truths).tolist()},
    }
    if gripper_index is not None:
        low = float(truth[:, gripper_index].min()) if gripper_min is None else gripper_min
        closed_below = low + gripper_closed_frac * float(joint_range[gripper_index])
        out["gripper_closed_below"] = closed_below
        out["gripper_closed_fraction"] = {
            "pred": float((pred[:, gripper_index] < closed_below).mean()),
            "truth": float((truth[:, gripper_index] < closed_below).mean()),
        }
    return out
