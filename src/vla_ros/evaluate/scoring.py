"""Scoring of closed-loop evaluation episodes in simulation (ROS-agnostic; never imports rclpy).

An evaluation is a list of episodes (:func:`plan_episodes`: the tasks interleaved, e.g. red, blue, red,
blue, ...). During an episode a :class:`ReachTracker` follows the gripper→cube distance of every cube
from the simulator's ground truth (``sim/objects``); the episode succeeds when the gripper frame
reached the named cube at any time, by the one success rule of :mod:`vla_ros.sim.task`
(:func:`~vla_ros.sim.task.reached`: within :data:`~vla_ros.sim.task.SUCCESS_TOLERANCE_M` of the cube's
centre). :class:`EpisodeResult` records one episode, :func:`summarize` the success rate per
instruction, :class:`EvaluationResults` the whole run as ``results.json`` (:data:`SCHEMA`).

Positions are metres in the simulator's world frame; times are seconds of simulated time.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from vla_ros.errors import BadInputError, ConfigError
from vla_ros.sim.task import SUCCESS_TOLERANCE_M, reach_distance_m, reached

__all__ = [
    "RESULTS_FILE",
    "SCHEMA",
    "EpisodePlan",
    "EpisodeResult",
    "EvaluationResults",
    "ReachTracker",
    "TaskSummary",
    "plan_episodes",
    "summarize",
]

SCHEMA = "vla_ros.sim_evaluation/1"
"""Format tag of ``results.json``."""

RESULTS_FILE = "results.json"
"""Name of the results file in the evaluator's ``output_dir``."""


@dataclass(frozen=True)
class EpisodePlan:
    """What one evaluation episode asks for.

    Attributes:
        index: episode index in the run, from 0.
        task: the instruction given to the policy.
        target_named: the cube the given instruction names; the episode is scored against it.
        scene_target: the cube this episode's slot is about (the one named without exchange); it differs
            from ``target_named`` only when the instructions are exchanged.
    """

    index: int
    task: str
    target_named: str
    scene_target: str

    @property
    def exchanged(self) -> bool:
        """Whether the instruction given names another cube than the slot's."""
        return self.target_named != self.scene_target


def plan_episodes(
    tasks: Sequence[str], targets: Sequence[str], episodes_per_task: int, exchange_tasks: bool = False
) -> list[EpisodePlan]:
    """The episodes of a run, the tasks interleaved: target 0, 1, ..., 0, 1, ...

    Args:
        tasks: the instruction per target (``tasks[i]`` names ``targets[i]``).
        targets: cube names (colours), same length as ``tasks``.
        episodes_per_task: episodes per target.
        exchange_tasks: give each episode the next target's instruction (``tasks[(i + 1) % n]``, i.e. the
            other one of two) while scoring against the instruction given.

    Returns:
        ``episodes_per_task * len(targets)`` plans.

    Raises:
        ConfigError: listing every problem (lengths differ, empty or repeated names, exchange with a
            single target, fewer than one episode).
    """
    problems = []
    if len(tasks) != len(targets):
        problems.append(f"tasks ({len(tasks)}) and targets ({len(targets)}) must have the same length")
    if not targets:
        problems.append("no targets")
    for what, names in (("tasks", tasks), ("targets", targets)):
        if any(not n for n in names):
            problems.append(f"{what} {list(names)!r} holds an empty name")
        if len(set(names)) != len(names):
            problems.append(f"{what} {list(names)!r} holds a name twice")
    if exchange_tasks and len(targets) < 2:
        problems.append("exchange_tasks needs at least two targets")
    if episodes_per_task < 1:
        problems.append(f"episodes_per_task={episodes_per_task} must be at least 1")
    if problems:
        raise ConfigError("evaluation plan: " + "; ".join(problems))
    n = len(targets)
    plans = []
    for k in range(episodes_per_task):
        for i, scene_target in enumerate(targets):
            given = (i + 1) % n if exchange_tasks else i
            plans.append(EpisodePlan(k * n + i, tasks[given], targets[given], scene_target))
    return plans


