"""The SO-101 follower driver: lerobot's ``SOFollower`` on a bus thread, in ROS units.

ROS-agnostic core (never imports rclpy): :mod:`~vla_ros.driver.config` (parameters),
:mod:`~vla_ros.driver.arm` (lerobot's SO follower with the user's calibration, in radians),
:mod:`~vla_ros.driver.loop` (the bus thread: rate, retries, faults, reconnection),
:mod:`~vla_ros.driver.limits` (hard joint limits). The ROS adapter is :mod:`~vla_ros.driver.node`
(``so101_driver``); :mod:`~vla_ros.driver.calibrate` runs lerobot's calibration (``vla-ros calibrate``).

Submodules are imported on demand (lerobot is slow to import).
"""
