"""The one-command-source rule without ROS: which publishers are allowed, hold and resume, refusal."""

from __future__ import annotations

import pytest

from vla_ros.command_source.errors import SharedTopicError
from vla_ros.command_source.guard import (
    Publisher,
    SourceGuard,
    Verdict,
    check_sole_publisher,
    resolve_node_name,
)
from vla_ros.errors import ConfigError

TOPIC = "/arm1/joint_commands"
SOURCE = Publisher("/arm1/safety_supervisor", bytes(range(16)))
ROGUE = Publisher("/rogue", bytes(range(1, 17)))


def guard_with(*publishers: Publisher) -> SourceGuard:
    guard = SourceGuard(TOPIC, SOURCE.node)
    guard.update(publishers)
    return guard


@pytest.mark.parametrize("name, namespace, expected", [
    ("safety_supervisor", "/arm1", "/arm1/safety_supervisor"),
    ("safety_supervisor", "/", "/safety_supervisor"),
    ("/lab/teleop", "/arm1", "/lab/teleop"),
    (" smolvla_policy ", "/a/b/", "/a/b/smolvla_policy"),
])
def test_source_names_resolve_in_the_node_namespace(name, namespace, expected):
    assert resolve_node_name(name, namespace) == expected


@pytest.mark.parametrize("name", ["", "  ", "arm1/"])
def test_a_source_that_is_no_node_name_is_refused(name):
    with pytest.raises(ConfigError, match="not a node name"):
        resolve_node_name(name, "/")
    with pytest.raises(ConfigError, match="fully qualified"):
        SourceGuard(TOPIC, "safety_supervisor")


def test_only_the_sources_endpoint_passes():
    guard = guard_with(SOURCE)
    assert not guard.status.holding
    assert guard.admit(SOURCE.gid) is Verdict.ACCEPT
    assert guard.admit(SOURCE.gid + b"\0" * 8) is Verdict.ACCEPT  # Humble's 24-byte gids, same GUID
    assert guard.admit(ROGUE.gid) is Verdict.UNVERIFIED  # not listed yet: dropped, never followed
    assert guard.counts == {"accepted": 2, "dropped_unverified": 1, "dropped_held": 0}
    assert guard.status.message == f"commands on {TOPIC} come only from {SOURCE.node}"


def test_any_other_publisher_holds_everything_until_it_is_gone():
    guard = guard_with(SOURCE)
    before = guard.update([SOURCE, ROGUE])
    assert before is not None and not before.holding
    assert guard.status.holding and guard.status.identified and guard.status.intruders == ("/rogue",)
    assert "/rogue" in guard.status.message and guard.status.message.startswith("holding:")
    for gid in (SOURCE.gid, ROGUE.gid, None):
        assert guard.admit(gid) is Verdict.HELD  # follows neither
    assert guard.update([SOURCE, ROGUE]) is None  # no change, nothing to report
    assert guard.update([SOURCE]).holding  # the previous status, to report the resume
    assert guard.admit(SOURCE.gid) is Verdict.ACCEPT


def test_an_unnamed_endpoint_and_two_nodes_of_one_name_hold():
    unnamed = Publisher("", b"\xab" * 16)
    guard = guard_with(SOURCE, unnamed)
    assert guard.status.holding and not guard.status.identified
    assert "a node the graph has not named yet (publisher gid abab" in guard.status.message
    twin = Publisher(SOURCE.node, ROGUE.gid)
    guard.update([SOURCE, twin])
    assert guard.status.holding and guard.status.identified
    assert "2 publishers claim to be /arm1/safety_supervisor" in guard.status.message
    assert guard.admit(SOURCE.gid) is Verdict.HELD


def test_without_the_source_in_the_graph_nothing_passes():
    guard = guard_with()
    assert not guard.status.holding and "no publisher" in guard.status.message
    assert guard.admit(SOURCE.gid) is Verdict.UNVERIFIED
    assert guard.admit(None) is Verdict.UNVERIFIED


def test_without_per_message_identity_the_graph_alone_decides():
    guard = guard_with(SOURCE)
    assert guard.admit(None) is Verdict.ACCEPT
    guard.update([SOURCE, ROGUE])
    assert guard.admit(None) is Verdict.HELD


def test_a_second_publisher_of_joint_states_is_refused_naming_the_way_out():
    own = Publisher("/so101_driver", b"\1" * 16)
    check_sole_publisher("/joint_states", [], own.node)
    check_sole_publisher("/joint_states", [own], own.node)
    other = Publisher("/so101_driver", b"\2" * 16)  # the other student's driver, same default name
    with pytest.raises(SharedTopicError, match=r"namespace:=.*ROS_DOMAIN_ID") as err:
        check_sole_publisher("/joint_states", [own, other], own.node)
    assert "/joint_states is already published by /so101_driver" in str(err.value)
    with pytest.raises(SharedTopicError, match="/arm2/so101_driver"):
        check_sole_publisher("/joint_states", [Publisher("/arm2/so101_driver", b"\3" * 16)], own.node)
