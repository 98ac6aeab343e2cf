"""The curriculum's choice of demonstrations: the simulator's swapped scenes, every other one left out
of the first stage, never a held-out one. (That dataset episode i is the recorded simulator episode
i + 1 is checked on a real recording in test_closed_loop_run.)"""

import pytest

from vla_ros.closed_loop.config import ClosedLoopConfig
from vla_ros.closed_loop.curriculum import swapped_demonstrations, words_first_weights
from vla_ros.sim.randomization import sample_layout
from vla_ros.training.config import TrainConfig
from vla_ros.training.data import split_episodes


def test_swapped_demonstrations_follow_the_simulators_layout_rule():
    cfg = ClosedLoopConfig(episodes=60, demo_swap_probability=0.5, seed=2)
    swapped = swapped_demonstrations(cfg)
    expected = [i for i in range(60) if sample_layout(2, i + 1, ("red", "blue"), "slots", swap_slots=True,
                                                      swap_probability=0.5).slots_swapped]
    assert swapped == expected and 15 < len(swapped) < 45
    assert set(swapped_demonstrations(ClosedLoopConfig(episodes=60, demo_swap_probability=0.2, seed=2))) \
        < set(swapped), "the same draw: fewer swapped at a lower probability, a subset"
    assert swapped_demonstrations(ClosedLoopConfig(episodes=60, swap_slots=False)) == []
    paired = set(swapped_demonstrations(ClosedLoopConfig(episodes=60, paired_scenes=True, seed=2)))
    assert paired and all((i in paired) == (i + 1 in paired) for i in range(1, 59, 2)), \
        "one scene per two demonstrations (episodes 2s-1 and 2s): both swapped or neither"


def test_the_first_stage_leaves_out_every_other_swapped_training_demonstration():
    cfg = ClosedLoopConfig(episodes=50, demo_swap_probability=0.5, seed=2, curriculum_steps=100)
    weights = words_first_weights(cfg, 50)
    left_out = [int(w.split("=")[0]) for w in weights]
    assert all(w.endswith("=0") for w in weights)
    held_out = set(split_episodes([50], TrainConfig.val_fraction, TrainConfig.seed).val[0])
    trained_swapped = [i for i in swapped_demonstrations(cfg) if i not in held_out]
    assert left_out == trained_swapped[1::2] and not set(left_out) & held_out
    with pytest.raises(ValueError, match="51 episodes for 50 demonstrations"):
        words_first_weights(cfg, 51)
