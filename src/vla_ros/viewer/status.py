"""Policy and safety status as plain values, and the text log lines their changes deserve.

The bridge fills these from ``policy/status`` (vla_ros/PolicyStatus) and ``safety/status``
(vla_ros/SafetyStatus); :class:`~vla_ros.viewer.logger.ViewerLogger` logs their figures as series and
each change of state, task, error or e-stop as a text log entry at its time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LogLine", "PolicyReport", "SafetyReport"]


@dataclass(frozen=True)
class LogLine:
    """One text log entry: rerun level (``INFO``, ``WARN``, ``ERROR``, ``CRITICAL``) and text."""

    level: str
    text: str


@dataclass(frozen=True)
class PolicyReport:
    """A PolicyStatus: state name, task, latency (s), queue depth and counters, last error or refusal."""

    state: str
    task: str = ""
    latency_s: float = 0.0
    queue_depth: int = 0
    chunks_done: int = 0
    chunks_dropped: int = 0
    dry_ticks: int = 0
    last_error: str = ""

    def figures(self) -> dict[str, float]:
        """The series logged at each report: ``{name: value}`` (seconds and counts)."""
        return {"latency_s": self.latency_s, "queue_depth": float(self.queue_depth),
                "chunks_dropped": float(self.chunks_dropped), "dry_ticks": float(self.dry_ticks)}

    def changes(self, before: PolicyReport | None) -> list[LogLine]:
        """Text log lines for what changed since ``before`` (None: the first report)."""
        lines = []
        if before is None or self.state != before.state or self.task != before.task:
            level = "ERROR" if self.state == "FAULT" else "INFO"
            lines.append(LogLine(level, f"policy {self.state}, task {self.task!r}"))
        if self.last_error and (before is None or self.last_error != before.last_error):
            lines.append(LogLine("ERROR", f"policy: {self.last_error}"))
        return lines


@dataclass(frozen=True)
class SafetyReport:
    """A SafetyStatus: state name, e-stop latch, clamp counts per joint, reason."""

    state: str
    estop: bool = False
    clamps: dict[str, int] = field(default_factory=dict)
    reason: str = ""

    def figures(self) -> dict[str, float]:
        """The series logged at each report: total clamps and the e-stop latch (0/1)."""
        return {"clamps": float(sum(self.clamps.values())), "estop": float(self.estop)}

    def changes(self, before: SafetyReport | None) -> list[LogLine]:
        """Text log lines for what changed since ``before`` (None: the first report)."""
        if before is not None and (self.state, self.estop, self.reason) == (before.state, before.estop,
                                                                            before.reason):
            return []
        if self.estop:
            level = "CRITICAL"
        elif self.state in ("HOLDING", "FAULT") or self.reason:
            level = "WARN"
        else:
            level = "INFO"
        text = f"safety {self.state}" + (" (e-stop latched)" if self.estop else "")
        return [LogLine(level, text + (f": {self.reason}" if self.reason else ""))]
