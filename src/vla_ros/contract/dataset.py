"""What a LeRobot training dataset says about a checkpoint: tasks, fps, cameras, start states, frames.

Read with lerobot's own classes (``LeRobotDatasetMetadata``, ``load_nested_dataset``,
``LeRobotDataset``) from a local directory only: a dataset is found at a given root, in lerobot's
dataset cache (``$HF_LEROBOT_HOME/<repo_id>``) or in the Hugging Face Hub cache
(``snapshot_download(..., local_files_only=True)``); nothing is ever downloaded.

Core module: no ROS.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vla_ros.errors import ConfigError
from vla_ros.robot.joints import JOINT_NAMES, LEROBOT_FEATURE_NAMES

__all__ = [
    "IMAGE_PREFIX",
    "DatasetMeta",
    "dataset_frames",
    "dataset_tasks",
    "episode_first_states",
    "locate_dataset",
    "read_metadata",
    "start_state_stats",
    "state_columns",
]

IMAGE_PREFIX = "observation.images."
"""LeRobot's prefix of camera features (``lerobot.utils.constants.OBS_IMAGES`` + ".")."""


def lerobot_home() -> Path:
    """lerobot's dataset cache: ``$HF_LEROBOT_HOME``, else lerobot's default."""
    if os.environ.get("HF_LEROBOT_HOME"):
        return Path(os.environ["HF_LEROBOT_HOME"]).expanduser()
    from lerobot.utils.constants import HF_LEROBOT_HOME

    return Path(HF_LEROBOT_HOME)


def _is_repo_id(ref: str) -> bool:
    return ref.count("/") == 1 and not ref.startswith((".", "/", "~"))


def locate_dataset(ref: str | Path | None, root: str | Path | None = None) -> tuple[Path | None, list[str]]:
    """Find a training dataset on this machine, never downloading.

    Args:
        ref: a dataset directory or a repo id (``user/name``); None to use ``root`` only.
        root: a directory recorded for it (``train_config.json``'s ``dataset.root``), tried first.

    Returns:
        ``(directory holding meta/, tried)``: the directory, or None, and every place looked at.
    """
    candidates: list[tuple[str, Path]] = []
    if root:
        candidates.append(("root", Path(root).expanduser()))
    if ref and not _is_repo_id(str(ref)):
        candidates.append(("path", Path(ref).expanduser()))
    elif ref:
        candidates.append(("lerobot cache", lerobot_home() / str(ref)))
    tried = []
    for _, path in candidates:
        tried.append(str(path))
        if (path / "meta").is_dir():
            return path, tried
    if ref and _is_repo_id(str(ref)):
        tried.append(f"Hub cache of dataset {ref}")
        try:
            from huggingface_hub import snapshot_download

            cached = Path(snapshot_download(str(ref), repo_type="dataset", local_files_only=True))
        except Exception:  # not in the cache (LocalEntryNotFoundError), or no cache at all
            return None, tried
        if (cached / "meta").is_dir():
            return cached, tried
    return None, tried


def dataset_tasks(root: str | Path) -> tuple[str, ...]:
    """A dataset's task strings: ``meta/tasks.parquet`` (v3.0) or ``meta/tasks.jsonl`` (v2.1); () if none."""
    meta = Path(root) / "meta"
    if (meta / "tasks.parquet").is_file():
        import pandas as pd

        frame = pd.read_parquet(meta / "tasks.parquet")
        column = frame["task"] if "task" in frame.columns else frame.index
        return tuple(str(t) for t in column)
    if (meta / "tasks.jsonl").is_file():
        lines = (meta / "tasks.jsonl").read_text().splitlines()
        return tuple(json.loads(line)["task"] for line in lines if line.strip())
    return ()


@dataclass(frozen=True)
class DatasetMeta:
    """A local dataset's metadata, read with lerobot's own loaders (``load_info``, ``load_episodes``).

    Unlike ``LeRobotDatasetMetadata``, which pulls missing files from the Hub, nothing is downloaded.

    Attributes:
        root: the dataset directory.
        info: ``meta/info.json`` (fps, features, robot_type, total_episodes, video_path...).
        episodes: ``meta/episodes`` (per episode: length, video file and ``from_timestamp`` per camera).
    """

    root: Path
    info: dict[str, Any]
    episodes: Any

    @property
    def fps(self) -> float:
        """Frames per second of the data, Hz."""
        return float(self.info["fps"])

    @property
    def features(self) -> dict[str, Any]:
        """Feature key -> ``{"dtype", "shape", "names"}``."""
        return dict(self.info["features"])

    @property
    def camera_keys(self) -> list[str]:
        """Camera features (``observation.images.*`` of dtype video or image), in info order."""
        return [k for k, f in self.features.items() if f.get("dtype") in ("video", "image")]

    @property
    def total_episodes(self) -> int:
        """Number of episodes."""
        return int(self.info["total_episodes"])


def read_metadata(root: str | Path) -> DatasetMeta:
    """The metadata of a local LeRobot v3.0 dataset (never downloads).

    Raises:
        ConfigError: not a readable LeRobot v3.0 dataset (``meta/info.json`` or ``meta/episodes`` missing).
    """
    from lerobot.datasets.utils import load_episodes, load_info

    root = Path(root)
    try:
        info = load_info(root)
        episodes = load_episodes(root)
        missing = [k for k in ("fps", "features", "total_episodes") if k not in info]
        if missing:
            raise KeyError(f"meta/info.json has no {missing}")
    except Exception as err:  # missing files, bad JSON or parquet: lerobot raises assorted errors
        raise ConfigError(f"cannot read the metadata of dataset {root}: {type(err).__name__}: {err}") from err
    return DatasetMeta(root, info, episodes)


