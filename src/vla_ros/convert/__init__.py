"""rosbag → LeRobot v3.0 dataset conversion (``vla-ros convert`` / ``vla-ros validate``).

ROS-agnostic: reads bags with rosbags and writes with lerobot's ``LeRobotDataset``; never imports rclpy.

* :mod:`.mapping`: which topic feeds which dataset key (``config/convert.yaml``), units, topics to record;
* :mod:`.reader`: bag reading and validation (two passes: stamps and joints, then the chosen images);
* :mod:`.episodes`: one episode per bag, or split on an episode-marker topic;
* :mod:`.align`: the fixed-fps grid, sampling rules and sync statistics (pure);
* :mod:`.writer`: LeRobotDataset writing, aside then moved into place, append;
* :mod:`.converter`: :func:`convert_bags`, the Python API;
* :mod:`.validate`: :func:`validate_dataset`;
* :mod:`.cli`: ``convert_main`` / ``validate_main``.

Example::

    from vla_ros.convert import convert_bags, load_config, validate_dataset
    result = convert_bags(["bags/episode_0"], "datasets/pick", load_config(units="rad", task="pick the cube"))
    assert validate_dataset(result.out).ok
"""

from vla_ros.convert.converter import ConvertResult, convert_bags
from vla_ros.convert.mapping import ConvertConfig, StreamSpec, TopicMapping, load_config, topics_to_record
from vla_ros.convert.validate import ValidationReport, validate_dataset

__all__ = [
    "ConvertConfig",
    "ConvertResult",
    "StreamSpec",
    "TopicMapping",
    "ValidationReport",
    "convert_bags",
    "load_config",
    "topics_to_record",
    "validate_dataset",
]
