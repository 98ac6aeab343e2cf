"""The numbers behind every check, pure NumPy: distributions, their distance, the gripper threshold and
events, per-step changes, z-scores, image signatures.

Arrays of joint values are ``(N, J)`` float64 in the data's units (LeRobot: degrees, gripper 0-100;
or radians); per-episode inputs are lists of ``(T_i, J)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "PERCENTILES",
    "GripperThreshold",
    "distribution",
    "gripper_events",
    "gripper_threshold",
    "image_distance",
    "outside_fraction",
    "step_changes",
    "wasserstein",
]

PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
BIMODAL_VALLEY = 0.5
"""The histogram counts as bimodal when its lowest (smoothed) bin between the two class means is below
this fraction of the lower of the two peaks: a split normal or uniform distribution has no valley."""


def distribution(values: np.ndarray) -> dict[str, list[float]]:
    """Per-column mean, std, min, max and :data:`PERCENTILES` of ``values`` ``(N, J)``; N >= 1."""
    v = np.asarray(values, dtype=np.float64)
    out = {"mean": v.mean(axis=0).tolist(), "std": v.std(axis=0).tolist(),
           "min": v.min(axis=0).tolist(), "max": v.max(axis=0).tolist()}
    pct = np.percentile(v, PERCENTILES, axis=0)
    out.update({f"p{p}": row.tolist() for p, row in zip(PERCENTILES, pct)})
    return out


def wasserstein(a: np.ndarray, b: np.ndarray, quantiles: int = 512) -> np.ndarray:
    """1-D Wasserstein-1 (earth mover's) distance per column between samples ``a`` ``(N, J)`` and ``b``
    ``(M, J)``: the mean absolute difference of their quantile functions on ``quantiles`` midpoints.

    Returns:
        ``(J,)`` in the data's units.
    """
    q = (np.arange(quantiles) + 0.5) / quantiles
    qa = np.quantile(np.asarray(a, dtype=np.float64), q, axis=0)
    qb = np.quantile(np.asarray(b, dtype=np.float64), q, axis=0)
    return np.abs(qa - qb).mean(axis=0)


def outside_fraction(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Per column, the fraction of rows of ``values`` ``(N, J)`` outside ``[low, high]`` ``(J,)``."""
    v = np.asarray(values, dtype=np.float64)
    return ((v < low) | (v > high)).mean(axis=0)


def step_changes(episodes: Sequence[np.ndarray]) -> np.ndarray:
    """``|x[t+1] - x[t]|`` of every episode, concatenated: ``(sum(T_i - 1), J)``; episodes of one frame
    contribute nothing."""
    parts = [np.abs(np.diff(np.asarray(e, dtype=np.float64), axis=0)) for e in episodes if len(e) > 1]
    dim = episodes[0].shape[1] if episodes else 0
    return np.concatenate(parts) if parts else np.zeros((0, dim))


@dataclass(frozen=True)
class GripperThreshold:
    """Where the gripper counts as closed (below ``value``; LeRobot's 0 % and the URDF's lower limit are
    the closed end).

    Attributes:
        value: the threshold, in the data's units.
        method: ``otsu`` (the training data is bimodal) or ``range`` (it is not: ``min + 0.2 * range``,
            the offline evaluation's rule).
        closed_mode, open_mode: mean of the values below and above ``value``.
        valley: lowest smoothed histogram count between the two means / the lower peak (0: empty gap).
    """

    value: float
    method: str
    closed_mode: float
    open_mode: float
    valley: float

    def describe(self, unit: str) -> str:
        """One sentence stating the threshold and where it came from."""
        if self.method == "otsu":
            return (f"gripper closed below {self.value:.2f}{unit}: Otsu threshold of the training gripper "
                    f"actions, bimodal with class means {self.closed_mode:.2f} and {self.open_mode:.2f} "
                    f"(valley {self.valley:.2f} of the lower peak)")
        return (f"gripper closed below {self.value:.2f}{unit}: training gripper actions are not bimodal "
                f"(valley {self.valley:.2f} of the lower peak >= {BIMODAL_VALLEY:g}), so min + 20 % of "
                "their range")


def _valley(values: np.ndarray, low_mean: float, high_mean: float, bins: int = 32) -> float:
    counts, edges = np.histogram(values, bins=bins)
    smooth = np.convolve(np.pad(counts.astype(np.float64), 1, mode="edge"), [0.25, 0.5, 0.25], "valid")
    centres = (edges[:-1] + edges[1:]) / 2
    lo = int(np.clip(np.searchsorted(centres, low_mean), 0, bins - 1))
    hi = int(np.clip(np.searchsorted(centres, high_mean), 0, bins - 1))
    if hi <= lo:
        return 1.0
    peak = min(smooth[: lo + 1].max(), smooth[hi:].max())
    return float(smooth[lo:hi + 1].min() / peak) if peak > 0 else 1.0


def gripper_threshold(values: np.ndarray, bins: int = 128) -> GripperThreshold:
    """The closed/open threshold of the training gripper values ``(N,)``: Otsu's method on their
    histogram (Otsu 1979; the middle of an empty gap, where every cut is as good), kept when the
    histogram has a valley between the two classes (:data:`BIMODAL_VALLEY`), else
    ``min + 0.2 * range`` (the offline evaluation's rule)."""
    v = np.asarray(values, dtype=np.float64)
    lo, hi = float(v.min()), float(v.max())
    if hi - lo <= 0:
        return GripperThreshold(lo, "range", lo, lo, 1.0)
    counts, edges = np.histogram(v, bins=bins, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(counts)[:-1].astype(np.float64)
    w1 = counts.sum() - w0
    s0 = np.cumsum(counts * centres)[:-1]
    m0 = s0 / np.where(w0 > 0, w0, 1)
    m1 = ((counts * centres).sum() - s0) / np.where(w1 > 0, w1, 1)
    between = w0 * w1 * (m0 - m1) ** 2
    best = np.flatnonzero(between >= between.max() * (1 - 1e-9))
    cut = float(edges[int(best[len(best) // 2]) + 1])
    below, above = v[v < cut], v[v >= cut]
    if not (below.size and above.size):
        return GripperThreshold(lo + 0.2 * (hi - lo), "range", lo, hi, 1.0)
    valley = _valley(v, float(below.mean()), float(above.mean()))
    method, value = ("otsu", cut) if valley < BIMODAL_VALLEY else ("range", lo + 0.2 * (hi - lo))
    return GripperThreshold(value, method, float(below.mean()), float(above.mean()), valley)


def gripper_events(values: np.ndarray, threshold: float, hysteresis: float) -> tuple[int, int]:
    """Closings and openings of one episode's gripper values ``(T,)``: crossings of ``threshold`` that
    reach ``hysteresis`` past it (so noise around the threshold counts once).

    Returns:
        ``(closes, opens)``.
    """
    state: bool | None = None
    closes = opens = 0
    for x in np.asarray(values, dtype=np.float64):
        now = True if x < threshold - hysteresis else False if x > threshold + hysteresis else state
        if state is not None and now is not None and now != state:
            closes, opens = closes + int(now), opens + int(not now)
        state = now if now is not None else state
    return closes, opens


def image_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two image signatures (same shape, values 0-1)."""
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).mean())
