"""The recording session's episode loop, as lerobot-record runs it, without ROS.

``episodes`` episodes of ``episode_time_s`` each, with a reset period of ``reset_time_s`` between two
(none after the last, as lerobot-record). Keys (lerobot-record's, plus an e-stop):

=========  ====================================================================================
→          recording: end the episode now and save it; resetting: end the reset, record the next
←          recording: discard the episode and record it again after a reset (nothing is kept)
Esc        stop the session; an episode being recorded is saved (``on_stop: save``, lerobot-record's
           habit) or discarded (``on_stop: discard``); Ctrl-C does the same
space      e-stop (latched): the episode being recorded is discarded; the session is paused until
           the operator releases the e-stop with Enter after the prompt (then a reset period, and
           the same episode is recorded again)
=========  ====================================================================================

The loop is driven from outside: :meth:`RecordingSession.on_key` for each key,
:meth:`RecordingSession.tick` periodically (deadlines), :meth:`RecordingSession.interrupt` on
Ctrl-C. It acts through two small interfaces, :class:`EpisodeControl` (the bag recorder) and
:class:`EstopControl` (the safety supervisor); a failure of either raises :class:`SessionError`, which
ends the session with that error (the e-stop's failure pauses it, loudly). Time is the caller's clock
(seconds; simulated time in simulation, so durations match the bags' stamps).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from vla_ros.config import check_range, param
from vla_ros.record.bag import ON_SHUTDOWN
from vla_ros.session.errors import SessionError
from vla_ros.session.keys import Key

__all__ = ["EpisodeControl", "EstopControl", "Phase", "RecordingPlan", "RecordingSession", "SessionStatus"]


class Phase(enum.Enum):
    """What the session is doing."""

    STARTING = "starting"
    RECORDING = "recording"
    RESETTING = "resetting"
    PAUSED = "paused"
    SCORING = "scoring"
    DONE = "done"


@dataclass(frozen=True)
class RecordingPlan:
    """The session's settings (``record_session`` parameters).

    Raises:
        ConfigError: naming every field out of range.
    """

    episodes: int = field(default=1, metadata=param("Episodes to record (lerobot-record's "
                                                    "--dataset.num_episodes).", range=(1, 100000)))
    episode_time_s: float = field(default=60.0, metadata=param(
        "Longest recording per episode, s (--dataset.episode_time_s); → ends one early.",
        range=(0.5, 86400.0)))
    reset_time_s: float = field(default=60.0, metadata=param(
        "Reset period between episodes, s (--dataset.reset_time_s); → ends it early; 0 = none.",
        range=(0.0, 86400.0)))
    on_stop: str = field(default="save", metadata=param(
        "What Esc or Ctrl-C does with an episode being recorded: 'save' (as lerobot-record) or 'discard'",
        choices=ON_SHUTDOWN))

    def __post_init__(self) -> None:
        check_range(self)


class EpisodeControl(Protocol):
    """The recorder: each call returns the bag's path, or raises SessionError."""

    def start(self) -> str: ...

    def save(self) -> str: ...

    def discard(self) -> str: ...


class EstopControl(Protocol):
    """The safety supervisor's latched e-stop: returns its answer, or raises SessionError."""

    def estop(self, latch: bool) -> str: ...


@dataclass(frozen=True)
class SessionStatus:
    """What the status line shows.

    Attributes:
        episode: 1-based index of the episode being (or next to be) recorded.
        episodes: episodes planned.
        phase: the phase.
        time_left_s: until the phase's deadline, s (None: no deadline).
        saved: episodes saved so far.
        prompt: what the operator is asked to do now ("" if nothing).
        error: why the session ended badly ("" if it did not).
    """

    episode: int
    episodes: int
    phase: Phase
    time_left_s: float | None
    saved: int
    prompt: str = ""
    error: str = ""


