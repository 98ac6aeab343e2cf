"""Deployment guards: refuse every training/deployment mismatch before the arm moves (pure functions).

Each guard reports every problem at once (STYLE.md rule 10) in a message that says what was
expected and what was found:

* :func:`check_camera_map`: every image feature of the checkpoint is fed by a camera or explicitly
  declared empty (lerobot's ``SmolVLAPolicy.prepare_images`` silently drops missing cameras);
* :func:`check_task`: the instruction is one of the training tasks (seed lesson: one changed phrase
  took the success rate to 0 %), naming the closest one; unknown training tasks refuse too, unless
  ``allow_new_task`` (then with a warning), never a silent pass;
* :func:`check_robot_fit`: state/action sizes, joint order and units fit the SO-101;
* :func:`check_observation`: no stale data, no image of the wrong size or an undecodable encoding;
* :func:`check_chunk`: no NaN or inf in a predicted chunk.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from vla_ros.errors import BadInputError, StaleDataError
from vla_ros.policy.errors import CameraMapError, CheckpointError, NonFiniteChunkError, TaskRefusedError
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.robot.units import Units

__all__ = [
    "IMAGE_PREFIX",
    "CameraPlan",
    "check_camera_map",
    "check_camera_swap",
    "check_chunk",
    "check_observation",
    "check_robot_fit",
    "check_task",
    "closest_task",
    "image_key",
    "unknown_tasks",
]

IMAGE_PREFIX = "observation.images."
"""LeRobot's prefix of camera features (``lerobot.utils.constants.OBS_IMAGES`` + ".")."""

_CAMERA_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
"""A camera name must be a valid ROS name token: it becomes ``cameras/<name>/image_raw``."""


def image_key(name: str) -> str:
    """``camera1`` or ``observation.images.camera1`` -> ``observation.images.camera1``."""
    return name if name.startswith(IMAGE_PREFIX) else IMAGE_PREFIX + name


@dataclass(frozen=True)
class CameraPlan:
    """Which ROS camera feeds which policy image feature.

    Attributes:
        cameras: ROS camera name -> policy image key (``observation.images.*``).
        empty: policy image keys explicitly declared empty (fed a masked blank image).
    """

    cameras: dict[str, str]
    empty: tuple[str, ...]


def check_camera_map(camera_map: Mapping[str, str], expected: Sequence[str]) -> CameraPlan:
    """Check that ``camera_map`` feeds or empties every image feature the checkpoint expects.

    Args:
        camera_map: ``{camera: feature}`` from ``["front=observation.images.camera1", ...]`` (short
            feature names accepted); an entry ``"<feature>="`` declares that feature empty.
        expected: the checkpoint's image features (``observation.images.*``).

    Returns:
        The plan: cameras to subscribe to and features declared empty.

    Raises:
        CameraMapError: listing every problem (unmapped, unknown or doubly mapped features, bad
            camera names, nothing to see), what is expected and what ``camera_map`` provides.
    """
    expected = [image_key(k) for k in expected]
    cameras: dict[str, str] = {}
    empty: list[str] = []
    problems = []
    for cam, feature in camera_map.items():
        if not feature:
            if image_key(cam) in expected:
                empty.append(image_key(cam))
            else:
                problems.append(f"'{cam}=' declares {image_key(cam)} empty, but the checkpoint has no such "
                                "feature")
            continue
        if not _CAMERA_NAME.match(cam):
            problems.append(f"camera name {cam!r} is not a valid ROS name (letters, digits, '_')")
        cameras[cam] = image_key(feature)
    unknown = sorted({f for f in cameras.values() if f not in expected})
    if unknown:
        problems.append(f"unknown image features {unknown}")
    for feature in expected:
        feeders = sorted(c for c, f in cameras.items() if f == feature)
        if len(feeders) > 1:
            problems.append(f"{feature} is fed by several cameras {feeders}")
        if feeders and feature in empty:
            problems.append(f"{feature} is both fed by {feeders[0]} and declared empty")
    unmapped = [f for f in expected if f not in cameras.values() and f not in empty]
    if unmapped:
        problems.append(f"unmapped image features {unmapped}")
    if expected and not unmapped and set(empty) >= set(expected):
        problems.append("every image feature is declared empty; the policy needs at least one camera")
    if problems:
        provided = [f"{c}={f}" for c, f in cameras.items()]
        provided += [f"{f.removeprefix(IMAGE_PREFIX)}=" for f in empty]
        raise CameraMapError(
            "camera_map does not fit the checkpoint: " + "; ".join(problems)
            + f". Expected image features: {expected}; camera_map provides: {provided}. Map each "
            "feature to a camera ('front=observation.images.camera1') or declare it empty ('camera3=')."
        )
    return CameraPlan(cameras, tuple(empty))


