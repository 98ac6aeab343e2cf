"""Reading ROS 2 bags with rosbags (no ROS install needed): MCAP and sqlite3, split bags, metadata
versions up to 9 (``rosbags.highlevel.AnyReader``).

Two passes per bag keep memory flat however long the bag is:

1. :func:`scan_bag` reads every mapped topic once: stamps of all streams, the joint positions, and the
   image sizes (raw images are decoded and validated here too, which costs ~0.1 ms each). It reports
   every problem it finds at once, each naming bag, topic and time.
2. :func:`iter_frames` reads the camera topics again and decodes only the images the alignment chose,
   yielding them frame by frame; an image is dropped as soon as no later frame needs it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rosbags.highlevel import AnyReader, AnyReaderError
from rosbags.interfaces import Connection
from rosbags.rosbag2 import ReaderError

from vla_ros.camera.image import compressed_to_rgb, msg_to_rgb
from vla_ros.convert.errors import (
    BadBagError,
    BagProblem,
    ConvertError,
    CorruptBagError,
    EmptyBagError,
    MissingTopicError,
    format_time,
)
from vla_ros.convert.mapping import CAMERA_MSGTYPES, JOINT_MSGTYPE, TopicMapping
from vla_ros.errors import BadInputError
from vla_ros.robot.joints import JOINT_NAMES, order_positions

__all__ = ["BagScan", "ImageSeries", "JointSeries", "iter_frames", "open_bag", "read_custom_data", "scan_bag"]

_READ_ERRORS = (AnyReaderError, ReaderError, OSError, struct.error, EOFError, KeyError, IndexError,
                ValueError, AssertionError)
_REINDEX_HINT = "(an MCAP bag whose recorder died has no summary: try `ros2 bag reindex`)"


@dataclass
class JointSeries:
    """Joint positions of one topic: ``stamps_ns`` (N,) int64; ``positions_rad`` (N, 6) float64 radians in
    JOINT_NAMES order."""

    topic: str
    stamps_ns: np.ndarray
    positions_rad: np.ndarray


@dataclass
class ImageSeries:
    """Stamps ``(N,)`` int64 and image size ``(height, width, 3)`` of one camera topic."""

    topic: str
    msgtype: str
    stamps_ns: np.ndarray
    shape: tuple[int, int, int]


@dataclass
class BagScan:
    """What pass 1 learnt about a bag.

    Attributes:
        bag: the bag path.
        start_ns, end_ns: first and last receive time in the bag (inclusive).
        custom_data: the bag's ``custom_data`` metadata (the task is under ``task``).
        state, action: the joint streams.
        cameras: ``{camera name: ImageSeries}``.
        markers: episode markers as ``(stamps_ns, Bool values or None)``, or None without a marker topic.
        stamps: the time source used (``header`` or ``receive``).
    """

    bag: Path
    start_ns: int
    end_ns: int
    custom_data: dict[str, str]
    state: JointSeries
    action: JointSeries
    cameras: dict[str, ImageSeries]
    markers: tuple[np.ndarray, list[bool] | None] | None = None
    stamps: str = "header"


def read_custom_data(bag: str | Path) -> dict[str, str]:
    """The ``custom_data`` of a bag directory's ``metadata.yaml`` (metadata version >= 6); {} if none."""
    meta = Path(bag) / "metadata.yaml"
    if not meta.is_file():
        return {}
    try:
        info = (yaml.safe_load(meta.read_text()) or {}).get("rosbag2_bagfile_information", {})
    except (OSError, yaml.YAMLError, AttributeError) as err:
        raise CorruptBagError(bag, f"cannot read {meta}: {err}") from err
    custom = info.get("custom_data") or {}
    return {str(k): str(v) for k, v in custom.items()} if isinstance(custom, dict) else {}


@contextmanager
def open_bag(bag: str | Path) -> Iterator[AnyReader]:
    """Open a bag with AnyReader.

    Raises:
        CorruptBagError: the path does not exist or the bag cannot be opened.
    """
    path = Path(bag)
    if not path.exists():
        raise CorruptBagError(bag, "no such bag (expected a rosbag2 directory, .mcap or .db3 file)")
    try:
        reader = AnyReader([path])
        reader.open()
    except _READ_ERRORS as err:
        raise CorruptBagError(bag, f"cannot open: {err} {_REINDEX_HINT}") from err
    try:
        yield reader
    finally:
        with suppress(_READ_ERRORS):
            reader.close()


def _messages(reader: AnyReader, bag: Path, conns: Sequence[Connection]
              ) -> Iterator[tuple[Connection, int, Any]]:
    """Deserialised messages of ``conns`` in log-time order; read errors become CorruptBagError."""
    if not conns:
        return
    it = reader.messages(connections=conns)
    while True:
        try:
            conn, logtime, raw = next(it)
        except StopIteration:
            return
        except _READ_ERRORS as err:
            raise CorruptBagError(bag, f"reading failed: {err} {_REINDEX_HINT}") from err
        try:
            msg = reader.deserialize(raw, conn.msgtype)
        except _READ_ERRORS as err:
            problem = BagProblem(conn.topic, logtime, f"cannot deserialise: {err}")
            raise CorruptBagError(bag, [problem]) from err
        yield conn, logtime, msg


