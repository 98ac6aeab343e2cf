"""QoS profiles used across the graph (one place, so publishers and subscribers always match).

* sensor streams (``joint_states``, ``image_raw``, ``camera_info``): best effort, keep last 5
  (``rclpy.qos.qos_profile_sensor_data``, REP-2003's recommendation for sensor data);
* commands (``joint_commands``, ``policy/joint_commands``): reliable, keep last 10;
* status and latched data (``*/status``, ``policy/action_chunk``): reliable, transient local, depth 1,
  so a late subscriber (rqt, the bring-up monitor) gets the latest value at once.
"""

from __future__ import annotations

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)

__all__ = ["COMMAND_QOS", "SENSOR_QOS", "STATUS_QOS"]

SENSOR_QOS: QoSProfile = qos_profile_sensor_data

COMMAND_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE
)

STATUS_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
