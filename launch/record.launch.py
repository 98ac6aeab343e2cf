"""`ros2 launch vla_ros record.launch.py [name:=value ...]`: the 'record' graph.

The node list lives in vla_ros.bringup.graph, which `vla-ros launch record` reads too
(`ros2 launch vla_ros record.launch.py --show-args` lists the arguments).
"""

from vla_ros.bringup.ros_launch import generate_launch_description as _generate


def generate_launch_description():
    return _generate("record")
