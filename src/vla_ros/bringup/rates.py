"""Message-rate measurement over a sliding window (ROS-agnostic)."""

from __future__ import annotations

from collections import deque

__all__ = ["GatedRate", "RateMeter"]


class RateMeter:
    """Counts events and reports their rate over the last ``window_s`` seconds.

    Args:
        window_s: averaging window, seconds.
    """

    def __init__(self, window_s: float = 2.0) -> None:
        self.window_s = window_s
        self._stamps: deque[float] = deque()
        self.count = 0

    def tick(self, now_s: float) -> None:
        """Record one event at time ``now_s`` (seconds, any monotonic clock)."""
        self._stamps.append(now_s)
        self.count += 1
        self._trim(now_s)

    def rate_hz(self, now_s: float) -> float:
        """Events per second over the window ending at ``now_s`` (0 when none)."""
        self._trim(now_s)
        if len(self._stamps) < 2:
            return 0.0
        span = max(now_s - self._stamps[0], self._stamps[-1] - self._stamps[0])
        return (len(self._stamps) - 1) / span if span > 0 else 0.0

    def _trim(self, now_s: float) -> None:
        while self._stamps and self._stamps[0] < now_s - self.window_s:
            self._stamps.popleft()


class GatedRate:
    """Mean rate of events over the time a gate was open (e.g. policy commands while RUNNING).

    Times are seconds of one monotonic clock; events while the gate is shut are not counted.
    """

    def __init__(self) -> None:
        self.count = 0
        self.open_s = 0.0
        self._opened: float | None = None

    def gate(self, now_s: float, is_open: bool) -> None:
        """Open or shut the gate at ``now_s`` (repeating the current state is harmless)."""
        if is_open and self._opened is None:
            self._opened = now_s
        elif not is_open and self._opened is not None:
            self.open_s += now_s - self._opened
            self._opened = None

    def tick(self, now_s: float) -> None:
        """One event at ``now_s``; counted only while the gate is open."""
        if self._opened is not None:
            self.count += 1

    def rate_hz(self, now_s: float) -> float:
        """Events per second of open time up to ``now_s`` (0 before any)."""
        span = self.open_s + (now_s - self._opened if self._opened is not None else 0.0)
        return self.count / span if span > 0 else 0.0
