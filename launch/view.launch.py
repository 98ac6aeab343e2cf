"""`ros2 launch vla_ros view.launch.py [name:=value ...]`: the 'view' graph.

The node list lives in vla_ros.bringup.graph, which `vla-ros launch view` reads too
(`ros2 launch vla_ros view.launch.py --show-args` lists the arguments).
"""

from vla_ros.bringup.ros_launch import generate_launch_description as _generate


def generate_launch_description():
    return _generate("view")
