"""Recording episodes as ROS 2 bags for the converter, without a ROS install's ``ros2 bag``.

* :mod:`vla_ros.record.bag` (ROS-agnostic, never imports rclpy): one MCAP bag per episode written with
  rosbags' ``Writer``, the task in the bag's ``custom_data``; bags are written aside and moved into
  ``output_dir`` when the episode is stopped, so a half-written bag never looks like a finished one.
* :mod:`vla_ros.record.node` (``bag_recorder``): subscribes the converter's topics (from the same mapping
  config, :func:`vla_ros.convert.mapping.topics_to_record`) as serialized messages, and offers
  ``record/start``, ``record/stop``, ``record/discard`` and ``record/status``.
"""
