"""Enabling smolvla_policy over DDS: the start-state gate with the safety supervisor's services, and the
installed executable refusing to start. The supervisor here is a stand-in node answering the
supervisor's service and status interface (std_srvs/Trigger, vla_ros/SafetyStatus), so the policy's
side of that protocol is what is tested; the real supervisor has its own tests."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import rclpy
from policy_ros_harness import policy_params
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from std_srvs.srv import SetBool, Trigger

from vla_ros.msg import PolicyStatus, SafetyStatus
from vla_ros.ros.qos import STATUS_QOS


@pytest.fixture(scope="module", autouse=True)
def ros():
    rclpy.init()
    yield
    rclpy.shutdown()


OUT_OF_DISTRIBUTION = "shoulder_lift is 4.1 std from the mean"


class StandInSupervisor:
    """Answers safety/check_start_state and safety/reset_to_home; a reset shows RESETTING for ``reset_s``."""

    def __init__(self, ns: str, *, start_ok: bool, reset_s: float = 1.0) -> None:
        self.node = Node("safety_supervisor", namespace=ns)
        self.start_ok, self.reset_s = start_ok, reset_s
        self.resets = 0
        self.state = SafetyStatus.STATE_PASSING
        self.status_pub = self.node.create_publisher(SafetyStatus, "safety/status", STATUS_QOS)
        self.node.create_service(Trigger, "safety/check_start_state", self._check)
        self.node.create_service(Trigger, "safety/reset_to_home", self._reset)
        self.node.create_timer(0.1, self._publish)
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        threading.Thread(target=self.executor.spin, daemon=True).start()

    def _publish(self) -> None:
        self.status_pub.publish(SafetyStatus(state=self.state))

    def _check(self, _request, response):
        response.success = self.start_ok
        response.message = "all joints within 2 std" if self.start_ok else OUT_OF_DISTRIBUTION
        return response

    def _reset(self, _request, response):
        self.resets += 1
        self.state = SafetyStatus.STATE_RESETTING
        threading.Timer(self.reset_s, self._reset_done).start()
        response.success, response.message = True, "resetting"
        return response

    def _reset_done(self) -> None:
        self.state = SafetyStatus.STATE_PASSING
        self.start_ok = True

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=2.0)
        self.node.destroy_node()


def test_enable_refused_without_a_supervisor(harness, tiny_ckpt, calibration):
    h = harness(policy_params(tiny_ckpt, calibration, start_state_check="refuse", service_timeout_s=1.0))
    response = h.enable()
    assert not response.success
    assert "safety/check_start_state is not available (is safety_supervisor running?)" in response.message
    assert "start_state_check:=skip" in response.message
    assert h.status.state == PolicyStatus.STATE_DISABLED and "enable refused" in h.status.last_error
    time.sleep(0.5)
    assert not h.commands


def test_enable_refused_out_of_distribution_then_reset_enables(harness, tiny_ckpt, calibration):
    h = harness(policy_params(tiny_ckpt, calibration, start_state_check="refuse"))
    supervisor = StandInSupervisor(h.ns, start_ok=False)
    try:
        response = h.enable()
        assert not response.success and OUT_OF_DISTRIBUTION in response.message
        assert h.status.state == PolicyStatus.STATE_DISABLED
        assert h.set_param("start_state_check", "reset").successful
        t0 = time.monotonic()
        response = h.enable()
        assert response.success, response.message
        assert supervisor.resets == 1 and time.monotonic() - t0 >= 0.9  # waited for RESETTING to end
        h.wait_for(lambda: len(h.commands) >= 3)
        assert h.enable().message == "already enabled"
    finally:
        supervisor.close()


def test_status_stays_live_while_enable_waits(harness, tiny_ckpt, calibration):
    """The enable request waits on the supervisor (3 s reset) without blocking the node's executor."""
    h = harness(policy_params(tiny_ckpt, calibration, start_state_check="reset"))
    supervisor = StandInSupervisor(h.ns, start_ok=True, reset_s=3.0)
    try:
        h.wait_for(lambda: h.status)
        future = h.enable_client.call_async(SetBool.Request(data=True))
        h.wait_for(lambda: supervisor.resets == 1)
        n = len(h.statuses)
        h.wait_for(lambda: len(h.statuses) >= n + 2, timeout_s=2.9)  # status timer runs meanwhile (2 Hz)
        assert not future.done()
        h.wait_for(future.done)
        assert future.result().success
    finally:
        supervisor.close()


@pytest.mark.slow
def test_executable_refuses_to_start(tiny_ckpt, calibration):
    exe = Path(sys.executable).parent / "smolvla_policy"
    if not exe.is_file():
        pytest.skip("smolvla_policy console script not installed")
    robot_id, root = calibration
    params_file = Path(__file__).resolve().parents[2] / "config" / "smolvla_policy.yaml"
    result = subprocess.run(
        [str(exe), "--ros-args", "-r", "__ns:=/exe_refusal", "--params-file", str(params_file),
         "-p", f"policy_path:={tiny_ckpt}",
         "-p", f"robot_id:={robot_id}", "-p", f"calibration_dir:={root}",
         "-p", "camera_map:=[front=observation.images.camera1]"],
        capture_output=True, text=True, timeout=180, env=dict(os.environ),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "refusing to start" in output
    assert "unmapped image features ['observation.images.camera2']" in output


def test_autostart_enables_without_a_call(harness, tiny_ckpt, calibration):
    h = harness(policy_params(tiny_ckpt, calibration, autostart=True))
    h.wait_for(lambda: len(h.commands) >= 5)
    assert h.enable().message == "already enabled"
