"""OpenCV camera capture: devices (V4L2, optional MJPG) and video files, with reconnection.

:class:`OpenCVSource` opens one device or file and reads RGB frames at the configured size.
:class:`CaptureLoop` owns a source in its own thread: it reads frames as they come (a device paces
itself; a video file is paced at ``fps`` and loops), stamps each one when ``read()`` returns and
hands it over exactly once, numbered. On a read failure it closes the device, reports the error and
reopens it with exponential backoff; an old frame is never handed over again. ROS-agnostic.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from vla_ros.camera.errors import CaptureError, EndOfVideoError
from vla_ros.config import check_range, param

__all__ = [
    "CaptureConfig",
    "CaptureLoop",
    "Frame",
    "FrameSource",
    "OpenCVSource",
    "parse_device",
]


@dataclass
class CaptureConfig:
    """What to capture, and how.

    Raises:
        ConfigError: a field out of range or not among its choices (all reported at once).
    """

    device: str = field(default="0", metadata=param(
        "Camera: a V4L2 index ('0'), a device path ('/dev/video0', '/dev/v4l/by-id/...') or a video file",
        read_only=True))
    width: int = field(default=640, metadata=param("Published image width, px", range=(16, 7680)))
    height: int = field(default=480, metadata=param("Published image height, px", range=(16, 4320)))
    fps: float = field(default=30.0, metadata=param(
        "Frame rate asked of the device; the playback rate of a video file", range=(0.5, 240.0)))
    fourcc: str = field(default="", metadata=param(
        "Pixel format asked of a V4L2 device: '' (driver default) or 'MJPG' (needed for 640x480@30 on "
        "many USB cameras)", choices=("", "MJPG", "YUYV")))
    loop: bool = field(default=True, metadata=param("Restart a video file at its end (else stop there)"))
    reconnect_initial_s: float = field(default=0.5, metadata=param(
        "First wait before reopening a lost camera, s (doubles on each failure)", range=(0.01, 60.0)))
    reconnect_max_s: float = field(default=5.0, metadata=param(
        "Longest wait between reopening attempts, s", range=(0.01, 600.0)))

    def __post_init__(self) -> None:
        check_range(self)


def parse_device(device: str) -> int | str:
    """A V4L2 index for an all-digit string, else the path as given."""
    text = device.strip()
    return int(text) if text.isdigit() else text


@dataclass(frozen=True)
class Frame:
    """One captured image.

    Attributes:
        rgb: (height, width, 3) uint8 RGB.
        stamp_ns: capture time (when the read returned), nanoseconds of the loop's clock.
        seq: frame number since the loop started, from 1, strictly increasing.
    """

    rgb: np.ndarray
    stamp_ns: int
    seq: int


class FrameSource(Protocol):
    """An open camera or video (hardware behind a small protocol, so tests can mock the camera)."""

    is_file: bool

    def read(self) -> np.ndarray:
        """The next frame, (height, width, 3) uint8 RGB. Raises CaptureError (EndOfVideoError)."""
        ...

    def close(self) -> None:
        """Release the device."""
        ...


class OpenCVSource:
    """A ``cv2.VideoCapture`` on a V4L2 device or a video file, giving RGB at the configured size.

    Raises:
        CaptureError: the device or file cannot be opened.
    """

    def __init__(self, cfg: CaptureConfig) -> None:
        self.cfg = cfg
        target = parse_device(cfg.device)
        self.is_file = isinstance(target, str) and Path(target).is_file()
        if isinstance(target, str) and not self.is_file and not os.path.exists(target):
            raise CaptureError(f"camera {target!r}: no such device or file")
        backend = cv2.CAP_ANY if self.is_file else cv2.CAP_V4L2
        self._cap = cv2.VideoCapture(target, backend)
        if not self._cap.isOpened():
            self._cap.release()
            raise CaptureError(f"camera {target!r}: cannot open (busy, unplugged or unsupported format?)")
        if not self.is_file:
            self._configure_device()

    def _configure_device(self) -> None:
        if self.cfg.fourcc:  # before the size: many drivers only offer large sizes in MJPG
            self._cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*self.cfg.fourcc))
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.cfg.width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.cfg.height)
        self._cap.set(cv2.CAP_PROP_FPS, self.cfg.fps)
        self._cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # newest frame, not a queue of old ones

    def read(self) -> np.ndarray:
        """Next frame as RGB at ``width x height`` (resized if the device or file differs).

        Raises:
            EndOfVideoError: a non-looping video file ended.
            CaptureError: the device gave no frame (unplugged, stalled).
        """
        ok, bgr = self._cap.read()
        if not ok and self.is_file and self.cfg.loop:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, bgr = self._cap.read()
        if not ok or bgr is None:
            if self.is_file:
                raise EndOfVideoError(f"video {self.cfg.device!r} ended")
            raise CaptureError(f"camera {self.cfg.device!r} returned no frame")
        if bgr.shape[1] != self.cfg.width or bgr.shape[0] != self.cfg.height:
            bgr = cv2.resize(bgr, (self.cfg.width, self.cfg.height), interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        """Release the capture."""
        self._cap.release()


class CaptureLoop:
    """Reads a camera in a thread and hands every new frame to ``on_frame`` once.

    Args:
        cfg: capture configuration.
        on_frame: called (in the capture thread) with each new :class:`Frame`.
        on_error: called with a message when opening or reading fails, or a video ends.
        now_ns: the clock stamping frames (e.g. the ROS node's clock), nanoseconds.
        open_source: makes a :class:`FrameSource` from the config (default :class:`OpenCVSource`).
    """

    def __init__(
        self,
        cfg: CaptureConfig,
        on_frame: Callable[[Frame], None],
        on_error: Callable[[str], None] | None = None,
        now_ns: Callable[[], int] = time.time_ns,
        open_source: Callable[[CaptureConfig], FrameSource] = OpenCVSource,
    ) -> None:
        self.cfg = cfg
        self._on_frame = on_frame
        self._on_error = on_error or (lambda message: None)
        self._now_ns = now_ns
        self._open = open_source
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames = 0
        self.reconnects = 0
        self.connected = False
        self.finished = False

    def start(self) -> None:
        """Start capturing in a background thread."""
        self._thread = threading.Thread(target=self._run, name=f"capture:{self.cfg.device}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop capturing and release the device (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        backoff = self.cfg.reconnect_initial_s
        while not self._stop.is_set():
            try:
                source = self._open(self.cfg)
            except CaptureError as err:
                self._on_error(f"{err}; retrying in {backoff:.2f} s")
                self._stop.wait(backoff)
                backoff = min(2 * backoff, self.cfg.reconnect_max_s)
                continue
            backoff = self.cfg.reconnect_initial_s
            self.connected = True
            try:
                self._stream(source)
            except EndOfVideoError as err:
                self._on_error(str(err))
                self.finished = True
                return
            except CaptureError as err:
                self.reconnects += 1
                self._on_error(f"{err}; reconnecting")
            finally:
                self.connected = False
                source.close()

    def _stream(self, source: FrameSource) -> None:
        period_ns = round(1e9 / self.cfg.fps)
        next_ns = time.monotonic_ns()
        while not self._stop.is_set():
            rgb = source.read()
            self.frames += 1
            self._on_frame(Frame(rgb=rgb, stamp_ns=self._now_ns(), seq=self.frames))
            if source.is_file:  # a device paces itself; a file plays at fps
                next_ns = max(next_ns + period_ns, time.monotonic_ns() - period_ns)
                self._stop.wait(max(0, next_ns - time.monotonic_ns()) / 1e9)
