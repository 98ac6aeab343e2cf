"""LogThrottle: repeated log lines counted, on a stepped clock."""

from vla_ros.log_throttle import LogThrottle


def test_one_line_per_period_and_the_next_counts_the_held_back():
    now = [0.0]
    throttle = LogThrottle(lambda: now[0])
    assert throttle.admit("late", "chunk came 0.51 s late", 10.0) == "chunk came 0.51 s late"
    for t in (1.0, 2.0, 9.9):
        now[0] = t
        assert throttle.admit("late", f"chunk came {t:.2f} s late", 10.0) is None
    assert throttle.admit("stale", "stale observations", 10.0) == "stale observations", "keys apart"
    now[0] = 12.0
    assert throttle.admit("late", "chunk came 0.60 s late", 10.0) == (
        "chunk came 0.60 s late [and 3 more like it in the 12 s before]")
    now[0] = 30.0
    assert throttle.admit("late", "chunk came 0.70 s late", 10.0) == "chunk came 0.70 s late"


def test_without_a_period_only_an_identical_repeat_is_held_back():
    throttle = LogThrottle(lambda: 0.0)
    assert throttle.admit("error", "a", 0.0) == "a"
    assert throttle.admit("error", "a", 0.0) is None
    assert throttle.admit("error", "b", 0.0) == "b"
    assert throttle.admit("error", "a", 0.0) == "a"