def _xyz(value: ArrayLike, what: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.shape != (3,) or not np.all(np.isfinite(arr)):
        raise BadInputError(f"{what} must be 3 finite coordinates (m), got {value!r}")
    return arr


class ReachTracker:
    """Gripper→cube distances over one episode, from samples of the simulator's ground truth.

    Args:
        target: the cube the instruction names (success = reaching it).
        tolerance_m: success radius (default: the shared :data:`~vla_ros.sim.task.SUCCESS_TOLERANCE_M`).
    """

    def __init__(self, target: str, tolerance_m: float = SUCCESS_TOLERANCE_M) -> None:
        self.target = target
        self.tolerance_m = tolerance_m
        self.times_s: list[float] = []
        self.distances_m: dict[str, list[float]] = {}
        self.reached: dict[str, bool] = {}
        self.first_reach_s: dict[str, float] = {}

    def update(self, time_s: float, gripper_xyz: ArrayLike, cubes: Mapping[str, ArrayLike]) -> None:
        """Add one sample.

        Args:
            time_s: simulated time of the sample, s.
            gripper_xyz: ``gripper_frame_link`` origin, (3,) m, world frame.
            cubes: cube centre per colour, (3,) m each, world frame.

        Raises:
            BadInputError: non-finite or mis-shaped positions, or the named cube missing (nothing is
                recorded for that sample).
        """
        gripper = _xyz(gripper_xyz, "gripper position")
        points = {name: _xyz(p, f"cube {name!r}") for name, p in cubes.items()}
        if self.target not in points:
            raise BadInputError(f"no {self.target!r} cube in the scene; cubes: {sorted(points)}")
        if self.distances_m and set(points) != set(self.distances_m):
            raise BadInputError(f"cubes changed during the episode: {sorted(self.distances_m)} -> "
                                f"{sorted(points)}")
        self.times_s.append(float(time_s))
        for name, point in points.items():
            self.distances_m.setdefault(name, []).append(reach_distance_m(gripper, point))
            hit = reached(gripper, point, self.tolerance_m)
            if hit and not self.reached.get(name):
                self.first_reach_s[name] = float(time_s)
            self.reached[name] = self.reached.get(name, False) or hit

    @property
    def samples(self) -> int:
        """Number of samples so far."""
        return len(self.times_s)

    @property
    def success(self) -> bool:
        """Whether the named cube was reached at any sample."""
        return self.reached.get(self.target, False)

    def others(self) -> list[str]:
        """The cubes other than the named one."""
        return [name for name in self.distances_m if name != self.target]

    def min_distance_m(self) -> dict[str, float]:
        """Smallest distance per cube, m (empty before the first sample)."""
        return {name: float(min(d)) for name, d in self.distances_m.items()}

    def final_distance_m(self) -> dict[str, float]:
        """Distance per cube at the last sample, m."""
        return {name: float(d[-1]) for name, d in self.distances_m.items()}

    def series(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(times (N,) s, {cube: distances (N,) m})`` of the samples."""
        return np.asarray(self.times_s), {n: np.asarray(d) for n, d in self.distances_m.items()}


def _closest(values: Mapping[str, float], names: Sequence[str]) -> float | None:
    picked = [values[n] for n in names if n in values]
    return min(picked) if picked else None


@dataclass
class EpisodeResult:
    """One evaluation episode, as written to ``results.json``.

    Distances are metres; ``None`` when the episode had no ground-truth sample (e.g. the policy refused
    to start). ``*_other_m`` is the nearest of the cubes not named (the other one of two).

    Attributes:
        index, task, target_named, scene_target, exchanged: see :class:`EpisodePlan`.
        success: the named cube was reached at some time in the episode.
        other_reached: a cube not named was reached at some time.
        refused: the policy refused to enable (``refusal`` says why); the episode counts as a failure.
        enable_attempts: ``policy/enable`` calls made (a refusal may be tried again).
        earlier_refusals: messages of refusals that a later attempt overcame.
        policy_task: the ``task`` the policy reported (``policy/status``) when the episode started.
        duration_s: simulated time from enable to the end of the episode, s.
        wall_s: wall-clock time of the whole episode including reset and enable, s.
        time_to_success_s: simulated time from enable to the first reach of the named cube, s.
        samples: ground-truth samples scored.
        reset_message: the simulator's answer to ``sim/reset`` (episode number and cube poses).
        policy_errors: errors the policy reported during the episode (``policy/status`` ``last_error``).
        error: what went wrong in this episode besides a refusal (empty if nothing).
    """

    index: int
    task: str
    target_named: str
    scene_target: str
    exchanged: bool = False
    success: bool = False
    other_reached: bool = False
    refused: bool = False
    refusal: str = ""
    enable_attempts: int = 0
    earlier_refusals: list[str] = field(default_factory=list)
    policy_task: str = ""
    min_distance_named_m: float | None = None
    final_distance_named_m: float | None = None
    min_distance_other_m: float | None = None
    final_distance_other_m: float | None = None
    min_distance_m: dict[str, float] = field(default_factory=dict)
    final_distance_m: dict[str, float] = field(default_factory=dict)
    time_to_success_s: float | None = None
    duration_s: float = 0.0
    wall_s: float = 0.0
    samples: int = 0
    reset_message: str = ""
    policy_errors: list[str] = field(default_factory=list)
    error: str = ""

    @classmethod
    def from_plan(cls, plan: EpisodePlan, **extra: Any) -> EpisodeResult:
        """A result for ``plan`` with nothing scored yet (``extra`` sets further fields)."""
        return cls(plan.index, plan.task, plan.target_named, plan.scene_target, plan.exchanged, **extra)

    def score(self, tracker: ReachTracker, start_s: float) -> None:
        """Fill success and distances from ``tracker`` (``start_s``: sim time of the enable, s)."""
        mins, finals = tracker.min_distance_m(), tracker.final_distance_m()
        others = tracker.others()
        self.success = tracker.success
        self.other_reached = any(tracker.reached.get(n, False) for n in others)
        self.min_distance_m, self.final_distance_m = mins, finals
        self.min_distance_named_m = mins.get(self.target_named)
        self.final_distance_named_m = finals.get(self.target_named)
        self.min_distance_other_m = _closest(mins, others)
        self.final_distance_other_m = _closest(finals, others)
        first = tracker.first_reach_s.get(self.target_named)
        self.time_to_success_s = None if first is None else first - start_s
        self.samples = tracker.samples

    def outcome(self) -> str:
        """One line for the progress log, e.g. ``success (min 0.012 m to red, 0.151 m to blue)``."""
        if self.refused:
            return f"refused: {self.refusal}"
        if self.error and not self.samples:
            return f"error: {self.error}"
        word = "success" if self.success else "failure"
        parts = [f"min {_m(self.min_distance_named_m)} to {self.target_named}"]
        parts += [f"{_m(d)} to {n}" for n, d in self.min_distance_m.items() if n != self.target_named]
        other = "; reached another cube" if self.other_reached else ""
        return f"{word} ({', '.join(parts)}{other})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (``None`` for missing distances; never NaN)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EpisodeResult:
        """Inverse of :meth:`to_dict`.

        Raises:
            BadInputError: unknown or missing fields.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise BadInputError(f"episode record has unknown fields {unknown}")
        try:
            return cls(**data)
        except TypeError as err:
            raise BadInputError(f"episode record: {err}") from err


def _m(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f} m"


@dataclass(frozen=True)
class TaskSummary:
    """Outcome of the episodes given one instruction.

    Attributes:
        task: the instruction given.
        target: the cube it names.
        episodes: episodes given this instruction.
        successes: episodes that reached the named cube.
        success_rate: ``successes / episodes`` (refused episodes count as failures).
        refusals: episodes the policy refused to start.
        errors: episodes with an error besides a refusal.
        other_reached: episodes that reached a cube not named.
        other_reached_rate: ``other_reached / episodes``.
        mean_min_distance_named_m: mean over scored episodes of the closest approach to the named cube,
            m (None if none was scored).
    """

    task: str
    target: str
    episodes: int
    successes: int
    success_rate: float
    refusals: int
    errors: int
    other_reached: int
    other_reached_rate: float
    mean_min_distance_named_m: float | None


def _summary(task: str, target: str, episodes: Sequence[EpisodeResult]) -> TaskSummary:
    n = len(episodes)
    successes = sum(e.success for e in episodes)
    others = sum(e.other_reached for e in episodes)
    mins = [e.min_distance_named_m for e in episodes if e.min_distance_named_m is not None]
    return TaskSummary(task, target, n, successes, successes / n if n else 0.0,
                       sum(e.refused for e in episodes), sum(bool(e.error) for e in episodes), others,
                       others / n if n else 0.0, float(np.mean(mins)) if mins else None)


def summarize(episodes: Sequence[EpisodeResult]) -> tuple[dict[str, TaskSummary], TaskSummary]:
    """Per-instruction and overall outcome.

    Returns:
        ``({task given: summary}, overall)``, tasks in the order they first appear; the overall
        summary has ``task == target == "all"``.
    """
    by_task: dict[str, list[EpisodeResult]] = {}
    for episode in episodes:
        by_task.setdefault(episode.task, []).append(episode)
    per_task = {task: _summary(task, eps[0].target_named, eps) for task, eps in by_task.items()}
    return per_task, _summary("all", "all", list(episodes))


@dataclass
class EvaluationResults:
    """A whole evaluation run: its configuration, episodes, and the error that ended it early, if any.

    Attributes:
        config: the evaluator's parameters (JSON-ready).
        episodes: the episodes done, in order.
        planned_episodes: how many episodes the run was to do.
        checkpoint_id: what the policy reported loading (``policy/status``).
        run_error: why the run stopped early (empty when it completed).
        started_at: wall-clock start, ISO 8601.
        wall_s: wall-clock duration so far, s.
        episode_files: the ``episode_NNN.npz`` traces written, by episode index.
    """

    config: dict[str, Any] = field(default_factory=dict)
    episodes: list[EpisodeResult] = field(default_factory=list)
    planned_episodes: int = 0
    checkpoint_id: str = ""
    run_error: str = ""
    started_at: str = ""
    wall_s: float = 0.0
    episode_files: dict[int, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """All planned episodes done and no run error."""
        return not self.run_error and len(self.episodes) >= self.planned_episodes

    def to_json(self) -> dict[str, Any]:
        """The ``results.json`` document (:data:`SCHEMA`): the fields above plus ``summary``
        (``per_task``: {task: :class:`TaskSummary` fields}, ``overall``)."""
        per_task, overall = summarize(self.episodes)
        return {
            "schema": SCHEMA,
            "complete": self.complete,
            "run_error": self.run_error,
            "started_at": self.started_at,
            "wall_s": self.wall_s,
            "checkpoint_id": self.checkpoint_id,
            "planned_episodes": self.planned_episodes,
            "config": self.config,
            "summary": {"per_task": {t: dataclasses.asdict(s) for t, s in per_task.items()},
                        "overall": dataclasses.asdict(overall)},
            "episodes": [e.to_dict() for e in self.episodes],
            "episode_files": {str(k): v for k, v in self.episode_files.items()},
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> EvaluationResults:
        """Inverse of :meth:`to_json` (the summary is recomputed from the episodes).

        Raises:
            BadInputError: not a :data:`SCHEMA` document, or a malformed episode record.
        """
        if doc.get("schema") != SCHEMA:
            raise BadInputError(f"not a {SCHEMA} document (schema {doc.get('schema')!r})")
        return cls(config=dict(doc.get("config", {})),
                   episodes=[EpisodeResult.from_dict(e) for e in doc.get("episodes", [])],
                   planned_episodes=int(doc.get("planned_episodes", 0)),
                   checkpoint_id=str(doc.get("checkpoint_id", "")), run_error=str(doc.get("run_error", "")),
                   started_at=str(doc.get("started_at", "")), wall_s=float(doc.get("wall_s", 0.0)),
                   episode_files={int(k): str(v) for k, v in doc.get("episode_files", {}).items()})

    def save(self, output_dir: str | Path) -> Path:
        """Write ``<output_dir>/results.json`` (written aside, then renamed: never half a file).

        Returns:
            The file's path.
        """
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        path = out / RESULTS_FILE
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2, allow_nan=False) + "\n")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> EvaluationResults:
        """Read a ``results.json`` (or the directory holding one).

        Raises:
            BadInputError: the file is not valid JSON or not a results document.
            FileNotFoundError: no such file.
        """
        p = Path(path)
        p = p / RESULTS_FILE if p.is_dir() else p
        try:
            doc = json.loads(p.read_text())
        except json.JSONDecodeError as err:
            raise BadInputError(f"{p}: not JSON: {err}") from err
        if not isinstance(doc, dict):
            raise BadInputError(f"{p}: expected a JSON object")
        return cls.from_json(doc)

