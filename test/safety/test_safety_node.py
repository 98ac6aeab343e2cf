"""The safety_supervisor node over real DDS: each "Done when" input class gives the specified output.

Inputs are published on ``policy/joint_commands`` and ``joint_states`` by a test node; outputs are read
from ``joint_commands`` and ``safety/status``; services are called like the policy node calls them.
The arm that republishes commands as states stands in for the robot (see conftest). Timings are
generous: the machine is a loaded 2-core box.
"""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from vla_ros.contract import DeploymentContract
from vla_ros.errors import ConfigError
from vla_ros.robot.calibration import calibration_path, save_calibration, sim_calibration
from vla_ros.robot.units import UnitConverter

VMAX = np.array([1.5, 1.5, 1.5, 1.5, 1.5, 3.0])
ZERO = np.zeros(6)


def start(bench, urdf, pose=ZERO, **params):
    defaults = {"urdf": str(urdf), "rate_hz": 30.0, "state_timeout_s": 1.0, "command_timeout_s": 1.0}
    node = bench.start(pose, **{**defaults, **params})
    bench.wait_state("HOLDING")
    bench.wait_commands(3)  # the supervisor holds the arm's pose before any policy command
    return node


def assert_speeds_within(commands, vmax=VMAX):
    stamps = np.array([c[0] for c in commands])
    pos = np.stack([c[1] for c in commands])
    assert np.all(np.diff(stamps) > 0)
    speed = np.abs(np.diff(pos, axis=0)) / np.diff(stamps)[:, None]
    # 1e-4: float seconds since 1970 resolve ~0.2 us, relative to a ~33 ms step.
    assert np.all(speed <= vmax * (1 + 1e-4)), f"max speed {speed.max(axis=0)}"
    return speed


def test_out_of_range_command_stops_inside_the_limit_margin(bench, urdf, so101_bounds):
    start(bench, urdf, position_margin_rad=0.02)
    bench.arm_follows = True
    t0 = time.monotonic()
    upper = so101_bounds["shoulder_pan"][1] - 0.02
    lower_gripper = so101_bounds["gripper"][0] + 0.02
    bench.stream_until([5.0, 0.0, 0.0, 0.0, 0.0, -1.0], [upper, 0, 0, 0, 0, lower_gripper])
    out = bench.commands_since(t0)
    pan = np.array([c[1][0] for c in out])
    assert pan.max() <= upper + 1e-9
    assert pan[-1] == pytest.approx(upper)
    assert out[-1][1][5] == pytest.approx(lower_gripper)
    status = bench.last_status()
    assert status.clamp_counts[0] > 0 and status.clamp_counts[5] > 0
    assert list(status.clamp_counts[1:5]) == [0, 0, 0, 0]
    assert status.joint_names[0] == "shoulder_pan"


def test_too_fast_command_is_limited_to_the_velocity_limit(bench, urdf):
    start(bench, urdf)
    bench.arm_follows = True
    t0 = time.monotonic()
    bench.stream_until(np.full(6, 0.3), np.full(6, 0.3))
    out = bench.commands_since(t0)
    assert_speeds_within(out)
    pan = [c[1][0] for c in out]
    assert sum(0.0 < p < 0.3 - 1e-6 for p in pan) >= 2  # ramped in steps, not passed at once
    np.testing.assert_allclose(out[-1][1], 0.3, atol=1e-9)
    assert bench.last_status().state_name == "PASSING"


def test_nan_command_is_rejected_and_the_arm_holds(bench, urdf):
    start(bench, urdf)
    bench.arm_follows = True
    bench.stream(np.full(6, 0.1), 1.0)
    bench.command([0.1, math.nan, 0.1, 0.1, 0.1, 0.1])
    status = bench.wait_state("HOLDING")
    assert "non-finite" in status.reason and "shoulder_lift" in status.reason
    t0 = time.monotonic()
    time.sleep(1.0)
    held = bench.commands_since(t0)
    assert len(held) > 5
    for _, pos, _ in held:
        assert np.all(np.isfinite(pos))
        np.testing.assert_array_equal(pos, held[0][1])
    bench.command(np.full(6, 0.1))
    bench.wait_state("PASSING")


def test_far_jump_is_ramped_and_never_leads_the_state_by_more_than_far_jump(bench, urdf):
    start(bench, urdf, far_jump_rad=0.5)  # the arm stays where it is
    t0 = time.monotonic()
    bench.stream_until(np.full(6, 1.5), np.full(6, 0.5))
    out = bench.commands_since(t0)
    pos = np.stack([c[1] for c in out])
    assert pos.max() <= 0.5 + 1e-9
    assert_speeds_within(out)
    np.testing.assert_allclose(pos[-1], 0.5, atol=1e-9)


