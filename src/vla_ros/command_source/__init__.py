"""One command source per arm: who may publish the commands that move it.

ROS-agnostic core (never imports rclpy): :mod:`~vla_ros.command_source.guard` holds the rule (which
publishers of a command topic are allowed, when to hold and when to resume, and the refusal of a
second arm's driver on the same topics). The ROS adapter, shared by ``so101_driver`` and
``safety_supervisor``, is :mod:`vla_ros.ros.command_source`.
"""
