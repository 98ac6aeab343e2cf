"""Camera identity by content: which training camera a live camera looks like.

Seed lesson (001/004): the configured device paths of two cameras were swapped; names, sizes and
formats all matched, and the policy drove the arm into the bin. Only what the cameras see tells them
apart, so each training camera keeps a compact signature of its frames and live frames are scored
against every signature.

What it measures: the *structure* of the view, not its colours. A frame is turned to grey, shrunk to
32x24 (area averaging), its Sobel gradient magnitude shrunk to :data:`GRID` (16x12) cells, and that
vector centred and scaled to unit length (:func:`descriptor`). The score of a live frame against a
training camera is the largest normalised correlation with that camera's stored descriptors (frames
spread across the training episodes, so arm poses and object positions vary). Centring and scaling
remove brightness and contrast; grey removes hue and saturation; gradients of a coarse grid ignore
small shifts. Chosen by measurement (``bench/bench_camera_identity.py``: 20 simulator scenes with
randomised lighting and cube colours, the arm moving, plain and with the seed's validation colour
shift; 64x48): the smallest per-camera margin of a correct mapping over its swap was 0.65 with this
descriptor (0.54 with grey levels, 0.21 with Lab chroma) and the largest score of a camera against
the other camera's signature 0.20 (0.45 grey levels, 0.73 Lab chroma). One check of two cameras costs
about 2 ms at 64x48 and 15 ms at 640x480 on a loaded 2-core CPU.

Decision (:func:`match_cameras`): every injective assignment of live cameras to training cameras is
scored by the sum of its scores; when the best one is not the configured one and beats it by more
than ``min_margin`` per camera, the mapping is refused with the scores.

Core module: NumPy and OpenCV, no ROS.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from vla_ros.errors import BadInputError, ConfigError

__all__ = [
    "GRID",
    "METHOD",
    "MIN_MARGIN",
    "CameraSignature",
    "IdentityReport",
    "descriptor",
    "make_signature",
    "match_cameras",
    "score",
]

METHOD = "sobel-magnitude-16x12-ncc"
"""Name of the descriptor, stored with each signature (a different method is refused, not compared)."""
GRID = (16, 12)
"""Cells of the descriptor, (width, height)."""
_GREY = (32, 24)
MIN_MARGIN = 0.2
"""Per-camera score margin by which another assignment must beat the configured one to refuse it.
Measured in simulation: correct mappings score at least 0.65 per camera above their swap, so a swap is
at least 0.65 below (``bench/bench_camera_identity.py``); 0.2 leaves room both ways."""
_FLAT = 1e-3
"""A frame whose gradient vector is shorter than this (a blank or black image) has no structure."""


def descriptor(rgb: np.ndarray) -> np.ndarray | None:
    """The structure descriptor of one frame.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB, any size (at least 2x2).

    Returns:
        ``(192,)`` float32, zero mean and unit norm; None for a frame without structure (blank).

    Raises:
        BadInputError: not an ``(H, W, 3)`` image.
    """
    img = np.asarray(rgb)
    if img.ndim != 3 or img.shape[2] != 3 or min(img.shape[:2]) < 2:
        raise BadInputError(f"camera signature needs an (H, W, 3) image, got shape {img.shape}")
    grey = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
    grey = cv2.resize(grey, _GREY, interpolation=cv2.INTER_AREA)
    mag = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    cells = cv2.resize(mag, GRID, interpolation=cv2.INTER_AREA).ravel()
    cells -= cells.mean()
    norm = float(np.linalg.norm(cells))
    return None if norm < _FLAT * cells.size else (cells / norm).astype(np.float32)


@dataclass(frozen=True)
class CameraSignature:
    """What one training camera saw: the descriptors of frames across the training episodes.

    Attributes:
        frames: ``(K, D)`` float32 unit descriptors (:func:`descriptor`).
        method: :data:`METHOD`.
        source: where the frames came from (dataset, episodes), for messages.
    """

    frames: np.ndarray
    method: str = METHOD
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (values rounded to 4 decimals)."""
        return {"method": self.method, "source": self.source, "grid": list(GRID),
                "frames": np.round(self.frames.astype(np.float64), 4).tolist()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CameraSignature:
        """Inverse of :meth:`to_dict`.

        Raises:
            ConfigError: another method, or frames of the wrong shape.
        """
        frames = np.asarray(data.get("frames", []), dtype=np.float32)
        if data.get("method") != METHOD:
            raise ConfigError(f"camera signature of method {data.get('method')!r}; this version uses "
                              f"{METHOD!r}")
        size = GRID[0] * GRID[1]
        if frames.ndim != 2 or frames.shape[0] == 0 or frames.shape[1] != size:
            raise ConfigError(f"camera signature frames have shape {frames.shape}, expected (K, {size})")
        return cls(frames, METHOD, str(data.get("source", "")))


def make_signature(frames: Sequence[np.ndarray], source: str = "") -> CameraSignature:
    """The signature of a camera from its training frames (blank frames are left out).

    Raises:
        ConfigError: no frame with structure.
    """
    descs = [d for d in (descriptor(f) for f in frames) if d is not None]
    if not descs:
        raise ConfigError(f"no camera frame with any structure to make a signature from ({source})")
    return CameraSignature(np.stack(descs), METHOD, source)


def score(signature: CameraSignature, frames: Sequence[np.ndarray]) -> float | None:
    """How much live ``frames`` look like ``signature``: mean over frames of the best correlation.

    Returns:
        In [-1, 1] (1 = the same structure as some training frame); None when no frame has structure.
    """
    return _score(signature, _descriptors(frames))


def _descriptors(frames: Sequence[np.ndarray]) -> np.ndarray | None:
    descs = [d for d in (descriptor(f) for f in frames) if d is not None]
    return np.stack(descs) if descs else None


def _score(signature: CameraSignature, descs: np.ndarray | None) -> float | None:
    if descs is None:
        return None
    return float(np.mean(np.max(descs @ signature.frames.T, axis=1)))


@dataclass(frozen=True)
class IdentityReport:
    """Result of :func:`match_cameras`.

    Attributes:
        ok: the configured mapping is not clearly beaten (or nothing could be compared).
        scores: live camera -> training camera key -> score (None = blank live frame).
        best: the best-scoring assignment, live camera -> training camera key.
        margin: per-camera score by which ``best`` beats the configured assignment (0 when equal).
        message: one line for logs and refusals, with the scores.
    """

    ok: bool
    scores: dict[str, dict[str, float | None]]
    best: dict[str, str]
    margin: float
    message: str


def _label(key: str, labels: Mapping[str, str]) -> str:
    return f"{key} ({labels[key]})" if labels.get(key) else key


def match_cameras(
    live: Mapping[str, Sequence[np.ndarray]],
    assigned: Mapping[str, str],
    signatures: Mapping[str, CameraSignature],
    *,
    labels: Mapping[str, str] | None = None,
    min_margin: float = MIN_MARGIN,
) -> IdentityReport:
    """Check that each live camera looks most like the training camera it is mapped to.

    Args:
        live: live camera name -> recent ``(H, W, 3)`` uint8 RGB frames.
        assigned: live camera name -> the training camera key it feeds (``observation.images.*``);
            cameras without a signature are left out.
        signatures: training camera key -> its signature.
        labels: training camera key -> a second name for messages (the dataset or policy name).
        min_margin: per-camera margin needed to refuse (:data:`MIN_MARGIN`).

    Returns:
        The report; ``ok`` is False only when another assignment fits better by more than
        ``min_margin`` per camera.
    """
    labels = labels or {}
    cams = [c for c in assigned if assigned[c] in signatures and c in live]
    keys = list(signatures)
    descs = {c: _descriptors(live[c]) for c in cams}
    scores = {c: {k: _score(signatures[k], descs[c]) for k in keys} for c in cams}
    usable = [c for c in cams if all(v is not None for v in scores[c].values())]
    blank = sorted(set(cams) - set(usable))
    note = f"; no structure in {blank} (blank image?), not compared" if blank else ""
    if not usable:
        return IdentityReport(True, scores, dict(assigned), 0.0, "camera identity: nothing to compare" + note)

    def total(assignment: Mapping[str, str]) -> float:
        return sum(float(scores[c][assignment[c]] or 0.0) for c in usable)

    options = [dict(zip(usable, p)) for p in itertools.permutations(keys, len(usable))]
    best = max(options, key=total)
    current = {c: assigned[c] for c in usable}
    margin = (total(best) - total(current)) / len(usable)
    if best == current or margin <= min_margin:
        text = ", ".join(f"{c} ~ {_label(current[c], labels)}: {scores[c][current[c]]:.2f}" for c in usable)
        return IdentityReport(True, scores, best, max(margin, 0.0), f"camera identity ok ({text}){note}")
    wrong = [c for c in usable if best[c] != current[c]]
    parts = [f"{c} looks like training's {_label(best[c], labels)}: {scores[c][best[c]]:.2f} vs "
             f"{scores[c][current[c]]:.2f} for {_label(current[c], labels)}" for c in wrong]
    return IdentityReport(False, scores, best, margin,
                          "; ".join(parts) + f" — devices swapped? (margin {margin:.2f} per camera > "
                          f"{min_margin:g}){note}")