def check_camera_swap(
    plan: CameraPlan, recorded: Mapping[str, str], *, allow_remap: bool = False
) -> list[str]:
    """Compare the deployment's cameras with the ones the checkpoint was trained on, by name.

    A camera that fed one image feature in training and feeds another now is how two swapped cameras
    look (seed lesson: swapped cameras fail silently). Cameras absent from the training map (other
    names) cannot be compared and pass.

    Args:
        plan: the deployment's cameras (:func:`check_camera_map`).
        recorded: the deployment contract's ``camera_map``: dataset key -> policy key, e.g.
            ``{"observation.images.front": "observation.images.camera1"}``.
        allow_remap: report the differences instead of refusing.

    Returns:
        The differences, one line each (empty when the cameras agree).

    Raises:
        CameraMapError: a camera feeds another feature than in training and ``allow_remap`` is False.
    """
    trained = {image_key(k).removeprefix(IMAGE_PREFIX): image_key(v) for k, v in recorded.items()}
    moved = [f"{cam} feeds {feature} but fed {trained[cam]} in training"
             for cam, feature in sorted(plan.cameras.items()) if cam in trained and trained[cam] != feature]
    if moved and not allow_remap:
        raise CameraMapError(
            "camera_map disagrees with the cameras the policy was trained on: " + "; ".join(moved)
            + f". Training mapping: {dict(recorded)}. Swapped cameras make a policy fail without any "
            "error; fix camera_map (or leave it empty to use the training mapping), or set "
            "allow_camera_remap:=true if the change is intended."
        )
    return moved


def closest_task(task: str, training_tasks: Sequence[str]) -> str | None:
    """The training task most similar to ``task`` (difflib ratio), or None if there are none."""
    if not training_tasks:
        return None
    return max(training_tasks, key=lambda t: difflib.SequenceMatcher(None, task, t).ratio())


def check_task(
    task: str, training_tasks: Sequence[str], *, allow_new_task: bool = False, source: str = ""
) -> str | None:
    """Refuse an instruction that is not exactly one of the training tasks.

    Args:
        task: the language instruction.
        training_tasks: the exact training instructions (empty = unknown).
        allow_new_task: accept an instruction outside the training tasks, or unchecked when they are
            unknown (with a warning).
        source: where the training tasks come from (or why they are unknown), for the message.

    Returns:
        None if the task is a training task, else a warning (only when ``allow_new_task``): naming
        the closest training task, or saying that the training tasks are unknown.

    Raises:
        TaskRefusedError: the task is empty; or the training tasks are unknown, or the task is not
            one of them, and ``allow_new_task`` is false.
    """
    if not task.strip():
        raise TaskRefusedError("no task set: give the language instruction in the 'task' parameter")
    if not training_tasks:
        return unknown_tasks(task, source, allow_new_task=allow_new_task)
    if task in training_tasks:
        return None
    closest = closest_task(task, training_tasks)
    where = f" (from {source})" if source else ""
    message = (f"task {task!r} is not one of the {len(training_tasks)} training tasks{where}; "
               f"closest training task: {closest!r}")
    if allow_new_task:
        return message + "; running it anyway because allow_new_task is true"
    raise TaskRefusedError(
        message + ". A changed phrase can take success to 0 %: use the exact training task, or set "
        "allow_new_task:=true to run an unseen instruction."
    )


def unknown_tasks(task: str, source: str, *, allow_new_task: bool) -> str:
    """The warning for running ``task`` when the training tasks are unknown.

    Raises:
        TaskRefusedError: ``allow_new_task`` is false (naming why the tasks are unknown and the ways out).
    """
    why = f" ({source})" if source else ""
    what = f"task {task!r}" if task else "any task"
    if allow_new_task:
        return (f"the training tasks are unknown{why}: {what} runs unchecked because "
                "allow_new_task is true; a phrase that differs from training can take success to 0 %")
    raise TaskRefusedError(
        f"the training tasks of this checkpoint are unknown{why}, so {what} cannot be checked. "
        "Give the training dataset (training_dataset:=ROOT_OR_REPO_ID, or its copy in lerobot's cache), "
        "write a contract with `vla-ros contract CKPT --dataset ROOT --out CKPT`, or set "
        "allow_new_task:=true to run unchecked."
    )