class RecordingSession:
    """The episode loop (see the module docstring).

    Args:
        plan: the settings.
        recorder: starts, saves and discards episodes.
        estop: latches and releases the e-stop.
        speak: gives a spoken prompt (and shows it); called with lerobot-record's phrases.
        clock: now, in seconds.

    Attributes:
        saved: the saved bags' paths, in order.
        discarded: the discarded bags' paths.
        log: ``(time_s, event)`` of every transition, for the session's record.
    """

    def __init__(self, plan: RecordingPlan, recorder: EpisodeControl, estop: EstopControl,
                 speak: Callable[[str], None], clock: Callable[[], float]) -> None:
        self.plan = plan
        self.recorder = recorder
        self.estop_control = estop
        self.speak = speak
        self.clock = clock
        self.phase = Phase.STARTING
        self.saved: list[str] = []
        self.discarded: list[str] = []
        self.log: list[tuple[float, str]] = []
        self.prompt = ""
        self.error = ""
        self._deadline = math.inf

    @property
    def done(self) -> bool:
        """Whether the session has ended."""
        return self.phase is Phase.DONE

    @property
    def episode(self) -> int:
        """1-based index of the episode being, or next to be, recorded."""
        return min(len(self.saved) + 1, self.plan.episodes)

    def begin(self) -> None:
        """Record the first episode."""
        if self.phase is Phase.STARTING:
            self._guarded(self._record)

    def on_key(self, key: Key | str) -> None:
        """Act on one key (others are ignored)."""
        if self.phase is Phase.RECORDING:
            actions = {Key.RIGHT: self._save_and_next, Key.LEFT: self._rerecord,
                       Key.ESC: self._stop, Key.SPACE: self._estop}
        elif self.phase is Phase.RESETTING:
            actions = {Key.RIGHT: self._record, Key.ESC: self._stop, Key.SPACE: self._estop}
        elif self.phase is Phase.PAUSED:
            actions = {Key.ENTER: self._release, Key.ESC: self._stop}
        else:
            return
        action = actions.get(key)  # type: ignore[call-overload]
        if action is not None:
            self._guarded(action)

    def interrupt(self) -> None:
        """Ctrl-C: as Esc. A recorder that no longer answers has stopped first (under ``ros2 launch``
        every node gets the Ctrl-C at once) and applied its own ``on_shutdown`` (the graph sets it to
        ``on_stop``) to the episode: the session then ends without an error."""
        if self.phase is Phase.DONE:
            return
        try:
            self._stop()
        except SessionError as err:
            self.log.append((self.clock(), f"the recorder stopped first ({err}); its on_shutdown applies"))
            self._finish()

    def tick(self) -> None:
        """End a phase whose time is up."""
        if self.clock() < self._deadline:
            return
        if self.phase is Phase.RECORDING:
            self._guarded(self._save_and_next)
        elif self.phase is Phase.RESETTING:
            self._guarded(self._record)

    def status(self) -> SessionStatus:
        """The session's state now."""
        left = self._deadline - self.clock() if math.isfinite(self._deadline) else None
        return SessionStatus(self.episode, self.plan.episodes, self.phase,
                             None if left is None else max(0.0, left), len(self.saved), self.prompt,
                             self.error)

    # -- transitions ---------------------------------------------------------------------------

    def _guarded(self, action: Callable[[], None]) -> None:
        try:
            action()
        except SessionError as err:
            self.error = str(err)
            self._enter(Phase.DONE, math.inf, f"error: {err}")
            self.prompt = ""
            self.speak("Stop recording")

    def _enter(self, phase: Phase, duration_s: float, event: str) -> None:
        now = self.clock()
        self.phase, self._deadline = phase, now + duration_s
        self.log.append((now, event))

    def _record(self) -> None:
        self.recorder.start()
        self.prompt = ""
        self.speak(f"Recording episode {self.episode}")
        self._enter(Phase.RECORDING, self.plan.episode_time_s, f"recording episode {self.episode}")

    def _save_and_next(self) -> None:
        self.saved.append(self.recorder.save())
        self.log.append((self.clock(), f"saved episode {len(self.saved)}"))
        if len(self.saved) >= self.plan.episodes:
            self._finish()
        else:
            self._reset()

    def _reset(self) -> None:
        if self.plan.reset_time_s <= 0:
            self._record()
            return
        self.prompt = "Reset the environment (→ when ready)"
        self.speak("Reset the environment")
        self._enter(Phase.RESETTING, self.plan.reset_time_s, "resetting")

    def _rerecord(self) -> None:
        self.discarded.append(self.recorder.discard())
        self.speak("Re-record episode")
        self.log.append((self.clock(), f"discarded episode {self.episode}"))
        self._reset()

    def _stop(self) -> None:
        if self.phase is Phase.RECORDING:
            if self.plan.on_stop == "save":
                self.saved.append(self.recorder.save())
                self.log.append((self.clock(), f"saved episode {len(self.saved)}"))
            else:
                self.discarded.append(self.recorder.discard())
        self._finish()

    def _finish(self) -> None:
        self.prompt = ""
        self.speak("Stop recording")
        self._enter(Phase.DONE, math.inf, "stopped")

    def _estop(self) -> None:
        try:
            answer = self.estop_control.estop(True)
        except SessionError as err:
            answer = f"E-STOP NOT APPLIED: {err}"
        if self.phase is Phase.RECORDING:
            self.discarded.append(self.recorder.discard())
        self.prompt = f"{answer}. Press Enter to release the e-stop, Esc to stop"
        self.speak("Emergency stop")
        self._enter(Phase.PAUSED, math.inf, f"e-stop: {answer}")

    def _release(self) -> None:
        answer = self.estop_control.estop(False)
        self.log.append((self.clock(), f"e-stop released: {answer}"))
        self._reset()
