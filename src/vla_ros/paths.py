"""Where vla_ros finds its installed resources (launch, config, urdf, rviz, policies).

Order: the source checkout this module runs from (editable installs, so edits take effect), the ROS
ament index (``share/vla_ros`` of a colcon install), then ``<sys.prefix>/share/vla_ros`` (pip).
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

__all__ = ["SHIPPED_POLICY", "config_file", "share_dir", "shipped_policy_dir", "urdf_file"]

SHIPPED_POLICY = "so101_reach_cubes"
"""The closed-loop policy shipped in ``policies/`` for ``demo:=true`` (issue #17)."""


def _ament_share() -> Path | None:
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory("vla_ros"))
    except (ImportError, LookupError, OSError, ValueError):
        return None


def _is_share(path: Path | None) -> bool:
    return path is not None and (path / "package.xml").is_file() and (path / "config").is_dir()


@cache
def share_dir() -> Path:
    """The directory holding ``launch/``, ``config/``, ``urdf/`` and ``rviz/``.

    Raises:
        FileNotFoundError: no installed or source copy of the resources was found.
    """
    source = Path(__file__).resolve().parents[2]
    if _is_share(source):
        return source
    for path in (_ament_share(), Path(sys.prefix) / "share" / "vla_ros"):
        if path is not None and _is_share(path):
            return path
    raise FileNotFoundError(f"vla_ros resources not found in {source}, the ament index or {sys.prefix}")


def config_file(name: str) -> Path:
    """Path of ``config/<name>`` (e.g. ``"so101_driver.yaml"``)."""
    return share_dir() / "config" / name


def urdf_file() -> Path:
    """Path of the SO-101 URDF written for this project."""
    return share_dir() / "urdf" / "so101.urdf"


def shipped_policy_dir() -> Path:
    """The checkpoint ``demo:=true`` runs unless ``policy_path`` names one: ``policies/so101_reach_cubes``
    of the share, trained and shipped by ``training/closed_loop.py --ship-to`` (its contract,
    ``closed_loop_report.json`` and training log beside the weights)."""
    return share_dir() / "policies" / SHIPPED_POLICY
