"""Fixtures of the teleop tests: vla_ros executables as child processes and a probe node over real DDS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ros_testlib import NodeProcess


@pytest.fixture
def start_node(tmp_path: Path) -> Iterator[Callable[..., NodeProcess]]:
    """Factory ``start_node(executable, namespace, **params)`` of NodeProcesses logging to
    ``tmp_path/<executable>.log``; all are stopped (Ctrl-C), last first, after the test."""
    started: list[NodeProcess] = []

    def start(executable: str, namespace: str, **params: Any) -> NodeProcess:
        started.append(NodeProcess(executable, tmp_path / f"{executable}.log", namespace, **params))
        return started[-1]

    start.started = started  # type: ignore[attr-defined]
    yield start
    for proc in reversed(started):
        proc.stop()


