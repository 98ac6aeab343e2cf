"""Running one stage of the closed loop as a child process, logged and timed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vla_ros.errors import VlaRosError

__all__ = ["StageError", "StageResult", "run_stage", "vla_ros_command"]


class StageError(VlaRosError):
    """A stage's process failed; the message ends with the tail of its log."""


@dataclass(frozen=True)
class StageResult:
    """How one stage's process ended.

    Attributes:
        name: stage (or condition) name; returncode: the process's exit status;
        wall_s: wall-clock seconds; log: the file holding its combined stdout and stderr.
    """

    name: str
    returncode: int
    wall_s: float
    log: Path

    def tail(self, chars: int = 4000) -> str:
        """The end of the log."""
        return self.log.read_text(errors="replace")[-chars:]


def vla_ros_command(*args: str) -> list[str]:
    """``vla-ros ARGS`` with this interpreter (works from a venv that is not activated)."""
    return [sys.executable, "-m", "vla_ros.cli", *args]


def run_stage(name: str, command: Sequence[str], log_dir: Path, *, timeout_s: float, check: bool = True,
              env: dict[str, str] | None = None) -> StageResult:
    """Run ``command``, its output to ``log_dir/<name>.log`` and a one-line summary to stdout.

    Args:
        name: stage name (the log's name).
        command: the argv to run.
        log_dir: where the log goes (created).
        timeout_s: wall-clock limit; on expiry the process is interrupted (SIGINT, so graphs stop
            cleanly), then killed.
        check: raise on a non-zero exit status.
        env: extra environment variables.

    Raises:
        StageError: non-zero exit with ``check``, or the time limit was reached.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    print(f"[closed-loop] {name}: {' '.join(command)}", flush=True)
    start = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.send_signal(2)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            raise StageError(f"{name} exceeded {timeout_s:g} s; log {log}") from None
    result = StageResult(name, code, time.monotonic() - start, log)
    print(f"[closed-loop] {name}: exit {code} after {result.wall_s:.0f} s (log {log})", flush=True)
    if check and code != 0:
        raise StageError(f"{name} failed with exit status {code}; log {log}:\n{result.tail()}")
    return result
