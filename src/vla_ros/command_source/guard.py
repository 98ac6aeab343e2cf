"""The rule of one command source per topic, without ROS.

A command topic (``joint_commands`` into the driver, ``policy/joint_commands`` into the supervisor)
has exactly one allowed publisher: the configured *source* node, by fully qualified name
(``/<namespace>/<name>``). :class:`SourceGuard` is given every publisher of the topic as the ROS graph
lists it (:meth:`SourceGuard.update`: at start, continuously, and at once when an unknown publisher
sends) and decides for each message by the publisher identity the middleware attaches to it
(:meth:`SourceGuard.admit`):

* **clear** (no other publisher): a message passes only if its publisher gid is the source's endpoint.
  A gid the graph does not list yet (a publisher so new that discovery has not named it) is dropped;
* **holding** (any other publisher, or more than one endpoint claiming the source's name): every
  message is dropped, the source's too (the arm holds, following neither), and
  :attr:`SourceStatus.message` names the intruders. Once the graph is clear again, the source's
  messages pass again (resume).

Per-message identity (``publisher_gid``, given by rclpy from Kilted on) is what closes the window
between a new publisher's first message and the graph listing it: no message of an unexpected
publisher ever passes. Without it (``gid=None``) messages pass while the graph is clear, so a new
publisher's first messages can pass until discovery names it: the window that
``bench/bench_command_source.py`` measures.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from vla_ros.command_source.errors import SharedTopicError
from vla_ros.errors import ConfigError

__all__ = ["GID_SIZE", "UNNAMED", "Publisher", "SourceGuard", "SourceStatus", "Verdict",
           "check_sole_publisher", "resolve_node_name"]

UNNAMED = "a node the graph has not named yet"
GID_SIZE = 16
"""Bytes of a publisher gid that identify it: a DDS GUID (12-byte participant prefix + 4-byte entity id;
rmw stores 16 bytes from Iron on, 24 on Humble with the same first 16)."""


@dataclass(frozen=True)
class Publisher:
    """One publisher endpoint of a topic, as the ROS graph lists it.

    Attributes:
        node: fully qualified node name (``/ns/name``); ``""`` while the graph does not know it.
        gid: the endpoint's gid, first :data:`GID_SIZE` bytes.
    """

    node: str
    gid: bytes

    def label(self) -> str:
        """How messages name this publisher."""
        return self.node or f"{UNNAMED} (publisher gid {self.gid.hex()})"


class Verdict(str, enum.Enum):
    """What happens to one message."""

    ACCEPT = "accept"
    UNVERIFIED = "unverified"
    """Dropped: its publisher is not the source's endpoint as the graph lists it (refresh the graph)."""
    HELD = "held"
    """Dropped: another publisher is on the topic, so nothing is followed."""


@dataclass(frozen=True)
class SourceStatus:
    """The guard's view of a topic.

    Attributes:
        topic: the command topic (fully qualified).
        source: the allowed node (fully qualified).
        intruders: labels of every other publisher, sorted.
        source_endpoints: how many endpoints carry the source's name (1 normally).
    """

    topic: str
    source: str
    intruders: tuple[str, ...] = ()
    source_endpoints: int = 0

    @property
    def holding(self) -> bool:
        """Whether every message is dropped."""
        return bool(self.intruders) or self.source_endpoints > 1

    @property
    def identified(self) -> bool:
        """Whether an intruder is known by name (a publisher the graph has not named yet may be the
        source's own endpoint, just discovered: hold, but it is not yet an alarm)."""
        return any(not label.startswith(UNNAMED) for label in self.intruders) or self.source_endpoints > 1

    @property
    def message(self) -> str:
        """One line for logs and ``/diagnostics``."""
        problems = []
        if self.intruders:
            problems.append(f"publishers other than {self.source}: {', '.join(self.intruders)}")
        if self.source_endpoints > 1:
            problems.append(f"{self.source_endpoints} publishers claim to be {self.source} (two nodes with "
                            "one name?)")
        if problems:
            return (f"holding: {self.topic} has {'; '.join(problems)}; commands from none of them are "
                    "followed until only the source publishes")
        if self.source_endpoints == 0:
            return f"no publisher on {self.topic} yet; commands are taken only from {self.source}"
        return f"commands on {self.topic} come only from {self.source}"


