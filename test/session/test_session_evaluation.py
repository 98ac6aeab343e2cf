"""The operator-scored evaluation loop, key by key on a stepped clock: real bags (EpisodeBagWriter) and a
real results.json read back with EvaluationResults. The policy and e-stop are recording stand-ins (the
real ones are exercised by test_eval_session_tmux.py)."""

from __future__ import annotations

import math

import pytest
from test_session_recording import Bags, Estop, finished

from vla_ros.evaluate.scoring import SCHEMA, EvaluationResults
from vla_ros.session.errors import SessionError
from vla_ros.session.evaluation import EvaluationPlan, EvaluationSession
from vla_ros.session.keys import Key
from vla_ros.session.recording import Phase

TASKS = ["reach the red cube", "reach the blue cube"]


class Policy:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.refuse = 0

    def set_task(self, task: str) -> str:
        self.calls.append(("task", task))
        return task

    def enable(self, on: bool) -> str:
        self.calls.append(("enable", on))
        if on and self.refuse:
            self.refuse -= 1
            raise SessionError("policy/enable(True): start state: wrist_flex = 1.4 rad, allowed [-1, 1]")
        return "ok"


@pytest.fixture
def rig(tmp_path):
    now = [0.0]
    policy = Policy()
    bags = Bags(tmp_path / "bags")
    plan = EvaluationPlan(episodes_per_task=1, tasks=TASKS, episode_time_s=10.0, reset_time_s=5.0,
                          record_eval=True, output_dir=str(tmp_path / "eval"))
    deleted: list[str] = []

    def delete(path: str) -> None:
        import shutil

        deleted.append(path)
        shutil.rmtree(path)

    session = EvaluationSession(plan, plan.episodes(""), policy, bags, Estop(), lambda _: None,
                                lambda: now[0], delete)

    def advance(seconds: float) -> None:
        for _ in range(math.ceil(seconds * 10 - 1e-9)):
            now[0] += 0.1
            session.tick()

    return session, advance, policy, tmp_path, deleted


def test_scores_redo_and_results(rig):
    s, advance, policy, tmp, deleted = rig
    s.begin()
    assert s.phase is Phase.RECORDING and policy.calls == [("task", TASKS[0]), ("enable", True)]
    advance(10.05)
    assert s.phase is Phase.SCORING and ("enable", False) in policy.calls
    s.on_key("x")
    assert s.phase is Phase.SCORING
    s.on_key("r")
    assert s.phase is Phase.RESETTING and len(deleted) == 1 and not finished(tmp / "bags")
    s.on_key(Key.RIGHT)
    advance(3)
    s.on_key(Key.RIGHT)
    s.on_key("s")
    assert s.phase is Phase.RESETTING
    s.on_key(Key.RIGHT)
    assert policy.calls[-2:] == [("task", TASKS[1]), ("enable", True)]
    advance(10.05)
    s.on_key("f")
    assert s.done
    results = EvaluationResults.load(tmp / "eval")
    doc = (tmp / "eval" / "results.json").read_text()
    assert SCHEMA in doc and results.complete
    assert [(e.task, e.success) for e in results.episodes] == [(TASKS[0], True), (TASKS[1], False)]
    assert results.episodes[0].duration_s == pytest.approx(3.0, abs=0.11)
    assert sorted(results.episode_files.values()) == [str(p) for p in finished(tmp / "bags")]
    assert len(finished(tmp / "bags")) == 2


def test_refused_start_pauses_then_retries(rig):
    s, _, policy, _, _ = rig
    policy.refuse = 1
    s.begin()
    assert s.phase is Phase.PAUSED and "start refused" in s.status().prompt
    s.on_key(Key.ENTER)
    assert s.phase is Phase.RECORDING


def test_estop_and_esc_drop_the_unscored_episode(rig):
    s, advance, policy, tmp, _ = rig
    s.begin()
    advance(1)
    s.on_key(Key.SPACE)
    assert s.phase is Phase.PAUSED and ("enable", False) in policy.calls
    s.on_key(Key.ENTER)
    s.on_key(Key.RIGHT)
    assert s.phase is Phase.RECORDING
    s.on_key(Key.ESC)
    assert s.done and not finished(tmp / "bags") and not list((tmp / "bags" / ".partial").iterdir())
    results = EvaluationResults.load(tmp / "eval")
    assert results.episodes == [] and not results.complete
