"""``so101_sim`` as a process over real DDS, with the real ``so101_driver`` on its emulated bus.

Nothing is mocked: the driver (lerobot's Feetech code) talks to the simulator's pseudo-terminal, the
probe node sees the topics both nodes publish.
"""

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_srvs.srv import Trigger

from vla_ros.camera.image import msg_to_rgb
from vla_ros.robot.calibration import calibration_path, load_calibration, sim_calibration
from vla_ros.robot.description import joint_limits
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.ros.qos import COMMAND_QOS, SENSOR_QOS
from vla_ros.sim.config import DEFAULT_START_POSE_RAD

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def graph(sim_graph):
    probe = sim_graph["probe"]
    rec = {
        "front": probe.record(Image, "cameras/front/image_raw", SENSOR_QOS, keep=5),
        "wrist": probe.record(Image, "cameras/wrist/image_raw", SENSOR_QOS, keep=5),
        "front_info": probe.record(CameraInfo, "cameras/front/camera_info", SENSOR_QOS, keep=5),
        "wrist_info": probe.record(CameraInfo, "cameras/wrist/camera_info", SENSOR_QOS, keep=5),
        "clock": probe.record(Clock, "/clock", 10, keep=200),
        "diagnostics": probe.record(DiagnosticArray, "/diagnostics", 10, keep=50),
        "joints": probe.record(JointState, "joint_states", SENSOR_QOS, keep=20),
    }
    sim_graph["rec"] = rec
    sim_graph["commands"] = probe.node.create_publisher(JointState, "joint_commands", COMMAND_QOS)
    try:
        probe.wait_for(lambda: len(rec["joints"]) > 0, 120, "joint_states from the driver on the sim bus")
    except AssertionError:
        raise AssertionError("sim:\n" + sim_graph["sim"].output() + "\ndriver:\n"
                             + sim_graph["driver"].output()) from None
    return sim_graph


def _positions(msg: JointState) -> np.ndarray:
    by_name = dict(zip(msg.name, msg.position))
    return np.array([by_name[n] for n in JOINT_NAMES])


def _fresh(probe, box, after_ns: int, what: str, timeout_s: float = 30.0):
    """The first message in ``box`` stamped after ``after_ns``."""
    def stamp(m):
        return m.header.stamp.sec * 10**9 + m.header.stamp.nanosec
    probe.wait_for(lambda: any(stamp(m) > after_ns for m in box), timeout_s, what)
    with probe.lock:
        return next(m for m in box if stamp(m) > after_ns)


def _latest_stamp_ns(probe, box) -> int:
    with probe.lock:
        m = box[-1]
    return m.header.stamp.sec * 10**9 + m.header.stamp.nanosec


def test_reset_then_the_driver_moves_the_simulated_arm_and_the_wrist_view(graph):
    probe, rec = graph["probe"], graph["rec"]
    response = probe.call(Trigger, "sim/reset", Trigger.Request())
    assert response.success and response.message.startswith("episode 1:"), response.message
    assert "red at" in response.message and "blue at" in response.message
    after = _latest_stamp_ns(probe, rec["joints"]) + 200_000_000
    state = _fresh(probe, rec["joints"], after, "joint_states after the reset")
    np.testing.assert_allclose(_positions(state), DEFAULT_START_POSE_RAD, atol=0.03)  # 1.5 deg encoder + sag

    probe.wait_for(lambda: len(rec["wrist"]) > 0, 60, "wrist images")
    before = msg_to_rgb(_fresh(probe, rec["wrist"], after, "a wrist image at the start pose"))
    goal = np.array(DEFAULT_START_POSE_RAD)
    goal[JOINT_NAMES.index("wrist_roll")] += 1.0
    goal[JOINT_NAMES.index("shoulder_pan")] += 0.3
    command = JointState(name=list(JOINT_NAMES), position=[float(v) for v in goal])

    def arrived() -> bool:
        graph["commands"].publish(command)
        return bool(rec["joints"]) and np.abs(_positions(rec["joints"][-1]) - goal).max() < 0.05

    probe.wait_for(arrived, 60, f"the simulated arm at {goal} (driver log:\n{graph['driver'].output()})")
    moved_at = _latest_stamp_ns(probe, rec["joints"])
    after_move = msg_to_rgb(_fresh(probe, rec["wrist"], moved_at, "a wrist image after the move"))
    assert np.abs(after_move.astype(int) - before.astype(int)).mean() > 5


def test_both_camera_streams_carry_real_images_with_camera_info(graph):
    probe, rec = graph["probe"], graph["rec"]
    probe.wait_for(lambda: all(len(rec[k]) >= 3 for k in ("front", "wrist", "front_info", "wrist_info")),
                   60, "three images and camera_infos per camera")
    for camera in ("front", "wrist"):
        with probe.lock:
            msgs, infos = list(rec[camera]), list(rec[f"{camera}_info"])
        msg = msgs[-1]
        assert (msg.width, msg.height, msg.encoding) == (320, 240, "rgb8")
        assert msg.header.frame_id == f"{camera}_camera_optical_frame"
        rgb = msg_to_rgb(msg)
        assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 50 and rgb.std() > 10, f"{camera} looks blank"
        stamps = [m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for m in msgs]
        assert np.all(np.diff(stamps) > 0)
        # Each image has a camera_info with its stamp (the newest image's info may still be in flight,
        # and best-effort transport may drop one: some of the images held must match).
        info_stamps = {(i.header.stamp.sec, i.header.stamp.nanosec) for i in infos}
        matched = [m for m in msgs if (m.header.stamp.sec, m.header.stamp.nanosec) in info_stamps]
        assert matched, f"no {camera} image has a camera_info of its stamp: {stamps} vs {sorted(info_stamps)}"
        info = infos[-1]
        assert (info.width, info.height, info.distortion_model) == (320, 240, "plumb_bob")
        assert info.k[0] > 0 and info.k[2] == pytest.approx(159.5) and info.k[5] == pytest.approx(119.5)


def test_clock_advances_and_diagnostics_report_the_real_time_factor(graph):
    probe, rec = graph["probe"], graph["rec"]
    probe.wait_for(lambda: len(rec["clock"]) >= 20, 30, "/clock messages")
    with probe.lock:
        clocks = [c.clock.sec + c.clock.nanosec * 1e-9 for c in rec["clock"]]
    assert np.all(np.diff(clocks) > 0)
    assert np.median(np.diff(clocks)) == pytest.approx(0.01, abs=1e-6)  # clock_rate_hz = 100 of sim time

    def sim_status():
        for array in reversed(rec["diagnostics"]):
            for status in array.status:
                if status.name == "so101_sim: simulation":
                    return status
        return None

    probe.wait_for(lambda: sim_status() is not None, 30, "so101_sim diagnostics")
    with probe.lock:
        values = {kv.key: kv.value for kv in sim_status().values}
    assert 0.05 < float(values["real_time_factor"]) <= 1.2
    assert float(values["render_ms_per_frame"]) > 0


def test_the_simulated_arm_calibration_was_written_for_the_driver(graph):
    path = calibration_path("simbot", graph["calibration"])
    limits = {n: (lim.lower_rad, lim.upper_rad) for n, lim in joint_limits().items()}
    assert load_calibration(path) == sim_calibration(limits)
