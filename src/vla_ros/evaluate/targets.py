"""The cubes an instruction can name, and which one it names (pure Python: the launch graph uses it)."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["DEFAULT_TARGETS", "DEFAULT_TASKS", "named_target"]

DEFAULT_TARGETS: tuple[str, ...] = ("red", "blue")
"""The two cubes of the simulator's two-cube scene (``so101_sim`` with ``two_cubes``)."""

DEFAULT_TASKS: tuple[str, ...] = tuple(f"reach the {t} cube" for t in DEFAULT_TARGETS)
"""The instruction per target (template ``"reach the {target} cube"``)."""


def named_target(task: str, targets: Sequence[str] = DEFAULT_TARGETS) -> str | None:
    """The one target (cube colour) that ``task`` names as a word, case-insensitively.

    Returns:
        The target, or None when the task names none or more than one.
    """
    words = set(re.findall(r"[a-z]+", task.lower()))
    named = [t for t in targets if t.lower() in words]
    return named[0] if len(named) == 1 else None
