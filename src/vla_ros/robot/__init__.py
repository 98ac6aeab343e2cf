"""SO-101 facts shared by every node: joint names, limits from the description, unit conversion.

ROS-agnostic: never imports rclpy.
"""
