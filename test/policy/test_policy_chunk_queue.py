"""The timestamped action queue (pure): stamping, latency compensation, dry queue, overlap merges."""

import numpy as np
import pytest

from vla_ros.errors import BadInputError, ConfigError
from vla_ros.policy.chunk_queue import Chunk, ChunkQueue, MergeReport, inference_delay_steps

FPS = 10.0
P = 1.0 / FPS


def ramp(start: float, n: int, step: float = 1.0, joints: int = 2) -> np.ndarray:
    """(n, joints) actions start, start+step, ... in every column."""
    return np.repeat((start + step * np.arange(n))[:, None], joints, axis=1)


@pytest.mark.parametrize(
    ("obs_time", "now", "first_future", "popped"),
    [
        (0.0, 0.0, 0, 0.0),            # no latency: action 0 is for now
        (0.0, 0.34, 3, 3.0),           # 340 ms latency: actions 0..2 have passed
        (0.0, 0.36, 4, 4.0),           # nearer to action 4's time than to action 3's
        (0.0, 0.96, 10, None),         # the whole chunk has passed: dry
        (1.0, 1.0 - 0.04, 0, 0.0),     # observation slightly "ahead" (clock skew) still plays
    ],
)
def test_latency_compensation(obs_time, now, first_future, popped):
    q = ChunkQueue(FPS)
    report = q.merge(Chunk(obs_time, ramp(0, 10)), now)
    assert report.first_future_index == first_future
    action = q.pop(now)
    if popped is None:
        assert action is None
    else:
        assert action[0] == popped


def test_one_action_per_tick_on_time():
    q = ChunkQueue(FPS)
    q.merge(Chunk(0.0, ramp(0, 5)), 0.0)
    got = [q.pop(t)[0] for t in 0.01 + P * np.arange(5)]
    assert got == [0, 1, 2, 3, 4]
    assert q.pop(0.51) is None and q.depth(0.51) == 0


def test_missed_ticks_drop_late_actions():
    q = ChunkQueue(FPS)
    q.merge(Chunk(0.0, ramp(0, 10)), 0.0)
    assert q.pop(0.0)[0] == 0
    # the control loop stalled for 350 ms: actions 1..2 missed their ticks (a period late or more)
    assert q.pop(0.35)[0] == 3
    assert q.depth(0.35) == 6


def test_early_tick_waits_for_the_next_action():
    q = ChunkQueue(FPS)
    q.merge(Chunk(1.0, ramp(0, 3)), 0.85)
    assert q.pop(0.85) is None          # action 0 is for t = 1.0, more than a period ahead
    assert q.pop(0.95)[0] == 0


@pytest.mark.parametrize(
    ("n_action_steps", "now", "played"),
    [(None, 0.0, list(range(10))), (4, 0.0, [0, 1, 2, 3]), (1, 0.0, [0]),
     (4, 0.34, [3, 4, 5, 6]),  # counted from the first action whose time has not passed
     (4, 0.76, [8, 9])],
)
def test_n_action_steps_from_the_first_future_action(n_action_steps, now, played):
    q = ChunkQueue(FPS, n_action_steps=n_action_steps)
    q.merge(Chunk(0.0, ramp(0, 10)), now)
    assert q.depth(now) == len(played)
    assert [q.pop(t)[0] for t in now + P * np.arange(len(played))] == played


@pytest.mark.parametrize(
    ("threshold", "now", "expected"),
    [(3, 0.0, False), (3, 0.62, False), (3, 0.72, True), (0, 0.95, False), (0, 1.0, True)],
)
def test_replan_threshold(threshold, now, expected):
    q = ChunkQueue(FPS)
    q.merge(Chunk(0.0, ramp(0, 10)), 0.0)
    assert q.needs_replan(now, threshold) is expected


