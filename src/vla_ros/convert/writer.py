"""Writing episodes with lerobot's own ``LeRobotDataset`` (create / add_frame / save_episode / finalize).

The dataset is written aside, in a hidden staging directory next to the output
(``.<name>.partial-<pid>``, same filesystem), and renamed into place only after every episode was saved
and ``finalize()`` ran. A failed or interrupted conversion removes the staging directory, so the output
path holds either nothing (new dataset), the untouched old dataset (append), or the complete new one.
Appending copies the existing dataset into the staging directory first (lerobot rewrites its last
parquet and video files when it appends), then swaps it with the original.

The features are built by the same lerobot pipeline helpers ``lerobot-record`` uses
(``aggregate_pipeline_dataset_features`` over the default processors), so the schema equals that of a
dataset lerobot records for an ``so101_follower``.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from vla_ros.convert.errors import ConvertError, DatasetError
from vla_ros.convert.mapping import feature_names
from vla_ros.errors import ConfigError
from vla_ros.scheduling import keep_scheduling

__all__ = ["DatasetWriter", "check_vcodec", "dataset_features", "safe_video_backend"]

_log = logging.getLogger(__name__)


def dataset_features(units: str, image_shapes: Mapping[str, tuple[int, int, int]], use_videos: bool = True
                     ) -> dict[str, dict[str, Any]]:
    """The LeRobot features of an SO-101 dataset, exactly as ``lerobot-record`` derives them.

    Args:
        units: ``lerobot`` (names ``<joint>.pos``) or ``rad`` (``<joint>.pos_rad``).
        image_shapes: ``{camera: (height, width, 3)}``.
        use_videos: cameras as ``video`` (True, lerobot's default) or ``image`` features.
    """
    from lerobot.datasets.pipeline_features import (
        aggregate_pipeline_dataset_features,
        create_initial_features,
    )
    from lerobot.datasets.utils import combine_feature_dicts
    from lerobot.processor import make_default_processors

    joints: dict[str, Any] = dict.fromkeys(feature_names(units), float)
    observation: dict[str, Any] = {**joints, **{cam: tuple(shape) for cam, shape in image_shapes.items()}}
    teleop_action, _, robot_observation = make_default_processors()
    return combine_feature_dicts(
        aggregate_pipeline_dataset_features(
            pipeline=teleop_action,
            initial_features=create_initial_features(action=joints),
            use_videos=use_videos,
        ),
        aggregate_pipeline_dataset_features(
            pipeline=robot_observation,
            initial_features=create_initial_features(observation=observation),
            use_videos=use_videos,
        ),
    )


def check_vcodec(vcodec: str) -> None:
    """Raise ConfigError unless ``vcodec`` is one of lerobot's ``VALID_VIDEO_CODECS``."""
    from lerobot.datasets.video_utils import VALID_VIDEO_CODECS

    if vcodec not in VALID_VIDEO_CODECS:
        raise ConfigError(f"vcodec={vcodec!r} is not one of {sorted(VALID_VIDEO_CODECS)}")


def safe_video_backend() -> str:
    """``torchcodec`` if it actually loads (it needs FFmpeg's shared libraries), else ``pyav``.

    lerobot's ``get_safe_default_codec`` only checks that torchcodec is installed.
    """
    try:
        from torchcodec.decoders import VideoDecoder  # noqa: F401
    except Exception:
        return "pyav"
    return "torchcodec"


def _norm(feature: Mapping[str, Any]) -> tuple[Any, ...]:
    names = feature.get("names")
    return (feature.get("dtype"), tuple(feature.get("shape") or ()), tuple(names) if isinstance(names, list)
            else names)


def _compatibility_problems(meta: Any, features: Mapping[str, Any], fps: int, robot_type: str) -> list[str]:
    problems = []
    if int(meta.fps) != int(fps):
        problems.append(f"fps {meta.fps} ≠ {fps}")
    if meta.robot_type != robot_type:
        problems.append(f"robot_type {meta.robot_type!r} ≠ {robot_type!r}")
    old = {k: v for k, v in meta.features.items() if k not in ("timestamp", "frame_index", "episode_index",
                                                                  "index", "task_index")}
    for key in sorted(set(old) | set(features)):
        if key not in features:
            problems.append(f"the dataset has {key}, the bags do not")
        elif key not in old:
            problems.append(f"the bags have {key}, the dataset does not")
        elif _norm(old[key]) != _norm(features[key]):
            problems.append(f"{key}: dataset {_norm(old[key])} ≠ bags {_norm(features[key])}")
    return problems


class DatasetWriter:
    """Writes episodes into a LeRobot v3.0 dataset, aside, then moves it into place.

    Use as a context manager: leaving the block normally commits (``finalize`` and rename), an exception
    or KeyboardInterrupt discards the staging directory (``finalize`` still runs first).

    Args:
        out: the dataset directory.
        features: lerobot features (:func:`dataset_features`).
        fps: frame rate, Hz.
        robot_type: ``robot_type`` for info.json.
        append: add episodes to the existing dataset at ``out``.
        vcodec: lerobot video codec.
        image_writer_threads: AsyncImageWriter threads per camera (0 with 0 processes = synchronous).
        image_writer_processes: AsyncImageWriter processes.
        interrupted: asked before committing; True discards the staging directory and raises
            KeyboardInterrupt instead.

    Raises:
        DatasetError: ``out`` exists and ``append`` is False; ``append`` and ``out`` is no dataset, or its
            fps/robot type/features differ from the new episodes' (all differences listed).
    """

    def __init__(self, out: str | Path, features: Mapping[str, Any], fps: int, robot_type: str, *,
                 append: bool = False, vcodec: str = "libsvtav1", image_writer_threads: int = 4,
                 image_writer_processes: int = 0, interrupted: Callable[[], bool] | None = None) -> None:
        self.out = Path(out).absolute()
        self.features = dict(features)
        self.fps = int(fps)
        self.robot_type = robot_type
        self.append = append
        self.vcodec = vcodec
        self.threads = image_writer_threads
        self.processes = image_writer_processes
        self.interrupted = interrupted
        self.staging = self.out.parent / f".{self.out.name}.partial-{os.getpid()}"
        self.dataset: Any = None
        self.episodes_written = 0
        if self.out.exists() and not append:
            raise DatasetError(f"{out} exists; pass --append to add episodes to it, or choose another --out")
        if append and not (self.out / "meta" / "info.json").is_file():
            raise DatasetError(f"cannot append: {out} is not a LeRobot dataset (no meta/info.json)")

    @property
    def repo_id(self) -> str:
        """The dataset's repo id for lerobot (``local/<name>``; only used for the Hub)."""
        return f"local/{self.out.name}"

    def __enter__(self) -> DatasetWriter:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(commit=exc_type is None)

    def open(self) -> None:
        """Create the staging dataset (a copy of ``out`` when appending)."""
        from lerobot.datasets.lerobot_dataset import LeRobotDataset

        self.out.parent.mkdir(parents=True, exist_ok=True)
        if self.staging.exists():
            shutil.rmtree(self.staging)
        cameras = sum(1 for f in self.features.values() if f["dtype"] in ("video", "image"))
        threads = self.threads * max(cameras, 1)
        try:
            if self.append:
                shutil.copytree(self.out, self.staging, symlinks=True)
                self.dataset = LeRobotDataset(self.repo_id, root=self.staging, vcodec=self.vcodec,
                                              video_backend=safe_video_backend())
                meta = self.dataset.meta
                problems = _compatibility_problems(meta, self.features, self.fps, self.robot_type)
                if problems:
                    raise DatasetError(f"cannot append to {self.out}: " + "; ".join(problems))
                if threads or self.processes:
                    self.dataset.start_image_writer(num_processes=self.processes, num_threads=threads)
            else:
                self.dataset = LeRobotDataset.create(
                    self.repo_id, self.fps, self.features, root=self.staging, robot_type=self.robot_type,
                    use_videos=True, image_writer_processes=self.processes, image_writer_threads=threads,
                    vcodec=self.vcodec, video_backend=safe_video_backend(),
                )
        except BaseException:
            self._discard()
            raise

    def add_episode(self, frames: Iterable[Mapping[str, Any]], task: str) -> int:
        """Add one episode's frames (``add_frame`` each, then ``save_episode``); returns the frame count.

        Args:
            frames: dicts with ``observation.state`` and ``action`` ((6,) float32) and
                ``observation.images.<camera>`` ((H, W, 3) uint8); the ``task`` is added here.
            task: the episode's language instruction.

        Raises:
            ConvertError: the episode has no frames.
        """
        if self.dataset is None:
            raise ConvertError("DatasetWriter is not open")
        count = 0
        for frame in frames:
            self.dataset.add_frame({**frame, "task": task})
            count += 1
        if count == 0:
            raise ConvertError("refusing to save an episode without frames")
        with keep_scheduling():  # lerobot encodes the episode's videos here
            self.dataset.save_episode()
        self.episodes_written += 1
        return count

    def close(self, commit: bool) -> None:
        """``finalize()`` (always), then move the dataset into place (``commit``) or delete it."""
        if self.dataset is None:
            return
        dataset, self.dataset = self.dataset, None
        try:
            try:
                with keep_scheduling():
                    dataset.finalize()
            finally:
                dataset.stop_image_writer()
        except BaseException:
            self._discard()
            raise
        if commit and self.interrupted is not None and self.interrupted():
            self._discard()
            raise KeyboardInterrupt("interrupted before the dataset was moved into place")
        if commit and self.episodes_written:
            self._move_into_place()
        else:
            self._discard()

    def _discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def _move_into_place(self) -> None:
        if not self.append:
            if self.out.exists():
                self._discard()
                raise DatasetError(f"{self.out} appeared while converting; the new dataset was discarded")
            self.staging.rename(self.out)
            return
        old = self.out.parent / f".{self.out.name}.old-{os.getpid()}"
        self.out.rename(old)
        self.staging.rename(self.out)
        shutil.rmtree(old, ignore_errors=True)
        _log.info("appended %d episodes to %s", self.episodes_written, self.out)
