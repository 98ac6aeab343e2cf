"""Real rclpy publish/subscribe between two processes, with standard and vla_ros messages."""

import subprocess
import sys
import time

import pytest
import rclpy
from std_msgs.msg import String

from vla_ros.msg import ActionChunk

PUBLISHER = r"""
import sys, time, rclpy
from std_msgs.msg import String
from vla_ros.msg import ActionChunk
rclpy.init()
node = rclpy.create_node("foundation_talker")
chunks = node.create_publisher(ActionChunk, "foundation/chunk", 10)
text = node.create_publisher(String, "foundation/text", 10)
end = time.monotonic() + float(sys.argv[1])
i = 0
while time.monotonic() < end:
    msg = ActionChunk(joint_names=["a", "b"], fps=30.0, num_steps=2, actions=[0.5, 1.5, 2.5, float(i)],
                      first_future_index=1, inference_latency_s=0.25)
    msg.header.frame_id = "chunk"
    chunks.publish(msg)
    text.publish(String(data=f"hello {i}"))
    i += 1
    time.sleep(0.05)
node.destroy_node()
rclpy.shutdown()
"""


@pytest.fixture
def node():
    rclpy.init()
    n = rclpy.create_node("foundation_listener")
    yield n
    n.destroy_node()
    rclpy.shutdown()


def test_messages_cross_processes(node):
    chunks, texts = [], []
    node.create_subscription(ActionChunk, "foundation/chunk", chunks.append, 10)
    node.create_subscription(String, "foundation/text", texts.append, 10)
    talker = subprocess.Popen([sys.executable, "-c", PUBLISHER, "30"])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (len(chunks) < 5 or len(texts) < 5):
            rclpy.spin_once(node, timeout_sec=0.1)
    finally:
        talker.terminate()
        talker.wait(timeout=10)
    assert len(chunks) >= 5 and len(texts) >= 5, (len(chunks), len(texts))
    msg = chunks[-1]
    assert list(msg.joint_names) == ["a", "b"]
    assert msg.fps == pytest.approx(30.0)
    assert list(msg.actions)[:3] == pytest.approx([0.5, 1.5, 2.5])
    assert msg.first_future_index == 1 and msg.num_steps == 2
    assert msg.header.frame_id == "chunk"
    assert texts[-1].data.startswith("hello ")
