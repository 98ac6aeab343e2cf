"""Time alignment of recorded streams on the dataset's fixed frame grid, and sync statistics.

Pure NumPy, no ROS, no I/O. Times are int64 nanoseconds (header or receive stamps).

The grid: ticks ``t_k = t_0 + round(k * 1e9 / fps)`` over the window where every required stream has
data, ``t_0 = max(first stamps)`` to ``max(t_k) <= min(last stamps)``; frame ``k`` gets timestamp
``k / fps`` in the dataset, as lerobot writes it.

Sampling rules:

* observations (state, images) take the **latest sample at or before** the tick, never one from the
  future, if it is at most ``tolerance`` old;
* the action takes the **first command at or after** the tick, at most ``tolerance`` later. This is how
  ``lerobot-record`` pairs them: its loop reads ``robot.get_observation()`` first and then the action
  (``teleop.get_action()`` or ``predict_action`` on that observation) that it sends right after, so
  frame ``k`` holds the observation at ``t_k`` and the first command issued after it (lerobot 0.4.4
  ``scripts/lerobot_record.py``, ``record_loop``).

A tick with no sample within tolerance is *bad*; it is never filled in. The caller decides what to
do (:func:`good_segments` to split, or fail).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "LATEST",
    "NEXT",
    "Alignment",
    "StreamTimes",
    "SyncStats",
    "align",
    "common_window",
    "format_stats",
    "good_segments",
    "grid",
    "sync_stats",
]

LATEST = "latest"
"""Rule: latest sample at or before the tick (observations)."""
NEXT = "next"
"""Rule: first sample at or after the tick (actions)."""

_NS = 1_000_000_000


@dataclass(frozen=True)
class StreamTimes:
    """The stamps of one stream and how to sample it.

    Attributes:
        key: dataset key (``observation.state``, ``action``, ``observation.images.front``).
        topic: the topic, for reports.
        stamps_ns: ``(N,)`` int64 stamps, non-decreasing.
        rule: :data:`LATEST` or :data:`NEXT`.
        tolerance_ns: largest allowed age (LATEST) or delay (NEXT), ns.
    """

    key: str
    topic: str
    stamps_ns: np.ndarray
    rule: str
    tolerance_ns: int

    def __post_init__(self) -> None:
        if self.rule not in (LATEST, NEXT):
            raise ValueError(f"{self.key}: rule must be {LATEST!r} or {NEXT!r}, got {self.rule!r}")


@dataclass
class Alignment:
    """Which sample each tick uses, per stream.

    Attributes:
        ticks_ns: ``(T,)`` int64 tick times.
        indices: ``{key: (T,) int64}`` index into the stream's stamps (-1 where there is none).
        lags_ns: ``{key: (T,) int64}`` age (LATEST) or delay (NEXT) of the chosen sample; -1 if none.
        ok: ``{key: (T,) bool}`` chosen sample exists and is within tolerance.
    """

    ticks_ns: np.ndarray
    indices: dict[str, np.ndarray]
    lags_ns: dict[str, np.ndarray]
    ok: dict[str, np.ndarray]

    @property
    def all_ok(self) -> np.ndarray:
        """``(T,)`` bool: every stream is within tolerance at that tick."""
        mask = np.ones(len(self.ticks_ns), dtype=bool)
        for ok in self.ok.values():
            mask &= ok
        return mask

    def subset(self, lo: int, hi: int) -> Alignment:
        """The ticks ``lo:hi``."""
        return Alignment(
            self.ticks_ns[lo:hi],
            {k: v[lo:hi] for k, v in self.indices.items()},
            {k: v[lo:hi] for k, v in self.lags_ns.items()},
            {k: v[lo:hi] for k, v in self.ok.items()},
        )


def grid(start_ns: int, end_ns: int, fps: int) -> np.ndarray:
    """Ticks ``start + round(k * 1e9 / fps)`` for all ``k >= 0`` with tick ``<= end``; int64 ns."""
    if fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    if end_ns < start_ns:
        return np.zeros(0, dtype=np.int64)
    count = (end_ns - start_ns) * fps // _NS + 1
    k = np.arange(count, dtype=np.int64)
    ticks = start_ns + (2 * k * _NS + fps) // (2 * fps)
    return ticks[ticks <= end_ns]


def common_window(streams: Sequence[StreamTimes]) -> tuple[int, int] | None:
    """``(max of first stamps, min of last stamps)``, or None if a stream is empty or they do not overlap."""
    if not streams or any(len(s.stamps_ns) == 0 for s in streams):
        return None
    start = max(int(s.stamps_ns[0]) for s in streams)
    end = min(int(s.stamps_ns[-1]) for s in streams)
    return (start, end) if start <= end else None


def _select(stream: StreamTimes, ticks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    stamps = np.asarray(stream.stamps_ns, dtype=np.int64)
    if stream.rule == LATEST:
        idx = np.searchsorted(stamps, ticks, side="right") - 1
        exists = idx >= 0
        lag = np.where(exists, ticks - stamps[np.clip(idx, 0, None)], -1)
    else:
        idx = np.searchsorted(stamps, ticks, side="left")
        exists = idx < len(stamps)
        lag = np.where(exists, stamps[np.clip(idx, None, len(stamps) - 1)] - ticks, -1)
    idx = np.where(exists, idx, -1).astype(np.int64)
    ok = exists & (lag <= stream.tolerance_ns)
    return idx, lag.astype(np.int64), ok


def align(streams: Sequence[StreamTimes], fps: int, window: tuple[int, int] | None = None) -> Alignment:
    """Sample every stream on the grid of ``window`` (default: :func:`common_window`).

    Returns an empty alignment (no ticks) when the streams have no common window.
    """
    if window is None:
        window = common_window(streams)
    ticks = grid(*window, fps) if window is not None else np.zeros(0, dtype=np.int64)
    indices, lags, oks = {}, {}, {}
    for s in streams:
        indices[s.key], lags[s.key], oks[s.key] = _select(s, ticks)
    return Alignment(ticks, indices, lags, oks)


def good_segments(mask: np.ndarray, min_length: int = 1) -> list[tuple[int, int]]:
    """Maximal runs of True in ``mask`` as ``[lo, hi)`` pairs, keeping runs of at least ``min_length``."""
    padded = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    runs = list(zip(edges[::2].tolist(), edges[1::2].tolist()))
    return [(lo, hi) for lo, hi in runs if hi - lo >= max(1, min_length)]


@dataclass(frozen=True)
class SyncStats:
    """How well one stream fits the grid.

    Attributes:
        key, topic, rule: the stream.
        messages: samples inside the window.
        rate_hz: their mean rate.
        ticks: grid ticks; ``bad_ticks``: ticks without a sample within tolerance.
        lag_median_ms, lag_p95_ms, lag_max_ms: age (LATEST) or delay (NEXT) of the used samples.
        used: distinct samples used; ``repeated``: ticks reusing the previous tick's sample;
        ``skipped``: samples in the window no tick used.
    """

    key: str
    topic: str
    rule: str
    messages: int
    rate_hz: float
    ticks: int
    bad_ticks: int
    lag_median_ms: float
    lag_p95_ms: float
    lag_max_ms: float
    used: int
    repeated: int
    skipped: int


def sync_stats(streams: Sequence[StreamTimes], alignment: Alignment) -> list[SyncStats]:
    """Per-stream statistics of ``alignment`` (over its ticks)."""
    ticks = alignment.ticks_ns
    out = []
    for s in streams:
        idx, lag, ok = alignment.indices[s.key], alignment.lags_ns[s.key], alignment.ok[s.key]
        stamps = np.asarray(s.stamps_ns, dtype=np.int64)
        if len(ticks):
            in_window = np.flatnonzero((stamps >= ticks[0]) & (stamps <= ticks[-1]))
            span_s = (ticks[-1] - ticks[0]) / _NS
        else:
            in_window, span_s = np.zeros(0, dtype=np.int64), 0.0
        used = np.unique(idx[idx >= 0])
        lags_ms = lag[lag >= 0] / 1e6
        n_in = len(in_window)
        out.append(SyncStats(
            key=s.key,
            topic=s.topic,
            rule=s.rule,
            messages=int(n_in),
            rate_hz=float((n_in - 1) / span_s) if span_s > 0 and n_in > 1 else 0.0,
            ticks=len(ticks),
            bad_ticks=int(np.count_nonzero(~ok)),
            lag_median_ms=float(np.median(lags_ms)) if lags_ms.size else float("nan"),
            lag_p95_ms=float(np.percentile(lags_ms, 95)) if lags_ms.size else float("nan"),
            lag_max_ms=float(lags_ms.max()) if lags_ms.size else float("nan"),
            used=len(used),
            repeated=int(np.count_nonzero((idx[1:] == idx[:-1]) & (idx[1:] >= 0))),
            skipped=len(np.setdiff1d(in_window, used)),
        ))
    return out


def format_stats(stats: Sequence[SyncStats], tolerances_ms: dict[str, float] | None = None) -> str:
    """A fixed-width table of :class:`SyncStats`, one stream per line."""
    head = (f"{'stream':<28} {'rule':<6} {'msgs':>6} {'Hz':>7} {'ticks':>6} {'bad':>5} "
            f"{'lag med/p95/max ms':>20} {'tol ms':>7} {'used':>6} {'rep':>5} {'skip':>5}  topic")
    lines = [head]
    for s in stats:
        tol = f"{tolerances_ms[s.key]:.0f}" if tolerances_ms and s.key in tolerances_ms else "-"
        lag = f"{s.lag_median_ms:.1f}/{s.lag_p95_ms:.1f}/{s.lag_max_ms:.1f}"
        lines.append(
            f"{s.key:<28} {s.rule:<6} {s.messages:>6} {s.rate_hz:>7.1f} {s.ticks:>6} {s.bad_ticks:>5} "
            f"{lag:>20} {tol:>7} {s.used:>6} {s.repeated:>5} {s.skipped:>5}  {s.topic}"
        )
    return "\n".join(lines)
