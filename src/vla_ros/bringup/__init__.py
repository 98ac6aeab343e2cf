"""Bring-up: the node graphs (one definition read by the launch files and by ``vla-ros launch``),
the process supervisor of the no-ROS-install path, and the live status monitor."""
