"""The operator's sessions: record and evaluate episodes with the keys lerobot-record users know.

ROS-agnostic core (never imports rclpy):

* :mod:`vla_ros.session.recording`: the recording episode loop (phases recording / resetting / paused,
  keys → ← Esc and space), acting through two small interfaces (recorder, e-stop).
* :mod:`vla_ros.session.evaluation`: the operator-scored evaluation loop (s / f / r), results.json in
  the simulator's schema.
* :mod:`vla_ros.session.keys`: keys from the controlling terminal (cbreak mode).
* :mod:`vla_ros.session.speech`: spoken prompts with ``spd-say``/``say`` when installed.
* :mod:`vla_ros.session.status`: the one status line.
* :mod:`vla_ros.session.commands`: ``vla-ros task/estop/enable/disable/status`` (argument parsing and
  output; the DDS side is :mod:`vla_ros.session.client_node`).

Thin adapters: :mod:`vla_ros.session.node` (``record_session``), :mod:`vla_ros.session.eval_node`
(``eval_session``), :mod:`vla_ros.session.io_node` (blocking service calls, topic rates) and
:mod:`vla_ros.session.client_node` (a short-lived client of a running graph).
"""
