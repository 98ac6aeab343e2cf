"""Camera signatures and the assignment check, on hand-made images (table-driven)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vla_ros.contract.signature import (
    METHOD,
    CameraSignature,
    descriptor,
    make_signature,
    match_cameras,
    score,
)
from vla_ros.errors import BadInputError, ConfigError


def _stripes(h: int = 48, w: int = 64, period: int = 8) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[:, (np.arange(w) // period) % 2 == 0] = (200, 60, 40)
    return img


def _rings(h: int = 48, w: int = 64) -> np.ndarray:
    img = np.full((h, w, 3), 30, np.uint8)
    for r in (6, 14, 22):
        cv2.circle(img, (w // 3, h // 2), r, (40, 180, 220), 2)
    return img


@pytest.mark.parametrize("change", [
    lambda x: (x * 0.6).astype(np.uint8),                          # darker
    lambda x: np.clip(x * 1.4 + 20, 0, 255).astype(np.uint8),      # brighter, more contrast
    lambda x: x[..., ::-1].copy(),                                 # colours exchanged
    lambda x: cv2.resize(cv2.resize(x, (640, 480)), (640, 480)),   # another resolution
])
def test_structure_survives_lighting_and_colour(change):
    for img in (_stripes(), _rings()):
        assert float(descriptor(img) @ descriptor(change(img))) > 0.9


def test_blank_frames_have_no_structure_and_bad_shapes_are_refused():
    assert descriptor(np.full((48, 64, 3), 90, np.uint8)) is None
    with pytest.raises(BadInputError, match="shape"):
        descriptor(np.zeros((48, 64), np.uint8))
    with pytest.raises(ConfigError, match="no camera frame with any structure"):
        make_signature([np.zeros((48, 64, 3), np.uint8)], "blank")


def test_signature_roundtrip_and_method_check():
    sig = make_signature([_stripes(), _stripes(period=6)], "test")
    back = CameraSignature.from_dict(sig.to_dict())
    assert back.method == METHOD and back.source == "test"
    np.testing.assert_allclose(back.frames, sig.frames, atol=1e-4)
    assert score(back, [_stripes()]) == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ConfigError, match="method"):
        CameraSignature.from_dict({**sig.to_dict(), "method": "colour-histogram"})


SIGS = {"observation.images.camera1": make_signature([_stripes()]),
        "observation.images.camera2": make_signature([_rings()])}
LABELS = {"observation.images.camera1": "front", "observation.images.camera2": "wrist"}
MAPPED = {"front": "observation.images.camera1", "wrist": "observation.images.camera2"}


@pytest.mark.parametrize(("live", "ok"), [
    ({"front": [_stripes()], "wrist": [_rings()]}, True),
    ({"front": [(_stripes() * 0.5).astype(np.uint8)], "wrist": [_rings()[..., ::-1].copy()]}, True),
    ({"front": [_rings()], "wrist": [_stripes()]}, False),
    ({"front": [_rings()], "wrist": [np.zeros((48, 64, 3), np.uint8)]}, False),  # one seen, one black
    ({"front": [np.zeros((48, 64, 3), np.uint8)], "wrist": [np.zeros((48, 64, 3), np.uint8)]}, True),
])
def test_match_cameras(live, ok):
    report = match_cameras(live, MAPPED, SIGS, labels=LABELS)
    assert report.ok is ok, report.message
    if not ok:
        assert "front looks like training's observation.images.camera2 (wrist):" in report.message
        assert "vs" in report.message and "devices swapped?" in report.message


def test_the_swap_message_names_both_cameras_and_scores():
    report = match_cameras({"front": [_rings()], "wrist": [_stripes()]}, MAPPED, SIGS, labels=LABELS)
    front = report.scores["front"]
    assert (f"front looks like training's observation.images.camera2 (wrist): {front[MAPPED['wrist']]:.2f} "
            f"vs {front[MAPPED['front']]:.2f} for observation.images.camera1 (front)") in report.message
    assert "wrist looks like training's observation.images.camera1 (front)" in report.message
    assert report.best == {"front": MAPPED["wrist"], "wrist": MAPPED["front"]} and report.margin > 0.5
