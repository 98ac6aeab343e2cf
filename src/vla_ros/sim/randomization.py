"""Per-episode randomisation of the simulated scene: cube poses, colours and lighting.

Episode ``e`` of seed ``s`` always gives the same layout (NumPy ``default_rng([s, e])``), so a run is
reproducible and every episode differs. Cubes keep their colour family (red stays red, blue stays
blue) so language tasks naming them stay true.

Two cube layouts: ``"random"`` places cubes anywhere in the cube region (at least
:data:`MIN_CUBE_SEPARATION_M` apart); ``"slots"`` puts each colour on its own slot
(:data:`CUBE_SLOTS_XY_M`) with a small jitter, optionally swapping the colours' slots per episode, so a
small policy can learn "reach the <colour> cube" from few demonstrations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vla_ros.errors import ConfigError

__all__ = [
    "CUBE_LAYOUTS",
    "CUBE_REGION_X_M",
    "CUBE_REGION_Y_M",
    "CUBE_SLOTS_XY_M",
    "MIN_CUBE_SEPARATION_M",
    "EpisodeLayout",
    "sample_layout",
]

CUBE_REGION_X_M = (0.17, 0.29)
CUBE_REGION_Y_M = (-0.13, 0.09)
"""Where cubes are placed (world frame, m): in reach of the gripper pointing down, clear of the bin."""
MIN_CUBE_SEPARATION_M = 0.06
"""Smallest distance between cube centres (m), in every layout."""
CUBE_LAYOUTS: tuple[str, str] = ("random", "slots")
"""The cube placements :func:`sample_layout` knows."""
CUBE_SLOTS_XY_M: dict[str, tuple[float, float]] = {"red": (0.23, 0.03), "blue": (0.23, -0.10)}
"""Fixed slot of each colour in the ``"slots"`` layout (world frame = ``base_link``, m), 13 cm apart
across y. Chosen in the default scene (start pose, 640x480 cameras) so that, with up to 1 cm jitter:

- the gripper reaches both cube centres pointing straight down and hovers 4 cm above them with at
  least 0.19 rad to every joint limit (wrist_flex is the binding one; further out, at x >= 0.27 m,
  it runs out of range);
- both cubes are in the front camera's view (left and right of the arm's midline, unoccluded);
- from the start pose both are in the wrist camera's view: the camera sits beside the jaws on +y and
  looks towards -y, so the slots are off-centre towards -y; further towards -y, or nearer than
  x = 0.22 m, the fixed jaw hides the blue slot;
- their centres stay at least 10 cm apart (any jitter: at least :data:`MIN_CUBE_SEPARATION_M`), so the
  2 cm success sphere of one never contains the other; both are well clear of the bin (y >= 0.15 m).
