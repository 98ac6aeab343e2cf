"""Safety supervisor: nothing reaches the arm that the arm should not do.

Two layers, as everywhere in vla_ros:

* a ROS-agnostic core that never imports rclpy: :mod:`~vla_ros.safety.rules` (pure limit functions),
  :mod:`~vla_ros.safety.trajectory` (the smooth path home), :mod:`~vla_ros.safety.start_state` (the
  training start distribution and the check against it) and :mod:`~vla_ros.safety.supervisor` (the
  PASSING/HOLDING/RESETTING/ESTOP/FAULT state machine with watchdogs on an injectable clock);
* :mod:`~vla_ros.safety.node`, the ``safety_supervisor`` node between ``policy/joint_commands`` and
  ``joint_commands``, which converts messages, wires timers and services and calls the core.
"""
