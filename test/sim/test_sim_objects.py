"""``sim/objects``: the task's ground truth from ``so101_sim``, over real DDS.

The simulator node runs in this process (in its own rclpy context, so the probe reaches it through DDS
like any other node) because the test compares what arrives with the world it simulates. No driver:
the test switches the simulated servos' torque on itself, as the driver would, so the arm holds still.
"""

import os
import threading
import time

import numpy as np
import pytest
from rclpy.parameter import Parameter
from std_srvs.srv import Trigger
from visualization_msgs.msg import Marker, MarkerArray

from vla_ros.ros.qos import STATUS_QOS
from vla_ros.sim.node import WORLD_FRAME_ID, So101SimNode, objects_msg
from vla_ros.sim.scene import CUBE_HALF_SIZE_M

pytestmark = pytest.mark.timeout(120)


def _stamp_s(msg) -> float:
    return msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9


def _position(marker: Marker) -> np.ndarray:
    p = marker.pose.position
    return np.array([p.x, p.y, p.z])


def _by_name(array: MarkerArray) -> dict[str, Marker]:
    return {m.text: m for m in array.markers}


class InProcessSim:
    """So101SimNode with small cameras in a private context, spun by its own executor thread."""

    def __init__(self, tmp, name: str, **params) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        self.rclpy = rclpy
        self.ctx = rclpy.Context()
        rclpy.init(context=self.ctx)
        self.namespace = f"/{name}_{os.getpid()}"
        values = dict(port=str(tmp / "bus"), calibration_dir=str(tmp / "calibration"), robot_id="objbot",
                      image_width=32, image_height=24, camera_fps=2.0, two_cubes=True,
                      cube_layout="slots", swap_slots=True, seed=4, **params)
        self.node = So101SimNode(f"{name}_sim", namespace=self.namespace, context=self.ctx,
                                 parameter_overrides=[Parameter(k, value=v) for k, v in values.items()])
        for joint in range(6):  # what the driver does first: hold the arm
            self.node.world.set_torque(joint, True)
        self.executor = SingleThreadedExecutor(context=self.ctx)
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self.executor.spin, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.node.close()
        self.executor.shutdown()
        self.node.destroy_node()
        self.rclpy.try_shutdown(context=self.ctx)
        self._thread.join(5)


@pytest.fixture
def make_sim(tmp_path):
    sims = []

    def make(name: str, **params) -> InProcessSim:
        sims.append(InProcessSim(tmp_path, name, **params))
        return sims[-1]

    yield make
    for sim in sims:
        sim.close()


def _check_markers(array: MarkerArray, world, layout) -> None:
    """Names, kinds, colours, sizes, frame and stamps as the interface says."""
    markers = _by_name(array)
    assert list(markers) == ["red", "blue", "gripper_frame"]
    stamps = {(m.header.stamp.sec, m.header.stamp.nanosec) for m in array.markers}
    assert len(stamps) == 1 and _stamp_s(array.markers[0]) > 0
    for i, colour in enumerate(("red", "blue")):
        cube = markers[colour]
        assert (cube.ns, cube.id, cube.type, cube.action) == ("cubes", i, Marker.CUBE, Marker.ADD)
        assert cube.header.frame_id == WORLD_FRAME_ID == "base_link"
        assert (cube.scale.x, cube.scale.y, cube.scale.z) == pytest.approx((2 * CUBE_HALF_SIZE_M,) * 3)
        rgba = (cube.color.r, cube.color.g, cube.color.b, cube.color.a)
        assert rgba == pytest.approx(layout.cube_rgba[colour], abs=1e-6)
        x, y, yaw = layout.cube_poses[colour]
        np.testing.assert_allclose(_position(cube), [x, y, CUBE_HALF_SIZE_M], atol=1e-3)
        q = cube.pose.orientation
        assert abs(abs(q.w * np.cos(yaw / 2) + q.z * np.sin(yaw / 2)) - 1) < 1e-3  # yaw about z
    assert rgba[2] > 0.6 > markers["red"].color.b  # blue is blue, red is not
    gripper = markers["gripper_frame"]
    assert (gripper.ns, gripper.id, gripper.type) == ("gripper_frame", 0, Marker.SPHERE)
    assert gripper.scale.x == pytest.approx(0.01) and gripper.header.frame_id == "base_link"


def test_objects_message_is_the_world_ground_truth(make_sim):
    sim = make_sim("objmsg", objects_rate_hz=0.0)
    world = sim.node.world
    array = objects_msg(world, sim.node._stamp)
    _check_markers(array, world, world.layout)
    markers = _by_name(array)
    for colour, pos in world.cube_positions().items():
        np.testing.assert_allclose(_position(markers[colour]), pos, atol=1e-3)
    np.testing.assert_allclose(_position(markers["gripper_frame"]), world.gripper_frame_position(), atol=1e-3)


def test_objects_arrive_after_each_reset_with_the_new_episode_and_are_latched(make_sim, make_probe):
    sim = make_sim("objreset", objects_rate_hz=0.0)
    world = sim.node.world
    probe = make_probe(sim.namespace)
    box = probe.record(MarkerArray, "sim/objects", STATUS_QOS, keep=20)
    probe.wait_for(lambda: len(box) == 1, 30, "the start's sim/objects (transient local)")
    for episode in (1, 2, 3):
        before = world.cube_positions()
        response = probe.call(Trigger, "sim/reset", Trigger.Request())
        assert response.success and response.message.startswith(f"episode {episode}:"), response.message
        probe.wait_for(lambda n=episode + 1: len(box) >= n, 30, f"sim/objects after reset {episode}")
        with probe.lock:
            array = box[-1]
        _check_markers(array, world, world.layout)
        markers = _by_name(array)
        for colour, pos in world.cube_positions().items():
            np.testing.assert_allclose(_position(markers[colour]), pos, atol=1e-3)
            assert np.linalg.norm(pos - before[colour]) > 1e-3  # a new layout, not the old one
        np.testing.assert_allclose(_position(markers["gripper_frame"]), world.gripper_frame_position(),
                                   atol=1e-3)
    time.sleep(1.0)
    assert len(box) == 4, "objects_rate_hz=0 publishes after resets only"
    late = make_probe(sim.namespace).record(MarkerArray, "sim/objects", STATUS_QOS)
    probe.wait_for(lambda: len(late) == 1, 30, "the latest sim/objects for a late subscriber")
    assert _stamp_s(late[0].markers[0]) == _stamp_s(box[-1].markers[0])


def test_objects_are_published_at_their_rate_of_simulated_time(make_sim, make_probe):
    sim = make_sim("objrate", objects_rate_hz=10.0)
    world = sim.node.world
    probe = make_probe(sim.namespace)
    box = probe.record(MarkerArray, "sim/objects", STATUS_QOS, keep=100)
    probe.wait_for(lambda: len(box) >= 12, 60, "a dozen sim/objects messages")
    with probe.lock:
        stamps = np.unique([_stamp_s(a.markers[0]) for a in box])
        latest = box[-1]
    assert np.median(np.diff(stamps)) == pytest.approx(0.1, abs=0.011)  # 10 Hz of simulated time
    np.testing.assert_allclose(_position(_by_name(latest)["gripper_frame"]), world.gripper_frame_position(),
                               atol=1e-3)  # the arm holds still
