"""The demo's endless episodes: instructions in turn, a task set by someone else followed, the line."""

import pytest

from vla_ros.errors import ConfigError
from vla_ros.evaluate.demo import ContinuousPlan, demo_line
from vla_ros.evaluate.scoring import EpisodeResult
from vla_ros.evaluate.targets import DEFAULT_TASKS, named_target

RED, BLUE = DEFAULT_TASKS


@pytest.mark.parametrize("task, target", [
    ("reach the red cube", "red"), ("Touch the BLUE one!", "blue"), ("reach the cube", None),
    ("go from red to blue", None), ("reach the reddish cube", None),
])
def test_named_target_is_the_one_colour_named_as_a_word(task, target):
    assert named_target(task, ("red", "blue")) == target


def test_the_instructions_alternate_while_nobody_else_sets_the_task():
    plans = ContinuousPlan(DEFAULT_TASKS, ("red", "blue"))
    given = []
    policy_task = "reach the red cube"  # what the policy starts with
    for _ in range(5):
        plan, scored = plans.next(policy_task)
        assert scored
        given.append((plan.index, plan.task, plan.target_named))
        policy_task = plan.task  # the evaluator set it
    assert given == [(0, RED, "red"), (1, BLUE, "blue"), (2, RED, "red"), (3, BLUE, "blue"), (4, RED, "red")]
    assert plans.followed is None


def test_a_task_set_on_the_running_demo_is_followed_from_the_next_episode():
    plans = ContinuousPlan(DEFAULT_TASKS, ("red", "blue"))
    plan, _ = plans.next(RED)
    plan, _ = plans.next("touch the blue cube")  # someone ran `vla-ros task "touch the blue cube"`
    assert (plan.task, plan.target_named) == ("touch the blue cube", "blue")
    assert plans.followed == "touch the blue cube"
    for _ in range(3):  # it stays, no longer alternating
        plan, scored = plans.next(plan.task)
        assert (plan.task, plan.target_named, scored) == ("touch the blue cube", "blue", True)
    plan, _ = plans.next(RED)  # changed again
    assert (plan.task, plan.target_named) == (RED, "red")


def test_a_followed_task_that_names_no_cube_runs_unscored():
    plans = ContinuousPlan(DEFAULT_TASKS, ("red", "blue"))
    plans.next(RED)
    plan, scored = plans.next("wave hello")
    assert plan.task == "wave hello" and not scored


def test_bad_tasks_and_targets_are_refused():
    with pytest.raises(ConfigError, match="same length"):
        ContinuousPlan(DEFAULT_TASKS, ("red",))


def _result(**fields) -> EpisodeResult:
    return EpisodeResult(index=2, task=RED, target_named="red", scene_target="red", **fields)


def test_demo_lines():
    assert demo_line(_result(success=True, min_distance_named_m=0.0123, samples=5), True) == \
        'episode 3: "reach the red cube": success (1.2 cm)'
    assert demo_line(_result(min_distance_named_m=0.0871, other_reached=True, samples=5), True) == \
        'episode 3: "reach the red cube": failure (8.7 cm; reached the other cube)'
    assert demo_line(_result(refused=True, refusal="start state far"), True) == \
        'episode 3: "reach the red cube": refused (start state far)'
    assert "not scored" in demo_line(_result(min_distance_named_m=0.01), False)
    assert "error (no sim/objects" in demo_line(_result(error="no sim/objects sample"), True)
