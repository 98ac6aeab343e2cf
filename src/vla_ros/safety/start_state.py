"""Where the demonstrations start, and whether the arm starts there too.

Seed lesson: starting far from the demonstrations' start pose (gripper open when every demonstration
started closed) made success swing between 0 and 33 %. The distribution of the episodes' first
``observation.state`` comes from a checkpoint's training facts (:func:`vla_ros.contract.read_contract`:
its ``vla_ros_contract.json``, else the training dataset ``lerobot-train`` recorded) or straight from a
LeRobot dataset; the check compares
the measured state with ``mean ± k·std`` per joint, with a floor on ``std`` so that a set of
demonstrations that all start at the very same pose does not make every real start "out".

Vectors are ``(6,)`` float64 in :data:`vla_ros.robot.joints.JOINT_NAMES` order, radians unless a name
says otherwise. LeRobot units (degrees; gripper 0-100 %) are converted with
:class:`vla_ros.robot.units.UnitConverter` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from vla_ros.contract import DeploymentContract, episode_first_states, read_contract, start_state_stats
from vla_ros.contract.dataset import read_metadata, state_columns
from vla_ros.errors import ConfigError
from vla_ros.robot.joints import GRIPPER_JOINT, JOINT_NAMES
from vla_ros.robot.units import UnitConverter, Units
from vla_ros.safety.errors import StartStateSourceError

__all__ = [
    "JointDeviation",
    "StartStateDistribution",
    "StartStateReport",
    "check_start_state",
    "episode_start_states",
    "load_converter",
    "load_start_distribution",
]

_GRIPPER = JOINT_NAMES.index(GRIPPER_JOINT)
_CLOSED_BELOW_PCT = 15.0
"""A gripper under this opening (percent of its calibrated range) is called "closed" in messages."""
_OPEN_ABOVE_PCT = 40.0
"""A gripper over this opening is called "open"; in between, "half-open"."""


def _to_radians(values: np.ndarray, units: str, converter: UnitConverter | None, what: str) -> np.ndarray:
    if units == Units.RADIANS:
        return np.array(values, dtype=np.float64)
    if converter is None:
        raise StartStateSourceError(
            f"{what} is in {units} units; converting it to radians needs the arm's calibration "
            "(set robot_id and calibration_dir)")
    return converter.convert(np.asarray(values, dtype=np.float64), units, Units.RADIANS)


@dataclass(frozen=True)
class StartStateDistribution:
    """Per-joint mean and standard deviation of the demonstrations' first states.

    Attributes:
        mean_rad: ``(6,)`` mean start position, radians.
        std_rad: ``(6,)`` standard deviation, radians (>= 0).
        source: where it came from, for messages.
    """

    mean_rad: np.ndarray
    std_rad: np.ndarray
    source: str

    @classmethod
    def from_stats(cls, mean: ArrayLike, std: ArrayLike, units: str, converter: UnitConverter | None,
                   source: str) -> StartStateDistribution:
        """Build from a mean and std in ``units``.

        Every unit conversion is affine, so a std converts as ``f(mean + std) - f(mean)``.

        Raises:
            StartStateSourceError: wrong sizes, or LeRobot units without a converter.
        """
        m, s = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
        if m.shape != (len(JOINT_NAMES),) or s.shape != m.shape:
            raise StartStateSourceError(f"{source}: start-state mean/std need {len(JOINT_NAMES)} values, "
                                        f"got {m.shape} and {s.shape}")
        mean_rad = _to_radians(m, units, converter, source)
        std_rad = np.abs(_to_radians(m + s, units, converter, source) - mean_rad)
        return cls(mean_rad, std_rad, source)

    @classmethod
    def from_contract(cls, contract: DeploymentContract, converter: UnitConverter | None,
                      source: str) -> StartStateDistribution | None:
        """The distribution recorded in a deployment contract; None if it records none.

        Raises:
            StartStateSourceError: the contract's joints differ from the SO-101's, or its units need
                a calibration that was not given.
        """
        if not contract.start_state_mean:
            return None
        if list(contract.joint_names) != list(JOINT_NAMES):
            raise StartStateSourceError(
                f"{source}: joints {contract.joint_names}, expected {list(JOINT_NAMES)}")
        return cls.from_stats(contract.start_state_mean, contract.start_state_std, contract.units,
                              converter, source)

    @classmethod
    def from_dataset(cls, root: str | Path, units: str, converter: UnitConverter | None
                     ) -> StartStateDistribution:
        """The distribution of the first frames of every episode of a local LeRobot dataset.

        Raises:
            StartStateSourceError: the dataset cannot be read (see :func:`episode_start_states`).
        """
        states = episode_start_states(root)
        mean, std = start_state_stats(states)
        return cls.from_stats(mean, std, units, converter, f"dataset {root} ({len(states)} episodes)")


def episode_start_states(root: str | Path) -> np.ndarray:
    """The first ``observation.state`` of each episode of a local LeRobot (v3.0) dataset, per joint.

    The states come from :func:`vla_ros.contract.episode_first_states`; columns are reordered to
    :data:`JOINT_NAMES` when the feature names are ``<joint>.pos`` or the joint names; other names
    (e.g. ``j0..j5``) are taken to be in that order already.

    Args:
        root: the dataset directory (holding ``meta/info.json``).

    Returns:
        ``(num_episodes, 6)`` float64, in the dataset's units.

    Raises:
        StartStateSourceError: not a readable dataset, no 6-joint ``observation.state``, or an
            episode without its frame 0.
    """
    root = Path(root)
    try:
        states = episode_first_states(root)
        feature = read_metadata(root).features["observation.state"]
    except ConfigError as err:
        raise StartStateSourceError(str(err)) from err
    if tuple(feature["shape"]) != (len(JOINT_NAMES),):
        raise StartStateSourceError(f"dataset {root}: observation.state has shape {feature['shape']}, "
                                    f"expected ({len(JOINT_NAMES)},)")
    columns = state_columns(feature.get("names"))
    return states[:, columns] if columns is not None else states


@dataclass(frozen=True)
class JointDeviation:
    """One joint outside the start distribution.

    Attributes:
        joint: URDF joint name.
        value_rad: measured position, radians.
        low_rad, high_rad: the allowed interval ``mean ± k·max(std, floor)``, radians.
        message: a human-readable line about this joint.
    """

    joint: str
    value_rad: float
    low_rad: float
    high_rad: float
    message: str


@dataclass(frozen=True)
class StartStateReport:
    """Result of :func:`check_start_state`.

    Attributes:
        ok: every joint is within its interval.
        out: the joints outside, in :data:`JOINT_NAMES` order (all of them, not the first).
        message: one line for a service response or a log.
    """

    ok: bool
    out: tuple[JointDeviation, ...]
    message: str


def _gripper_pct(converter: UnitConverter, value_rad: float) -> float:
    vec = np.zeros(len(JOINT_NAMES))
    vec[_GRIPPER] = value_rad
    return float(converter.to_lerobot(vec)[_GRIPPER])


def _gripper_word(pct: float) -> str:
    if pct < _CLOSED_BELOW_PCT:
        return "closed"
    return "open" if pct > _OPEN_ABOVE_PCT else "half-open"


def _gripper_message(value: float, mean: float, std: float, low: float, high: float,
                     converter: UnitConverter | None) -> str:
    more = "more open" if value > high else "more closed"
    if converter is None:
        return (f"gripper is {more} ({value:.3f} rad) than at the demonstrations' start "
                f"({mean:.3f} ± {std:.3f} rad), allowed [{low:.3f}, {high:.3f}] rad")
    now, avg = _gripper_pct(converter, value), _gripper_pct(converter, mean)
    spread = abs(_gripper_pct(converter, mean + std) - avg)
    lo_pct, hi_pct = _gripper_pct(converter, low), _gripper_pct(converter, high)
    allowed = f"allowed [{lo_pct:.1f}, {hi_pct:.1f}] %"
    if _gripper_word(now) != _gripper_word(avg):
        return (f"gripper is {_gripper_word(now)} ({now:.1f} %) but the demonstrations start "
                f"{_gripper_word(avg)} ({avg:.1f} ± {spread:.1f} %), {allowed}")
    return (f"gripper is {more} ({now:.1f} %) than at the demonstrations' start "
            f"({avg:.1f} ± {spread:.1f} %), {allowed}")


def check_start_state(
    state_rad: ArrayLike,
    distribution: StartStateDistribution,
    k: float = 2.0,
    min_std_rad: float = 0.05,
    converter: UnitConverter | None = None,
    names: Sequence[str] = JOINT_NAMES,
) -> StartStateReport:
    """Compare the measured state with the demonstrations' start distribution.

    Args:
        state_rad: ``(6,)`` measured positions, radians.
        distribution: the demonstrations' start distribution.
        k: allowed distance from the mean, in standard deviations.
        min_std_rad: floor on each std, radians (a zero-variance demo set still allows ``k·floor``).
        converter: if given, the gripper is reported in percent of its calibrated opening.
        names: joint names of the entries.

    Returns:
        The report: every joint out, each with its value and allowed interval, the gripper called out
        as "open"/"closed".
    """
    state = np.asarray(state_rad, dtype=np.float64)
    std = np.maximum(distribution.std_rad, min_std_rad)
    low, high = distribution.mean_rad - k * std, distribution.mean_rad + k * std
    out = []
    for i, name in enumerate(names):
        v, lo, hi = float(state[i]), float(low[i]), float(high[i])
        if lo <= v <= hi:
            continue
        if name == GRIPPER_JOINT:
            text = _gripper_message(v, float(distribution.mean_rad[i]), float(distribution.std_rad[i]),
                                    lo, hi, converter)
        else:
            text = (f"{name} = {v:.3f} rad ({np.degrees(v):.1f}°), allowed [{lo:.3f}, {hi:.3f}] rad "
                    f"({np.degrees(lo):.1f}..{np.degrees(hi):.1f}°)")
        out.append(JointDeviation(name, v, lo, hi, text))
    where = f"mean ± {k:g}·std of {distribution.source}"
    if not out:
        return StartStateReport(True, (), f"start state within the demonstrations' start ({where})")
    head = f"start state differs from the demonstrations' start ({where}): "
    return StartStateReport(False, tuple(out), head + "; ".join(d.message for d in out))


def load_converter(robot_id: str, calibration_dir: str | Path | None = None) -> UnitConverter | None:
    """The unit converter of calibrated arm ``robot_id``; None when no id is given.

    Raises:
        CalibrationError: the calibration file is missing or invalid (with a how-to-calibrate hint).
    """
    if not robot_id:
        return None
    from vla_ros.robot.calibration import calibration_path, load_calibration  # imports torch: lazily

    path = calibration_path(robot_id, calibration_dir or None)
    return UnitConverter.from_calibration(load_calibration(path))


def load_start_distribution(
    policy_path: str | Path | None,
    dataset_root: str | Path | None,
    dataset_units: str,
    converter: UnitConverter | None,
) -> tuple[StartStateDistribution | None, list[str]]:
    """Find the demonstrations' start distribution: a checkpoint's training facts first, then a dataset.

    Args:
        policy_path: a checkpoint's ``pretrained_model`` directory (or the checkpoint directory above
            it); its start state comes from :func:`vla_ros.contract.read_contract` (the
            ``vla_ros_contract.json``, else the training dataset ``train_config.json`` names, found
            locally); empty to skip.
        dataset_root: a local LeRobot dataset; empty to skip.
        dataset_units: units of the dataset's ``observation.state`` (:class:`Units`).
        converter: converts LeRobot units to radians (needed when the data is in LeRobot units).

    Returns:
        ``(distribution or None, notes)``: notes say why a given source was not used.

    Raises:
        ConfigError: a contract is malformed; StartStateSourceError: a source cannot be read or
            converted.
    """
    notes: list[str] = []
    if policy_path:
        contract = read_contract(policy_path, signatures=False)
        if contract.has_start_state:
            found = StartStateDistribution.from_contract(contract, converter, contract.source("start_state"))
            if found is not None:
                return found, notes
        notes.append(f"{policy_path}: start state {contract.source('start_state')}")
    if dataset_root:
        return StartStateDistribution.from_dataset(dataset_root, dataset_units, converter), notes
    return None, notes
