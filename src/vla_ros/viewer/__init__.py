"""The live viewer: what the policy sees and does, in rerun (``viewer:=rerun``, ``vla-ros view``).

Two layers (STYLE.md rule 1): a ROS-agnostic logging core that turns plain arrays and strings into
rerun entities (:mod:`~vla_ros.viewer.logger`, named in :mod:`~vla_ros.viewer.entities`, laid out by
:mod:`~vla_ros.viewer.layout`, served or saved by :mod:`~vla_ros.viewer.session`), reused by the live
``rerun_bridge`` node (:mod:`~vla_ros.viewer.node`, the only module importing rclpy) and by
``vla-ros view BAG`` (:mod:`~vla_ros.viewer.bag`). ``vla-ros view DATASET`` is lerobot's own dataset
visualisation in web mode (:mod:`~vla_ros.viewer.dataset`). rerun is imported lazily: without it,
:func:`~vla_ros.viewer.session.rerun_missing` says so and nothing else changes.
"""

from vla_ros.viewer.entities import CameraFeed
from vla_ros.viewer.errors import RerunMissingError, ViewerError

__all__ = ["CameraFeed", "RerunMissingError", "ViewerError"]
