#!/usr/bin/env bash
# The Python side of a ROS 2 install (Humble, Jazzy, Kilted from apt): a virtual environment that
# sees the apt ROS Python (--system-site-packages: rclpy, messages, numpy, yaml) and adds what rosdep
# cannot express: lerobot 0.4.4 with what it pins (torch, torchvision, opencv-python-headless, and
# NumPy 2, which rerun-sdk 0.24+ requires), rosbags and mujoco (resource/requirements.txt). The venv's
# NumPy 2 shadows apt's 1.x: ROS's generated message code uses only NumPy's array fields, never its
# C-API import (rosidl_generator_py's _msg_support.c), so messages work with it; cv_bridge, built
# against NumPy 1.x, then fails to import and vla_ros converts images itself (vla_ros/ros/image.py).
# colcon then builds vla_ros with this interpreter (-DPython3_EXECUTABLE), so `ros2 run`/`ros2 launch`
# start the nodes with it. Ubuntu 24.04 refuses pip into the system Python (PEP 668); a venv is the way.
#
# Usage: scripts/ros_venv.sh VENV [pip install options...]     e.g. scripts/ros_venv.sh ~/ws/venv
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$(realpath -m "${1:?usage: ros_venv.sh VENV [pip options...]}")"; shift
PY="${PYTHON:-python3}"

"$PY" -c 'import rclpy' 2>/dev/null || echo "ros_venv: warning: rclpy is not importable by $PY; source /opt/ros/<distro>/setup.bash first" >&2
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv --system-site-packages "$VENV"
fi
touch "$VENV/COLCON_IGNORE"   # a venv inside the workspace is not a package to build
"$VENV/bin/python" -m pip install -r "$ROOT/resource/requirements.txt" "$@"
echo "ros_venv: ready. Build with: colcon build --packages-select vla_ros --cmake-args -DPython3_EXECUTABLE=$VENV/bin/python"
