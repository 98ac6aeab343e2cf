"""The one ``main()`` idiom every vla_ros node uses (ros2/demos ``demo_nodes_py/topics/talker.py``).

Ctrl-C or an external shutdown ends the spin; the node's ``close()`` (torque off, stop workers) runs
before ``destroy_node()``; a :class:`vla_ros.errors.VlaRosError` raised while constructing the node is
logged as a refusal to start, and the process exits with status 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node

from vla_ros.errors import VlaRosError

__all__ = ["run_node"]


def run_node(factory: Callable[[], Node], args: Sequence[str] | None = None, threads: int = 2) -> int:
    """Initialise rclpy, build the node with ``factory``, spin it until shutdown, clean up.

    Args:
        factory: builds the node (after ``rclpy.init``); may raise VlaRosError to refuse to start.
        args: command-line arguments (default ``sys.argv``), including ``--ros-args``.
        threads: executor threads (a MultiThreadedExecutor, so slow callbacks do not starve timers).

    Returns:
        The process exit status: 0 after a clean shutdown, 1 if the node refused to start.
    """
    rclpy.init(args=list(args) if args is not None else sys.argv)
    node: Node | None = None
    status = 0
    try:
        node = factory()
        executor = MultiThreadedExecutor(num_threads=threads)
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except VlaRosError as err:
        name = node.get_name() if node is not None else "vla_ros"
        rclpy.logging.get_logger(name).fatal(f"refusing to start: {err}")
        status = 1
    finally:
        if node is not None:
            close = getattr(node, "close", None)
            if close is not None:
                close()
            node.destroy_node()
        rclpy.try_shutdown()
    return status
