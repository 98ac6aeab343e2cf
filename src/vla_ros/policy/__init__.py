"""The SmolVLA policy: checkpoint loading, deployment guards, timed action queue, inference worker.

Two layers (STYLE.md rule 1): everything here except :mod:`vla_ros.policy.node` is ROS-agnostic and
never imports rclpy; ``node.py`` is the thin ``smolvla_policy`` adapter that declares parameters,
converts messages and wires timers, topics and services to this core.

* :mod:`~vla_ros.policy.tiny` builds a tiny, random-weight SmolVLA checkpoint fully offline;
* :mod:`~vla_ros.policy.checkpoint` loads a LeRobot checkpoint with lerobot's own classes;
* :mod:`~vla_ros.policy.guards` refuses deployment mismatches (cameras, task, stale data, NaN);
* :mod:`~vla_ros.policy.chunk_queue` plays chunks at the control rate (replace, blend, rtc);
* :mod:`~vla_ros.policy.pipeline` turns one observation into one chunk (pre/post-processors, units);
* :mod:`~vla_ros.policy.worker` runs the pipeline in a thread that never blocks its caller;
* :mod:`~vla_ros.policy.process` optionally moves the pipeline into a child process (no shared GIL);
* :mod:`~vla_ros.policy.config` holds the node's parameters as a validated dataclass.
"""
