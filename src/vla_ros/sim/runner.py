"""The simulation loop: step physics in clock ticks, render the cameras at their frame rate, pace.

One thread owns the loop and the OpenGL context. Each tick advances the physics by
``1 / clock_rate_hz`` simulated seconds and reports the new simulated time (for ``/clock``); when
simulated time reaches the next camera frame, every camera is rendered and handed over, stamped with
that simulated time. With ``realtime`` the loop sleeps to keep simulated time with wall time, and
when rendering cannot keep up it lets simulated time fall behind rather than skip frames or catch up
in a burst; the real-time factor (simulated seconds per wall second) says by how much.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vla_ros.sim.errors import SimError
from vla_ros.sim.render import CameraRenderer
from vla_ros.sim.scene import CAMERA_NAMES
from vla_ros.sim.world import SimWorld

__all__ = ["FrameCallback", "RealTimeFactor", "RunnerStats", "SimRunner", "TickCallback"]

FrameCallback = Callable[[str, np.ndarray, float], None]
"""``(camera, rgb (H, W, 3) uint8, sim_time_s)``, called from the simulation thread."""
TickCallback = Callable[[float], None]
"""``(sim_time_s)`` after every clock tick, from the simulation thread."""

MAX_LAG_S = 0.1
"""How far simulated time may trail wall time before pacing gives up catching up (realtime mode)."""


class RealTimeFactor:
    """Simulated seconds per wall second over a sliding window.

    Args:
        window_s: length of the window, wall seconds.
    """

    def __init__(self, window_s: float = 2.0) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, float]] = deque()

    def update(self, sim_s: float, wall_s: float) -> None:
        """Add a sample (simulated and wall time, seconds)."""
        self._samples.append((sim_s, wall_s))
        while len(self._samples) > 2 and wall_s - self._samples[1][1] >= self.window_s:
            self._samples.popleft()

    @property
    def value(self) -> float:
        """The factor (NaN until two samples span some wall time)."""
        if len(self._samples) < 2:
            return float("nan")
        (s0, w0), (s1, w1) = self._samples[0], self._samples[-1]
        return (s1 - s0) / (w1 - w0) if w1 > w0 else float("nan")


@dataclass(frozen=True)
class RunnerStats:
    """A snapshot of the loop's performance.

    Attributes:
        sim_time_s: simulated time now.
        real_time_factor: simulated seconds per wall second, last ~2 s (NaN at start).
        frames: camera frames rendered (each camera counts).
        render_ms: mean wall milliseconds to render one camera frame (NaN before the first).
        step_ms: mean wall milliseconds of physics per clock tick (NaN before the first).
        error: the error that stopped the loop, or None.
    """

    sim_time_s: float
    real_time_factor: float
    frames: int
    render_ms: float
    step_ms: float
    error: str | None


class SimRunner:
    """Runs a :class:`SimWorld` in a thread, rendering ``cameras`` at ``world.cfg.camera_fps``.

    Args:
        world: the world (its ``cfg`` gives rates, image size and ``realtime``).
        on_frame: receives every rendered frame.
        on_tick: receives the simulated time after every tick (may be None).
        cameras: cameras to render (default both).
    """

    def __init__(self, world: SimWorld, on_frame: FrameCallback, on_tick: TickCallback | None = None,
                 cameras: tuple[str, ...] = CAMERA_NAMES) -> None:
        self.world = world
        self.cameras = cameras
        self._on_frame = on_frame
        self._on_tick = on_tick
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._rtf = RealTimeFactor()
        self._frames = 0
        self._render_s = 0.0
        self._ticks = 0
        self._step_s = 0.0
        self.error: str | None = None

    def start(self, timeout_s: float = 30.0) -> None:
        """Start the loop and wait until the renderer exists.

        Raises:
            SimError: the renderer could not be made (the loop has stopped).
        """
        self._thread = threading.Thread(target=self._run, name="so101_sim", daemon=True)
        self._thread.start()
        self._ready.wait(timeout_s)
        if self.error is not None:
            self.stop()
            raise SimError(self.error)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the loop and wait for its thread (idempotent)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    @property
    def running(self) -> bool:
        """Whether the loop thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def stats(self) -> RunnerStats:
        """Current performance figures."""
        return RunnerStats(
            sim_time_s=self.world.sim_time_s,
            real_time_factor=self._rtf.value,
            frames=self._frames,
            render_ms=1000 * self._render_s / self._frames if self._frames else float("nan"),
            step_ms=1000 * self._step_s / self._ticks if self._ticks else float("nan"),
            error=self.error,
        )

    def _run(self) -> None:
        try:
            renderer = CameraRenderer(self.world, self.world.cfg.image_width, self.world.cfg.image_height)
        except SimError as err:
            self.error = str(err)
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop(renderer)
        except Exception as err:  # report, don't die silently in a thread
            self.error = f"simulation stopped: {type(err).__name__}: {err}"
        finally:
            renderer.close()

    def _loop(self, renderer: CameraRenderer) -> None:
        cfg = self.world.cfg
        frame_period = 1.0 / cfg.camera_fps
        next_frame = self.world.sim_time_s
        wall0, sim0 = time.perf_counter(), self.world.sim_time_s
        while not self._stop.is_set():
            t0 = time.perf_counter()
            self.world.step(cfg.steps_per_tick)
            self._step_s += time.perf_counter() - t0
            self._ticks += 1
            now_sim = self.world.sim_time_s
            if self._on_tick is not None:
                self._on_tick(now_sim)
            if now_sim + 1e-9 >= next_frame:
                self._render_all(renderer, now_sim)
                while next_frame <= now_sim + 1e-9:
                    next_frame += frame_period
            wall = time.perf_counter()
            self._rtf.update(now_sim, wall)
            if cfg.realtime:
                wall0, sim0 = self._pace(wall0, sim0, now_sim, wall)

    def _render_all(self, renderer: CameraRenderer, sim_time_s: float) -> None:
        for camera in self.cameras:
            t0 = time.perf_counter()
            rgb = renderer.render(camera)
            self._render_s += time.perf_counter() - t0
            self._frames += 1
            self._on_frame(camera, rgb, sim_time_s)

    def _pace(self, wall0: float, sim0: float, now_sim: float, wall: float) -> tuple[float, float]:
        ahead_s = (now_sim - sim0) - (wall - wall0)
        if ahead_s > 0:
            self._stop.wait(ahead_s)
        elif ahead_s < -MAX_LAG_S:
            return wall - MAX_LAG_S, now_sim
        return wall0, sim0
