"""Closed-loop evaluation in simulation: episodes of the deploy graph scored against the simulator's truth.

Two layers (STYLE.md rule 1):

* :mod:`~vla_ros.evaluate.scoring` (ROS-agnostic, never imports rclpy): the episode plan (tasks
  interleaved, optionally exchanged), gripper→cube distance tracking with the shared success rule of
  :mod:`vla_ros.sim.task`, episode records, per-task summaries and the ``results.json`` format;
* :mod:`~vla_ros.evaluate.trace` (ROS-agnostic): one episode's joint trajectories, commands, distances
  and evenly spaced camera frames, saved as ``episode_NNN.npz``;
* :mod:`~vla_ros.evaluate.config` holds the ``sim_evaluator`` node's parameters as a validated dataclass;
* :mod:`~vla_ros.evaluate.node` (``sim_evaluator``) drives the policy (``policy/enable``, its ``task``
  parameter) and the simulator (``sim/reset``) episode by episode and reads ``sim/objects``.
"""
