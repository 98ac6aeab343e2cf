"""The evaluator reads the simulator's ``sim/objects`` message as the simulator writes it (the real
``objects_msg`` of ``so101_sim`` built from a real MuJoCo world; no DDS needed)."""

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from visualization_msgs.msg import Marker, MarkerArray

from vla_ros.evaluate.scoring import ReachTracker
from vla_ros.ros.objects import parse_objects
from vla_ros.sim.config import SimConfig
from vla_ros.sim.node import objects_msg
from vla_ros.sim.world import SimWorld


def test_parse_objects_reads_the_simulators_ground_truth():
    world = SimWorld(SimConfig(two_cubes=True, image_width=64, image_height=48, seed=5))
    world.step(50)
    msg = objects_msg(world, lambda t: Time(sec=1000 + int(t), nanosec=int((t % 1) * 1e9)))
    objects = parse_objects(msg)
    assert objects is not None
    assert objects.stamp_s == pytest.approx(1000.0 + world.sim_time_s, abs=1e-6)
    assert set(objects.cubes) == {"red", "blue"}
    for name, xyz in world.cube_positions().items():
        np.testing.assert_allclose(objects.cubes[name], xyz, atol=1e-9)
    np.testing.assert_allclose(objects.gripper, world.gripper_frame_position(), atol=1e-9)

    tracker = ReachTracker("red")
    tracker.update(objects.stamp_s, objects.gripper, objects.cubes)
    distance = np.linalg.norm(world.gripper_frame_position() - world.cube_positions()["red"])
    assert tracker.min_distance_m()["red"] == pytest.approx(distance, abs=1e-9)
    assert tracker.success == world.success("red")


def test_parse_objects_ignores_deletions_and_empty_arrays():
    assert parse_objects(MarkerArray()) is None
    gone = Marker(ns="cubes", text="red", action=Marker.DELETE)
    only_deleted = parse_objects(MarkerArray(markers=[gone]))
    assert only_deleted is not None and only_deleted.cubes == {} and only_deleted.gripper is None
