"""Configuration of the ``sim_evaluator`` node (one field per ROS parameter), validated on construction."""

from __future__ import annotations

from dataclasses import dataclass, field

from vla_ros.config import param, range_problems
from vla_ros.errors import ConfigError
from vla_ros.evaluate.scoring import plan_episodes
from vla_ros.evaluate.targets import DEFAULT_TARGETS, DEFAULT_TASKS

__all__ = ["DEFAULT_TARGETS", "DEFAULT_TASKS", "SimEvaluatorConfig"]


@dataclass(frozen=True)
class SimEvaluatorConfig:
    """Parameters of the ``sim_evaluator`` node.

    Raises:
        ConfigError: listing every invalid field (ranges, tasks and targets that do not pair up,
            ``record_episode`` beyond the last episode).
    """

    episodes_per_task: int = field(default=10, metadata=param(
        "Evaluation episodes per target; the targets are interleaved (red, blue, red, ...)",
        range=(1, 100000)))
    tasks: list[str] = field(default_factory=lambda: list(DEFAULT_TASKS), metadata=param(
        "Instruction per target, same order as targets (each must be a training task of the checkpoint "
        "unless the policy allows new tasks)"))
    targets: list[str] = field(default_factory=lambda: list(DEFAULT_TARGETS), metadata=param(
        "Cube colour named by each task (the 'text' of its sim/objects marker)"))
    exchange_tasks: bool = field(default=False, metadata=param(
        "Give each episode the other target's instruction and score against the instruction given "
        "(does success follow the instruction?)"))
    continuous: bool = field(default=False, metadata=param(
        "Run episodes until the graph stops (the demo): the tasks in turn, episodes_per_task ignored; a "
        "task someone else sets on the policy (vla-ros task, ros2 param set) is followed from the next "
        "episode, scored against the cube it names; each episode logs 'episode N: \"<task>\": "
        "success|failure (<closest> cm)'"))
    episode_duration_s: float = field(default=20.0, metadata=param(
        "Simulated seconds from the policy's enable to the end of an episode", range=(0.1, 3600.0)))
    output_dir: str = field(default="sim_evaluation", metadata=param(
        "Directory for results.json and episode_NNN.npz (created)"))
    record_episode: int = field(default=0, metadata=param(
        "Episode (index from 0) whose joint trajectories, commands and camera frames are saved as "
        "episode_NNN.npz; -1: none", range=(-1, 100000)))
    frames_per_camera: int = field(default=8, metadata=param(
        "Camera frames kept per camera in the recorded episode, evenly spaced", range=(0, 1000)))
    cameras: list[str] = field(default_factory=lambda: ["front", "wrist"], metadata=param(
        "Cameras (cameras/<name>/image_raw) whose frames the recorded episode keeps"))
    policy_node: str = field(default="smolvla_policy", metadata=param(
        "Name of the policy node whose 'task' parameter is set (<name>/set_parameters)"))
    startup_timeout_s: float = field(default=120.0, metadata=param(
        "Wall seconds to wait for the graph's services and first messages (and the longest simulated "
        "time may stand still) before failing", range=(1.0, 3600.0)))
    enable_timeout_s: float = field(default=120.0, metadata=param(
        "Wall seconds to wait for policy/enable to answer (it runs the start-state gate, which may "
        "reset the arm to home first)", range=(1.0, 3600.0)))
    enable_attempts: int = field(default=2, metadata=param(
        "policy/enable attempts per episode: a refusal is tried again once joint_states flow (a driver "
        "reconnecting to the bus makes the supervisor refuse); a refusal that persists is recorded",
        range=(1, 10)))
    service_timeout_s: float = field(default=30.0, metadata=param(
        "Wall seconds to wait for any other service answer or the policy status to follow",
        range=(0.5, 3600.0)))

    def __post_init__(self) -> None:
        problems = range_problems(self)
        try:
            plan_episodes(self.tasks, self.targets, self.episodes_per_task, self.exchange_tasks)
        except ConfigError as err:
            problems.append(str(err))
        total = self.episodes_per_task * len(self.targets)
        if self.record_episode >= total:
            problems.append(f"record_episode={self.record_episode} is beyond the last episode ({total - 1}); "
                            "-1 records none")
        for name in ("output_dir", "policy_node"):
            if not getattr(self, name):
                problems.append(f"{name} must not be empty")
        if len(set(self.cameras)) != len(self.cameras):
            problems.append(f"cameras {self.cameras!r} holds a name twice")
        if problems:
            raise ConfigError("SimEvaluatorConfig: " + "; ".join(problems))

    @property
    def total_episodes(self) -> int:
        """Episodes of the run."""
        return self.episodes_per_task * len(self.targets)
