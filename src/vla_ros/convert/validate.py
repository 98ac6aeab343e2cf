"""``vla-ros validate DIR``: reopen a LeRobot v3.0 dataset with lerobot and check it end to end.

Checks (every problem is collected, none stops the others):

* lerobot loads it (``LeRobotDatasetMetadata`` and ``LeRobotDataset``);
* counts: ``info.json`` totals = episodes table = parquet rows; each episode's rows have
  ``frame_index`` 0..n-1, contiguous global ``index`` and known ``task_index``;
* timestamps: ``timestamp == frame_index / fps`` (within lerobot's default ``tolerance_s`` 1e-4);
* values: state/action finite, of the declared shape;
* stats (``meta/stats.json``): present for every feature; min/max/mean of state and action equal those
  recomputed from the data (to 0.1 % of the largest value), std to 1 % (it is aggregated over episodes
  from float32 data); image stats in [0, 1] with shape (3, 1, 1);
* videos: every frame of every video file is decoded once (PyAV); per episode, the frames inside its
  ``[from_timestamp, to_timestamp)`` span equal its length, no frames are left over, and the size matches
  the feature; the first and last frame of each episode also load through ``LeRobotDataset.__getitem__``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vla_ros.convert.writer import safe_video_backend

__all__ = ["ValidationReport", "validate_dataset"]

_TOL_S = 1e-4
_NUMERIC = ("observation.state", "action")


@dataclass
class ValidationReport:
    """Result of :func:`validate_dataset`.

    Attributes:
        root: the dataset directory.
        episodes, frames: totals found in the data.
        video_frames: ``{video key: frames decoded}``.
        problems: everything wrong, one line each (empty when valid).
    """

    root: Path
    episodes: int = 0
    frames: int = 0
    video_frames: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def summary(self) -> str:
        """A human-readable summary (problems listed)."""
        videos = ", ".join(f"{k}: {n} frames decoded" for k, n in self.video_frames.items()) or "no videos"
        head = f"{self.root}: {self.episodes} episodes, {self.frames} frames; {videos}"
        if self.ok:
            return f"{head}\nOK"
        return f"{head}\n{len(self.problems)} problems:\n  " + "\n  ".join(self.problems)


def _load(root: Path, report: ValidationReport) -> tuple[Any, Any] | None:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset, LeRobotDatasetMetadata

    repo_id = f"local/{root.name}"
    try:
        meta = LeRobotDatasetMetadata(repo_id, root=root)
        dataset = LeRobotDataset(repo_id, root=root, video_backend=safe_video_backend())
    except Exception as err:  # lerobot raises many types; all mean "does not load"
        report.problems.append(f"lerobot cannot load the dataset: {type(err).__name__}: {err}")
        return None
    return meta, dataset


def _frame_table(root: Path) -> Any:
    import pandas as pd

    files = sorted((root / "data").rglob("*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) if files else pd.DataFrame()


def _check_counts(meta: Any, table: Any, report: ValidationReport) -> None:
    info, episodes = meta.info, meta.episodes
    report.episodes, report.frames = len(episodes), len(table)
    if info["total_episodes"] != len(episodes):
        report.problems.append(f"info.json total_episodes {info['total_episodes']} ≠ {len(episodes)}")
    if info["total_frames"] != len(table):
        report.problems.append(f"info.json total_frames {info['total_frames']} ≠ {len(table)} parquet rows")
    lengths = sum(int(ep["length"]) for ep in episodes)
    if lengths != len(table):
        report.problems.append(f"episode lengths sum to {lengths}, the data has {len(table)} rows")
    if info.get("codebase_version") != "v3.0":
        report.problems.append(f"codebase_version {info.get('codebase_version')!r} is not v3.0")


def _check_episode_rows(meta: Any, table: Any, report: ValidationReport) -> None:
    fps = float(meta.fps)
    tasks = set(meta.tasks["task_index"].tolist()) if meta.tasks is not None else set()
    for ep in meta.episodes:
        e, n = int(ep["episode_index"]), int(ep["length"])
        rows = table[table["episode_index"] == e]
        where = f"episode {e}"
        if len(rows) != n:
            report.problems.append(f"{where}: {len(rows)} rows, length {n}")
            continue
        frame_index = rows["frame_index"].to_numpy()
        if not np.array_equal(frame_index, np.arange(n)):
            report.problems.append(f"{where}: frame_index is not 0..{n - 1}")
        lo, hi = int(ep["dataset_from_index"]), int(ep["dataset_to_index"])
        if not np.array_equal(rows["index"].to_numpy(), np.arange(lo, hi)):
            report.problems.append(f"{where}: index is not {lo}..{hi - 1}")
        err = np.abs(rows["timestamp"].to_numpy(dtype=np.float64) - frame_index / fps)
        if err.size and err.max() > _TOL_S:
            k = int(err.argmax())
            report.problems.append(f"{where}: timestamp of frame {k} is {err[k] * 1e3:.3f} ms off k/fps")
        unknown = set(rows["task_index"].tolist()) - tasks
        if unknown:
            report.problems.append(f"{where}: task_index {sorted(unknown)} not in meta/tasks.parquet")


def _check_values_and_stats(meta: Any, table: Any, report: ValidationReport) -> None:
    stats = meta.stats or {}
    for key in meta.features:
        if key not in stats:
            report.problems.append(f"stats.json has no entry for {key}")
    for key in _NUMERIC:
        if key not in meta.features or key not in table:
            continue
        values = np.stack(table[key].to_numpy()).astype(np.float64)
        shape = tuple(meta.features[key]["shape"])
        if values.shape[1:] != shape:
            report.problems.append(f"{key}: values of shape {values.shape[1:]}, feature says {shape}")
            continue
        if not np.all(np.isfinite(values)):
            report.problems.append(f"{key}: {np.count_nonzero(~np.isfinite(values))} non-finite values")
        _compare_stats(key, values, stats.get(key), report)
    for key in meta.video_keys + meta.image_keys:
        s = stats.get(key)
        if s is None:
            continue
        for name in ("min", "max", "mean", "std"):
            arr = np.asarray(s.get(name))
            if arr.shape != (3, 1, 1) or not np.all((arr >= -1e-6) & (arr <= 1 + 1e-6)):
                report.problems.append(f"stats {key}.{name}: expected (3, 1, 1) in [0, 1], got {arr.ravel()}")


def _compare_stats(key: str, values: np.ndarray, stats: dict[str, Any] | None,
                   report: ValidationReport) -> None:
    if stats is None:
        return
    expected = {"min": values.min(0), "max": values.max(0), "mean": values.mean(0), "std": values.std(0)}
    scale = float(np.maximum(np.abs(values).max(), 1.0))
    for name, want in expected.items():
        got = np.asarray(stats.get(name, np.nan), dtype=np.float64)
        atol = (1e-2 if name == "std" else 1e-3) * scale  # std: aggregated over episodes, float32 data
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-3, atol=atol):
            report.problems.append(f"stats {key}.{name} {np.round(got, 4).tolist()} ≠ data "
                                   f"{np.round(want, 4).tolist()}")
    count = int(np.asarray(stats.get("count", [0])).ravel()[0])
    if count != len(values):
        report.problems.append(f"stats {key}.count {count} ≠ {len(values)} frames")


def _decode_times(path: Path) -> tuple[list[float], tuple[int, int] | None]:
    import av

    times: list[float] = []
    size = None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            times.append(float(frame.time) if frame.time is not None else float("nan"))
            size = (frame.height, frame.width)
    return times, size


def _check_videos(meta: Any, report: ValidationReport) -> None:
    fps = float(meta.fps)
    for key in meta.video_keys:
        files: dict[tuple[int, int], list[Any]] = defaultdict(list)
        for ep in meta.episodes:
            files[(int(ep[f"videos/{key}/chunk_index"]), int(ep[f"videos/{key}/file_index"]))].append(ep)
        decoded = 0
        for (chunk, file), eps in sorted(files.items()):
            path = meta.root / meta.video_path.format(video_key=key, chunk_index=chunk, file_index=file)
            try:
                times, size = _decode_times(path)
            except Exception as err:  # PyAV/FFmpeg errors have many types
                report.problems.append(f"{key}: cannot decode {path}: {err}")
                continue
            decoded += len(times)
            shape = tuple(meta.features[key]["shape"][:2])
            if size is not None and size != shape:
                report.problems.append(f"{path.name} of {key}: frames are {size}, feature says {shape}")
            _check_video_spans(key, path, np.asarray(times), eps, fps, report)
        report.video_frames[key] = decoded


def _check_video_spans(key: str, path: Path, times: np.ndarray, eps: list[Any], fps: float,
                       report: ValidationReport) -> None:
    half = 0.5 / fps
    used = 0
    for ep in eps:
        lo, hi = float(ep[f"videos/{key}/from_timestamp"]), float(ep[f"videos/{key}/to_timestamp"])
        inside = int(np.count_nonzero((times >= lo - half) & (times < hi - half)))
        used += inside
        if inside != int(ep["length"]):
            report.problems.append(f"{key} episode {ep['episode_index']}: {inside} video frames in "
                                   f"[{lo:.3f}, {hi:.3f}) s of {path.name}, {ep['length']} parquet rows")
    if used != len(times):
        report.problems.append(f"{key} {path.name}: {len(times) - used} frames belong to no episode")


def _check_getitem(meta: Any, dataset: Any, report: ValidationReport) -> None:
    for ep in meta.episodes:
        for index in {int(ep["dataset_from_index"]), int(ep["dataset_to_index"]) - 1}:
            try:
                item = dataset[index]
            except Exception as err:  # lerobot raises AssertionError/RuntimeError/... on bad frames
                report.problems.append(f"LeRobotDataset[{index}] (episode {ep['episode_index']}): {err}")
                continue
            for key in meta.camera_keys:
                shape = tuple(item[key].shape)
                want = tuple(meta.features[key]["shape"])
                if shape != (want[2], want[0], want[1]):
                    report.problems.append(f"LeRobotDataset[{index}][{key}] has shape {shape}")


def validate_dataset(root: str | Path, *, decode_videos: bool = True) -> ValidationReport:
    """Check a LeRobot v3.0 dataset with lerobot (see the module docstring).

    Args:
        root: the dataset directory.
        decode_videos: decode every video frame (the slow part); False skips the video checks.

    Returns:
        The report; ``report.ok`` tells whether it passed, ``report.problems`` lists every failure.
    """
    report = ValidationReport(Path(root))
    if not (report.root / "meta" / "info.json").is_file():
        report.problems.append("not a LeRobot dataset: no meta/info.json")
        return report
    loaded = _load(report.root, report)
    if loaded is None:
        return report
    meta, dataset = loaded
    table = _frame_table(report.root)
    _check_counts(meta, table, report)
    if len(table):
        _check_episode_rows(meta, table, report)
        _check_values_and_stats(meta, table, report)
    if decode_videos:
        _check_videos(meta, report)
        _check_getitem(meta, dataset, report)
    return report