def test_stale_joint_states_fault_and_hold(bench, urdf):
    start(bench, urdf, state_timeout_s=0.4)
    bench.arm_follows = True
    bench.stream(np.full(6, 0.2), 1.0)
    bench.arm_running = False
    status = bench.wait_state("FAULT")
    assert "joint_states stale" in status.reason
    t0 = time.monotonic()
    bench.stream(np.full(6, 0.6), 1.0)  # the policy keeps going: nothing passes
    held = bench.commands_since(t0)
    assert len(held) > 5
    for _, pos, _ in held:
        np.testing.assert_array_equal(pos, held[0][1])
    bench.arm_running = True
    bench.wait_state("HOLDING")


def test_silent_command_stream_holds_position(bench, urdf):
    start(bench, urdf, command_timeout_s=0.3)
    bench.arm_follows = True
    bench.stream(np.full(6, 0.2), 1.0)
    status = bench.wait_state("HOLDING")
    assert "no policy command" in status.reason
    t0 = time.monotonic()
    time.sleep(1.0)
    held = bench.commands_since(t0)
    assert len(held) > 5
    for _, pos, _ in held:
        np.testing.assert_array_equal(pos, held[0][1])


def test_estop_latches_blocks_until_reset_and_resumes_ramped(bench, urdf):
    from std_srvs.srv import SetBool, Trigger

    start(bench, urdf)
    bench.arm_follows = True
    bench.stream(np.full(6, 0.1), 0.5)
    response = bench.call(bench.estop_cli, SetBool.Request(data=True))
    assert response.success and "latched" in response.message
    status = bench.wait_state("ESTOP")
    assert status.estop_latched
    time.sleep(0.5)  # let messages already in flight arrive
    t0 = time.monotonic()
    bench.stream(np.full(6, 0.5), 1.5)
    assert bench.commands_since(t0) == []  # nothing passes, not even a hold
    refused = bench.call(bench.reset_cli, Trigger.Request())
    assert not refused.success and "e-stop" in refused.message
    assert bench.last_status().state_name == "ESTOP"  # still latched after all that
    t1 = time.monotonic()
    released = bench.call(bench.estop_cli, SetBool.Request(data=False))
    assert released.success and "released" in released.message
    status = bench.wait_state("HOLDING")
    assert not status.estop_latched
    bench.stream_until(np.full(6, 0.5), np.full(6, 0.5))
    out = bench.commands_since(t1)
    # Resumes from where the arm is (0.1), ramped: at most one velocity-limited step (2 periods) away.
    assert np.all(np.abs(out[0][1] - 0.1) <= VMAX * 2 / 30 + 1e-9)
    assert_speeds_within(out)
    np.testing.assert_allclose(out[-1][1], 0.5, atol=1e-9)


def test_reset_reaches_home_within_tolerance_without_exceeding_the_speed_limit(bench, urdf):
    from std_srvs.srv import Trigger

    home = [0.2, -0.3, 0.4, 0.1, 0.0, 0.3]
    start(bench, urdf, pose=[1.0, 0.5, -0.8, 0.8, 1.5, 1.2], home_pose_rad=home,
          reset_speed_fraction=1.0, home_tolerance_rad=0.02)
    bench.arm_follows = True
    t0 = time.monotonic()
    response = bench.call(bench.reset_cli, Trigger.Request())
    assert response.success and response.message.startswith("resetting to home")
    bench.wait_state("RESETTING", timeout_s=5.0)
    for _ in range(20):  # the policy keeps publishing: ignored while resetting
        bench.command(np.full(6, -1.0))
        time.sleep(0.03)
    status = bench.wait_state("HOLDING", timeout_s=30.0)
    assert status.reason.startswith("home reached")
    out = bench.commands_since(t0)
    np.testing.assert_allclose(out[-1][1], home, atol=0.02)
    assert_speeds_within(out)
    assert np.all(np.stack([c[1] for c in out]) >= -0.81)  # the -1.0 policy commands never passed


def _checkpoint(tmp_path, converter):
    """A checkpoint whose demonstrations start with the gripper closed (1.2 ± 0.8 %)."""
    model = tmp_path / "ckpt" / "pretrained_model"
    model.mkdir(parents=True)
    mean = [10.0, -20.0, 30.0, 15.0, 0.0, 1.2]
    DeploymentContract(tasks=["pick"], camera_map={}, fps=30.0, start_state_mean=mean,
                       start_state_std=[2.0, 2.0, 2.0, 2.0, 2.0, 0.8]).save(model)
    return model, converter.to_ros(np.array(mean))


