"""The evaluation session on the real arm, scored by the operator, without ROS.

For each planned episode (:func:`vla_ros.evaluate.scoring.plan_episodes`, tasks interleaved):

1. the policy gets the episode's task and is enabled: its start-state gate resets the arm to the
   training start pose (safety supervisor) and checks the start state; a refusal pauses the session
   (Enter: try again, Esc: stop);
2. with ``record_eval`` the recorder starts a bag; the policy runs for ``episode_time_s`` or until →;
3. the policy is disabled, the bag saved; the operator scores: ``s`` success, ``f`` failure, ``r`` redo
   (the episode's bag is deleted and it is run again); ``results.json`` (the simulator's schema,
   :data:`vla_ros.evaluate.scoring.SCHEMA`) is rewritten after every scored episode;
4. a reset period of ``reset_time_s`` (→ ends it) for the operator to reset the scene.

space is the e-stop at any time (latched; the running episode's bag is deleted; Enter after the prompt
releases it and the episode is run again); Esc stops the session (an unscored episode is dropped). The
loop is driven from outside as :class:`vla_ros.session.recording.RecordingSession` is.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from vla_ros.config import check_range, param
from vla_ros.evaluate.scoring import EpisodePlan, EpisodeResult, EvaluationResults, plan_episodes
from vla_ros.session.errors import SessionError
from vla_ros.session.keys import Key
from vla_ros.session.recording import EpisodeControl, EstopControl, Phase, SessionStatus

__all__ = ["SCORE_KEYS", "EvaluationPlan", "EvaluationSession", "PolicyControl"]

SCORE_KEYS = {"s": True, "f": False}
"""Scoring keys: success, failure (``r``: redo)."""


@dataclass(frozen=True)
class EvaluationPlan:
    """The evaluation session's settings (``eval_session`` parameters).

    Raises:
        ConfigError: a field out of range, or tasks that do not make a plan.
    """

    episodes_per_task: int = field(default=10, metadata=param("Evaluation episodes per task.",
                                                              range=(1, 100000)))
    tasks: list[str] = field(default_factory=list, metadata=param(
        "Instructions, interleaved episode by episode ('' = the policy's current task)"))
    episode_time_s: float = field(default=20.0, metadata=param(
        "Longest policy run per episode, s (→ ends it early).", range=(0.5, 86400.0)))
    reset_time_s: float = field(default=30.0, metadata=param(
        "Reset period after each scored episode, s (→ ends it early).", range=(0.0, 86400.0)))
    record_eval: bool = field(default=False, metadata=param("Record each evaluation episode as a bag."))
    output_dir: str = field(default="evaluation", metadata=param("Directory of results.json."))

    def __post_init__(self) -> None:
        check_range(self)

    def episodes(self, default_task: str) -> list[EpisodePlan]:
        """The episodes; a task's target is the task itself (on the real arm only the operator scores).

        Raises:
            ConfigError: no task at all, or a task twice.
        """
        tasks = [t for t in self.tasks if t] or ([default_task] if default_task else [])
        return plan_episodes(tasks, tasks, self.episodes_per_task)


class PolicyControl(Protocol):
    """The policy: its task and enable (enable runs its start-state gate); SessionError on refusal."""

    def set_task(self, task: str) -> str: ...

    def enable(self, on: bool) -> str: ...


class EvaluationSession:
    """The scored episode loop (see the module docstring).

    Args:
        plan: the settings.
        episodes: the planned episodes (:meth:`EvaluationPlan.episodes`).
        policy: task and enable of the policy.
        recorder: the bag recorder (used when ``plan.record_eval``; None: no recording).
        estop: the supervisor's e-stop.
        speak: spoken prompt.
        clock: now, s (the graph's clock).
        delete_bag: removes a saved bag (a redone episode's).

    Attributes:
        results: what ``results.json`` holds.
    """

    def __init__(self, plan: EvaluationPlan, episodes: list[EpisodePlan], policy: PolicyControl,
                 recorder: EpisodeControl | None, estop: EstopControl, speak: Callable[[str], None],
                 clock: Callable[[], float], delete_bag: Callable[[str], None]) -> None:
        self.plan, self.planned = plan, episodes
        self.policy, self.recorder, self.estop_control = policy, recorder, estop
        self.speak, self.clock, self.delete_bag = speak, clock, delete_bag
        self.phase = Phase.STARTING
        config = {"scoring": "operator", "tasks": list(dict.fromkeys(e.task for e in episodes)),
                  "episodes_per_task": plan.episodes_per_task, "episode_time_s": plan.episode_time_s,
                  "record_eval": plan.record_eval}
        self.results = EvaluationResults(config=config, planned_episodes=len(episodes),
                                         started_at=datetime.datetime.now(datetime.timezone.utc).isoformat())
        self.bags: dict[int, str] = {}
        self.prompt = ""
        self.error = ""
        self._deadline = math.inf
        self._bag = ""
        self._started_s = 0.0
        self._duration_s = 0.0
        self._wall0 = time.monotonic()

    @property
    def done(self) -> bool:
        """Whether the session has ended."""
        return self.phase is Phase.DONE

    @property
    def current(self) -> EpisodePlan | None:
        """The episode being (or next to be) run."""
        n = len(self.results.episodes)
        return self.planned[n] if n < len(self.planned) else None

    def begin(self) -> None:
        """Run the first episode."""
        if self.phase is Phase.STARTING:
            self._guarded(self._run)

    def on_key(self, key: Key | str) -> None:
        """Act on one key."""
        if key == Key.ESC:
            self._guarded(self._stop)
        elif key == Key.SPACE and self.phase is not Phase.DONE:
            self._guarded(self._estop)
        elif self.phase is Phase.RECORDING and key == Key.RIGHT:
            self._guarded(self._end_run)
        elif self.phase is Phase.RESETTING and key == Key.RIGHT:
            self._guarded(self._run)
        elif self.phase is Phase.SCORING and isinstance(key, str) and key.lower() in (*SCORE_KEYS, "r"):
            self._guarded(lambda: self._score(key.lower()))
        elif self.phase is Phase.PAUSED and key == Key.ENTER:
            self._guarded(self._release)

    def interrupt(self) -> None:
        """Ctrl-C: as Esc."""
        self.on_key(Key.ESC)

    def tick(self) -> None:
        """End a phase whose time is up."""
        if self.clock() < self._deadline:
            return
        if self.phase is Phase.RECORDING:
            self._guarded(self._end_run)
        elif self.phase is Phase.RESETTING:
            self._guarded(self._run)

    def status(self) -> SessionStatus:
        """The session's state now (``episode`` 1-based over all planned episodes)."""
        left = self._deadline - self.clock() if math.isfinite(self._deadline) else None
        successes = sum(e.success for e in self.results.episodes)
        return SessionStatus(min(len(self.results.episodes) + 1, len(self.planned)), len(self.planned),
                             self.phase, None if left is None else max(0.0, left), successes, self.prompt,
                             self.error)

    def save(self) -> Path:
        """Write ``results.json`` into ``output_dir``."""
        self.results.wall_s = time.monotonic() - self._wall0
        return self.results.save(self.plan.output_dir)

    # -- transitions ---------------------------------------------------------------------------

    def _guarded(self, action: Callable[[], None]) -> None:
        try:
            action()
        except SessionError as err:
            self.error = str(err)
            self.results.run_error = str(err)
            self._safe_disable()
            self._finish()

    def _enter(self, phase: Phase, duration_s: float, prompt: str = "") -> None:
        self.phase, self._deadline, self.prompt = phase, self.clock() + duration_s, prompt

    def _run(self) -> None:
        episode = self.current
        assert episode is not None
        self.policy.set_task(episode.task)
        self.speak(f"Evaluation episode {episode.index + 1}")
        try:
            self.policy.enable(True)
        except SessionError as err:
            self._enter(Phase.PAUSED, math.inf, f"start refused: {err}. Enter: try again, Esc: stop")
            self.speak("Start refused")
            return
        if self.plan.record_eval and self.recorder is not None:
            self._bag = self.recorder.start()
        self._started_s = self.clock()
        self._enter(Phase.RECORDING, self.plan.episode_time_s, f"running {episode.task!r} (→ to end)")

    def _end_run(self) -> None:
        self.policy.enable(False)
        duration = self.clock() - self._started_s
        if self._bag and self.recorder is not None:
            self._bag = self.recorder.save()
        self._duration_s = duration
        self.speak("Score the episode")
        self._enter(Phase.SCORING, math.inf, "score: s success, f failure, r redo")

    def _score(self, key: str) -> None:
        episode = self.current
        assert episode is not None
        if key == "r":
            if self._bag:
                self.delete_bag(self._bag)
            self._bag = ""
            self.speak("Redo the episode")
            self._reset()
            return
        result = EpisodeResult.from_plan(episode, success=SCORE_KEYS[key], policy_task=episode.task,
                                         duration_s=round(self._duration_s, 3), enable_attempts=1)
        self.results.episodes.append(result)
        if self._bag:
            self.results.episode_files[episode.index] = self._bag
        self._bag = ""
        self.save()
        if self.current is None:
            self._finish()
        else:
            self._reset()

    def _reset(self) -> None:
        if self.plan.reset_time_s <= 0:
            self._run()
            return
        self.speak("Reset the environment")
        self._enter(Phase.RESETTING, self.plan.reset_time_s, "reset the scene (→ when ready)")

    def _estop(self) -> None:
        try:
            answer = self.estop_control.estop(True)
        except SessionError as err:
            answer = f"E-STOP NOT APPLIED: {err}"
        self._safe_disable()
        self._drop_bag()
        self.speak("Emergency stop")
        self._enter(Phase.PAUSED, math.inf, f"{answer}. Press Enter to release the e-stop, Esc to stop")

    def _release(self) -> None:
        if self.prompt.startswith("start refused"):
            self._run()
            return
        self.estop_control.estop(False)
        self._reset()

    def _stop(self) -> None:
        if self.phase is Phase.DONE:
            return
        self._safe_disable()
        self._drop_bag()
        self._finish()

    def _drop_bag(self) -> None:
        """Delete the bag of an episode that will not be scored (recording or saved)."""
        if self.phase is Phase.RECORDING and self._bag and self.recorder is not None:
            self.recorder.discard()
        elif self._bag:
            self.delete_bag(self._bag)
        self._bag = ""

    def _safe_disable(self) -> None:
        with contextlib.suppress(SessionError):
            self.policy.enable(False)

    def _finish(self) -> None:
        self.phase, self._deadline, self.prompt = Phase.DONE, math.inf, ""
        self.save()
        self.speak("Evaluation over")
