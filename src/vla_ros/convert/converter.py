"""``convert_bags``: ROS 2 bags → a LeRobot v3.0 dataset (the Python API behind ``vla-ros convert``).

Steps: scan and validate every bag (:mod:`.reader`, all problems of all bags reported together, before
anything is written), cut episodes (:mod:`.episodes`), align each on the fps grid (:mod:`.align`),
convert joint units (:class:`vla_ros.robot.units.UnitConverter`), then write them with lerobot
(:mod:`.writer`), decoding only the images the alignment chose.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vla_ros.convert.align import (
    LATEST,
    NEXT,
    Alignment,
    StreamTimes,
    SyncStats,
    align,
    format_stats,
    good_segments,
    sync_stats,
)
from vla_ros.convert.episodes import episode_windows, restrict
from vla_ros.convert.errors import (
    AlignmentError,
    BadBagError,
    BagProblem,
    ConvertError,
    EmptyBagError,
    format_time,
)
from vla_ros.convert.mapping import TASK_METADATA_KEY, ConvertConfig, load_config
from vla_ros.convert.reader import BagScan, iter_frames, scan_bag
from vla_ros.convert.writer import DatasetWriter, check_vcodec, dataset_features
from vla_ros.errors import ConfigError
from vla_ros.robot.units import UnitConverter, Units

__all__ = ["BagPlan", "ConvertResult", "EpisodePlan", "convert_bags", "plan_bag", "unit_converter"]

_log = logging.getLogger(__name__)
_NS = 1_000_000_000


@dataclass
class EpisodePlan:
    """One episode, aligned and ready to write.

    Attributes:
        bag: source bag.
        task: language instruction.
        ticks_ns: ``(T,)`` grid times (the source time of each frame).
        state, action: ``(T, 6)`` float32 in the dataset's units.
        image_indices: ``{camera: (T,)}`` index of the camera message each frame uses.
        alignment: the alignment of these ticks (indices relative to the episode window).
    """

    bag: Path
    task: str
    ticks_ns: np.ndarray
    state: np.ndarray
    action: np.ndarray
    image_indices: dict[str, np.ndarray]
    alignment: Alignment

    @property
    def frames(self) -> int:
        """Number of frames."""
        return len(self.ticks_ns)


@dataclass
class BagPlan:
    """A bag's episodes, its sync statistics per episode window and notes on what was left out."""

    scan: BagScan
    episodes: list[EpisodePlan] = field(default_factory=list)
    stats: list[tuple[str, list[SyncStats]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ConvertResult:
    """What ``convert_bags`` wrote.

    Attributes:
        out: the dataset directory.
        episodes: ``(bag, frames)`` per written episode, in dataset order.
        notes: what was skipped or split, and why.
        report: per-stream sync statistics (text tables).
    """

    out: Path
    episodes: list[tuple[str, int]]
    notes: list[str]
    report: str

    @property
    def frames(self) -> int:
        """Total frames written."""
        return sum(n for _, n in self.episodes)


def unit_converter(config: ConvertConfig) -> UnitConverter | None:
    """The converter from radians to the dataset's units (None for radians).

    Raises:
        ConfigError / CalibrationError: LeRobot units without a calibration source, or a bad one.
    """
    if config.units == Units.RADIANS:
        return None
    from vla_ros.robot.calibration import calibration_path, load_calibration, sim_calibration

    if config.calibration:
        return UnitConverter.from_calibration(load_calibration(config.calibration))
    if config.robot_id:
        return UnitConverter.from_calibration(
            load_calibration(calibration_path(config.robot_id, config.calibration_dir or None)))
    if config.sim_calibration:
        from vla_ros.robot.description import joint_limits

        limits = {n: (lim.lower_rad, lim.upper_rad) for n, lim in joint_limits().items()}
        return UnitConverter.from_calibration(sim_calibration(limits))
    raise ConfigError(
        "LeRobot units (degrees, gripper 0-100) need the arm's calibration: pass --calibration FILE, "
        "--robot-id ID [--calibration-dir DIR] or --sim-calibration, or write radians with --units rad"
    )


def _streams(scan: BagScan, config: ConvertConfig, window: tuple[int, int]
             ) -> tuple[list[StreamTimes], dict[str, int]]:
    mapping, streams, offsets = config.mapping, [], {}
    series = {"observation.state": scan.state, "action": scan.action}
    series.update({f"observation.images.{n}": s for n, s in scan.cameras.items()})
    for key, spec in mapping.streams().items():
        cut = restrict(series[key].stamps_ns, window)
        offsets[key] = cut.start
        streams.append(StreamTimes(key, series[key].topic, series[key].stamps_ns[cut],
                                   NEXT if key == "action" else LATEST, round(spec.tolerance_s * _NS)))
    return streams, offsets


def _gap_problems(streams: Sequence[StreamTimes], al: Alignment, start: int) -> list[BagProblem]:
    problems = []
    for s in streams:
        bad = np.flatnonzero(~al.ok[s.key])
        if not bad.size:
            continue
        k = int(bad[0])
        lag = int(al.lags_ns[s.key][k])
        what = "latest sample at or before it" if s.rule == LATEST else "first command at or after it"
        found = f"the {what} is {lag / 1e6:.1f} ms away" if lag >= 0 else f"there is no {what}"
        problems.append(BagProblem(
            s.topic, int(al.ticks_ns[k]),
            f"{bad.size} of {len(al.ticks_ns)} ticks have no sample within {s.tolerance_ns / 1e6:.0f} ms "
            f"(first here: {found}); raise its tolerance_s or use --on-gap split", start))
    return problems


def _episode(scan: BagScan, task: str, al: Alignment, offsets: dict[str, int], units: UnitConverter | None
             ) -> EpisodePlan:
    def joints(series_key: str, positions: np.ndarray) -> np.ndarray:
        values = positions[al.indices[series_key] + offsets[series_key]]
        values = units.to_lerobot(values) if units is not None else values
        return values.astype(np.float32)

    return EpisodePlan(
        bag=scan.bag, task=task, ticks_ns=al.ticks_ns,
        state=joints("observation.state", scan.state.positions_rad),
        action=joints("action", scan.action.positions_rad),
        image_indices={n: al.indices[f"observation.images.{n}"] + offsets[f"observation.images.{n}"]
                       for n in scan.cameras},
        alignment=al,
    )


def _stamp_span(scan: BagScan) -> tuple[int, int]:
    """First and last time in the bag, over receive times and the stamps used (header stamps may precede
    the first receive time)."""
    series = [scan.state.stamps_ns, scan.action.stamps_ns, *(c.stamps_ns for c in scan.cameras.values())]
    first = min([scan.start_ns, *(int(s[0]) for s in series if len(s))])
    last = max([scan.end_ns, *(int(s[-1]) for s in series if len(s))])
    return first, last


def _plan_window(plan: BagPlan, task: str, number: int, window: tuple[int, int], config: ConvertConfig,
                 units: UnitConverter | None) -> list[BagProblem]:
    """Align one episode window, adding its episodes, stats and notes to ``plan``; returns gap problems
    (``on_gap: error``)."""
    scan = plan.scan
    label = f"{scan.bag.name} episode window {number} [{format_time(window[0], scan.start_ns)}]"
    streams, offsets = _streams(scan, config, window)
    al = align(streams, config.fps)
    if not len(al.ticks_ns):
        spans = ", ".join(f"{s.key} {len(s.stamps_ns)} msgs" for s in streams)
        plan.notes.append(f"{label}: skipped, the streams never overlap ({spans})")
        return []
    plan.stats.append((label, sync_stats(streams, al)))
    ok = al.all_ok
    if not ok.all() and config.on_gap == "error":
        return _gap_problems(streams, al, scan.start_ns)
    segments = good_segments(ok, 1)
    if segments != [(0, len(ok))]:
        plan.notes.append(f"{label}: {np.count_nonzero(~ok)} ticks outside tolerance dropped, "
                          f"split into {len(segments)} segments")
    min_frames = max(1, math.ceil(config.min_episode_s * config.fps))
    for lo, hi in segments:
        if hi - lo < min_frames:
            plan.notes.append(f"{label}: {hi - lo} frames from tick {lo} skipped "
                              f"(shorter than min_episode_s={config.min_episode_s})")
        else:
            plan.episodes.append(_episode(scan, task, al.subset(lo, hi), offsets, units))
    return []


def plan_bag(bag: str | Path, config: ConvertConfig, units: UnitConverter | None) -> BagPlan:
    """Scan a bag and turn it into aligned episodes.

    Raises:
        BadBagError (and subclasses): any problem with the bag, all of them listed; AlignmentError for
            ticks outside tolerance when ``on_gap`` is ``error``.
    """
    scan = scan_bag(bag, config.mapping, config.stamps)
    task = config.task or scan.custom_data.get(TASK_METADATA_KEY, "")
    if not task:
        raise BadBagError(scan.bag, f"no task: the bag's metadata has no custom_data '{TASK_METADATA_KEY}'; "
                                    "pass --task")
    plan = BagPlan(scan)
    markers = scan.markers
    first, last = _stamp_span(scan)
    windows = episode_windows(first, last, *(markers if markers else (None, None)))
    if not windows:
        raise EmptyBagError(scan.bag, [BagProblem(config.mapping.resolve(config.mapping.episode_topic), None,
                                                  "the episode markers delimit no episode")])
    problems: list[BagProblem] = []
    for number, window in enumerate(windows):
        problems.extend(_plan_window(plan, task, number, window, config, units))
    if problems:
        raise AlignmentError(scan.bag, problems)
    if not plan.episodes and not markers:
        detail = "; ".join(plan.notes) or "no frames"
        raise EmptyBagError(scan.bag, f"no episode could be made: {detail}")
    return plan


def _plan_all(bags: Sequence[str | Path], config: ConvertConfig, units: UnitConverter | None
              ) -> list[BagPlan]:
    plans, errors = [], []
    for bag in bags:
        try:
            plans.append(plan_bag(bag, config, units))
        except BadBagError as err:
            errors.append(err)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConvertError(f"{len(errors)} of {len(bags)} bags cannot be converted:\n" +
                           "\n".join(str(e) for e in errors))
    shapes = {name: s.shape for name, s in plans[0].scan.cameras.items()}
    differ = [f"{p.scan.bag}: {name} {s.shape[1]}x{s.shape[0]}"
              for p in plans for name, s in p.scan.cameras.items() if s.shape != shapes[name]]
    if differ:
        first = ", ".join(f"{n} {s[1]}x{s[0]}" for n, s in shapes.items())
        raise ConvertError(f"camera image sizes differ between bags (first: {first}): " + "; ".join(differ))
    return plans


def _report(plans: Sequence[BagPlan], config: ConvertConfig) -> str:
    tolerances = {k: s.tolerance_s * 1e3 for k, s in config.mapping.streams().items()}
    blocks = [f"{label}\n{format_stats(stats, tolerances)}" for p in plans for label, stats in p.stats]
    return "\n\n".join(blocks)


def _write_bag(writer: DatasetWriter, plan: BagPlan, progress: bool) -> list[tuple[str, int]]:
    from tqdm import tqdm

    cams = list(plan.scan.cameras)
    needs = {c: np.concatenate([e.image_indices[c] for e in plan.episodes]) for c in cams}
    images = iter_frames(plan.scan, needs)
    written = []
    with tqdm(total=sum(e.frames for e in plan.episodes), desc=plan.scan.bag.name, unit="frame",
              disable=not progress) as bar:
        for episode in plan.episodes:
            def frames(ep: EpisodePlan = episode):
                for k in range(ep.frames):
                    frame = {"observation.state": ep.state[k], "action": ep.action[k]}
                    if cams:
                        frame.update({f"observation.images.{c}": img for c, img in next(images).items()})
                    yield frame
                    bar.update()

            written.append((str(plan.scan.bag), writer.add_episode(frames(), episode.task)))
    return written


def convert_bags(bags: Sequence[str | Path], out: str | Path, config: ConvertConfig | None = None, *,
                 append: bool = False, progress: bool = True,
                 interrupted: Callable[[], bool] | None = None) -> ConvertResult:
    """Convert ROS 2 bags into a LeRobot v3.0 dataset at ``out``.

    Args:
        bags: rosbag2 directories (or single .mcap/.db3 files); one episode each unless the mapping has
            an ``episode_topic``.
        out: dataset directory; must not exist unless ``append``.
        config: mapping and options (default: ``config/convert.yaml``).
        append: add the episodes to the dataset at ``out``.
        progress: show a tqdm progress bar.
        interrupted: asked before the dataset is moved into place; True discards it and raises
            KeyboardInterrupt (a Ctrl-C that Python swallowed, e.g. one landing in a ``__del__``).

    Returns:
        What was written, with per-stream sync statistics.

    Raises:
        ConfigError, CalibrationError: bad options or calibration.
        BadBagError (one bad bag) or ConvertError (several): every problem of every bag, each naming the
            bag, topic and time; nothing is written.
        DatasetError: ``out`` exists (without ``append``) or does not match.
    """
    if not bags:
        raise ConfigError("no bags given")
    config = config or load_config()
    check_vcodec(config.vcodec)
    units = unit_converter(config)
    plans = _plan_all(bags, config, units)
    notes = [n for p in plans for n in p.notes]
    report = _report(plans, config)
    _log.info("sync statistics:\n%s", report)
    if not any(p.episodes for p in plans):
        raise ConvertError("no episodes to write: " + "; ".join(notes))
    shapes = {name: s.shape for name, s in plans[0].scan.cameras.items()}
    features = dataset_features(config.units, shapes)
    written: list[tuple[str, int]] = []
    with DatasetWriter(out, features, config.fps, config.robot_type, append=append, vcodec=config.vcodec,
                       image_writer_threads=config.image_writer_threads,
                       image_writer_processes=config.image_writer_processes,
                       interrupted=interrupted) as writer:
        for plan in plans:
            if plan.episodes:
                written.extend(_write_bag(writer, plan, progress))
    return ConvertResult(Path(out), written, notes, report)
