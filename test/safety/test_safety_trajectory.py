"""The minimum-jerk path home: endpoints, smoothness, and the speed limits at any sampling rate."""

from __future__ import annotations

import numpy as np
import pytest

from vla_ros.safety.trajectory import PEAK_VELOCITY_FACTOR, plan_minimum_jerk

START = np.array([0.5, -1.0, 1.2, 0.0, 2.0, 1.5])
HOME = np.array([0.0, 0.0, 0.0, 0.0, 0.0, -0.1])
VMAX = np.array([1.5, 1.5, 1.5, 1.5, 1.5, 3.0])


def test_starts_and_ends_at_rest_at_the_right_places():
    traj = plan_minimum_jerk(START, HOME, VMAX)
    np.testing.assert_allclose(traj.position(0.0), START)
    np.testing.assert_allclose(traj.position(traj.duration_s), HOME)
    np.testing.assert_allclose(traj.position(traj.duration_s + 10.0), HOME)
    np.testing.assert_allclose(traj.velocity(0.0), 0.0, atol=1e-12)
    np.testing.assert_allclose(traj.velocity(traj.duration_s), 0.0, atol=1e-12)
    assert traj.done(traj.duration_s) and not traj.done(0.5 * traj.duration_s)


def test_duration_is_set_by_the_slowest_joint_and_its_peak_hits_the_limit():
    traj = plan_minimum_jerk(START, HOME, VMAX)
    # wrist_roll moves 2.0 rad at 1.5 rad/s: T = 15/8 * 2.0 / 1.5
    assert traj.duration_s == pytest.approx(PEAK_VELOCITY_FACTOR * 2.0 / 1.5)
    assert np.all(traj.peak_velocity_rad_s <= VMAX + 1e-12)
    assert traj.peak_velocity_rad_s[4] == pytest.approx(1.5)
    np.testing.assert_allclose(np.abs(traj.velocity(traj.duration_s / 2)), traj.peak_velocity_rad_s)


@pytest.mark.parametrize("rate_hz", [10.0, 30.0, 100.0, 7.3])
def test_sampled_stream_never_exceeds_the_velocity_limit(rate_hz):
    traj = plan_minimum_jerk(START, HOME, VMAX)
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.uniform(0.5, 1.5, 400) / rate_hz)  # jittered sampling
    times = times[times <= traj.duration_s + 0.5]
    pos = np.stack([traj.position(t) for t in times])
    speed = np.abs(np.diff(pos, axis=0)) / np.diff(times)[:, None]
    assert np.all(speed <= VMAX * (1 + 1e-9))


def test_acceleration_limit_lengthens_the_move():
    fast = plan_minimum_jerk(START, HOME, VMAX)
    slow = plan_minimum_jerk(START, HOME, VMAX, max_acceleration_rad_s2=0.5)
    assert slow.duration_s > fast.duration_s
    dt = 1e-3
    t = np.arange(0, slow.duration_s, dt)
    vel = np.stack([slow.velocity(x) for x in t])
    assert np.max(np.abs(np.diff(vel, axis=0)) / dt) <= 0.5 * 1.01


def test_zero_move_takes_the_minimum_duration():
    traj = plan_minimum_jerk(HOME, HOME, VMAX, min_duration_s=0.3)
    assert traj.duration_s == pytest.approx(0.3)
    np.testing.assert_allclose(traj.position(0.1), HOME)


@pytest.mark.parametrize(
    ("start", "goal", "vmax", "match"),
    [
        (START, HOME[:3], VMAX, "shape"),
        (START, np.full(6, np.nan), VMAX, "finite"),
        (START, HOME, 0.0, "> 0"),
    ],
)
def test_rejects_bad_input(start, goal, vmax, match):
    with pytest.raises(ValueError, match=match):
        plan_minimum_jerk(start, goal, vmax)
