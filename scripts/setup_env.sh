#!/usr/bin/env bash
# Sets up the no-ROS-install environment: a virtual environment with ROS 2 Kilted from PyPI,
# lerobot 0.4.4 (smolvla, feetech), MuJoCo, vla_ros itself (editable), and the interfaces in msg/
# built against those wheels and installed into the environment. Idempotent: reruns only what changed.
#
# Usage: scripts/setup_env.sh            (VENV=path to use another environment, default .venv)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
VENV="$(realpath -m "$VENV")"  # absolute: the build below runs in another directory
PY="${PYTHON:-python3}"

die() { printf '\nvla_ros setup: %s\n' "$1" >&2; exit 1; }
say() { printf 'vla_ros setup: %s\n' "$1"; }

# Prerequisites, each with the fix.
command -v "$PY" >/dev/null || die "$PY not found. Install Python 3.10+ (Debian/Ubuntu: apt-get install python3 python3-venv python3-dev)."
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "Python 3.10+ is needed, found $("$PY" --version 2>&1)."
"$PY" -c 'import venv, ensurepip' 2>/dev/null || die "the Python venv module is missing (Debian/Ubuntu: apt-get install python3-venv)."
command -v cc >/dev/null && command -v c++ >/dev/null || die "a C/C++ compiler is needed to build the interfaces in msg/ (Debian/Ubuntu: apt-get install build-essential)."
"$PY" - <<'PYEOF' || die "Python headers are missing (Debian/Ubuntu: apt-get install python3-dev)."
import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))
PYEOF

if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtual environment $VENV"
  "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"

stamp_of() { cat "$@" 2>/dev/null | sha1sum | cut -c1-16; }

# 1. Python dependencies and vla_ros (editable).
deps_stamp="$(stamp_of "$ROOT/setup.py" "$ROOT/resource/executables.txt" "$ROOT/resource/requirements.txt")"
if [ "$(cat "$VENV/.vla_ros_deps" 2>/dev/null)" != "$deps_stamp" ]; then
  say "installing Python dependencies (first time: several minutes, ~4 GB with torch)"
  "$VPY" -m pip install --quiet --upgrade pip wheel
  "$VPY" -m pip install --quiet -e "$ROOT[ros,build,train,dev]" \
    || die "pip install failed (see above). Troubleshooting: README, section 'Troubleshooting'."
  echo "$deps_stamp" > "$VENV/.vla_ros_deps"
fi

# 2. Interfaces (msg/) built with colcon against the ROS 2 wheels, installed into the environment.
msgs_stamp="$(stamp_of "$ROOT"/msg/*.msg "$ROOT/CMakeLists.txt" "$ROOT/package.xml")"
if [ "$(cat "$VENV/.vla_ros_msgs" 2>/dev/null)" != "$msgs_stamp" ] \
   || ! "$VPY" -c 'import vla_ros.msg' 2>/dev/null; then
  say "building interfaces in msg/ with colcon"
  ws="$ROOT/build/ros"
  mkdir -p "$ws/src"
  # CMake refuses exported include paths inside the source tree, and .venv lives there: build
  # through a link so that the source directory is not a prefix of the environment.
  ln -sfn "$ROOT" "$ws/src/vla_ros"
  (
    cd "$ws"
    export AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV"
    "$VENV/bin/colcon" --log-base "$ws/log" build --base-paths "$ws/src" \
      --build-base "$ws/build" --install-base "$VENV" --merge-install \
      --event-handlers console_direct- --cmake-args -DVLA_ROS_INSTALL_PYTHON=OFF \
      -DBUILD_TESTING=OFF "-DPython3_EXECUTABLE=$VPY" >"$ws/build.log" 2>&1
  ) || { tail -40 "$ws/build.log" >&2; die "colcon build of msg/ failed (log: $ws/build.log)."; }
  "$VPY" -c 'import vla_ros.msg' || die "vla_ros.msg does not import after the build."
  echo "$msgs_stamp" > "$VENV/.vla_ros_msgs"
fi
say "ready ($VENV)"