def state_columns(names: object) -> list[int] | None:
    """Column order that puts a state vector's entries in :data:`JOINT_NAMES` order.

    Args:
        names: the ``names`` of an ``observation.state`` feature (a list, or ``{"motors": [...]}``).

    Returns:
        Indices into the feature's columns, or None when the names are neither ``<joint>.pos`` nor
        the joint names (then the columns are taken to be in that order already).
    """
    flat = list(names.get("motors", [])) if isinstance(names, dict) else list(names or [])
    for wanted in (LEROBOT_FEATURE_NAMES, JOINT_NAMES):
        if sorted(flat) == sorted(wanted):
            return [flat.index(n) for n in wanted]
    return None


def start_state_stats(first_states: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-joint mean and standard deviation of episode start states.

    Args:
        first_states: ``(num_episodes, num_joints)`` first ``observation.state`` of each episode.

    Returns:
        ``(mean, std)`` as lists of floats, in the units of the input.

    Raises:
        ValueError: no episodes, or non-finite values.
    """
    arr = np.asarray(first_states, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"need finite (episodes, joints) start states, got shape {arr.shape}")
    return arr.mean(axis=0).tolist(), arr.std(axis=0).tolist()


def episode_first_states(root: str | Path) -> np.ndarray:
    """The first ``observation.state`` of each episode of a local LeRobot (v3.0) dataset.

    Reads the metadata with :func:`read_metadata` and only the ``episode_index``,
    ``frame_index`` and ``observation.state`` columns with lerobot's ``load_nested_dataset`` (no video
    decoding, nothing downloaded).

    Args:
        root: the dataset directory (holding ``meta/info.json``).

    Returns:
        ``(num_episodes, state_dim)`` float64 in episode order, in the dataset's units and column order.

    Raises:
        ConfigError: not a readable dataset, no ``observation.state``, or an episode without its frame 0.
    """
    from lerobot.datasets.utils import load_nested_dataset

    root = Path(root)
    meta = read_metadata(root)
    try:
        frames = load_nested_dataset(root / "data").select_columns(
            ["episode_index", "frame_index", "observation.state"]).with_format("numpy")[:]
    except (OSError, KeyError, ValueError) as err:
        raise ConfigError(f"cannot read start states of dataset {root}: {err}") from err
    first = frames["frame_index"] == 0
    episodes = frames["episode_index"][first]
    missing = sorted(set(range(meta.total_episodes)) - set(episodes.tolist()))
    if missing or not episodes.size:
        raise ConfigError(f"dataset {root}: no frame 0 for episodes {missing or 'all'}")
    return np.asarray(frames["observation.state"][first], dtype=np.float64)[np.argsort(episodes)]


def dataset_frames(
    root: str | Path, cameras: Sequence[str], *, max_episodes: int = 8, per_episode: int = 4,
    video_backend: str = "pyav",
) -> dict[str, list[np.ndarray]]:
    """Camera frames spread across a dataset's episodes, decoded with lerobot's ``decode_video_frames``.

    Args:
        root: the dataset directory (v3.0; video cameras).
        cameras: camera keys (``observation.images.*``) to return.
        max_episodes: episodes used, evenly spread over the dataset.
        per_episode: frames per episode, evenly spread from its first to its last frame.
        video_backend: lerobot's video decoder (``pyav`` needs no GPU).

    Returns:
        camera key -> list of ``(H, W, 3)`` uint8 RGB frames.

    Raises:
        ConfigError: the dataset or its videos cannot be read, or a camera is not a video feature.
    """
    from lerobot.datasets.video_utils import decode_video_frames

    meta = read_metadata(root)
    total = meta.total_episodes
    chosen = sorted({int(e) for e in np.linspace(0, total - 1, min(max_episodes, total)).round()})
    out: dict[str, list[np.ndarray]] = {key: [] for key in cameras}
    try:
        for ep in chosen:
            row = meta.episodes[ep]
            times = np.unique(np.linspace(0, int(row["length"]) - 1, per_episode).round()) / meta.fps
            for key in cameras:
                if meta.features[key]["dtype"] != "video":
                    raise ConfigError(f"{key} is stored as {meta.features[key]['dtype']}, not video")
                path = meta.root / meta.info["video_path"].format(
                    video_key=key, chunk_index=row[f"videos/{key}/chunk_index"],
                    file_index=row[f"videos/{key}/file_index"])
                stamps = [float(row[f"videos/{key}/from_timestamp"]) + float(t) for t in times]
                frames = decode_video_frames(path, stamps, 0.5 / meta.fps, video_backend).numpy()
                out[key] += [(np.clip(f.transpose(1, 2, 0), 0, 1) * 255).round().astype(np.uint8)
                             for f in frames]
    except ConfigError:
        raise
    except Exception as err:  # decoding errors come from lerobot, torchvision and PyAV
        raise ConfigError(f"cannot decode camera frames of dataset {meta.root}: {type(err).__name__}: "
                          f"{err}") from err
    return out