def check_robot_fit(
    state_dim: int, action_dim: int, joint_names: Sequence[str] | None = None, units: str = Units.LEROBOT
) -> None:
    """Check that a checkpoint's state/action vectors are the SO-101's joints, in order.

    Args:
        state_dim, action_dim: the checkpoint's ``observation.state`` / ``action`` lengths.
        joint_names: column names recorded in the deployment contract (None = not recorded).
        units: the contract's units (one of :attr:`Units.ALL`).

    Raises:
        CheckpointError: listing every mismatch.
    """
    n = len(JOINT_NAMES)
    problems = []
    if state_dim != n or action_dim != n:
        problems.append(f"state/action have {state_dim}/{action_dim} values; the SO-101 has {n} joints")
    if joint_names is not None and list(joint_names) != list(JOINT_NAMES):
        problems.append(f"joint order {list(joint_names)} differs from {list(JOINT_NAMES)}")
    if units not in Units.ALL:
        problems.append(f"units {units!r} not one of {list(Units.ALL)}")
    if problems:
        raise CheckpointError("checkpoint does not fit the SO-101: " + "; ".join(problems))


def check_observation(
    now_s: float,
    max_age_s: float,
    stamps_s: Mapping[str, float | None],
    images: Mapping[str, np.ndarray | Exception],
    expected_shapes: Mapping[str, Sequence[int]],
) -> None:
    """Refuse an observation with stale parts or images the checkpoint was not trained on.

    Args:
        now_s: current time, seconds (same clock as the stamps).
        max_age_s: largest accepted age of any part, seconds.
        stamps_s: capture time of each part (``joint_states``, each camera), seconds; None = never received.
        images: policy image key -> ``(H, W, 3)`` uint8 RGB, or the error decoding it raised.
        expected_shapes: policy image key -> ``(C, H, W)`` from the checkpoint's features.

    Raises:
        StaleDataError: some part is missing or older than ``max_age_s`` (all problems listed).
        BadInputError: otherwise, when an image is undecodable or of the wrong size (all listed).
    """
    stale = []
    for name, stamp in stamps_s.items():
        if stamp is None:
            stale.append(f"no {name} received yet")
        elif now_s - stamp > max_age_s:
            stale.append(f"{name} is {now_s - stamp:.3f} s old (max_obs_age_s={max_age_s:g})")
    bad = []
    for key, shape in expected_shapes.items():
        img = images.get(key)
        if isinstance(img, Exception):
            bad.append(f"{key}: {img}")
        elif img is not None and tuple(img.shape[:2]) != tuple(shape[1:3]):
            bad.append(f"{key}: image is {img.shape[1]}x{img.shape[0]}, the checkpoint was trained on "
                       f"{shape[2]}x{shape[1]} (width x height)")
    if stale:
        raise StaleDataError("no inference on stale observations: " + "; ".join(stale + bad))
    if bad:
        raise BadInputError("no inference on these images: " + "; ".join(bad))


def check_chunk(actions: np.ndarray, joint_names: Sequence[str] = JOINT_NAMES) -> None:
    """Refuse a chunk with NaN or inf.

    Args:
        actions: ``(T, J)`` predicted actions.
        joint_names: column names, for the message.

    Raises:
        NonFiniteChunkError: naming the affected steps and joints.
    """
    arr = np.asarray(actions, dtype=np.float64)
    bad = ~np.isfinite(arr)
    if not bad.any():
        return
    steps = np.flatnonzero(bad.any(axis=1)).tolist()
    cols = np.flatnonzero(bad.any(axis=0)).tolist()
    joints = [joint_names[c] if c < len(joint_names) else str(c) for c in cols]
    shown = steps if len(steps) <= 10 else [*steps[:10], "..."]
    raise NonFiniteChunkError(
        f"chunk dropped: {int(bad.sum())} NaN/inf values at steps {shown} of {arr.shape[0]}, joints {joints}"
    )
