"""The closed loop's recordings: words first (few swapped scenes), then new scenes for the image, and
which demonstrations the simulator swapped. (That dataset episode i is the recorded simulator episode
i + 1, and that the second stage trains from the first one's checkpoint, is checked on real recordings
in test_closed_loop_run.)"""

from pathlib import Path

import pytest

from vla_ros.closed_loop.config import ClosedLoopConfig
from vla_ros.closed_loop.curriculum import recordings, swapped_demonstrations, two_stages
from vla_ros.closed_loop.stages import RunPaths
from vla_ros.errors import ConfigError
from vla_ros.sim.randomization import sample_layout


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


def test_the_defaults_record_twice_words_first_then_new_scenes_half_swapped():
    cfg = ClosedLoopConfig()
    words, image = recordings(cfg)
    assert (words.seed, words.episodes, words.swap_probability, words.steps) == (
        cfg.seed, cfg.episodes, cfg.demo_swap_probability, cfg.steps)
    assert (image.seed, image.episodes, image.swap_probability, image.steps) == (
        cfg.image_stage_seed, cfg.image_stage_episodes, 0.5, cfg.image_stage_steps)
    assert words.swap_probability < image.swap_probability and image.seed not in (cfg.seed, cfg.eval_seed)
    first, second = (set(swapped_demonstrations(cfg, r)) for r in (words, image))
    assert len(first) < len(second), "fewer swapped scenes in the words' recording"
    root = Path("/run")
    paths = RunPaths(root)
    assert (paths.recording_bags(words), paths.recording_bags(image)) == (root / "bags", root / "bags_image")
    assert (paths.recording_dataset(words), paths.recording_dataset(image)) == (paths.dataset,
                                                                                root / "dataset_image")
    assert paths.stage_train(words, last=False) == root / "train_words"
    assert paths.stage_train(image, last=True) == paths.train


@pytest.mark.parametrize("kwargs", [{"image_stage_episodes": 0}, {"swap_slots": False},
                                    {"image_stage_episodes": 40, "swap_slots": False}])
def test_one_recording_without_swapped_slots_or_a_second_recording(kwargs):
    cfg = ClosedLoopConfig(**kwargs)
    assert not two_stages(cfg) and [r.name for r in recordings(cfg)] == ["words"]


def test_a_second_recording_of_one_demonstration_is_refused():
    with pytest.raises(ConfigError, match="image_stage_episodes=1"):
        ClosedLoopConfig(image_stage_episodes=1)
