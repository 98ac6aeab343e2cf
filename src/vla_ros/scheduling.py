"""Keeping the calling thread's CPU scheduling policy across code that changes it; ROS-agnostic.

SVT-AV1 (``libsvtav1``, lerobot's default video codec, through PyAV) sets the thread that opens an
encoder to ``SCHED_FIFO`` priority 99 when it may (root, or ``CAP_SYS_NICE``) and leaves it so.
Everything that thread runs or starts afterwards (rclpy nodes, ``ros2 launch``, a browser, training)
then runs real-time and can take every core from the rest of the machine: a simulated arm's bus
misses its replies, a driver drops the arm. Source: SVT-AV1 ``Source/Lib/Common/Codec/EbThreads.c`` (threads
created with real-time scheduling attributes); measured here with PyAV's bundled SVT-AV1 v3.0.0 (it
logs ``Failed to set thread priority`` for its own threads, yet the caller's is changed).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["keep_scheduling", "scheduling"]

_log = logging.getLogger(__name__)


def scheduling() -> tuple[int, int] | None:
    """``(policy, priority)`` of the calling thread (``os.SCHED_*``), or None where Python cannot tell
    (not Linux or another POSIX with ``sched_getscheduler``)."""
    if not hasattr(os, "sched_getscheduler"):
        return None
    return os.sched_getscheduler(0), os.sched_getparam(0).sched_priority


@contextmanager
def keep_scheduling() -> Iterator[None]:
    """Run the ``with`` body, then give the calling thread back the scheduling policy and priority it
    had before, if the body changed them (logged at debug level)."""
    before = scheduling()
    try:
        yield
    finally:
        after = scheduling()
        if before is not None and after != before:
            _log.debug("scheduling changed to %s inside the block (video encoder?): restoring %s",
                       after, before)
            os.sched_setscheduler(0, before[0], os.sched_param(before[1]))
