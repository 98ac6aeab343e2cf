"""Table-driven tests of the pure safety rules (radians, per joint, with clamp masks)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from vla_ros.errors import BadInputError
from vla_ros.safety import rules


@pytest.mark.parametrize(
    ("goal", "lower", "upper", "margin", "expected", "clamped"),
    [
        ([0.0, 0.5], -1.0, 1.0, 0.0, [0.0, 0.5], [False, False]),
        ([2.0, -3.0], -1.0, 1.0, 0.0, [1.0, -1.0], [True, True]),
        ([0.95, -0.95], -1.0, 1.0, 0.1, [0.9, -0.9], [True, True]),
        ([1, 0], [-1, -2], [0.5, 2], 0.0, [0.5, 0.0], [True, False]),  # ints, per-joint limits
        ([0.9, -0.9], -1.0, 1.0, 0.1, [0.9, -0.9], [False, False]),  # exactly on the margin
    ],
)
def test_clamp_position(goal, lower, upper, margin, expected, clamped):
    out = rules.clamp_position(goal, lower, upper, margin)
    np.testing.assert_allclose(out.values, expected)
    assert out.clamped.tolist() == clamped


@pytest.mark.parametrize("margin", [-0.1, 1.5])
def test_clamp_position_rejects_impossible_margin(margin):
    with pytest.raises(ValueError, match="margin"):
        rules.clamp_position([0.0], -1.0, 1.0, margin)


@pytest.mark.parametrize(
    ("goal", "previous", "vmax", "dt", "expected", "clamped"),
    [
        ([0.01, -0.01], [0.0, 0.0], 1.0, 0.1, [0.01, -0.01], [False, False]),  # slow enough
        ([1.0, -1.0], [0.0, 0.0], 1.0, 0.1, [0.1, -0.1], [True, True]),  # too fast both ways
        ([1.0, 1.0], [0.0, 0.0], [1.0, 3.0], 0.1, [0.1, 0.3], [True, True]),  # per-joint limits
        ([1.0], [0.0], 1.0, 0.02, [0.02], [True]),  # the actual dt sets the step, not a nominal one
        ([1.0], [0.5], 1.0, 0.0, [0.5], [True]),  # no time elapsed: no motion
        ([1.0], [0.5], 1.0, -0.1, [0.5], [True]),  # clock went back: no motion
    ],
)
def test_limit_velocity(goal, previous, vmax, dt, expected, clamped):
    out = rules.limit_velocity(goal, previous, vmax, dt)
    np.testing.assert_allclose(out.values, expected)
    assert out.clamped.tolist() == clamped


@pytest.mark.parametrize(
    ("goal", "previous", "velocity", "amax", "dt", "expected", "clamped"),
    [
        ([1.0], [0.0], [0.0], 10.0, 0.1, [0.1], [True]),  # from rest: v <= a*dt = 1 rad/s
        ([1.0], [0.0], [1.0], 10.0, 0.1, [0.2], [True]),  # speeding up by a*dt
        ([0.01], [0.0], [0.1], 10.0, 0.1, [0.01], [False]),  # small step within limits
        ([0.0], [0.0], [2.0], 10.0, 0.1, [0.1], [True]),  # cannot stop at once: decelerates by a*dt
        ([0.5], [0.4], [2.0], 10.0, 0.1, [0.5], [False]),  # brakes in time, no overshoot
        ([1.0], [0.0], [0.0], 10.0, 0.0, [0.0], [True]),  # no time elapsed: no motion
    ],
)
def test_limit_acceleration(goal, previous, velocity, amax, dt, expected, clamped):
    out = rules.limit_acceleration(goal, previous, velocity, amax, dt)
    np.testing.assert_allclose(out.values, expected)
    assert out.clamped.tolist() == clamped


def test_limit_acceleration_reaches_a_far_goal_without_overshoot():
    amax, dt, goal = 5.0, 1 / 30, 1.0
    pos, vel, trace = np.zeros(1), np.zeros(1), []
    for _ in range(300):
        new = rules.limit_acceleration([goal], pos, vel, amax, dt).values
        vel, pos = (new - pos) / dt, new
        trace.append(pos[0])
    trace = np.array(trace)
    accel = np.diff(np.diff(np.concatenate([[0.0, 0.0], trace]))) / dt**2
    assert abs(trace[-1] - goal) < 1e-3
    assert trace.max() <= goal + 0.02  # discretisation only
    assert np.all(np.abs(accel) <= amax * (1 + 1e-6) + 1e-9)


@pytest.mark.parametrize(
    ("goal", "state", "far", "expected", "clamped"),
    [
        ([0.1, -0.1], [0.0, 0.0], 0.5, [0.1, -0.1], [False, False]),  # near: unchanged
        ([2.0, -2.0], [0.0, 0.0], 0.5, [0.5, -0.5], [True, True]),  # far: within far_jump of the state
        ([2.0, 0.0], [1.8, 0.3], 0.5, [2.0, 0.0], [False, False]),  # relative to the state, not zero
        ([1, 1], [0, 0], [0.5, 2.0], [0.5, 1.0], [True, False]),  # ints, per-joint caps
    ],
)
def test_ramp_from_state(goal, state, far, expected, clamped):
    out = rules.ramp_from_state(goal, state, far)
    np.testing.assert_allclose(out.values, expected)
    assert out.clamped.tolist() == clamped


@pytest.mark.parametrize(
    ("values", "bad"),
    [
        ([0.0, float("nan"), 0, 0, 0, 0], ["shoulder_lift"]),
        ([float("inf"), 0, 0, 0, 0, float("-inf")], ["shoulder_pan", "gripper"]),
    ],
)
def test_check_finite_names_every_bad_joint(values, bad):
    with pytest.raises(BadInputError) as err:
        rules.check_finite(values)
    for name in bad:
        assert name in str(err.value)


def test_check_finite_passes_good_values_and_rejects_wrong_length():
    np.testing.assert_allclose(rules.check_finite([1, 2, 3, 4, 5, 6]), [1, 2, 3, 4, 5, 6])
    with pytest.raises(BadInputError, match="expected 6"):
        rules.check_finite([0.0, 1.0])


def test_rules_do_not_modify_inputs():
    goal, prev = np.array([1.0, 2.0]), np.array([0.0, 0.0])
    rules.limit_velocity(goal, prev, 1.0, 0.1)
    rules.clamp_position(goal, -0.5, 0.5)
    rules.ramp_from_state(goal, prev, 0.1)
    np.testing.assert_array_equal(goal, [1.0, 2.0])
    np.testing.assert_array_equal(prev, [0.0, 0.0])


def test_core_modules_do_not_import_rclpy():
    code = ("import sys; import vla_ros.safety.rules, vla_ros.safety.trajectory, "
            "vla_ros.safety.start_state, vla_ros.safety.supervisor, vla_ros.safety.errors; "
            "print('rclpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
