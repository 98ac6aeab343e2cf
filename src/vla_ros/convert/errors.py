"""Errors of the rosbag → LeRobot converter.

Every error about input data names the bag, and where it applies the topic and the time (the stamp in
nanoseconds and seconds into the bag), so a user can find the message with ``ros2 bag info`` or any
MCAP viewer. :class:`BadBagError` collects every problem found in one bag before it is raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vla_ros.errors import BadInputError, ConfigError, VlaRosError

__all__ = [
    "AlignmentError",
    "BadBagError",
    "BagProblem",
    "ConvertError",
    "CorruptBagError",
    "DatasetError",
    "EmptyBagError",
    "MissingTopicError",
    "ValidationError",
    "format_time",
]


class ConvertError(VlaRosError):
    """Base class of the converter's errors."""


@dataclass(frozen=True)
class BagProblem:
    """One problem found in a bag.

    Attributes:
        topic: the topic concerned ("" for the bag as a whole).
        time_ns: the message's stamp (ns since the epoch), or None when no message is concerned.
        detail: what is wrong.
        bag_start_ns: the bag's first stamp, to print the time as an offset too.
    """

    topic: str
    time_ns: int | None
    detail: str
    bag_start_ns: int | None = None

    def __str__(self) -> str:
        where = f"topic {self.topic}" if self.topic else "bag"
        if self.time_ns is not None:
            where += f" at {format_time(self.time_ns, self.bag_start_ns)}"
        return f"{where}: {self.detail}"


def format_time(time_ns: int, start_ns: int | None = None) -> str:
    """``t=<seconds since the epoch> s`` and, given the bag start, ``(+<offset> s)``."""
    sign, t = ("-", -time_ns) if time_ns < 0 else ("", time_ns)
    text = f"t={sign}{t // 1_000_000_000}.{t % 1_000_000_000:09d} s"
    if start_ns is not None:
        text += f" (+{(time_ns - start_ns) / 1e9:.3f} s)"
    return text


class BadBagError(ConvertError, BadInputError):
    """A bag holds data that cannot be converted; lists every problem found in it.

    Attributes:
        bag: path of the bag.
        problems: the problems, each naming topic and time.
    """

    MAX_LISTED = 20

    def __init__(self, bag: str | Path, problems: Sequence[BagProblem] | str) -> None:
        self.bag = str(bag)
        if isinstance(problems, str):
            problems = [BagProblem("", None, problems)]
        self.problems = list(problems)
        lines = [str(p) for p in self.problems[: self.MAX_LISTED]]
        if len(self.problems) > self.MAX_LISTED:
            lines.append(f"... and {len(self.problems) - self.MAX_LISTED} more problems")
        super().__init__(f"bag {self.bag}: " + ("\n  " if len(lines) > 1 else "") + "\n  ".join(lines))


class MissingTopicError(BadBagError):
    """A required topic is not in the bag (or has no messages)."""


class EmptyBagError(BadBagError):
    """The bag has no messages (or none inside an episode window)."""


class CorruptBagError(BadBagError):
    """The bag cannot be opened or read: missing or truncated files, unreadable metadata."""


class AlignmentError(BadBagError):
    """Ticks of the time grid have no sample within a stream's maximum age (and ``on_gap`` is ``error``)."""


class DatasetError(ConvertError, ConfigError):
    """The output dataset cannot be written: it exists, or it does not match the new episodes."""


class ValidationError(ConvertError, ValueError):
    """A dataset failed ``vla-ros validate``; the message lists every problem."""
