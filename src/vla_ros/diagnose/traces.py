"""``sim_evaluator`` traces (``episode_NNN.npz``, :mod:`vla_ros.evaluate.trace`) as deployment episodes.

Each trace holds the measured ``joint_states`` and the policy's ``policy/joint_commands`` (radians,
simulated seconds) and a few camera frames. They are put on the training dataset's frame grid with the
converter's own alignment (:func:`vla_ros.convert.align.align`: state latest at or before each tick,
command first at or after it, within the converter config's tolerances), split where a stream is out
of tolerance, and converted to the training units by :func:`vla_ros.convert.converter.unit_converter`.
The kept camera frames become image signatures.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vla_ros.convert.align import LATEST, NEXT, StreamTimes, align, good_segments
from vla_ros.convert.mapping import ConvertConfig
from vla_ros.diagnose.errors import DiagnoseInputError
from vla_ros.diagnose.sources import Episode, Recording, signature
from vla_ros.robot.joints import JOINT_NAMES

__all__ = ["is_trace_dir", "load_traces", "trace_files"]

_NS = 1_000_000_000


def trace_files(path: str | Path) -> list[Path]:
    """The ``episode_*.npz`` traces of ``path`` (a trace file, or a ``sim_evaluator`` output directory)."""
    p = Path(path)
    if p.is_file() and p.suffix == ".npz":
        return [p]
    return sorted(p.glob("episode_*.npz")) if p.is_dir() else []


def is_trace_dir(path: str | Path) -> bool:
    """Whether ``path`` is a trace file or a directory of traces (and not a bag)."""
    return bool(trace_files(path)) and not (Path(path) / "metadata.yaml").is_file()


def _episodes(path: Path, data: dict[str, np.ndarray], config: ConvertConfig, fps: float,
              units: object) -> tuple[list[Episode], list[str]]:
    names = [str(n) for n in data["joint_names"]]
    if names != list(JOINT_NAMES):
        raise DiagnoseInputError(f"trace {path}: joint names {names} are not {list(JOINT_NAMES)}")
    js_ns = np.round(data["joint_state_time_s"] * _NS).astype(np.int64)
    cmd_ns = np.round(data["command_time_s"] * _NS).astype(np.int64)
    if len(js_ns) < 2 or len(cmd_ns) < 2:
        raise DiagnoseInputError(f"trace {path}: empty episode ({len(js_ns)} joint states, {len(cmd_ns)} "
                                 "commands)")
    streams = [StreamTimes("observation.state", "joint_states", js_ns, LATEST,
                           round(config.mapping.state.tolerance_s * _NS)),
               StreamTimes("action", "policy/joint_commands", cmd_ns, NEXT,
                           round(config.mapping.action.tolerance_s * _NS))]
    al = align(streams, round(fps))
    segments = good_segments(al.all_ok, 2)
    notes = [] if segments == [(0, len(al.ticks_ns))] else [
        f"{path.name}: {int((~al.all_ok).sum())} of {len(al.ticks_ns)} ticks out of tolerance, "
        f"{len(segments)} segment(s) kept"]
    out = []
    for lo, hi in segments:
        sub = al.subset(lo, hi)
        state = data["joint_state_position_rad"][sub.indices["observation.state"]]
        action = data["command_position_rad"][sub.indices["action"]]
        if units is not None:
            state, action = units.to_lerobot(state), units.to_lerobot(action)  # type: ignore[attr-defined]
        inside = cmd_ns[(cmd_ns >= sub.ticks_ns[0]) & (cmd_ns <= sub.ticks_ns[-1])]
        out.append(Episode(f"{path}" + (f" [{lo}:{hi}]" if len(segments) > 1 else ""), str(data["task"]),
                           np.asarray(state, np.float64), np.asarray(action, np.float64),
                           (sub.ticks_ns - sub.ticks_ns[0]) / _NS, command_stamps_ns=inside))
    if not out:
        raise DiagnoseInputError(f"trace {path}: no frame where joint states and commands are both "
                                 "within tolerance")
    return out, notes


def load_traces(paths: Sequence[str | Path], *, like: Recording, config: ConvertConfig,
                images: bool = True) -> Recording:
    """Traces of ``paths`` (files or directories) as a :class:`Recording` in ``like``'s units and fps.

    Raises:
        DiagnoseInputError: unreadable trace, other joint names, an empty episode; ``like`` in no known
            units.
        ConfigError / CalibrationError: LeRobot units without a calibration source.
    """
    from vla_ros.convert.converter import unit_converter

    if not like.units:
        raise DiagnoseInputError(f"training names {like.names} are in no known units; traces (radians) "
                                 "cannot be converted to them")
    units = unit_converter(dataclasses.replace(config, units=like.units))
    episodes, notes, cameras, sigs = [], [], {}, {}
    for path in [f for p in paths for f in trace_files(p)]:
        try:
            with np.load(path, allow_pickle=False) as npz:
                data = {k: npz[k] for k in npz.files}
        except (OSError, ValueError) as err:
            raise DiagnoseInputError(f"trace {path}: unreadable: {err}") from err
        eps, more = _episodes(path, data, config, like.fps, units)
        episodes += eps
        notes += more
        for cam in [str(c) for c in data.get("cameras", [])]:
            frames = data.get(f"frames_{cam}")
            if frames is None or not len(frames):
                continue
            cameras.setdefault(cam, tuple(int(x) for x in frames.shape[1:]))
            if images:
                sigs.setdefault(cam, []).extend(signature(f) for f in frames)
    return Recording(", ".join(map(str, paths)), like.fps, like.units, list(like.names), episodes, cameras,
                     {c: np.stack(v) for c, v in sigs.items()}, notes)
