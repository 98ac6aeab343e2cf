"""Hard joint limits on commands (table-driven)."""

from __future__ import annotations

import pytest

from vla_ros.driver.limits import clamp_to_limits
from vla_ros.robot.description import JointLimit

LIMITS = {"a": JointLimit(-1.0, 2.0, 10.0, 1.0), "b": JointLimit(0.0, 0.5, 10.0, 1.0)}


@pytest.mark.parametrize(
    ("goal", "expected", "clamped"),
    [
        ({"a": 0.5}, {"a": 0.5}, []),
        ({"a": -1.0, "b": 0.5}, {"a": -1.0, "b": 0.5}, []),  # limits are inclusive
        ({"a": 3.0}, {"a": 2.0}, ["a"]),
        ({"b": -0.1, "a": -7}, {"b": 0.0, "a": -1.0}, ["b", "a"]),
        ({}, {}, []),
    ],
)
def test_clamp_to_limits(goal, expected, clamped) -> None:
    original = dict(goal)
    out, which = clamp_to_limits(goal, LIMITS)
    assert out == expected and list(out) == list(expected)
    assert which == clamped
    assert goal == original  # the caller's dict is not modified


def test_clamp_needs_a_limit_for_every_joint() -> None:
    with pytest.raises(KeyError):
        clamp_to_limits({"c": 0.0}, LIMITS)
