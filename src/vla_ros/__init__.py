"""vla_ros: SmolVLA on the SO-101 arm over ROS 2, with guardrails and the data loop.

Two layers (see README, "Architecture"):

* a ROS-agnostic core (``vla_ros.robot``, ``vla_ros.bus``, ``vla_ros.policy.chunk_queue``,
  ``vla_ros.safety.rules``, ``vla_ros.convert``, ``vla_ros.training`` ...) that never imports rclpy;
* thin nodes (``*/node.py``) that declare parameters, convert messages to core types and wire topics.

The generated interfaces (``vla_ros.msg``) are installed by ``colcon build`` into a separate prefix;
``extend_path`` lets them join this package on both the ROS-workspace and the pip path.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

__version__ = "0.1.0"