"""

_TABLE_COLOURS = np.array([[0.60, 0.45, 0.30], [0.55, 0.55, 0.55], [0.80, 0.78, 0.72]])
_CUBE_COLOURS = {"red": ([0.70, 0.00, 0.00], [0.95, 0.15, 0.15]),
                 "blue": ([0.00, 0.10, 0.65], [0.15, 0.30, 0.95])}


@dataclass(frozen=True)
class EpisodeLayout:
    """The randomised start of one episode.

    Attributes:
        seed, episode: what it was drawn from.
        cube_poses: ``{colour: (x_m, y_m, yaw_rad)}`` on the table, world frame.
        cube_rgba: ``{colour: (r, g, b, a)}``, 0..1.
        table_rgba: table colour.
        key_light_diffuse: key light intensity (grey level, 0..1).
        key_light_dir: key light direction (unit vector, world frame, pointing down).
        ambient: ambient light level, 0..1.
    """

    seed: int
    episode: int
    cube_poses: dict[str, tuple[float, float, float]]
    cube_rgba: dict[str, tuple[float, float, float, float]]
    table_rgba: tuple[float, float, float, float]
    key_light_diffuse: float
    key_light_dir: tuple[float, float, float]
    ambient: float
    slots_swapped: bool = False
    """``"slots"`` layout: whether this episode's colours took each other's slots."""


def _cube_positions(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    lo = np.array([CUBE_REGION_X_M[0], CUBE_REGION_Y_M[0]])
    hi = np.array([CUBE_REGION_X_M[1], CUBE_REGION_Y_M[1]])
    placed: list[np.ndarray] = []
    while len(placed) < count:
        xy = rng.uniform(lo, hi)
        if all(np.linalg.norm(xy - p) >= MIN_CUBE_SEPARATION_M for p in placed):
            placed.append(xy)
    return placed


def _slot_positions(rng: np.random.Generator, cubes: Sequence[str], jitter_m: float,
                    swap: bool, swap_probability: float) -> tuple[list[np.ndarray], bool]:
    # always drawn, so swap_slots changes nothing else; a lone cube stays on its own slot
    swapped = bool(rng.random() < swap_probability) and swap and len(cubes) > 1
    slots = {name: np.array(xy) for name, xy in CUBE_SLOTS_XY_M.items()}
    if swapped:
        slots["red"], slots["blue"] = slots["blue"], slots["red"]
    while True:  # a large jitter could bring the cubes together: draw again (never at the default)
        placed = [slots[name] + rng.uniform(-jitter_m, jitter_m, 2) for name in cubes]
        if len(placed) < 2 or np.linalg.norm(placed[0] - placed[1]) >= MIN_CUBE_SEPARATION_M:
            return placed, swapped


def _rgba(rgb: np.ndarray) -> tuple[float, float, float, float]:
    r, g, b = (float(v) for v in np.clip(rgb, 0.0, 1.0))
    return (r, g, b, 1.0)


def sample_layout(seed: int, episode: int, cubes: Sequence[str], cube_layout: str = "random",
                  cube_jitter_m: float = 0.01, swap_slots: bool = False,
                  swap_probability: float = 0.5) -> EpisodeLayout:
    """Draw the layout of ``episode`` for the named cubes.

    Args:
        seed: the run's seed (>= 0).
        episode: episode number (>= 0).
        cubes: cube colours present, e.g. ``("red",)`` or ``("red", "blue")``.
        cube_layout: ``"random"`` (anywhere in the cube region) or ``"slots"`` (each colour on its slot of
            :data:`CUBE_SLOTS_XY_M`, so a lone red cube is on the red slot).
        cube_jitter_m: ``"slots"``: uniform jitter of x and y, +-m.
        swap_slots: ``"slots"`` with two cubes: the colours exchange slots in some episodes.
        swap_probability: with ``swap_slots``, the chance per episode of the exchange, 0..1 (the same
            uniform draw for every value, so a scene swapped at 0.3 is swapped at 0.5 too).

    Raises:
        ConfigError: naming every problem: unknown ``cube_layout``, negative jitter, a swap probability
            outside 0..1, a cube colour without a slot in the ``"slots"`` layout.
    """
    problems = []
    if cube_layout not in CUBE_LAYOUTS:
        problems.append(f"cube_layout={cube_layout!r} is not one of {list(CUBE_LAYOUTS)}")
    if not cube_jitter_m >= 0:
        problems.append(f"cube_jitter_m={cube_jitter_m!r} must be >= 0")
    if not 0.0 <= swap_probability <= 1.0:
        problems.append(f"swap_probability={swap_probability!r} must be in 0..1")
    unknown = [name for name in cubes if name not in CUBE_SLOTS_XY_M]
    if cube_layout == "slots" and unknown:
        problems.append(f"no slot for cube(s) {unknown}; slots: {list(CUBE_SLOTS_XY_M)}")
    if problems:
        raise ConfigError("; ".join(problems))
    rng = np.random.default_rng([seed, episode])
    swapped = False
    if cube_layout == "slots":
        positions, swapped = _slot_positions(rng, cubes, cube_jitter_m, swap_slots, swap_probability)
    else:
        positions = _cube_positions(rng, len(cubes))
    poses = {name: (float(p[0]), float(p[1]), float(rng.uniform(-np.pi, np.pi)))
             for name, p in zip(cubes, positions)}
    colours = {name: _rgba(rng.uniform(*_CUBE_COLOURS[name])) for name in cubes}
    table = _TABLE_COLOURS[rng.integers(len(_TABLE_COLOURS))] + rng.uniform(-0.08, 0.08, 3)
    direction = np.array([rng.uniform(-0.4, 0.4), rng.uniform(-0.4, 0.4), -1.0])
    return EpisodeLayout(
        seed=seed,
        episode=episode,
        cube_poses=poses,
        cube_rgba=colours,
        table_rgba=_rgba(table),
        key_light_diffuse=float(rng.uniform(0.45, 0.9)),
        key_light_dir=tuple(float(v) for v in direction / np.linalg.norm(direction)),
        ambient=float(rng.uniform(0.15, 0.35)),
        slots_swapped=swapped,
    )