def _stamp(msg: Any, logtime: int, source: str) -> int:
    if source == "receive":
        return int(logtime)
    stamp = msg.header.stamp
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


@dataclass
class _Collect:
    """Accumulates one topic's data during the scan."""

    topic: str
    msgtype: str = ""
    stamps: list[int] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    shape: tuple[int, int, int] | None = None


def _find(reader: AnyReader, topic: str) -> list[Connection]:
    return [c for c in reader.connections if c.topic == topic]


def _topic_problems(reader: AnyReader, wanted: dict[str, tuple[str, ...]], start: int) -> list[BagProblem]:
    problems = []
    for topic, types in wanted.items():
        conns = _find(reader, topic)
        if not conns:
            fitting = sorted({c.topic for c in reader.connections if not types or c.msgtype in types})
            listed = ", ".join(fitting[:20]) + (" ..." if len(fitting) > 20 else "") or "none"
            kind = " or ".join(types) if types else "any type"
            detail = f"required topic not in the bag (its {kind} topics: {listed})"
            problems.append(BagProblem(topic, None, detail))
        elif types and (bad := sorted({c.msgtype for c in conns} - set(types))):
            problems.append(BagProblem(topic, None, f"type {bad[0]} is not one of {list(types)}"))
        elif sum(c.msgcount for c in conns) == 0:
            problems.append(BagProblem(topic, None, "required topic has no messages"))
    return problems


def _take(col: _Collect, msg: Any, stamp: int, kind: str, problems: list[BagProblem], start: int) -> None:
    try:
        if kind == "joint":
            col.values.append(list(order_positions(list(msg.name), list(msg.position)).values()))
        elif kind == "image" and col.msgtype == CAMERA_MSGTYPES[0]:
            shape = msg_to_rgb(msg).shape
            if col.shape is None:
                col.shape = shape
            elif shape != col.shape:
                raise BadInputError(f"image size {shape[1]}x{shape[0]} differs from the first "
                                    f"{col.shape[1]}x{col.shape[0]}")
        elif kind == "image" and col.shape is None:
            col.shape = compressed_to_rgb(msg.format, msg.data).shape
    except BadInputError as err:
        problems.append(BagProblem(col.topic, stamp, str(err), start))
        if kind == "joint":
            col.values.append([np.nan] * len(JOINT_NAMES))
    col.stamps.append(stamp)


def _order_problems(col: _Collect, start: int) -> list[BagProblem]:
    stamps = np.asarray(col.stamps, dtype=np.int64)
    back = np.flatnonzero(np.diff(stamps) < 0) + 1
    return [
        BagProblem(col.topic, int(stamps[i]),
                   f"non-monotonic stamps: {(stamps[i - 1] - stamps[i]) / 1e6:.3f} ms before the previous "
                   f"message ({format_time(int(stamps[i - 1]))})", start)
        for i in back
    ]


def scan_bag(bag: str | Path, mapping: TopicMapping, stamps: str = "header") -> BagScan:
    """Pass 1: read and validate the mapped topics of a bag.

    Args:
        bag: a rosbag2 directory (MCAP or sqlite3, possibly split into several files) or one file.
        mapping: which topics to read.
        stamps: ``header`` (message header stamps) or ``receive`` (bag log times).

    Raises:
        CorruptBagError: the bag cannot be opened or read.
        EmptyBagError: it has no messages.
        MissingTopicError: required topics are missing, empty or of the wrong type (all listed).
        BadBagError: every bad message: unknown/missing joints or NaN, image data length ≠ height × step,
            unknown encoding, undecodable JPEG (first one only), changing image size, non-monotonic or
            unset (zero) header stamps.
    """
    path = Path(bag)
    custom = read_custom_data(path)
    with open_bag(path) as reader:
        if reader.message_count == 0:
            raise EmptyBagError(path, "the bag has no messages")
        start, end = int(reader.start_time), int(reader.end_time) - 1
        streams = mapping.streams()
        kinds = {mapping.resolve(s.topic): ("joint" if not k.startswith("observation.images.") else "image")
                 for k, s in streams.items()}
        wanted: dict[str, tuple[str, ...]] = {
            t: (JOINT_MSGTYPE,) if kind == "joint" else CAMERA_MSGTYPES for t, kind in kinds.items()
        }
        marker_topic = mapping.resolve(mapping.episode_topic) if mapping.episode_topic else ""
        if marker_topic:
            wanted[marker_topic] = ()
        problems = _topic_problems(reader, wanted, start)
        if problems:
            raise MissingTopicError(path, problems)
        cols = {t: _Collect(t, _find(reader, t)[0].msgtype) for t in wanted}
        conns = [c for t in wanted for c in _find(reader, t)]
        for conn, logtime, msg in _messages(reader, path, conns):
            col = cols[conn.topic]
            if conn.topic == marker_topic:
                col.stamps.append(int(logtime))
                col.values.append(bool(msg.data) if hasattr(msg, "data") else True)
                continue
            stamp = _stamp(msg, logtime, stamps)
            if stamps == "header" and stamp == 0:
                problems.append(BagProblem(conn.topic, logtime, "header stamp is 0 (unset); convert with "
                                           "--stamps receive", start))
            _take(col, msg, stamp, kinds[conn.topic], problems, start)
    for topic in kinds:
        problems.extend(_order_problems(cols[topic], start))
    if problems:
        raise BadBagError(path, sorted(problems, key=lambda p: (p.topic, p.time_ns or 0)))
    return _build_scan(path, start, end, custom, mapping, cols, marker_topic, stamps)


