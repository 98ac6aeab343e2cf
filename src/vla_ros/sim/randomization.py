"""Per-episode randomisation of the simulated scene: cube poses, colours and lighting.

Episode ``e`` of seed ``s`` always gives the same layout (NumPy ``default_rng([s, e])``), so a run is
reproducible and every episode differs. Cubes keep their colour family (red stays red, blue stays
blue) so language tasks naming them stay true.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["CUBE_REGION_X_M", "CUBE_REGION_Y_M", "MIN_CUBE_SEPARATION_M", "EpisodeLayout", "sample_layout"]

CUBE_REGION_X_M = (0.17, 0.29)
CUBE_REGION_Y_M = (-0.13, 0.09)
"""Where cubes are placed (world frame, m): in reach of the gripper pointing down, clear of the bin."""
MIN_CUBE_SEPARATION_M = 0.06

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


def _cube_positions(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    lo = np.array([CUBE_REGION_X_M[0], CUBE_REGION_Y_M[0]])
    hi = np.array([CUBE_REGION_X_M[1], CUBE_REGION_Y_M[1]])
    placed: list[np.ndarray] = []
    while len(placed) < count:
        xy = rng.uniform(lo, hi)
        if all(np.linalg.norm(xy - p) >= MIN_CUBE_SEPARATION_M for p in placed):
            placed.append(xy)
    return placed


def _rgba(rgb: np.ndarray) -> tuple[float, float, float, float]:
    r, g, b = (float(v) for v in np.clip(rgb, 0.0, 1.0))
    return (r, g, b, 1.0)


def sample_layout(seed: int, episode: int, cubes: Sequence[str]) -> EpisodeLayout:
    """Draw the layout of ``episode`` for the named cubes.

    Args:
        seed: the run's seed (>= 0).
        episode: episode number (>= 0).
        cubes: cube colours present, e.g. ``("red",)`` or ``("red", "blue")``.
    """
    rng = np.random.default_rng([seed, episode])
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
    )
