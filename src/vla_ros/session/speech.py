"""Spoken prompts, as lerobot-record gives them (lerobot ``utils/utils.py:say``): ``spd-say`` on Linux,
``say`` on macOS, when installed; silent otherwise. Never blocks and never fails the session."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

__all__ = ["SPEECH_PROGRAMS", "Speaker"]

SPEECH_PROGRAMS: tuple[str, ...] = ("spd-say", "say")
"""Programs tried in order (speech-dispatcher's client, macOS's ``say``)."""


class Speaker:
    """Speaks prompts with the first of ``programs`` found on PATH.

    Args:
        enabled: False: silent whatever is installed.
        programs: candidate programs, called as ``program TEXT``.

    Attributes:
        program: the program used (None: silent).
        spoken: every prompt given, in order (spoken or not), for the session's log.
    """

    def __init__(self, enabled: bool = True, programs: Sequence[str] = SPEECH_PROGRAMS) -> None:
        found = (shutil.which(p) for p in programs) if enabled else iter(())
        self.program: str | None = next((p for p in found if p), None)
        self.spoken: list[str] = []
        self._talking: list[subprocess.Popen[bytes]] = []

    def say(self, text: str) -> None:
        """Speak ``text`` in the background (an error starting the program silences the speaker)."""
        self.spoken.append(text)
        if self.program is None:
            return
        self._talking = [p for p in self._talking if p.poll() is None]  # reap the finished ones
        try:
            self._talking.append(subprocess.Popen([self.program, text], stdin=subprocess.DEVNULL,
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                  start_new_session=True))
        except OSError:
            self.program = None
