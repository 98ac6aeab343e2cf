"""Repeated log lines, counted instead of repeated: one line per kind and period, the next saying how many
were held back (ROS-agnostic; rclpy's ``throttle_duration_sec`` drops them without a count)."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["LogThrottle"]


class LogThrottle:
    """Decides which messages of each ``key`` (a kind of message) to log.

    Args:
        clock: monotonic seconds (default :func:`time.monotonic`).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: dict[str, tuple[str, float, int]] = {}  # key: (message, logged at, held back since)

    def admit(self, key: str, message: str, period_s: float = 0.0) -> str | None:
        """The line to log now, or None to hold ``message`` back.

        With ``period_s > 0`` at most one line of ``key`` per period; the first after a period ends
        says how many were held back (``[and N more like it in the T s before]``). With ``period_s ==
        0`` a message identical to the last of its key is not logged again.
        """
        now = self._clock()
        last = self._last.get(key)
        if last is not None and period_s and now - last[1] < period_s:
            self._last[key] = (last[0], last[1], last[2] + 1)
            return None
        if last is not None and not period_s and last[0] == message:
            return None
        self._last[key] = (message, now, 0)
        if last is not None and last[2]:
            return f"{message} [and {last[2]} more like it in the {now - last[1]:.0f} s before]"
        return message