def test_start_state_check_flags_an_open_gripper_and_reset_fixes_it(bench, urdf, tmp_path, so101_bounds):
    from std_srvs.srv import Trigger

    calib = sim_calibration(so101_bounds)
    save_calibration(calib, calibration_path("sim_arm", tmp_path / "calib"))
    converter = UnitConverter.from_calibration(calib)
    model, mean_rad = _checkpoint(tmp_path, converter)
    pose = mean_rad.copy()
    pose[5] = converter.to_ros(np.array([0, 0, 0, 0, 0, 62.0]))[5]  # gripper 62 % open
    start(bench, urdf, pose=pose, policy_path=str(model), robot_id="sim_arm",
          calibration_dir=str(tmp_path / "calib"), reset_speed_fraction=1.0)
    bench.arm_follows = True
    check = bench.call(bench.check_cli, Trigger.Request())
    assert not check.success
    assert "gripper is open (62.0 %) but the demonstrations start closed (1.2 ± 0.8 %)" in check.message
    assert "shoulder_pan" not in check.message  # only the joints that are out
    # The policy node's start_state_check:=reset flow: reset, wait until not RESETTING, check again.
    assert bench.call(bench.reset_cli, Trigger.Request()).success
    bench.wait_state("RESETTING", timeout_s=5.0)
    assert bench.wait_state("HOLDING", timeout_s=30.0).reason.startswith("home reached")
    again = bench.call(bench.check_cli, Trigger.Request())
    assert again.success, again.message


def test_check_start_state_fails_without_fresh_joint_states(bench, urdf):
    from std_srvs.srv import Trigger

    start(bench, urdf, state_timeout_s=0.3)
    bench.arm_running = False
    bench.wait_state("FAULT")
    response = bench.call(bench.check_cli, Trigger.Request())
    assert not response.success and "no fresh joint_states" in response.message


def test_invalid_parameters_refuse_to_start(bench, urdf):
    from rclpy.parameter import Parameter

    from vla_ros.safety.node import SafetySupervisorNode

    with pytest.raises(ConfigError, match="max_velocity_rad_s"):
        SafetySupervisorNode(context=bench.ctx, parameter_overrides=[
            Parameter("urdf", value=str(urdf)), Parameter("max_velocity_rad_s", value=[1.0, 2.0])])


def _executable(*ros_args: str) -> list[str]:
    """The ``safety_supervisor`` entry point (``vla_ros.safety.node:main``) as a process."""
    main = "import sys; from vla_ros.safety.node import main; sys.exit(main())"
    return [sys.executable, "-c", main, "--ros-args", *ros_args]


def test_executable_refuses_to_start_on_bad_parameters(urdf):
    bad_home = "home_pose_rad:=[9.0,0.0,0.0,0.0,0.0,0.0]"
    proc = subprocess.run(_executable("-p", f"urdf:={urdf}", "-p", bad_home),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "refusing to start" in proc.stderr and "shoulder_pan=9.000" in proc.stderr


def test_executable_publishes_status_and_shuts_down_cleanly(bench, urdf):
    from vla_ros.msg import SafetyStatus
    from vla_ros.ros.qos import STATUS_QOS

    node = bench.rclpy.create_node("status_listener", namespace=bench.ns, context=bench.ctx)
    bench.nodes.append(node)
    got: list[SafetyStatus] = []
    node.create_subscription(SafetyStatus, "safety/status", got.append, STATUS_QOS)
    bench.executor.add_node(node)
    proc = subprocess.Popen(_executable("-r", f"__ns:={bench.ns}", "-p", f"urdf:={urdf}"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60.0
        while not got and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert got, "no safety/status from the executable"
        assert got[-1].state_name == "HOLDING" and got[-1].reason == "waiting for joint_states"
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out


def test_estop_turns_torque_off_through_the_driver_service(bench, urdf):
    from std_srvs.srv import SetBool

    requests: list[bool] = []

    def torque(request, response):  # stands in for the driver's torque_enable
        requests.append(request.data)
        response.success, response.message = True, f"torque {'on' if request.data else 'off'}"
        return response

    supervisor = start(bench, urdf, estop_torque_off=True)
    bench.node.create_service(SetBool, "torque_enable", torque)
    assert supervisor._torque.wait_for_service(timeout_sec=15.0)
    assert bench.call(bench.estop_cli, SetBool.Request(data=True)).success
    bench.wait_for(lambda: requests == [False], 15.0, "torque_enable(false)")
    assert bench.call(bench.estop_cli, SetBool.Request(data=False)).success
    bench.wait_for(lambda: requests == [False, True], 15.0, "torque_enable(true)")
