"""Bench: the reach demo as a newcomer sees it (``vla-ros launch deploy demo:=true``).

Runs ``vla-ros launch deploy demo:=true duration:=D [policy_path:=CKPT]`` (the two-cube scene, the
checkpoint at its own image size, endless episodes) and prints, from its own log: the episode lines and
the success rate per instruction, the ERROR/WARN lines about stale observations, late or missing actions
after the policy's first chunk, and ``status_monitor``'s final summary: the policy's command rate while
RUNNING and each camera's rate as shares of their targets (goals, from issue #17: no such errors, the
policy >= 95 % of its fps, the cameras >= 90 % of theirs).

Run: ``python bench/bench_demo.py [--duration-s 120]`` (duration plus about a minute of start-up).
Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

EPISODE = re.compile(r'episode (\d+): "([^"]+)": (success|failure|refused|not scored|error)')
SUMMARY = re.compile(r"summary over .*")
LATE = re.compile(r"\[(ERROR|WARN)\].*(stale|nothing to play|late|expired)", re.IGNORECASE)
FIRST_CHUNK = re.compile(r"\[smolvla_policy\].*(RUNNING|chunk)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration-s", type=float, default=120.0)
    parser.add_argument("--policy-path", default="", help="checkpoint ('' = the tiny offline demo policy)")
    args = parser.parse_args()
    env = dict(os.environ, ROS_DOMAIN_ID=str(random.randint(101, 200)), PYTHONUNBUFFERED="1")
    env.setdefault("VLA_ROS_HOME", tempfile.mkdtemp(prefix="bench_demo_"))
    out = Path(tempfile.mkdtemp(prefix="bench_demo_out_"))
    command = [str(Path(sys.executable).parent / "vla-ros"), "launch", "deploy", "demo:=true",
               f"duration:={args.duration_s:g}", f"eval_output:={out}", f"namespace:=bd{os.getpid()}",
               *([f"policy_path:={args.policy_path}"] if args.policy_path else [])]
    print("$", " ".join(command), flush=True)
    text = subprocess.run(command, env=env, capture_output=True, text=True, check=False).stdout
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if "episode 1:" in line or FIRST_CHUNK.search(line)),
                 len(lines))
    episodes = [m.groups() for m in map(EPISODE.search, lines) if m]
    for n, task, outcome in episodes:
        print(f"  episode {n}: {task}: {outcome}")
    for task in sorted({t for _, t, _ in episodes}):
        done = [o for _, t, o in episodes if t == task]
        print(f"{task}: {done.count('success')}/{len(done)} successes")
    late = [line for line in lines[first:] if LATE.search(line)]
    print(f"stale/late/nothing-to-play lines after the first chunk: {len(late)}")
    for line in late[:10]:
        print("  ", line[-200:])
    summary = [m.group(0) for m in map(SUMMARY.search, lines) if m]
    print(summary[-1] if summary else "no status_monitor summary (did the graph start?)")
    return 0 if episodes and summary else 1


if __name__ == "__main__":
    sys.exit(main())
