"""OpenCV capture core: video files (pixels, looping, resizing, end), and reconnection with backoff.

The reconnection tests replace the physical camera with a scripted FrameSource (the only mock: a USB
camera that is unplugged and plugged back in).
"""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from vla_ros.camera.capture import CaptureConfig, CaptureLoop, Frame, OpenCVSource, parse_device
from vla_ros.camera.errors import CaptureError, EndOfVideoError
from vla_ros.errors import ConfigError


def test_video_file_frames_match_the_file_and_loop(video):
    path, frames = video
    source = OpenCVSource(CaptureConfig(device=str(path), width=320, height=240, loop=True))
    try:
        assert source.is_file
        got = [source.read() for _ in range(len(frames) + 3)]
    finally:
        source.close()
    for i, rgb in enumerate(got):
        np.testing.assert_array_equal(rgb, frames[i % len(frames)])


def test_video_is_resized_to_the_configured_size_and_can_end(video):
    path, frames = video
    source = OpenCVSource(CaptureConfig(device=str(path), width=160, height=120, loop=False))
    try:
        first = source.read()
        assert first.shape == (120, 160, 3)
        np.testing.assert_array_equal(first, cv2.resize(frames[0], (160, 120), interpolation=cv2.INTER_AREA))
        for _ in range(len(frames) - 1):
            source.read()
        with pytest.raises(EndOfVideoError):
            source.read()
    finally:
        source.close()


def test_missing_device_and_bad_config_are_reported(tmp_path):
    with pytest.raises(CaptureError, match="no such device"):
        OpenCVSource(CaptureConfig(device=str(tmp_path / "nope.avi")))
    with pytest.raises(ConfigError) as err:
        CaptureConfig(width=0, fourcc="H264", fps=0.0)
    assert "width" in str(err.value) and "fourcc" in str(err.value) and "fps" in str(err.value)
    assert parse_device("2") == 2 and parse_device("/dev/video0") == "/dev/video0"


def test_capture_loop_plays_a_file_at_fps_stamping_each_new_frame_once(video, index_of):
    path, frames = video
    got: list[Frame] = []
    enough = threading.Event()

    def on_frame(frame: Frame) -> None:
        got.append(frame)
        if len(got) >= 30:
            enough.set()

    loop = CaptureLoop(CaptureConfig(device=str(path), width=320, height=240, fps=50.0), on_frame)
    loop.start()
    assert enough.wait(20)
    loop.stop()
    got = got[:30]
    assert [f.seq for f in got] == list(range(1, 31))
    periods_s = np.diff([f.stamp_ns for f in got]) / 1e9
    assert np.all(periods_s > 0)
    assert 1 / 50 * 0.9 < periods_s.mean() < 1 / 50 * 2  # played at 50 fps, not as fast as it decodes
    assert [index_of(f.rgb) for f in got] == [i % len(frames) for i in range(30)]  # looped, in order


class FlakyCamera:
    """A camera (mocked hardware) that delivers ``frames_per_plug`` frames, then is unplugged."""

    def __init__(self, plugs: list[int], failures_between: int) -> None:
        self.plugs = plugs  # frames delivered per plug-in
        self.failures_between = failures_between
        self.open_times: list[float] = []
        self.failed_opens = 0
        self.counter = 0
        self._fail_next = 0

    def open(self, cfg: CaptureConfig) -> FlakyCamera.Source:
        self.open_times.append(time.monotonic())
        if self._fail_next > 0:
            self._fail_next -= 1
            self.failed_opens += 1
            raise CaptureError("camera 'flaky': cannot open")
        if not self.plugs:
            raise CaptureError("camera 'flaky': gone for good")
        return FlakyCamera.Source(self, self.plugs.pop(0))

    class Source:
        is_file = False

        def __init__(self, cam: FlakyCamera, budget: int) -> None:
            self.cam, self.budget = cam, budget

        def read(self) -> np.ndarray:
            if self.budget == 0:
                self.cam._fail_next = self.cam.failures_between
                raise CaptureError("camera 'flaky' returned no frame")
            self.budget -= 1
            self.cam.counter += 1
            time.sleep(0.005)
            return np.full((4, 4, 3), self.cam.counter % 256, dtype=np.uint8)

        def close(self) -> None:
            pass


def test_lost_camera_is_reported_and_reopened_with_backoff_never_repeating_a_frame():
    cam = FlakyCamera(plugs=[5, 500], failures_between=3)
    frames: list[Frame] = []
    errors: list[str] = []
    done = threading.Event()

    def on_frame(frame: Frame) -> None:
        frames.append(frame)
        if len(frames) == 10:
            done.set()

    cfg = CaptureConfig(device="flaky", reconnect_initial_s=0.05, reconnect_max_s=0.15)
    loop = CaptureLoop(cfg, on_frame, errors.append, open_source=cam.open)
    loop.start()
    assert done.wait(20)
    loop.stop()
    frames = frames[:10]
    assert [int(f.rgb[0, 0, 0]) for f in frames] == list(range(1, 11))  # every frame once, none repeated
    assert [f.seq for f in frames] == list(range(1, 11))
    assert any("returned no frame; reconnecting" in e for e in errors)
    assert sum("cannot open; retrying in" in e for e in errors) == 3
    # waits between failed opens double up to the maximum: 0.05, 0.10, 0.15
    gaps = np.diff(cam.open_times[1:5])
    assert gaps[0] >= 0.045 and gaps[1] >= 0.095 and gaps[2] >= 0.145
    assert loop.reconnects == 1
