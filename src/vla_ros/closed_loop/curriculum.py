"""Words first, then the image: the closed loop's two recordings and two training stages.

With the colours swapping slots half the time, neither the instruction alone nor the image alone says
where the named cube is, only both together (an exclusive or); a policy that has learned neither has
no gradient towards either, and the tiny SmolVLA learned neither (follows the instruction in 0 of 10
scenes). Trained first on demonstrations where the words alone name the usual slot most of the time
(``demo_swap_probability`` 0.35), it learns the words; trained further on those scenes and a second
recording of new ones swapped half the time, the swapped scenes leave a loss only the image can
remove. Measured on 2 cores (this project's README, issue 17; unseen scenes, 5 per instruction):

* 40 + 40 demonstrations, the second stage on both recordings (the defaults): red 4/5, blue 5/5, the
  cube reached follows the instruction in 8 of 10 scenes;
* the second stage on the new recording only: red 4/5, blue 5/5, follows 6 of 10 (in the scenes with
  the colours swapped it reached the red cube in 1 of 5 episodes);
* one stage at 35 %: red 2/5, blue 3/5, follows 4/10; the same 50 scenes in both stages (every other
  swapped one left out of the first): red 2/5, blue 1/5, follows 1/10. New scenes in the second stage
  are what makes it work.

Dataset episode ``i`` of a recording is the simulator's episode ``i + 1`` (its first reset is episode
1) and scene ``(i + 1) // scene_repeats`` of :func:`vla_ros.sim.randomization.sample_layout`.
"""

from __future__ import annotations

from dataclasses import dataclass

from vla_ros.closed_loop.config import ClosedLoopConfig
from vla_ros.sim.randomization import sample_layout

__all__ = ["Recording", "recordings", "swapped_demonstrations", "two_stages"]

_CUBES = ("red", "blue")


@dataclass(frozen=True)
class Recording:
    """One recording of expert demonstrations and the training stage that uses it.

    Attributes:
        name: ``words`` (the first; the words alone name the usual slot most of the time) or ``image``
            (new scenes for the second stage); seed: the simulator's scene seed; episodes: demonstrations;
        swap_probability: the share of scenes whose colours exchange slots, 0..1; steps: training steps
            of its stage.
    """

    name: str
    seed: int
    episodes: int
    swap_probability: float
    steps: int

    @property
    def suffix(self) -> str:
        """What the recording's bags, dataset, training run and logs add to the first one's names:
        ``""`` for the first, ``"_image"`` for the image stage's."""
        return "" if self.name == "words" else f"_{self.name}"


def two_stages(cfg: ClosedLoopConfig) -> bool:
    """Whether the run records and trains twice (a second recording, in the swapped-slots scene)."""
    return cfg.swap_slots and cfg.image_stage_episodes > 0


def recordings(cfg: ClosedLoopConfig) -> list[Recording]:
    """The run's recordings in training order: the first always, the image stage's when
    :func:`two_stages`."""
    first = [Recording("words", cfg.seed, cfg.episodes, cfg.demo_swap_probability, cfg.steps)]
    if not two_stages(cfg):
        return first
    return [*first, Recording("image", cfg.image_stage_seed, cfg.image_stage_episodes,
                              cfg.image_stage_swap_probability, cfg.image_stage_steps)]


def swapped_demonstrations(cfg: ClosedLoopConfig, recording: Recording | None = None) -> list[int]:
    """Dataset episode indices (0-based) of a recording's demonstrations whose colours exchanged slots
    (default: the first recording)."""
    rec = recording or recordings(cfg)[0]
    repeats = 2 if cfg.paired_scenes else 1
    return [i for i in range(rec.episodes)
            if sample_layout(rec.seed, (i + 1) // repeats, _CUBES, cfg.cube_layout, swap_slots=cfg.swap_slots,
                             swap_probability=rec.swap_probability).slots_swapped]
