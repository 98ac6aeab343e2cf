"""Recording episodes as ROS 2 bags for the converter, with ``ros2 bag record`` or without a ROS install.

* :mod:`vla_ros.record.bag` (ROS-agnostic, never imports rclpy): one MCAP bag per episode written with
  rosbags' ``Writer``, the task in the bag's ``custom_data``; bags are written aside and moved into
  ``output_dir`` when the episode is stopped, so a half-written bag never looks like a finished one.
* :mod:`vla_ros.record.ros2bag` (ROS-agnostic): the same episodes written by a ROS install's own
  ``ros2 bag record``, one child process per episode, the task added to the bag's metadata.
* :mod:`vla_ros.record.node` (``bag_recorder``): records the converter's topics (from the same mapping
  config) with either, and offers ``record/start``, ``record/stop``, ``record/discard`` and
  ``record/status``.
"""
