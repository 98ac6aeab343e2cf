"""Cameras: image conversion (ROS-agnostic), OpenCV capture, and the camera_publisher node."""
