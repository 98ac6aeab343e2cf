"""Findings: one short sentence with its numbers, a severity and what it concerns; and their ranking.

Ranking: severity first (``critical`` > ``warning`` > ``info``), then the order in which the seed
documents found the causes to matter (:data:`CHECK_ORDER`: a wrong task string or camera mapping
makes every other number meaningless, the epoch budget rarely explains a single deployment), then the
finding's own ``score`` (how far past its threshold it is, larger first).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["CHECK_ORDER", "SEVERITIES", "Finding", "rank", "worst_severity"]

SEVERITIES = ("critical", "warning", "info")
"""Severities, most severe first."""

CHECK_ORDER = ("task", "cameras", "gripper", "start_state", "smoothness", "checkpoint_zrange",
               "distribution", "control", "epoch_budget")
"""Checks in the order their findings rank within one severity."""


@dataclass(frozen=True)
class Finding:
    """One result of a check.

    Attributes:
        check: one of :data:`CHECK_ORDER`.
        severity: one of :data:`SEVERITIES`.
        message: one sentence with the numbers and the likely cause.
        joint: the joint feature name (``gripper.pos``) it concerns, or None.
        camera: the camera name (``front``) it concerns, or None.
        score: how far past its threshold (a ratio or z, >= 0), for ranking within a check.
        data: the numbers of the message, machine-readable.
    """

    check: str
    severity: str
    message: str
    joint: str | None = None
    camera: str | None = None
    score: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")
        if self.check not in CHECK_ORDER:
            raise ValueError(f"check {self.check!r} is not one of {CHECK_ORDER}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``None`` fields kept, so every finding has the same keys)."""
        return asdict(self)


def rank(findings: Iterable[Finding]) -> list[Finding]:
    """Findings most important first (see the module docstring)."""
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), CHECK_ORDER.index(f.check),
                                           -f.score))


def worst_severity(findings: Iterable[Finding]) -> str:
    """The most severe severity among ``findings`` (``info`` when there are none)."""
    levels = [SEVERITIES.index(f.severity) for f in findings]
    return SEVERITIES[min(levels)] if levels else "info"
