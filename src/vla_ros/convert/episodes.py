"""Splitting a bag into episodes.

By default a bag is one episode. With an episode-marker topic (``topics.episode_topic``) a long bag is
cut at its markers, using the markers' receive times (bag log times; marker messages usually have no
header):

* ``std_msgs/msg/Bool``: ``true`` starts an episode (ending any open one), ``false`` ends it. Data
  outside ``true…false`` spans (resets between demonstrations) is left out.
* any other type (``std_msgs/msg/Empty``, ``String``, …): every message starts a new episode, which
  runs until the next marker or the end of the bag; data before the first marker is left out.

Windows are half-open ``[start_ns, end_ns)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

__all__ = ["BOOL_MSGTYPE", "episode_windows", "restrict"]

BOOL_MSGTYPE = "std_msgs/msg/Bool"


def episode_windows(
    bag_start_ns: int,
    bag_end_ns: int,
    marker_stamps_ns: Sequence[int] | None = None,
    marker_values: Sequence[bool] | None = None,
) -> list[tuple[int, int]]:
    """The episode windows of a bag.

    Args:
        bag_start_ns, bag_end_ns: first and last stamp in the bag (inclusive).
        marker_stamps_ns: stamps of the marker messages in order; None = no marker topic (one episode).
        marker_values: the Bool values of the markers, or None for start-only markers.

    Returns:
        ``[(start_ns, end_ns), ...]`` half-open windows in time order.
    """
    end = bag_end_ns + 1
    if marker_stamps_ns is None:
        return [(bag_start_ns, end)]
    stamps = [int(t) for t in marker_stamps_ns]
    if marker_values is None:
        bounds = [*stamps, end]
        return [(lo, hi) for lo, hi in itertools.pairwise(bounds) if hi > lo]
    windows: list[tuple[int, int]] = []
    open_at: int | None = None
    for t, value in zip(stamps, marker_values):
        if open_at is not None and t > open_at:
            windows.append((open_at, t))
        open_at = None
        if value:
            open_at = t
    if open_at is not None and end > open_at:
        windows.append((open_at, end))
    return windows


def restrict(stamps_ns: np.ndarray, window: tuple[int, int]) -> slice:
    """The slice of sorted ``stamps_ns`` inside the half-open ``window``."""
    lo = int(np.searchsorted(stamps_ns, window[0], side="left"))
    hi = int(np.searchsorted(stamps_ns, window[1], side="left"))
    return slice(lo, hi)