def _two_chunks(overlap: str) -> tuple[ChunkQueue, np.ndarray, MergeReport]:
    """Old chunk 0..9 from t=0, consumed up to t=0.4; new chunk of 100s from obs at t=0.3, merged at 0.5."""
    q = ChunkQueue(FPS, overlap)
    q.merge(Chunk(0.0, ramp(0, 10), raw=ramp(0, 10) / 10), 0.0)
    for t in P * np.arange(5):
        q.pop(t)
    report = q.merge(Chunk(0.3, np.full((10, 2), 100.0), raw=np.full((10, 2), 10.0)), 0.5)
    assert report.first_future_index == 2  # t = 0.3, 0.4 passed; 0.5 is now
    played = [q.pop(t)[0] for t in 0.5 + P * np.arange(8)]
    return q, np.array(played), report


@pytest.mark.parametrize(
    ("overlap", "played"),
    [
        ("replace", [100.0] * 8),
        ("rtc", [100.0] * 8),  # RTC's smoothing is in the guided chunk; the queue replaces like lerobot's
        ("blend", [5 + (100 - 5) * 1 / 6, 6 + (100 - 6) * 2 / 6, 7 + (100 - 7) * 3 / 6, 8 + (100 - 8) * 4 / 6,
                   9 + (100 - 9) * 5 / 6, 100.0, 100.0, 100.0]),
    ],
)
def test_overlap_merge(overlap, played):
    _, got, report = _two_chunks(overlap)
    assert report.overlap_steps == 5  # old actions 5..9 meet new actions 2..6
    np.testing.assert_allclose(got, played)
    np.testing.assert_allclose(report.executed[:, 0], played)  # what the ActionChunk message shows


def test_blend_has_no_jump_larger_than_replace():
    jumps = {}
    for overlap in ("replace", "blend"):
        _, got, _ = _two_chunks(overlap)
        jumps[overlap] = np.abs(np.diff(np.concatenate([[4.0], got]))).max()
    assert jumps["blend"] < jumps["replace"] / 4


def test_leftover_is_raw_actions_from_the_observation_time():
    q = ChunkQueue(FPS, "rtc")
    assert q.leftover(0.0) is None
    q.merge(Chunk(0.0, ramp(0, 10), raw=ramp(0, 10) / 10), 0.0)
    q.pop(0.0)
    q.pop(0.1)
    np.testing.assert_allclose(q.leftover(0.31)[:, 0], np.arange(3, 10) / 10)
    assert q.leftover(5.0) is None


@pytest.mark.parametrize(
    ("latency", "fps", "steps"),
    [(0.0, 30, 0), (0.1, 30, 3), (0.101, 30, 4), (1.0, 10, 10), (float("nan"), 30, 0)],
)
def test_inference_delay_steps(latency, fps, steps):
    assert inference_delay_steps(latency, fps) == steps


def test_clear_and_dry():
    q = ChunkQueue(FPS)
    q.merge(Chunk(0.0, ramp(0, 3)), 0.0)
    q.clear()
    assert q.pop(0.0) is None and len(q) == 0 and q.depth(0.0) == 0


@pytest.mark.parametrize(
    ("chunk", "fragment"),
    [
        (Chunk(0.0, np.zeros((0, 2))), "T >= 1"),
        (Chunk(0.0, np.zeros(5)), "(T, J)"),
        (Chunk(0.0, np.zeros((5, 2)), raw=np.zeros((4, 2))), "raw must be"),
        (Chunk(float("nan"), np.zeros((5, 2))), "not finite"),
        (Chunk(0.0, np.zeros((5, 3))), "3 columns, the queue 2"),
    ],
)
def test_bad_chunks_refused(chunk, fragment):
    q = ChunkQueue(FPS)
    q.merge(Chunk(0.0, np.zeros((5, 2))), 0.0)
    with pytest.raises(BadInputError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        q.merge(chunk, 0.0)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [({"fps": 0}, "fps=0"), ({"fps": 10, "overlap": "mix"}, "overlap"),
     ({"fps": 10, "n_action_steps": 0}, "n_action_steps")],
)
def test_bad_config_refused(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        ChunkQueue(**kwargs)
