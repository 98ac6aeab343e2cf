"""Words first, then the image: the closed loop's optional first training stage.

With the colours swapping slots half the time, neither the instruction alone nor the image alone says
where the named cube is, only both together (an exclusive or); a policy that has learned neither has
no gradient towards either, and the tiny SmolVLA learned neither (follows the instruction in 0 of 10
scenes). Trained first on demonstrations where the words alone name the usual slot most of the time,
it learns the words; trained then on all of them, the swapped scenes leave a loss only the image can
remove (measured with two recordings, 35 % then 50 % swapped, 3000 steps each: red 4/5, blue 5/5,
other cube 0 %, follows the instruction in 6 of 10 scenes; one stage at 35 %: red 2/5, blue 3/5).

The first stage leaves out (weight 0, ``vla-ros train --episode-weights``) every other swapped
demonstration of the training split. Which demonstrations were swapped comes from the simulator's
own layout rule (:func:`vla_ros.sim.randomization.sample_layout`): dataset episode ``i`` is the
simulator's episode ``i + 1`` (its first reset is episode 1) and scene ``(i + 1) // scene_repeats``.
"""

from __future__ import annotations

from vla_ros.closed_loop.config import ClosedLoopConfig
from vla_ros.sim.randomization import sample_layout
from vla_ros.training.config import TrainConfig
from vla_ros.training.data import split_episodes

__all__ = ["swapped_demonstrations", "words_first_weights"]

_CUBES = ("red", "blue")


def swapped_demonstrations(cfg: ClosedLoopConfig) -> list[int]:
    """Dataset episode indices (0-based) of the demonstrations whose colours exchanged slots."""
    repeats = 2 if cfg.paired_scenes else 1
    return [i for i in range(cfg.episodes)
            if sample_layout(cfg.seed, (i + 1) // repeats, _CUBES, cfg.cube_layout, swap_slots=cfg.swap_slots,
                             swap_probability=cfg.demo_swap_probability).slots_swapped]


def words_first_weights(cfg: ClosedLoopConfig, num_episodes: int) -> list[str]:
    """``--episode-weights`` of the first stage: ``episode=0`` for every other swapped demonstration in
    the training split (``vla-ros train``'s default split of ``num_episodes``); [] when none is swapped.

    Raises:
        ValueError: the dataset does not hold one episode per demonstration (a split episode would
            shift the indices).
    """
    if num_episodes != cfg.episodes:
        raise ValueError(f"curriculum: the dataset has {num_episodes} episodes for {cfg.episodes} "
                         "demonstrations (an episode was split at a gap); cannot tell which were swapped")
    train = set(split_episodes([num_episodes], TrainConfig.val_fraction, TrainConfig.seed).train[0])
    swapped = [i for i in swapped_demonstrations(cfg) if i in train]
    return [f"{i}=0" for i in swapped[1::2]]
