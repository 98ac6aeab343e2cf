"""Deployment diagnosis (``vla-ros diagnose``): what the arm did in deployment next to what it was taught.

ROS-agnostic: datasets through lerobot, bags through the converter's rosbags path; never imports rclpy.
The seed lesson it automates: "quantitative debugging beats trial-and-error" (task string, swapped
cameras, gripper never closing, start pose, jerky chunks, mean-seeking outputs, epochs).

* :mod:`.sources`: both sides in the same frames and units (:class:`Recording`);
* :mod:`.traces`: ``sim_evaluator`` traces as deployment episodes;
* :mod:`.statistics`: distributions, Wasserstein distance, gripper threshold and events, image signatures;
* :mod:`.checkpoint`: the checkpoint's action normalisation and epoch budget;
* :mod:`.checks`: one function per check, statistics and findings;
* :mod:`.findings`: :class:`Finding` and the ranking;
* :mod:`.report`: ``report.json`` (named, versioned schema) and the stdout summary;
* :mod:`.plots`: PNG plots;
* :mod:`.diagnosis`: :func:`diagnose` and :func:`write_diagnosis` (aside, then moved into place);
* :mod:`.cli`: ``diagnose_main``.

Example::

    from vla_ros.diagnose import diagnose, write_diagnosis
    result = diagnose("data/reach", ["eval/episode_0", "eval/episode_1"], images=False)
    print(result.findings[0].message)
    write_diagnosis(result, "diagnosis/reach")
"""

from vla_ros.diagnose.diagnosis import Diagnosis, diagnose, write_diagnosis
from vla_ros.diagnose.errors import DiagnoseError, DiagnoseInputError
from vla_ros.diagnose.findings import Finding
from vla_ros.diagnose.report import SCHEMA, SCHEMA_VERSION
from vla_ros.diagnose.sources import Recording

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "DiagnoseError",
    "DiagnoseInputError",
    "Diagnosis",
    "Finding",
    "Recording",
    "diagnose",
    "write_diagnosis",
]