def resolve_node_name(name: str, namespace: str) -> str:
    """The fully qualified name of node ``name`` (absolute, or relative to ``namespace``).

    Raises:
        ConfigError: ``name`` is empty or ends with ``/``.
    """
    name = name.strip()
    if not name or name.endswith("/"):
        raise ConfigError(f"command source {name!r} is not a node name")
    if name.startswith("/"):
        return name
    return f"{namespace.rstrip('/')}/{name}"


class SourceGuard:
    """The allowed publisher of one topic and the verdict on each message (not thread-safe).

    Args:
        topic: the command topic, fully qualified (for messages).
        source: the allowed node, fully qualified (see :func:`resolve_node_name`).

    Raises:
        ConfigError: ``source`` is not fully qualified.
    """

    def __init__(self, topic: str, source: str) -> None:
        if not source.startswith("/"):
            raise ConfigError(f"command source {source!r} must be fully qualified (/namespace/name)")
        self._status = SourceStatus(topic, source)
        self._source_gid: bytes | None = None
        self.counts = {"accepted": 0, "dropped_unverified": 0, "dropped_held": 0}

    @property
    def status(self) -> SourceStatus:
        """The current view of the topic."""
        return self._status

    def update(self, publishers: Iterable[Publisher]) -> SourceStatus | None:
        """Take every publisher of the topic now listed by the graph.

        Returns:
            The previous status if the status changed (to report the change), else None.
        """
        publishers = list(publishers)
        source = self._status.source
        mine = [p for p in publishers if p.node == source]
        others = tuple(sorted(p.label() for p in publishers if p.node != source))
        self._source_gid = mine[0].gid[:GID_SIZE] if len(mine) == 1 else None
        new = SourceStatus(self._status.topic, source, others, len(mine))
        old, self._status = self._status, new
        return old if new != old else None

    def admit(self, gid: bytes | None) -> Verdict:
        """The verdict on one message from publisher ``gid`` (None: the middleware gave no identity)."""
        if self._status.holding:
            verdict = Verdict.HELD
        elif self._source_gid is None:
            verdict = Verdict.UNVERIFIED
        elif gid is None or gid[:GID_SIZE] == self._source_gid:
            verdict = Verdict.ACCEPT
        else:
            verdict = Verdict.UNVERIFIED
        key = {Verdict.ACCEPT: "accepted", Verdict.UNVERIFIED: "dropped_unverified",
               Verdict.HELD: "dropped_held"}[verdict]
        self.counts[key] += 1
        return verdict


def check_sole_publisher(topic: str, publishers: Iterable[Publisher], own_node: str) -> None:
    """Refuse to start when someone else already publishes ``topic`` (e.g. another arm's driver).

    Args:
        topic: the topic this node must publish alone (fully qualified).
        publishers: every publisher of it the graph lists, this node's own one included or not yet.
        own_node: this node's fully qualified name: one endpoint of that name is taken as its own.

    Raises:
        SharedTopicError: naming the other publisher(s) and how to separate the arms.
    """
    others = list(publishers)
    own = next((p for p in others if p.node == own_node), None)
    if own is not None:
        others.remove(own)
    if others:
        names = ", ".join(sorted(p.label() for p in others))
        raise SharedTopicError(
            f"{topic} is already published by {names}: is another arm's driver running on the same "
            "topics? Give each arm its own namespace (launch argument namespace:=arm2, or --ros-args -r "
            "__ns:=/arm2) or its own ROS_DOMAIN_ID (export ROS_DOMAIN_ID=N in each arm's shell), or stop "
            "the other driver")
