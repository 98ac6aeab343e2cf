"""The inference worker: a thread that runs one job at a time and never blocks its caller.

The control loop hands it the latest observation with :meth:`InferenceWorker.submit` (returns at once;
a job still waiting is replaced, so the worker always starts on the freshest data) and collects
finished chunks with :meth:`InferenceWorker.poll` (non-blocking). Failures come back as results with
the exception, never as a dead thread. Latency statistics use lerobot's RTC ``LatencyTracker``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from lerobot.policies.rtc.latency_tracker import LatencyTracker

__all__ = ["InferenceWorker", "JobResult", "LatencyStats"]


@dataclass(frozen=True)
class JobResult:
    """The outcome of one job.

    Attributes:
        payload: what was submitted.
        output: what the job function returned (None on failure).
        error: the exception it raised (None on success).
        latency_s: wall time from the job's start to its end, seconds.
        waited_s: time the job waited before it started, seconds.
    """

    payload: Any
    output: Any
    error: BaseException | None
    latency_s: float
    waited_s: float


@dataclass(frozen=True)
class LatencyStats:
    """Latency of successful jobs over the recent window, seconds (0 when there were none).

    Attributes:
        last_s, mean_s, p95_s, p99_s, max_s: figures over the window.
        count: successful jobs since start.
    """

    last_s: float
    mean_s: float
    p95_s: float
    p99_s: float
    max_s: float
    count: int


class InferenceWorker:
    """Runs ``job(payload)`` in a daemon thread, one at a time.

    Args:
        job: the function to run (e.g. a closure around :meth:`PolicyPipeline.predict`).
        name: thread name.
        window: number of recent latencies kept for the statistics.
    """

    def __init__(
        self, job: Callable[[Any], Any], *, name: str = "policy-inference", window: int = 100
    ) -> None:
        self._job = job
        self._cond = threading.Condition()
        self._pending: tuple[Any, float] | None = None
        self._running = False
        self._closed = False
        self._results: deque[JobResult] = deque()
        self._tracker = LatencyTracker(maxlen=window)
        self._recent: deque[float] = deque(maxlen=window)
        self._count = 0
        self._stats = LatencyStats(0.0, 0.0, 0.0, 0.0, 0.0, 0)
        # numpy's quantile imports lazily on first use (hundreds of ms on a busy machine, holding the
        # GIL): pay that here, not when the first job ends while the caller runs a control loop
        np.quantile(np.zeros(2), [0.5, 0.95])
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        """Whether a job is running or waiting."""
        with self._cond:
            return self._running or self._pending is not None

    def submit(self, payload: Any) -> bool:
        """Queue ``payload`` for the next run, replacing a job that has not started yet.

        Returns:
            False if the worker is closed, else True.
        """
        with self._cond:
            if self._closed:
                return False
            self._pending = (payload, time.perf_counter())
            self._cond.notify()
            return True

    def poll(self) -> list[JobResult]:
        """Finished jobs since the last call, oldest first (never blocks)."""
        with self._cond:
            out = list(self._results)
            self._results.clear()
        return out

    def stats(self) -> LatencyStats:
        """Latency statistics of successful jobs (computed by the worker when a job ends: cheap)."""
        return self._stats

    def _update_stats(self, latency_s: float) -> None:
        """Worker thread only, outside the lock (the caller may poll meanwhile)."""
        self._tracker.add(latency_s)
        self._recent.append(latency_s)
        self._count += 1
        recent = np.array(self._recent)
        self._stats = LatencyStats(
            last_s=latency_s,
            mean_s=float(recent.mean()),
            p95_s=float(self._tracker.percentile(0.95)),
            p99_s=float(self._tracker.percentile(0.99)),
            max_s=float(recent.max()),
            count=self._count,
        )

    def close(self, timeout_s: float = 5.0) -> bool:
        """Stop accepting jobs and wait up to ``timeout_s`` for the running one to end.

        Returns:
            True if the thread has ended.
        """
        with self._cond:
            self._closed = True
            self._pending = None
            self._cond.notify_all()
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                assert self._pending is not None
                payload, submitted = self._pending
                self._pending = None
                self._running = True
            start = time.perf_counter()
            output, error = None, None
            try:
                output = self._job(payload)
            except Exception as err:  # reported to the caller, never kills the worker
                error = err
            end = time.perf_counter()
            if error is None:
                self._update_stats(end - start)
            with self._cond:
                self._running = False
                self._results.append(JobResult(payload, output, error, end - start, start - submitted))
