"""Both sides of a diagnosis, loaded into the same frames and units: the training dataset and the
deployment episodes (LeRobot v3.0 datasets, or bags recorded by vla_ros).

* A dataset is read with lerobot (``LeRobotDatasetMetadata`` and ``load_nested_dataset``: only the
  state, action, index and task columns, no video decoding); images are sampled with
  ``LeRobotDataset`` (a few frames per episode) unless images are skipped.
* ``sim_evaluator`` traces: :mod:`vla_ros.diagnose.traces`.
* A bag goes through the converter's own path (:func:`vla_ros.convert.converter.plan_bag`): the same
  frame grid, sampling rules and unit conversion as ``vla-ros convert``, in the training dataset's
  units and fps, nothing written. Its sampled images come from :func:`vla_ros.convert.reader.iter_frames`.
  When the bag also holds ``policy/action_chunk`` (vla_ros/ActionChunk) the chunk starts and inference
  latencies are kept.

Joint arrays are ``(T, J)`` float64 in the dataset's units (:class:`vla_ros.robot.units.Units`), in
the order of the dataset's feature names. Image signatures are ``(S, S, 3)`` float32 RGB in [0, 1]
(:data:`SIGNATURE_SIZE`, area-averaged).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vla_ros.convert.mapping import ConvertConfig, StreamSpec, units_of_feature_names
from vla_ros.diagnose.errors import DiagnoseInputError
from vla_ros.errors import ConfigError

__all__ = [
    "CHUNK_TOPIC",
    "SIGNATURE_SIZE",
    "Episode",
    "Recording",
    "is_dataset",
    "load_bags",
    "load_dataset",
    "load_deployment",
    "signature",
]

SIGNATURE_SIZE = 16
"""Side of the area-averaged thumbnail that stands for an image in the camera checks, pixels."""
CHUNK_TOPIC = "policy/action_chunk"
"""The policy node's chunk topic (vla_ros/ActionChunk), read from a bag when it was recorded."""
_SAMPLES_PER_EPISODE = 4


@dataclass
class Episode:
    """One episode on the dataset's frame grid.

    Attributes:
        source: where it came from (``dataset/episode 3``, a bag path).
        task: its language instruction.
        state, action: ``(T, J)`` float64, the dataset's units.
        chunk_starts: frame indices where a newly recorded policy chunk began playing, or None.
        latencies_s: ``(K,)`` inference latency of each recorded chunk, s, or None.
        command_stamps_ns: ``(M,)`` int64 times of every raw command inside the episode (bags), or None.
        frame_times_s: ``(T,)`` the frames' timestamps, s.
    """

    source: str
    task: str
    state: np.ndarray
    action: np.ndarray
    frame_times_s: np.ndarray
    chunk_starts: np.ndarray | None = None
    latencies_s: np.ndarray | None = None
    command_stamps_ns: np.ndarray | None = None

    @property
    def frames(self) -> int:
        """Number of frames."""
        return len(self.action)


@dataclass
class Recording:
    """One side of the comparison.

    Attributes:
        label: the paths, for messages.
        fps: frame rate, Hz.
        units: :class:`vla_ros.robot.units.Units` value, or "" when the names are not SO-101's.
        names: state/action feature names (``shoulder_pan.pos``), the column order.
        episodes: in load order.
        cameras: ``{camera name: (height, width, 3)}`` present in the data.
        signatures: ``{camera name: (N, S, S, 3)}`` float32 image signatures of sampled frames
            (empty when images were skipped).
        notes: what was left out while loading, and why.
    """

    label: str
    fps: float
    units: str
    names: list[str]
    episodes: list[Episode]
    cameras: dict[str, tuple[int, int, int]]
    signatures: dict[str, np.ndarray] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def frames(self) -> int:
        """Total frames."""
        return sum(e.frames for e in self.episodes)

    def actions(self) -> np.ndarray:
        """Every action, ``(frames, J)``."""
        return np.concatenate([e.action for e in self.episodes])

    def states(self) -> np.ndarray:
        """Every state, ``(frames, J)``."""
        return np.concatenate([e.state for e in self.episodes])


def signature(rgb: np.ndarray) -> np.ndarray:
    """``(S, S, 3)`` float32 in [0, 1] of an ``(H, W, 3)`` uint8 (or 0-1 float) RGB image."""
    import cv2

    img = np.asarray(rgb)
    img = img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img.astype(np.float32)
    return cv2.resize(img, (SIGNATURE_SIZE, SIGNATURE_SIZE), interpolation=cv2.INTER_AREA)


def is_dataset(path: str | Path) -> bool:
    """Whether ``path`` is a LeRobot dataset directory (holds ``meta/info.json``)."""
    return (Path(path) / "meta" / "info.json").is_file()


