"""The one ``main()`` idiom every vla_ros node uses (ros2/demos ``demo_nodes_py/topics/talker.py``).

Ctrl-C or an external shutdown ends the spin; so does a node that finished its job (it sets
``finished`` to True, and ``exit_status`` to its process exit status). The node's ``close()`` (torque
off, stop workers) runs before ``destroy_node()``; a :class:`vla_ros.errors.VlaRosError` raised while
constructing the node is logged as a refusal to start, and the process exits with status 1.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node

from vla_ros.errors import VlaRosError

__all__ = ["run_node"]


def run_node(factory: Callable[[], Node], args: Sequence[str] | None = None) -> NoReturn:
    """Initialise rclpy, build the node with ``factory``, spin it until shutdown, clean up.

    The node spins on rclpy's SingleThreadedExecutor: vla_ros callbacks are short or block on purpose
    (a torque switch, a recorder starting), waits for other nodes are coroutines, and bus, capture and
    inference work runs on threads of its own. (rclpy's
    MultiThreadedExecutor up to Kilted re-yields the tasks queued for its pool on every wake-up, so a
    node receiving a few hundred messages a second spun a core at ~90 %: ros2/rclpy#1223 and #1452,
    fixed in rolling. Measured here on the bag recorder, the supervisor and the status monitor.)

    Args:
        factory: builds the node (after ``rclpy.init``); may raise VlaRosError to refuse to start.
        args: command-line arguments (default ``sys.argv``), including ``--ros-args``.

    Returns:
        Never: once the node is closed and rclpy shut down, the process ends at once (``os._exit``) with
        status 1 if the node refused to start, else the node's ``exit_status`` attribute (default 0).
        Python's own finalisation (module teardown with torch and lerobot loaded, their atexit hooks)
        took seconds on a loaded 2-core machine, past ``ros2 launch``'s 5 s SIGINT grace, and has
        nothing left to clean up here.
    """
    rclpy.init(args=list(args) if args is not None else sys.argv)
    node: Node | None = None
    refused = False
    try:
        node = factory()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        # Not executor.spin(): a node ends its own process by setting `finished` (shutting the context
        # down from a callback thread races this thread's next wait).
        while rclpy.ok() and not getattr(node, "finished", False):
            executor.spin_once(timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except VlaRosError as err:
        name = node.get_name() if node is not None else "vla_ros"
        rclpy.logging.get_logger(name).fatal(f"refusing to start: {err}")
        refused = True
    finally:
        if node is not None:
            close = getattr(node, "close", None)
            if close is not None:
                close()
            node.destroy_node()
        rclpy.try_shutdown()
    status = 1 if refused else int(getattr(node, "exit_status", 0) or 0)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
