"""Time alignment rules, table-driven (pure NumPy, no bags)."""

from __future__ import annotations

import numpy as np
import pytest

from vla_ros.convert.align import (
    LATEST,
    NEXT,
    StreamTimes,
    align,
    common_window,
    format_stats,
    good_segments,
    grid,
    sync_stats,
)
from vla_ros.convert.episodes import episode_windows, restrict

MS = 1_000_000


def stream(key: str, stamps_ms: list[float], rule: str = LATEST, tol_ms: float = 50) -> StreamTimes:
    return StreamTimes(key, f"/{key}", (np.asarray(stamps_ms) * MS).astype(np.int64), rule, int(tol_ms * MS))


@pytest.mark.parametrize(
    ("start", "end", "fps", "expected_ms"),
    [
        (0, 100 * MS, 30, [0, 33.333333, 66.666667, 100]),
        (0, 99 * MS, 30, [0, 33.333333, 66.666667]),
        (5 * MS, 5 * MS, 30, [5]),
        (10 * MS, 5 * MS, 30, []),
        (0, 1000 * MS, 1, [0, 1000]),
    ],
)
def test_grid(start: int, end: int, fps: int, expected_ms: list[float]) -> None:
    np.testing.assert_allclose(grid(start, end, fps) / MS, expected_ms, atol=1e-6)


def test_grid_has_no_drift_over_an_hour() -> None:
    ticks = grid(0, 3600 * 1_000_000_000, 30)
    assert len(ticks) == 108_001 and ticks[-1] == 3600 * 1_000_000_000
    assert set(np.diff(ticks).tolist()) == {33_333_333, 33_333_334}


@pytest.mark.parametrize(
    ("rule", "stamps_ms", "tick_ms", "index", "lag_ms", "ok"),
    [
        (LATEST, [0, 10, 20], 15, 1, 5, True),  # latest at or before
        (LATEST, [0, 10, 20], 10, 1, 0, True),  # exactly at the tick counts
        (LATEST, [0, 10, 20], 9.999, 0, 9.999, True),  # never from the future
        (LATEST, [0, 100], 60, 0, 60, False),  # too old
        (LATEST, [10, 20], 5, -1, -1, False),  # nothing before
        (NEXT, [0, 10, 20], 15, 2, 5, True),  # first at or after
        (NEXT, [0, 10, 20], 10, 1, 0, True),
        (NEXT, [0, 200], 1, 1, 199, False),  # too late
        (NEXT, [0, 10], 11, -1, -1, False),  # nothing after
    ],
)
def test_sampling_rules(
    rule: str, stamps_ms: list[float], tick_ms: float, index: int, lag_ms: float, ok: bool
) -> None:
    s = stream("x", stamps_ms, rule)
    al = align([s], 30, window=(int(tick_ms * MS), int(tick_ms * MS)))
    assert al.indices["x"].tolist() == [index]
    assert al.lags_ns["x"][0] == (-1 if lag_ms < 0 else pytest.approx(lag_ms * MS, abs=1))
    assert al.ok["x"].tolist() == [ok]


def test_window_is_where_all_streams_exist() -> None:
    a, b = stream("a", [0, 10, 20, 500]), stream("b", [30, 40, 450])
    assert common_window([a, b]) == (30 * MS, 450 * MS)
    assert common_window([a, stream("c", [])]) is None
    assert common_window([stream("d", [0, 1]), stream("e", [5, 6])]) is None


def test_alignment_and_statistics() -> None:
    state = stream("observation.state", list(range(0, 1001, 10)))  # 100 Hz
    action = stream("action", list(range(3, 1004, 10)), NEXT, 100)  # 100 Hz, 3 ms later
    frames = [0, 33, 67, 100, 200, 233, 267, 300, *range(333, 1001, 33)]  # a 100 ms hole
    camera = stream("observation.images.front", frames, LATEST, 50)
    al = align([state, action, camera], 30)
    assert al.ticks_ns[0] == 3 * MS and al.ticks_ns[-1] <= 990 * MS
    assert np.all(al.ok["observation.state"]) and np.all(al.ok["action"])
    bad = np.flatnonzero(~al.ok["observation.images.front"])
    assert bad.tolist() == [5]  # tick at 169.7 ms: the latest frame (100 ms) is 69.7 ms old
    assert al.all_ok.tolist() == al.ok["observation.images.front"].tolist()
    stats = {s.key: s for s in sync_stats([state, action, camera], al)}
    assert stats["observation.images.front"].bad_ticks == 1
    assert stats["observation.images.front"].repeated >= 1
    assert stats["observation.state"].rate_hz == pytest.approx(100, rel=0.02)
    assert stats["action"].lag_max_ms <= 10
    assert stats["observation.state"].skipped > 0  # 100 Hz into 30 fps
    table = format_stats(list(stats.values()), {"action": 100})
    assert "observation.images.front" in table and "/action" in table


@pytest.mark.parametrize(
    ("mask", "min_length", "runs"),
    [
        ([1, 1, 0, 1, 1, 1], 1, [(0, 2), (3, 6)]),
        ([1, 1, 0, 1, 1, 1], 3, [(3, 6)]),
        ([0, 0], 1, []),
        ([1, 1, 1], 1, [(0, 3)]),
    ],
)
def test_good_segments(mask: list[int], min_length: int, runs: list[tuple[int, int]]) -> None:
    assert good_segments(np.asarray(mask, dtype=bool), min_length) == runs


@pytest.mark.parametrize(
    ("stamps", "values", "windows"),
    [
        (None, None, [(0, 101)]),
        ([10, 50], None, [(10, 50), (50, 101)]),  # each marker starts one
        ([10, 50, 70], [True, False, True], [(10, 50), (70, 101)]),  # Bool: true starts, false ends
        ([10, 20, 60], [True, True, False], [(10, 20), (20, 60)]),  # a second true restarts
        ([30], [False], []),
    ],
)
def test_episode_windows(
    stamps: list[int] | None, values: list[bool] | None, windows: list[tuple[int, int]]
) -> None:
    assert episode_windows(0, 100, stamps, values) == windows


def test_restrict_is_half_open() -> None:
    stamps = np.array([0, 10, 20, 30])
    assert restrict(stamps, (10, 30)) == slice(1, 3)