def _joints(col: _Collect) -> JointSeries:
    return JointSeries(col.topic, np.asarray(col.stamps, dtype=np.int64),
                       np.asarray(col.values, dtype=np.float64).reshape(-1, len(JOINT_NAMES)))


def _build_scan(path: Path, start: int, end: int, custom: dict[str, str], mapping: TopicMapping,
                cols: dict[str, _Collect], marker_topic: str, stamps: str) -> BagScan:
    cameras = {}
    for name, spec in mapping.cameras.items():
        col = cols[mapping.resolve(spec.topic)]
        assert col.shape is not None
        cameras[name] = ImageSeries(col.topic, col.msgtype, np.asarray(col.stamps, dtype=np.int64), col.shape)
    markers = None
    if marker_topic:
        col = cols[marker_topic]
        values = [bool(v) for v in col.values] if col.msgtype == "std_msgs/msg/Bool" else None
        markers = (np.asarray(col.stamps, dtype=np.int64), values)
    return BagScan(
        bag=path, start_ns=start, end_ns=end, custom_data=custom,
        state=_joints(cols[mapping.resolve(mapping.state.topic)]),
        action=_joints(cols[mapping.resolve(mapping.action.topic)]),
        cameras=cameras, markers=markers, stamps=stamps,
    )


def _decode(series: ImageSeries, msg: Any, stamp: int, bag: Path, start: int) -> np.ndarray:
    try:
        if series.msgtype == CAMERA_MSGTYPES[0]:
            rgb = msg_to_rgb(msg)
        else:
            rgb = compressed_to_rgb(msg.format, msg.data)
        if rgb.shape != series.shape:
            raise BadInputError(f"image size {rgb.shape[1]}x{rgb.shape[0]} differs from the first "
                                f"{series.shape[1]}x{series.shape[0]}")
    except BadInputError as err:
        raise BadBagError(bag, [BagProblem(series.topic, stamp, str(err), start)]) from err
    return rgb


def iter_frames(scan: BagScan, needs: dict[str, np.ndarray]) -> Iterator[dict[str, np.ndarray]]:
    """Pass 2: the chosen images, frame by frame.

    Args:
        scan: the bag's scan.
        needs: ``{camera: (F,) int64}`` index of the message each frame uses, non-decreasing (frames of
            all episodes of the bag, in time order).

    Yields:
        ``{camera: (H, W, 3) uint8 RGB}`` for frames ``0..F-1``.

    Raises:
        BadBagError: an image does not decode (naming topic and time).
        CorruptBagError: the bag cannot be read.
    """
    names = list(needs)
    total = len(next(iter(needs.values()))) if needs else 0
    if not names:
        return
    by_topic = {scan.cameras[n].topic: n for n in names}
    wanted = {n: set(needs[n].tolist()) for n in names}
    seen = dict.fromkeys(names, 0)
    cache: dict[str, dict[int, np.ndarray]] = {n: {} for n in names}
    frame = 0
    with open_bag(scan.bag) as reader:
        conns = [c for c in reader.connections if c.topic in by_topic]
        for conn, logtime, msg in _messages(reader, scan.bag, conns):
            name = by_topic[conn.topic]
            series, index = scan.cameras[name], seen[name]
            seen[name] += 1
            if index not in wanted[name]:
                continue
            stamp = _stamp(msg, logtime, scan.stamps)
            if stamp != series.stamps_ns[index]:
                raise ConvertError(f"bag {scan.bag}: topic {conn.topic}: message order differs between reads")
            cache[name][index] = _decode(series, msg, stamp, scan.bag, scan.start_ns)
            while frame < total and all(int(needs[n][frame]) in cache[n] for n in names):
                yield {n: cache[n][int(needs[n][frame])] for n in names}
                frame += 1
                for n in names:
                    keep = int(needs[n][frame]) if frame < total else 1 << 62
                    for old in [i for i in cache[n] if i < keep]:
                        del cache[n][old]
    if frame < total:
        raise CorruptBagError(scan.bag, f"only {frame} of {total} frames' images could be read back")
