"""The deploy graph end to end: `vla-ros launch deploy` with the tiny offline policy (the graph `make demo`
runs, without demo:=true's episodes and shipped policy) on the simulated arm, observed over real DDS for
about 20 s of sim time, then stopped with Ctrl-C."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import psutil
import pytest
import rclpy
import yaml
from rclpy.executors import SingleThreadedExecutor
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image, JointState

from vla_ros.msg import PolicyStatus, SafetyStatus
from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS, STATUS_QOS

ROOT = Path(__file__).resolve().parents[2]
SIM_SECONDS = 20.0


class Observer:
    """Records arrival times and payloads of the deploy graph's topics."""

    def __init__(self, node):
        self.stamps = defaultdict(list)
        self.states, self.commands = [], []
        self.clock = []
        self.policy_status = self.safety_status = None
        self._sub(node, JointState, "joint_states", SENSOR_QOS, self._on_state)
        self._sub(node, Image, "cameras/front/image_raw", SENSOR_QOS)
        self._sub(node, Image, "cameras/wrist/image_raw", SENSOR_QOS)
        self._sub(node, JointState, "policy/joint_commands", COMMAND_QOS)
        self._sub(node, JointState, "joint_commands", COMMAND_QOS, self._on_command)
        self._sub(node, PolicyStatus, "policy/status", STATUS_QOS, self._keep("policy_status"))
        self._sub(node, SafetyStatus, "safety/status", STATUS_QOS, self._keep("safety_status"))
        node.create_subscription(Clock, "clock", lambda m: self.clock.append(
            (time.monotonic(), m.clock.sec + m.clock.nanosec * 1e-9)), 10)

    def _sub(self, node, msg_type, topic, qos, extra=None):
        def on_msg(msg):
            self.stamps[topic].append(time.monotonic())
            if extra:
                extra(msg)
        node.create_subscription(msg_type, topic, on_msg, qos)

    def _keep(self, attr):
        return lambda msg: setattr(self, attr, msg)

    def _on_state(self, msg):
        self.states.append((time.monotonic(), dict(zip(msg.name, msg.position))))

    def _on_command(self, msg):
        self.commands.append((time.monotonic(), dict(zip(msg.name, msg.position))))

    def rate(self, topic, since):
        stamps = [t for t in self.stamps[topic] if t >= since]
        return (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 2 else 0.0

    def sim_time(self):
        return self.clock[-1][1] if self.clock else 0.0


def _median_tracking_error(obs, commands, names, lag_s):
    """Per joint, the median |state - command| with the state taken lag_s after each command arrived."""
    times = np.array([t for t, _ in obs.states])
    errors = []
    for t, command in commands:
        i = np.searchsorted(times, t + lag_s)
        if i < len(times):
            state = obs.states[i][1]
            errors.append([abs(state[n] - command[n]) for n in names])
    return np.median(np.array(errors), axis=0)


def _rviz_topics():
    """Every topic named by a display of the RViz config (relative names)."""
    config = yaml.safe_load((ROOT / "rviz" / "vla_ros.rviz").read_text())
    topics = []
    for display in config["Visualization Manager"]["Displays"]:
        for key in ("Topic", "Description Topic"):
            if isinstance(display.get(key), dict):
                topics.append(display[key]["Value"])
    assert len(topics) >= 4, topics
    return topics


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_deploy_graph_in_simulation(tmp_path):
    env = dict(os.environ, VLA_ROS_HOME=str(tmp_path / "home"), PYTHONUNBUFFERED="1")
    log_path = tmp_path / "launch.log"
    log = open(log_path, "w")  # noqa: SIM115 - the launcher writes to it until the end of the test
    launcher = subprocess.Popen([str(Path(sys.executable).parent / "vla-ros"), "launch", "deploy",
                                 f"namespace:=it{os.getpid()}", "monitor:=true", "rviz:=true"],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
    rclpy.init()
    node = rclpy.create_node("deploy_observer", namespace=f"it{os.getpid()}")
    obs = Observer(node)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        # Wait for the policy to drive the arm, then observe SIM_SECONDS of sim time.
        deadline = time.monotonic() + 420
        while time.monotonic() < deadline and not obs.stamps["policy/joint_commands"]:
            assert launcher.poll() is None, log_path.read_text()[-5000:]
            time.sleep(0.5)
        assert obs.stamps["policy/joint_commands"], "policy never commanded:\n" + log_path.read_text()[-5000:]
        start_wall, start_sim = time.monotonic(), obs.sim_time()
        while obs.sim_time() - start_sim < SIM_SECONDS and time.monotonic() - start_wall < 240:
            assert launcher.poll() is None, log_path.read_text()[-5000:]
            time.sleep(0.5)
        descendants = psutil.Process(launcher.pid).children(recursive=True)
        live_topics = {name for name, _ in node.get_topic_names_and_types()}
        rates = {t: obs.rate(t, start_wall) for t in list(obs.stamps)}
        rtf = (obs.sim_time() - start_sim) / max(time.monotonic() - start_wall, 1e-6)
    finally:
        launcher.send_signal(signal.SIGINT)
        code = launcher.wait(timeout=120)
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown()
        log.close()
    text = log_path.read_text()
    print(f"rates over the run (wall clock): {rates}; real-time factor {rtf:.2f}")

    # Every stream flows over the whole window. Rates are the benches' figures (bench/), not a test's: on this
    # shared 2-core VM whole processes stall for seconds, and 640x480 best-effort images into one Python
    # subscriber drop frames in transport.
    streams = ("joint_states", "cameras/front/image_raw", "cameras/wrist/image_raw",
               "policy/joint_commands", "joint_commands")
    counts = {t: sum(1 for stamp in obs.stamps[t] if stamp >= start_wall) for t in streams}
    assert min(counts.values()) >= 10, (counts, rates)
    assert obs.safety_status is not None and obs.policy_status is not None
    assert obs.policy_status.state_name in ("RUNNING", "HOLDING"), obs.policy_status

    # The simulated joints followed the supervised command path. The lag between a command and the
    # arm reaching it varies with the load on the machine (a stalled sim or driver process), so the
    # error is taken at the lag that fits best, up to 2 s: an arm that does not follow fits none.
    commands = [(t, c) for t, c in obs.commands if t >= start_wall]
    names = list(commands[0][1])
    cmd_arr = np.array([[c[n] for n in names] for _, c in commands])
    spans = np.ptp(cmd_arr, axis=0)
    assert spans.max() > 0.01, f"the policy did not move the arm: command spans {spans}"
    lags = np.arange(0.1, 2.01, 0.1)
    errors = {lag: _median_tracking_error(obs, commands[::5], names, lag) for lag in lags}
    best = min(errors, key=lambda lag: errors[lag].max())
    assert errors[best].max() < 0.1, f"median tracking error {errors[best]} at the best lag, {best:.1f} s"

    # Every topic the RViz config displays exists in the graph (robot_description comes from
    # robot_state_publisher, which needs a ROS install and is skipped here with a notice).
    ns = f"/it{os.getpid()}/"
    missing = [t for t in _rviz_topics() if ns + t not in live_topics and t != "robot_description"]
    assert not missing, f"RViz displays topics the deploy graph does not have: {missing}"
    assert "skipping robot_state_publisher" in text

    # Clean shutdown: status 0, torque off logged by the driver, no process left.
    assert code == 0, text[-5000:]
    assert "torque" in text.lower()
    time.sleep(1.0)
    alive = [p.pid for p in descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"processes left behind: {alive}"
