"""Offscreen rendering (MUJOCO_GL=egl, set by test/conftest.py) and the simulation loop."""

import threading
import time

import numpy as np
import pytest

from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.sim.config import SimConfig
from vla_ros.sim.render import CameraRenderer
from vla_ros.sim.runner import RealTimeFactor, SimRunner
from vla_ros.sim.world import SimWorld

WRIST_ROLL = JOINT_NAMES.index("wrist_roll")


def _is_real_image(rgb: np.ndarray) -> bool:
    """Not blank: many distinct colours and real contrast."""
    return len(np.unique(rgb.reshape(-1, 3), axis=0)) > 50 and float(rgb.std()) > 10


@pytest.fixture(scope="module")
def small_world() -> SimWorld:
    return SimWorld(SimConfig(image_width=160, image_height=120, two_cubes=True))


def test_both_cameras_render_the_scene_and_the_wrist_view_follows_the_arm(small_world):
    renderer = CameraRenderer(small_world, 160, 120)
    try:
        front, wrist = renderer.render("front"), renderer.render("wrist")
        assert front.shape == wrist.shape == (120, 160, 3) and front.dtype == np.uint8
        assert _is_real_image(front) and _is_real_image(wrist)
        # the red cube is in the front view: strongly red pixels exist
        red = (front[..., 0] > 120) & (front[..., 1] < 60) & (front[..., 2] < 60)
        assert red.sum() > 5
        pose = small_world.joint_positions()
        pose[WRIST_ROLL] += 1.0
        small_world.set_joint_positions(pose)
        wrist_moved, front_moved = renderer.render("wrist"), renderer.render("front")
        assert np.abs(wrist_moved.astype(int) - wrist).mean() > 5  # the wrist view turned with the wrist
        assert np.abs(front_moved.astype(int) - front).mean() < np.abs(wrist_moved.astype(int) - wrist).mean()
    finally:
        renderer.close()
        small_world.reset()


def test_runner_publishes_both_cameras_at_the_frame_rate_of_simulated_time():
    world = SimWorld(SimConfig(image_width=96, image_height=72, camera_fps=20.0, realtime=False))
    frames: list[tuple[str, float, np.ndarray]] = []
    ticks: list[float] = []
    enough = threading.Event()

    def on_frame(camera: str, rgb: np.ndarray, t: float) -> None:
        frames.append((camera, t, rgb))
        if len(frames) >= 40:
            enough.set()

    runner = SimRunner(world, on_frame, ticks.append)
    runner.start()
    try:
        assert enough.wait(60), runner.stats()
    finally:
        runner.stop()
    stats = runner.stats()
    assert stats.error is None and stats.frames >= 40 and stats.render_ms > 0
    assert {c for c, _, _ in frames} == {"front", "wrist"}
    front_times = [t for c, t, _ in frames if c == "front"]
    gaps = np.diff(front_times)
    assert np.all(gaps > 0) and gaps.mean() == pytest.approx(1 / 20, abs=0.006)  # ticks are 10 ms
    assert np.all(np.diff(ticks) > 0) and ticks[1] - ticks[0] == pytest.approx(0.01)
    assert all(rgb.shape == (72, 96, 3) for _, _, rgb in frames)


def test_realtime_runner_keeps_simulated_time_near_wall_time():
    world = SimWorld(SimConfig(image_width=32, image_height=24, camera_fps=2.0, realtime=True))
    runner = SimRunner(world, lambda *a: None)
    runner.start()
    t0 = time.monotonic()
    time.sleep(2.0)
    runner.stop()
    wall = time.monotonic() - t0
    # never ahead of wall time; on a loaded machine it may fall behind, but not stall
    assert 0.3 * wall < world.sim_time_s <= wall + 0.05
    assert 0.3 < runner.stats().real_time_factor <= 1.1


def test_real_time_factor_over_a_window():
    rtf = RealTimeFactor(window_s=1.0)
    assert np.isnan(rtf.value)
    for i in range(30):
        rtf.update(sim_s=0.05 * i, wall_s=0.1 * i)  # half speed
    assert rtf.value == pytest.approx(0.5)
