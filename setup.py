"""Python packaging of vla_ros (the pip path; the ROS path builds with CMakeLists.txt).

Entry points come from resource/executables.txt, the list CMakeLists.txt installs into
lib/vla_ros for `ros2 run`, so the two cannot drift.
"""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def console_scripts() -> list[str]:
    lines = (HERE / "resource" / "executables.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def requirements() -> list[str]:
    """resource/requirements.txt, shared with scripts/ros_venv.sh (the ROS install's venv)."""
    lines = (HERE / "resource" / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def share_files() -> list[tuple[str, list[str]]]:
    files = [("share/ament_index/resource_index/packages", ["resource/vla_ros"]),
             ("share/vla_ros", ["package.xml"])]
    tops = ("launch", "config", "urdf", "rviz", "resource", "policies")
    for folder in sorted({p.parent for top in tops for p in (HERE / top).rglob("*") if p.is_file()}):
        paths = sorted(str(p.relative_to(HERE)) for p in folder.glob("*") if p.is_file())
        files.append((f"share/vla_ros/{folder.relative_to(HERE)}", paths))
    return files


setup(
    name="vla_ros",
    version="0.1.0",
    description="SmolVLA on the SO-101 arm over ROS 2, with guardrails and the data loop.",
    license="Apache-2.0",
    python_requires=">=3.10",
    package_dir={"": "src"},
    packages=find_packages("src"),
    package_data={"vla_ros": ["py.typed"]},
    data_files=share_files(),
    install_requires=requirements(),
    extras_require={
        "ros": [
            "ros-kilted-rclpy[fastrtps]",
            "ros-kilted-sensor-msgs",
            "ros-kilted-std-msgs",
            "ros-kilted-std-srvs",
            "ros-kilted-trajectory-msgs",
            "ros-kilted-diagnostic-msgs",
            "ros-kilted-geometry-msgs",
            "ros-kilted-visualization-msgs",
        ],
        "build": [
            "colcon-common-extensions",
            "catkin-pkg",
            "cmake",
            "ros-kilted-rosidl-default-generators",
            "ros-kilted-rosidl-core-generators",
            "ros-kilted-ament-cmake",
            "ros-kilted-ament-cmake-python",
            "ros-kilted-ament-cmake-include-directories",
            "ros-kilted-ament-cmake-ros-core",
            "ros-kilted-ament-package",
        ],
        "train": ["accelerate", "tensorboard"],
        "dev": ["pytest", "pytest-timeout", "pytest-rerunfailures", "ruff", "catkin-pkg", "rosdep"],
    },
    entry_points={"console_scripts": console_scripts()},
)
