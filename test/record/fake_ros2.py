"""Stands in for a ROS install's `ros2 bag record` (the ros2 CLI is not pip-installable, so it cannot
exist on this machine; see test_record_ros2bag.py). It logs its arguments as a JSON line to
$FAKE_ROS2_LOG, subscribes the topics with a node named rosbag2_recorder (FAKE_ROS2_SUBSCRIBE=0: not),
then, as rosbag2 does, waits for SIGINT and writes a bag (metadata.yaml + storage, one connection per
topic, no messages) at the -o path. FAKE_ROS2_FAIL=1: exits 1 at once, no bag.
The test installs it as an executable `ros2` on PATH (shebang: the test's interpreter)."""

import json
import os
import signal
import sys
import threading

stop = threading.Event()
signal.signal(signal.SIGINT, lambda *_: stop.set())

from rosbags.rosbag2 import StoragePlugin, Writer  # noqa: E402 - after the handler: SIGINT may come early
from rosbags.typesys import Stores, get_typestore  # noqa: E402

args = sys.argv[1:]
with open(os.environ["FAKE_ROS2_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
if os.environ.get("FAKE_ROS2_FAIL") == "1":
    sys.exit(1)
assert args[:2] == ["bag", "record"], args
storage = args[args.index("-s") + 1]
path = args[args.index("-o") + 1]
topics = [a for a in args[args.index("-o") + 2:] if not a.startswith("--")]
if os.environ.get("FAKE_ROS2_SUBSCRIBE", "1") == "1":  # discovery sees the recorder, as rosbag2's
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import JointState

    rclpy.init(args=[])
    recorder = rclpy.create_node("rosbag2_recorder")
    subscriptions = [recorder.create_subscription(JointState, t, lambda _: None, qos_profile_sensor_data)
                     for t in topics]
stop.wait()
store = get_typestore(Stores.LATEST)
writer = Writer(path, version=Writer.VERSION_LATEST, storage_plugin=StoragePlugin[storage.upper()])
writer.open()
for topic in topics:
    writer.add_connection(topic, "sensor_msgs/msg/JointState", typestore=store)
writer.close()
