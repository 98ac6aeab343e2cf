"""Shared ROS 2 adapter helpers for the nodes: parameters, QoS, the ``main()`` idiom, messages.

The only part of vla_ros (with the ``*/node.py`` modules) that imports rclpy. Uses no rclpy API newer
than Humble's.
"""