def _progress(items: Iterable[Any], total: int, desc: str, enabled: bool) -> Iterable[Any]:
    from tqdm import tqdm

    return tqdm(items, total=total, desc=desc, unit="ep", disable=not enabled or total < 2, leave=False)


def _units(names: Sequence[str]) -> str:
    try:
        return units_of_feature_names(names)
    except ConfigError:
        return ""


def _check_values(source: str, state: np.ndarray, action: np.ndarray) -> list[str]:
    problems = []
    if len(action) == 0:
        problems.append(f"{source}: empty episode (no frames)")
    for key, values in (("observation.state", state), ("action", action)):
        bad = ~np.isfinite(values)
        if bad.any():
            frame, col = np.argwhere(bad)[0]
            problems.append(f"{source}: {key} has {int(bad.sum())} NaN/inf values (first at frame {frame}, "
                            f"column {col})")
    return problems


def _dataset_meta(root: Path) -> Any:
    from lerobot.datasets.lerobot_dataset import LeRobotDatasetMetadata

    if not is_dataset(root):
        raise DiagnoseInputError(f"{root}: not a LeRobot dataset (no meta/info.json)")
    try:
        meta = LeRobotDatasetMetadata(f"local/{root.name}", root=root)
    except (OSError, KeyError, ValueError) as err:
        raise DiagnoseInputError(f"{root}: cannot read the dataset's metadata: {err}") from err
    problems = [f"{root}: no '{key}' feature (features: {sorted(meta.features)})"
                for key in ("action", "observation.state") if key not in meta.features]
    if not problems and meta.total_episodes == 0:
        problems.append(f"{root}: the dataset has no episodes")
    if not problems:
        a, s = meta.features["action"].get("names"), meta.features["observation.state"].get("names")
        if a != s:
            problems.append(f"{root}: action names {a} differ from observation.state names {s}")
    if problems:
        raise DiagnoseInputError("; ".join(problems))
    return meta


def _dataset_columns(root: Path) -> dict[str, np.ndarray]:
    from lerobot.datasets.utils import load_nested_dataset

    cols = ["episode_index", "frame_index", "timestamp", "task_index", "observation.state", "action"]
    try:
        data = load_nested_dataset(root / "data").select_columns(cols).with_format("numpy")[:]
    except (OSError, KeyError, ValueError) as err:
        raise DiagnoseInputError(f"{root}: cannot read the dataset's frames: {err}") from err
    return {k: np.asarray(data[k]) for k in cols}


def load_dataset(root: str | Path, *, images: bool = True, progress: bool = True) -> Recording:
    """A local LeRobot v3.0 dataset as a :class:`Recording`.

    Raises:
        DiagnoseInputError: not a dataset, no ``action`` or ``observation.state`` feature, no episodes,
            an episode without frames, NaN/inf values (every problem listed).
    """
    root = Path(root)
    meta = _dataset_meta(root)
    cols = _dataset_columns(root)
    task_of = {int(i): str(t) for t, i in zip(meta.tasks.index, meta.tasks["task_index"])}
    order = np.lexsort((cols["frame_index"], cols["episode_index"]))
    ep_col = cols["episode_index"][order]
    episodes, problems = [], []
    for ep in range(meta.total_episodes):
        rows = order[ep_col == ep]
        source = f"{root.name} episode {ep}"
        state = np.asarray(np.stack(cols["observation.state"][rows]) if rows.size else np.zeros((0, 0)),
                           dtype=np.float64)
        action = np.asarray(np.stack(cols["action"][rows]) if rows.size else np.zeros((0, 0)),
                            dtype=np.float64)
        problems += _check_values(source, state, action)
        task = task_of.get(int(cols["task_index"][rows[0]]), "") if rows.size else ""
        episodes.append(Episode(source, task, state, action, np.asarray(cols["timestamp"][rows], np.float64)))
    if problems:
        raise DiagnoseInputError(f"dataset {root}: " + "; ".join(problems))
    names = list(meta.features["action"].get("names") or [])
    cameras = {k.removeprefix("observation.images."): _hwc(meta.features[k]) for k in meta.camera_keys}
    rec = Recording(str(root), float(meta.fps), _units(names), names, episodes, cameras)
    if images and cameras:
        rec.signatures = _dataset_signatures(root, meta, progress)
    return rec


def _hwc(feature: dict[str, Any]) -> tuple[int, int, int]:
    shape = [int(x) for x in feature["shape"]]
    names = feature.get("names") or []
    if len(shape) == 3 and list(names)[:1] == ["channels"]:
        return (shape[1], shape[2], shape[0])
    return (shape[0], shape[1], shape[2])


