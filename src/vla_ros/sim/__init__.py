"""The simulated SO-101 tabletop world (MuJoCo), for running the whole stack without an arm or camera.

ROS-agnostic core (never imports rclpy): :mod:`~vla_ros.sim.scene` builds the model from the project's
URDF plus a table, cube(s), a bin, lights and the front and wrist cameras; :mod:`~vla_ros.sim.world`
steps it and answers task queries; :mod:`~vla_ros.sim.physics` puts it behind the STS3215 bus emulator;
:mod:`~vla_ros.sim.render` and :mod:`~vla_ros.sim.runner` render the cameras and pace simulated time.
The ``so101_sim`` node (:mod:`~vla_ros.sim.node`) is the thin ROS adapter.
"""

import os as _os

# Headless by default: MuJoCo reads MUJOCO_GL when it is first imported (EGL renders on CPU or GPU
# without a display). A user's own setting wins.
_os.environ.setdefault("MUJOCO_GL", "egl")
