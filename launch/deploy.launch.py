"""`ros2 launch vla_ros deploy.launch.py [name:=value ...]`: the 'deploy' graph.

The node list lives in vla_ros.bringup.graph, which `vla-ros launch deploy` reads too
(`ros2 launch vla_ros deploy.launch.py --show-args` lists the arguments).
"""

from vla_ros.bringup.ros_launch import generate_launch_description as _generate


def generate_launch_description():
    return _generate("deploy")