def _dataset_signatures(root: Path, meta: Any, progress: bool) -> dict[str, np.ndarray]:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    from vla_ros.convert.writer import safe_video_backend

    ds = LeRobotDataset(f"local/{root.name}", root=root, video_backend=safe_video_backend())
    sigs: dict[str, list[np.ndarray]] = {k: [] for k in meta.camera_keys}
    starts, lengths = meta.episodes["dataset_from_index"], meta.episodes["length"]
    for start, length in _progress(list(zip(starts, lengths)), len(starts), f"{root.name} images", progress):
        for k in np.unique(np.linspace(0, int(length) - 1, _SAMPLES_PER_EPISODE).round().astype(int)):
            item = ds[int(start) + int(k)]
            for key in meta.camera_keys:
                sigs[key].append(signature(item[key].numpy().transpose(1, 2, 0)))
    return {k.removeprefix("observation.images."): np.stack(v) for k, v in sigs.items() if v}


def _bag_cameras(bag: Path, config: ConvertConfig, wanted: Sequence[str]) -> dict[str, StreamSpec]:
    """The cameras of ``wanted`` (training camera names) whose topic (raw or ``/compressed``) is in the
    bag, plus any other ``cameras/<name>/image_raw`` topic found."""
    from vla_ros.convert.reader import open_bag

    mapping = config.mapping
    with open_bag(bag) as reader:
        topics = {c.topic for c in reader.connections}
    cams: dict[str, StreamSpec] = {}
    for name in wanted:
        spec = mapping.cameras.get(name, StreamSpec(f"cameras/{name}/image_raw", 0.1))
        for topic in (spec.topic, spec.topic.rstrip("/") + "/compressed"):
            if mapping.resolve(topic) in topics:
                cams[name] = dataclasses.replace(spec, topic=topic)
                break
    prefix = mapping.resolve("cameras/")
    for topic in sorted(topics):
        name = topic.removeprefix(prefix).split("/")[0]
        if topic.startswith(prefix) and topic.endswith("/image_raw") and name not in cams:
            cams[name] = StreamSpec(topic, 0.1)
    return cams


def _chunks(scan: Any, topic: str) -> tuple[np.ndarray, np.ndarray] | None:
    """``(publish times ns, inference latencies s)`` of the recorded chunks, or None if the bag has no
    chunk topic."""
    from vla_ros.convert.reader import open_bag

    with open_bag(scan.bag) as reader:
        conns = [c for c in reader.connections if c.topic == topic]
        if not conns:
            return None
        times, lat = [], []
        for conn, logtime, raw in reader.messages(connections=conns):
            msg = reader.deserialize(raw, conn.msgtype)
            times.append(int(logtime))
            lat.append(float(msg.inference_latency_s))
    return np.asarray(times, dtype=np.int64), np.asarray(lat, dtype=np.float64)


def _bag_episodes(plan: Any, chunks: tuple[np.ndarray, np.ndarray] | None) -> list[Episode]:
    out = []
    stamps = plan.scan.action.stamps_ns
    for n, ep in enumerate(plan.episodes):
        ticks = ep.ticks_ns
        inside = (stamps >= ticks[0]) & (stamps <= ticks[-1])
        source = str(plan.scan.bag) + (f" episode {n}" if len(plan.episodes) > 1 else "")
        starts = latencies = None
        if chunks is not None:
            keep = (chunks[0] >= ticks[0]) & (chunks[0] <= ticks[-1])
            starts = np.unique(np.searchsorted(ticks, chunks[0][keep], side="left"))
            latencies = chunks[1][keep]
        out.append(Episode(source, ep.task, ep.state.astype(np.float64), ep.action.astype(np.float64),
                           (ticks - ticks[0]) / 1e9, starts, latencies, stamps[inside]))
    return out


def _bag_signatures(plan: Any, into: dict[str, list[np.ndarray]]) -> None:
    from vla_ros.convert.reader import iter_frames

    cams = list(plan.scan.cameras)
    if not cams or not plan.episodes:
        return
    picks = [np.unique(np.linspace(0, e.frames - 1, _SAMPLES_PER_EPISODE).round().astype(int))
             for e in plan.episodes]
    needs = {c: np.concatenate([e.image_indices[c][k] for e, k in zip(plan.episodes, picks)]) for c in cams}
    for frame in iter_frames(plan.scan, needs):
        for c, rgb in frame.items():
            into.setdefault(c, []).append(signature(rgb))


