"""The session's one status line, redrawn in place on the terminal.

    episode 2/3 | RECORDING | 7.4 s left | saved 1 | task 'pick the cube' | joints 30Hz cmd 30Hz front 15Hz
    keys: → next  ← redo  Esc stop  space e-stop
"""

from __future__ import annotations

from collections.abc import Mapping

from vla_ros.session.recording import Phase, SessionStatus

__all__ = ["EVAL_KEYS_HELP", "KEYS_HELP", "format_status", "redraw"]

KEYS_HELP = {
    Phase.RECORDING: "→ save+next  ← re-record  Esc stop  space e-stop",
    Phase.RESETTING: "→ next episode  Esc stop  space e-stop",
    Phase.PAUSED: "Enter release e-stop  Esc stop",
}
"""The keys of each phase of the recording session, shown on the status line."""

EVAL_KEYS_HELP = {
    Phase.RECORDING: "→ end the run  Esc stop  space e-stop",
    Phase.SCORING: "s success  f failure  r redo  Esc stop",
    Phase.RESETTING: "→ next episode  Esc stop  space e-stop",
    Phase.PAUSED: "Enter release/retry  Esc stop",
}
"""The keys of each phase of the evaluation session."""


def format_status(status: SessionStatus, task: str, rates_hz: Mapping[str, float],
                  keys_help: Mapping[Phase, str] = KEYS_HELP, count_label: str = "saved") -> str:
    """The status line: episode i/N, phase, time left, episodes saved (or ``count_label``), the task,
    topic rates (Hz), the phase's keys."""
    parts = [f"episode {status.episode}/{status.episodes}", status.phase.value.upper()]
    if status.time_left_s is not None:
        parts.append(f"{status.time_left_s:.1f} s left")
    parts.append(f"{count_label} {status.saved}")
    parts.append(f"task {task!r}")
    if rates_hz:
        parts.append(" ".join(f"{name} {hz:.0f}Hz" for name, hz in rates_hz.items()))
    if status.phase in keys_help:
        parts.append(keys_help[status.phase])
    return " | ".join(parts)


def redraw(line: str, width: int) -> str:
    """Terminal output that replaces the current line with ``line`` cut to ``width`` columns, the
    cursor left at its start (so other output overwrites it, rather than continuing it)."""
    if len(line) > width - 1:
        line = line[:max(0, width - 2)] + "…"
    return "\r\x1b[2K" + line + "\r"
