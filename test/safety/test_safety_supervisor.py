"""The supervisor state machine on a stepped clock: every input class gives the specified output."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vla_ros.errors import ConfigError
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.safety.start_state import StartStateDistribution
from vla_ros.safety.supervisor import SafetyConfig, SafetyState, SafetySupervisor

DT = 1 / 30
VMAX = np.array([1.5, 1.5, 1.5, 1.5, 1.5, 3.0])
ZERO = np.zeros(6)


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class Rig:
    """A supervisor, its clock, and an optional perfectly tracking arm (stands in for the robot)."""

    def __init__(self, limits, arm=ZERO, follow=True, distribution=None, **cfg):
        self.clock = FakeClock()
        self.sup = SafetySupervisor(SafetyConfig(**cfg), limits, distribution, clock=self.clock)
        self.arm = np.array(arm, dtype=float)
        self.follow = follow
        self.state_on = True
        self.outputs: list[tuple[float, np.ndarray]] = []

    def tick(self, n=1, dt=DT, command=None):
        for _ in range(n):
            self.clock.t += dt
            if self.state_on:
                self.sup.on_state(JOINT_NAMES, self.arm.tolist())
            if command is not None:
                self.sup.on_command(JOINT_NAMES, list(command))
            out = self.sup.step()
            if out is not None:
                self.outputs.append((out.time_s, out.positions_rad))
                if self.follow:
                    self.arm = out.positions_rad.copy()
        return self.outputs[-1][1] if self.outputs else None

    def speeds(self, since=0):
        t = np.array([o[0] for o in self.outputs[since:]])
        p = np.stack([o[1] for o in self.outputs[since:]])
        return np.abs(np.diff(p, axis=0)) / np.diff(t)[:, None]


@pytest.fixture
def rig(limits):
    return lambda **kw: Rig(limits, **kw)


def test_startup_waits_for_state_then_holds_it(limits):
    r = Rig(limits)
    r.state_on = False
    assert r.sup.step() is None
    assert r.sup.status().reason == "waiting for joint_states"
    r.state_on = True
    out = r.tick()
    np.testing.assert_array_equal(out, ZERO)
    assert r.sup.state is SafetyState.HOLDING


def test_near_command_passes_unchanged(rig):
    r = rig()
    r.tick()
    target = np.array([0.01, -0.02, 0.03, 0.0, 0.01, 0.05])
    out = r.tick(command=target)
    np.testing.assert_allclose(out, target)
    assert r.sup.state is SafetyState.PASSING and r.sup.status().reason == ""
    assert r.sup.status().clamp_counts == (0,) * 6


def test_out_of_range_is_clamped_inside_the_margin_and_counted(rig, limits):
    r = rig(position_margin_rad=0.05)
    r.tick()
    target = np.array([5.0, 0.0, 0.0, 0.0, 0.0, -3.0])
    r.tick(200, command=target)
    out = r.outputs[-1][1]
    assert out[0] == pytest.approx(limits["shoulder_pan"].upper_rad - 0.05)
    assert out[5] == pytest.approx(limits["gripper"].lower_rad + 0.05)
    counts = r.sup.status().clamp_counts
    assert counts[0] > 0 and counts[5] > 0 and counts[1:5] == (0, 0, 0, 0)
    assert max(o[1][0] for o in r.outputs) <= limits["shoulder_pan"].upper_rad - 0.05 + 1e-12


def test_too_fast_is_limited_per_step_at_the_actual_dt(rig):
    r = rig()
    r.tick()
    target = np.full(6, 0.3)
    out = r.tick(command=target)
    np.testing.assert_allclose(out, VMAX * DT)
    out2 = r.tick(dt=0.01, command=target)  # a shorter step allows a smaller move
    np.testing.assert_allclose(out2 - out, VMAX * 0.01)
    assert np.all(r.speeds() <= VMAX * (1 + 1e-9))
    r.tick(100, command=target)
    np.testing.assert_allclose(r.outputs[-1][1], target)


def test_a_stalled_timer_does_not_allow_a_jump(rig):
    r = rig(rate_hz=30.0)
    r.tick()
    out = r.tick(dt=1.0, command=np.full(6, 0.4))  # 1 s late: still at most 2 periods' worth
    np.testing.assert_allclose(out, VMAX * 2 / 30)


def test_velocity_limit_never_exceeds_the_urdf(limits):
    from dataclasses import replace

    slow = {n: replace(lim, velocity_rad_s=0.5) for n, lim in limits.items()}
    r = Rig(slow)
    r.tick()
    out = r.tick(command=np.full(6, 0.3))
    np.testing.assert_allclose(out, 0.5 * DT)


def test_nan_command_is_rejected_and_the_arm_holds(rig):
    r = rig()
    r.tick()
    r.tick(5, command=np.full(6, 0.2))
    before = r.outputs[-1][1].copy()
    bad = [0.2, math.nan, 0.2, 0.2, 0.2, 0.2]
    assert "non-finite" in r.sup.on_command(JOINT_NAMES, bad)
    status = r.sup.status()
    assert status.state is SafetyState.HOLDING and "shoulder_lift" in status.reason
    for _ in range(10):
        np.testing.assert_array_equal(r.tick(), before)
    assert r.sup.rejected_commands == 1
    r.tick(command=np.full(6, 0.2))
    assert r.sup.state is SafetyState.PASSING


def test_unknown_joint_names_are_rejected(rig):
    r = rig()
    r.tick()
    assert "unknown joints" in r.sup.on_command(["elbow", "gripper"], [0.1, 0.1])
    assert r.sup.state is SafetyState.HOLDING


def test_malformed_joint_states_do_not_count_as_fresh(rig):
    r = rig()
    assert "7 positions" in r.sup.on_state(JOINT_NAMES, [0.0] * 7)
    assert "missing joints" in r.sup.on_state(JOINT_NAMES[:5], [0.0] * 5)
    assert "non-finite" in r.sup.on_state(JOINT_NAMES, [math.nan] * 6)
    assert r.sup.step() is None
    assert r.sup.on_state([*JOINT_NAMES, "camera_tilt"], [0.0] * 7) is None  # other joints: ignored
    assert r.sup.step() is not None


def test_subset_command_keeps_the_other_targets(rig):
    r = rig()
    r.tick()
    r.tick(30, command=np.full(6, 0.2))
    r.sup.on_command(["gripper"], [0.5])
    r.tick(30)
    np.testing.assert_allclose(r.outputs[-1][1], [0.2, 0.2, 0.2, 0.2, 0.2, 0.5])


def test_far_command_is_ramped_from_the_state_never_jumped(rig):
    r = rig(follow=False, far_jump_rad=0.5)  # the arm does not move: the command may lead it by 0.5
    r.tick()
    r.tick(100, command=np.full(6, 1.5))
    outs = np.stack([o[1] for o in r.outputs])
    assert outs.max() <= 0.5 + 1e-12
    np.testing.assert_allclose(outs[-1], 0.5)
    assert np.all(r.speeds() <= VMAX * (1 + 1e-9))

    r2 = rig(follow=True, far_jump_rad=0.5)  # an arm that follows gets there, ramped
    r2.tick()
    r2.tick(120, command=np.full(6, 1.5))
    np.testing.assert_allclose(r2.outputs[-1][1], 1.5)
    assert np.all(r2.speeds() <= VMAX * (1 + 1e-9))


def test_stale_state_faults_and_holds_then_recovers(rig):
    r = rig(state_timeout_s=0.2)
    r.tick()
    r.tick(10, command=np.full(6, 1.0))
    r.state_on = False
    held = r.tick(3, command=np.full(6, 1.0))  # within the timeout: still passing
    r.tick(10, command=np.full(6, 1.0))
    status = r.sup.status()
    assert status.state is SafetyState.FAULT and "joint_states stale" in status.reason
    held = r.outputs[-1][1]
    for _ in range(5):
        np.testing.assert_array_equal(r.tick(command=np.full(6, 1.0)), held)
    assert r.sup.request_reset()[0] is False
    assert not r.sup.check_start_state().ok
    r.state_on = True
    r.tick()
    assert r.sup.state is SafetyState.HOLDING and "fresh again" in r.sup.status().reason
    r.tick(command=np.full(6, 1.0))
    assert r.sup.state is SafetyState.PASSING


def test_silent_command_stream_holds_the_last_output(rig):
    r = rig(command_timeout_s=0.3)
    r.tick()
    r.sup.on_command(JOINT_NAMES, [1.0] * 6)
    r.tick(12)  # 0.4 s: the ramp is cut short by the timeout
    assert r.sup.state is SafetyState.HOLDING and "no policy command" in r.sup.status().reason
    held = r.outputs[-1][1]
    assert np.all(held < 1.0)
    for _ in range(10):
        np.testing.assert_array_equal(r.tick(), held)


def test_an_arm_moved_away_while_holding_is_held_where_it_is(rig):
    r = rig(far_jump_rad=0.5)
    r.tick()
    r.tick(40, command=np.full(6, 0.3))
    r.tick(40)  # command stream silent: holding at 0.3
    assert r.sup.state is SafetyState.HOLDING
    r.follow = False
    r.arm = np.full(6, 0.3)
    r.arm[1] = 0.3 - 0.7  # within 1.5 x far_jump: a blocked joint, still held
    np.testing.assert_allclose(r.tick(5), 0.3)
    r.arm[1] = 0.3 - 0.8  # moved by hand (or the simulator reset): not pulled back
    out = r.tick()
    np.testing.assert_allclose(out, r.arm)
    status = r.sup.status()
    assert status.state is SafetyState.HOLDING and "shoulder_lift by 0.80 rad" in status.reason
    r.follow = True
    since = len(r.outputs) - 1
    r.tick(30, command=np.full(6, 0.3))  # the policy's next command is ramped from there
    assert np.all(r.speeds(since) <= VMAX * (1 + 1e-9))
    assert np.ptp(np.stack([o[1] for o in r.outputs[since:]])[:, 1]) > 0.3


def test_estop_latches_blocks_and_releases_from_the_current_state(rig):
    r = rig(follow=False, arm=np.full(6, 0.1))
    r.tick()
    r.tick(5, command=np.full(6, 0.2))
    assert r.sup.estop(True)[0]
    n = len(r.outputs)
    r.tick(20, command=np.full(6, 0.4))
    assert len(r.outputs) == n  # nothing at all is output while latched
    status = r.sup.status()
    assert status.state is SafetyState.ESTOP and status.estop_latched
    ok, msg = r.sup.request_reset()
    assert not ok and "e-stop" in msg
    assert r.sup.estop(True) == (True, "e-stop already latched")
    r.arm = np.full(6, 0.15)  # moved by hand while latched
    r.tick()
    ok, msg = r.sup.estop(False)
    assert ok and "resumes from the current state" in msg
    out = r.tick()
    np.testing.assert_allclose(out, 0.15)
    assert r.sup.state is SafetyState.HOLDING and not r.sup.status().estop_latched
    out = r.tick(command=np.full(6, 0.4))
    np.testing.assert_allclose(out, 0.15 + VMAX * DT)
    assert r.sup.estop(False) == (True, "e-stop is not latched")


def test_commands_sent_while_latched_do_not_pass_after_release(rig):
    r = rig()
    r.tick()
    r.sup.estop(True)
    sent_while_latched = r.clock.t
    r.tick(3)
    r.sup.estop(False)
    late = r.sup.on_command(JOINT_NAMES, [0.4] * 6, stamp_s=sent_while_latched)  # delivered late
    assert late is not None and "before the e-stop release" in late
    assert r.sup.state is SafetyState.HOLDING
    assert r.sup.on_command(JOINT_NAMES, [0.4] * 6, stamp_s=r.clock.t + 0.01) is None
    assert r.sup.state is SafetyState.PASSING


def test_reset_goes_home_smoothly_and_ignores_the_policy(rig):
    home = [0.1, -0.2, 0.3, 0.0, 0.0, 0.5]
    r = rig(arm=[1.0, 1.0, -1.0, 0.5, 2.0, 1.5], home_pose_rad=home)
    r.tick()
    ok, msg = r.sup.request_reset()
    assert ok and msg.startswith("resetting to home")
    start = len(r.outputs)
    for _ in range(400):
        r.tick(command=np.full(6, -1.0))
        if r.sup.state is not SafetyState.RESETTING:
            break
    status = r.sup.status()
    assert status.state is SafetyState.HOLDING and status.reason.startswith("home reached")
    np.testing.assert_allclose(r.outputs[-1][1], home, atol=0.05)
    assert np.all(r.speeds(start - 1) <= 0.5 * VMAX * (1 + 1e-6))  # planned at reset_speed_fraction


def test_reset_that_cannot_reach_home_times_out(rig):
    r = rig(follow=False, arm=[0.3, 0, 0, 0, 0, 0], reset_timeout_s=0.5, far_jump_rad=0.5)
    r.sup.on_state(JOINT_NAMES, [0.3, 0, 0, 0, 0, 0])
    r.tick()
    r.sup.request_reset()
    r.tick(200)
    status = r.sup.status()
    assert status.state is SafetyState.HOLDING and "home not reached" in status.reason
    assert "shoulder_pan off by 0.300 rad" in status.reason


def test_reset_is_refused_without_fresh_state(rig):
    r = rig()
    r.state_on = False
    r.tick()
    ok, msg = r.sup.request_reset()
    assert not ok and "no fresh joint_states" in msg


def test_acceleration_limit_applies_to_the_stream(rig):
    r = rig(max_acceleration_rad_s2=3.0)
    r.tick()
    r.tick(120, command=np.full(6, 1.0))
    t = np.array([o[0] for o in r.outputs])
    p = np.stack([o[1] for o in r.outputs])
    v = np.diff(p, axis=0) / np.diff(t)[:, None]
    a = np.abs(np.diff(np.vstack([np.zeros(6), v]), axis=0)) / np.diff(t)[:, None]
    assert a.max() <= 3.0 * (1 + 1e-6)
    np.testing.assert_allclose(p[-1], 1.0, atol=1e-3)


def test_start_state_check_with_and_without_a_distribution(limits):
    r = Rig(limits, arm=[0.0, 0, 0, 0, 0, 1.2])
    r.tick()
    report = r.sup.check_start_state()
    assert not report.ok and "start-state statistics are unknown" in report.message  # no silent skip
    assert "start_state_check:=skip" in report.message
    dist = StartStateDistribution(np.zeros(6), np.full(6, 0.01), "demo")
    r2 = Rig(limits, arm=[0.0, 0, 0, 0, 0, 1.2], distribution=dist)
    r2.tick()
    report = r2.sup.check_start_state()
    assert not report.ok and [d.joint for d in report.out] == ["gripper"]
    np.testing.assert_allclose(r2.sup.home_rad, 0.0)  # home = the demonstrations' mean start


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_velocity_rad_s": [1.0, 2.0]}, "max_velocity_rad_s needs 6"),
        ({"home_pose_rad": [0.0] * 5}, "home_pose_rad needs 6"),
        ({"max_velocity_rad_s": [1.0, 1.0, 1.0, 1.0, 1.0, 0.0]}, "must all be > 0"),
        ({"rate_hz": 0.0, "far_jump_rad": 100.0}, "rate_hz=0.0.*far_jump_rad=100.0"),
        ({"dataset_units": "furlongs"}, "dataset_units"),
    ],
)
def test_config_reports_every_problem(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        SafetyConfig(**kwargs)


def test_home_outside_the_joint_limits_is_refused(limits):
    with pytest.raises(ConfigError, match=r"shoulder_pan=3\.000"):
        SafetySupervisor(SafetyConfig(home_pose_rad=[3.0, 0, 0, 0, 0, 0]), limits)


def test_missing_limits_are_refused(limits):
    del limits["gripper"]
    with pytest.raises(ConfigError, match="gripper"):
        SafetySupervisor(SafetyConfig(), limits)


def test_default_config_fits_the_project_urdf():
    from vla_ros.paths import urdf_file
    from vla_ros.robot.description import joint_limits

    if not urdf_file().is_file():
        pytest.skip("urdf/so101.urdf not written yet")
    sup = SafetySupervisor(SafetyConfig(), joint_limits())
    np.testing.assert_allclose(sup.home_rad, 0.0)