def load_bags(bags: Sequence[str | Path], *, like: Recording, config: ConvertConfig, images: bool = True,
              progress: bool = True) -> Recording:
    """Bags recorded by vla_ros as a :class:`Recording` in ``like``'s units and fps.

    Args:
        bags: rosbag2 directories or files.
        like: the training recording (its units, fps and camera names).
        config: converter config (topics, tolerances, calibration); ``units`` and ``fps`` are replaced
            by ``like``'s, gaps split episodes.

    Raises:
        DiagnoseInputError: ``like`` has joint names in no known units; a bag cannot be converted
            (the converter's message: bag, topic, time), or yields no episode.
        ConfigError / CalibrationError: LeRobot units without a calibration source.
    """
    from vla_ros.convert.converter import plan_bag, unit_converter
    from vla_ros.convert.errors import BadBagError

    if not like.units:
        raise DiagnoseInputError(f"training names {like.names} are in no known units; bags cannot be "
                                 "converted to them (diagnose a converted dataset instead)")
    base = dataclasses.replace(config, units=like.units, fps=round(like.fps), on_gap="split")
    units = unit_converter(base)
    episodes, cameras, notes, problems = [], {}, [], []
    sigs: dict[str, list[np.ndarray]] = {}
    for bag in _progress(bags, len(bags), "bags", progress):
        cfg = dataclasses.replace(base, mapping=dataclasses.replace(
            base.mapping, cameras=_bag_cameras(Path(bag), base, list(like.cameras))))
        try:
            plan = plan_bag(bag, cfg, units)
        except BadBagError as err:
            problems.append(str(err))
            continue
        notes += plan.notes
        if not plan.episodes:
            problems.append(f"bag {bag}: no episode could be made: " + ("; ".join(plan.notes) or "no frames"))
            continue
        for name, series in plan.scan.cameras.items():
            cameras.setdefault(name, series.shape)
        episodes += _bag_episodes(plan, _chunks(plan.scan, cfg.mapping.resolve(CHUNK_TOPIC)))
        if images:
            _bag_signatures(plan, sigs)
    if problems:
        raise DiagnoseInputError("deployment bags cannot be read: " + "\n".join(problems))
    rec = Recording(", ".join(map(str, bags)), like.fps, like.units, list(like.names), episodes, cameras,
                    {c: np.stack(v) for c, v in sigs.items()}, notes)
    return rec


def _merge(parts: Sequence[Recording]) -> Recording:
    first = parts[0]
    cameras: dict[str, tuple[int, int, int]] = {}
    sigs: dict[str, list[np.ndarray]] = {}
    for p in parts:
        for c, shape in p.cameras.items():
            if c in cameras and cameras[c] != shape:
                first.notes.append(f"{p.label}: camera {c} is {shape[1]}x{shape[0]}, "
                                   f"{cameras[c][1]}x{cameras[c][0]} elsewhere")
            cameras.setdefault(c, shape)
        for c, s in p.signatures.items():
            sigs.setdefault(c, []).append(s)
    fps = {p.fps for p in parts}
    notes = [n for p in parts for n in p.notes]
    if len(fps) > 1:
        notes.append(f"deployment sources differ in fps: {sorted(fps)}")
    return Recording(", ".join(p.label for p in parts), first.fps, first.units, first.names,
                     [e for p in parts for e in p.episodes], cameras,
                     {c: np.concatenate(v) for c, v in sigs.items()}, notes)


def load_deployment(paths: Sequence[str | Path], *, like: Recording, config: ConvertConfig,
                    images: bool = True, progress: bool = True) -> Recording:
    """Deployment episodes from LeRobot datasets, bags and/or ``sim_evaluator`` traces
    (:mod:`vla_ros.diagnose.traces`), checked against the training side.

    Raises:
        DiagnoseInputError: nothing given; a path that is neither; a dataset whose joint names (or
            units) differ from the training dataset's; any problem of :func:`load_dataset` /
            :func:`load_bags`.
    """
    if not paths:
        raise DiagnoseInputError("no deployment data given (--deploy BAG_OR_DATASET ...)")
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise DiagnoseInputError(f"deployment paths do not exist: {missing}")
    from vla_ros.diagnose.traces import is_trace_dir, load_traces

    datasets = [p for p in paths if is_dataset(p)]
    traces = [p for p in paths if not is_dataset(p) and is_trace_dir(p)]
    bags = [p for p in paths if not is_dataset(p) and not is_trace_dir(p)]
    parts = [load_dataset(p, images=images, progress=progress) for p in datasets]
    problems = []
    for part in parts:
        if part.names != like.names:
            problems.append(f"{part.label}: joint names {part.names} ({part.units or 'unknown units'}) "
                            f"differ from the training names {like.names} ({like.units or 'unknown units'})")
    if problems:
        raise DiagnoseInputError("deployment and training data cannot be compared: " + "; ".join(problems))
    if bags:
        parts.append(load_bags(bags, like=like, config=config, images=images, progress=progress))
    if traces:
        parts.append(load_traces(traces, like=like, config=config, images=images))
    return _merge(parts)
