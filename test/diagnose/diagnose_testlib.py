"""Training and deployment data the diagnosis tests build (imported by the test modules).

Episodes are synthetic reach-and-grasp demonstrations in LeRobot SO-101 units (degrees, gripper
0-100): each starts near the seed's training start pose (``shoulder_pan`` -8 ± 3°, gripper closed at
0.5), moves every arm joint by a random offset on a minimum-jerk path, opens the gripper to ~35 and
closes it on the object (~2) for the second half, so the gripper is closed in about half the frames
(seed: 54.5 %). The state follows the commanded action two frames late. Camera ``front`` sees a
bright horizontal blue gradient, ``wrist`` a dark vertical red one, with pixel noise.

Each seed failure is one keyword of :func:`episode` (``gripper_never_closes``, ``start_shift_deg``,
``hold_joint``) or of the writers (task string, cameras left out or swapped). Datasets are written
with lerobot's ``LeRobotDataset`` (through vla_ros' converter writer); bags with the recorder's own
rosbags writer (:class:`vla_ros.record.bag.EpisodeBagWriter`), in radians, as the arm publishes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vla_ros.robot.joints import JOINT_NAMES

TRAIN_TASK = "Grab the brain"
HOME = np.array([-8.0, -98.0, 100.0, 75.0, -52.0, 0.5])
HOME_STD = np.array([3.0, 1.0, 1.0, 2.0, 2.0, 0.3])
FPS = 30
FRAMES = 60
IMAGE_HW = (24, 32)
NS = 1_000_000_000
T0 = 1_700_000_000 * NS


def _min_jerk(s: np.ndarray) -> np.ndarray:
    s = np.clip(s, 0.0, 1.0)
    return 10 * s**3 - 15 * s**4 + 6 * s**5


@dataclass(frozen=True)
class Episode:
    """One synthetic episode: ``state``/``action`` ``(T, 6)`` float32 LeRobot units, its cameras' images."""

    state: np.ndarray
    action: np.ndarray
    images: dict[str, np.ndarray]


def camera_image(name: str, rng: np.random.Generator) -> np.ndarray:
    """One ``(H, W, 3)`` uint8 frame of camera ``front`` or ``wrist``."""
    h, w = IMAGE_HW
    img = np.empty((h, w, 3), dtype=np.float64)
    if name == "front":
        img[..., 0] = np.linspace(60, 120, w)[None, :]
        img[..., 1] = 170
        img[..., 2] = np.linspace(180, 250, w)[None, :]
    else:
        img[..., 0] = np.linspace(60, 140, h)[:, None]
        img[..., 1] = 20
        img[..., 2] = 30
    return np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)


def episode(rng: np.random.Generator, *, frames: int = FRAMES, cameras: Sequence[str] = ("front", "wrist"),
            gripper_never_closes: bool = False, start_shift_deg: dict[str, float] | None = None,
            hold_joint: str | None = None) -> Episode:
    """A demonstration-like episode; the keywords reproduce one seed failure each.

    Args:
        gripper_never_closes: the gripper opens and stays open (~30) instead of closing on the object.
        start_shift_deg: ``{joint: degrees}`` added to the start pose, blended out over the first
            third of the episode.
        hold_joint: that joint's action holds every value for two frames (doubled per-step jumps).
    """
    s = np.linspace(0.0, 1.0, frames)
    start = HOME + rng.normal(0, HOME_STD)
    start[5] = abs(start[5])
    delta = rng.normal(0, 15.0, 6)
    action = start + delta * _min_jerk(s / 0.6)[:, None]
    opened = 35.0 + rng.normal(0, 1.0)
    closed = 2.0 + abs(rng.normal(0, 0.5))
    grip = start[5] + (opened - start[5]) * _min_jerk(s / 0.2)
    if not gripper_never_closes:
        grip = grip + (closed - opened) * _min_jerk((s - 0.45) / 0.15)
    action[:, 5] = grip
    for joint, shift in (start_shift_deg or {}).items():
        action[:, JOINT_NAMES.index(joint)] += shift * (1 - _min_jerk(s / 0.33))
    action += rng.normal(0, 0.05, action.shape)
    if hold_joint is not None:
        j = JOINT_NAMES.index(hold_joint)
        action[:, j] = action[(np.arange(frames) // 2) * 2, j]
    state = np.concatenate([action[:1], action[:1], action[:-2]]) + rng.normal(0, 0.05, action.shape)
    state[0] = action[0]
    pixels = np.random.default_rng(rng.integers(1 << 32))
    images = {c: np.stack([camera_image(c, pixels) for _ in range(frames)]) for c in cameras}
    return Episode(state.astype(np.float32), action.astype(np.float32), images)


def episodes(seed: int, count: int, **kwargs: Any) -> list[Episode]:
    """``count`` episodes from one seed (see :func:`episode`)."""
    rng = np.random.default_rng(seed)
    return [episode(rng, **kwargs) for _ in range(count)]


def write_dataset(root: Path, eps: Sequence[Episode], task: str = TRAIN_TASK, *,
                  swap_cameras: bool = False, units: str = "lerobot") -> Path:
    """A LeRobot v3.0 dataset (lerobot's ``LeRobotDataset`` via the converter's writer, H.264)."""
    from vla_ros.convert.writer import DatasetWriter, dataset_features

    cams = list(eps[0].images)
    features = dataset_features(units, {c: (*IMAGE_HW, 3) for c in cams})
    with DatasetWriter(root, features, FPS, "so101_follower", vcodec="h264", image_writer_threads=0) as w:
        for ep in eps:
            def frames(ep: Episode = ep) -> Any:
                for k in range(len(ep.action)):
                    imgs = {c: ep.images[_other(c, cams) if swap_cameras else c][k] for c in cams}
                    yield {"observation.state": ep.state[k], "action": ep.action[k],
                           **{f"observation.images.{c}": v for c, v in imgs.items()}}

            w.add_episode(frames(), task)
    return root


def _other(camera: str, cams: Sequence[str]) -> str:
    return next(c for c in cams if c != camera)


def sim_units() -> Any:
    """The simulated arm's unit converter (the one ``--sim-calibration`` uses)."""
    from vla_ros.robot.calibration import sim_calibration
    from vla_ros.robot.description import joint_limits
    from vla_ros.robot.units import UnitConverter

    limits = {n: (lim.lower_rad, lim.upper_rad) for n, lim in joint_limits().items()}
    return UnitConverter.from_calibration(sim_calibration(limits))


def chunk_typestore() -> Any:
    """rosbags' typestore with vla_ros/msg/ActionChunk registered from the package's ``msg/``."""
    from rosbags.typesys import get_types_from_msg

    from vla_ros.record.bag import typestore_for

    ts = typestore_for()
    text = (Path(__file__).resolve().parents[2] / "msg" / "ActionChunk.msg").read_text()
    ts.register(get_types_from_msg(text, "vla_ros/msg/ActionChunk"))
    return ts


def write_bags(out_dir: Path, eps: Sequence[Episode], task: str = TRAIN_TASK, *,
               chunk_every: int = 0, latency_s: float = 0.1) -> list[Path]:
    """One bag per episode with the recorder's writer: ``/joint_states`` and ``/joint_commands`` at 30 Hz
    (radians, header stamps; commands 3 ms after the state), ``/cameras/<name>/image_raw`` (rgb8), and
    with ``chunk_every`` a ``/policy/action_chunk`` every that many frames."""
    from vla_ros.record.bag import EpisodeBagWriter

    ts = chunk_typestore()
    units = sim_units()
    cams = list(eps[0].images)
    topics = {"/joint_states": "sensor_msgs/msg/JointState", "/joint_commands": "sensor_msgs/msg/JointState",
              **{f"/cameras/{c}/image_raw": "sensor_msgs/msg/Image" for c in cams}}
    if chunk_every:
        topics["/policy/action_chunk"] = "vla_ros/msg/ActionChunk"
    writer = EpisodeBagWriter(out_dir, topics, typestore=ts, prefix="deploy")
    bags = []
    for ep in eps:
        writer.start(task)
        rad_state, rad_action = units.to_ros(ep.state), units.to_ros(ep.action)

        def put(topic: str, t: int, msg: Any) -> None:
            writer.write(topic, t, ts.serialize_cdr(msg, topics[topic]))

        for k in range(len(ep.action)):
            t = T0 + round(k * NS / FPS)
            put("/joint_states", t, _joints(ts, t, rad_state[k]))
            for c in cams:
                put(f"/cameras/{c}/image_raw", t + 1_000_000, _image(ts, t + 1_000_000, ep.images[c][k]))
            if chunk_every and k % chunk_every == 0:
                chunk = _chunk(ts, t, rad_action[k:k + chunk_every], latency_s)
                put("/policy/action_chunk", t + 2_000_000, chunk)
            put("/joint_commands", t + 3_000_000, _joints(ts, t + 3_000_000, rad_action[k]))
        bags.append(writer.stop())
    return bags


def _header(ts: Any, t: int) -> Any:
    stamp = ts.types["builtin_interfaces/msg/Time"](sec=t // NS, nanosec=t % NS)
    return ts.types["std_msgs/msg/Header"](stamp=stamp, frame_id="")


def _joints(ts: Any, t: int, rad: np.ndarray) -> Any:
    return ts.types["sensor_msgs/msg/JointState"](header=_header(ts, t), name=list(JOINT_NAMES),
                                                  position=np.asarray(rad, np.float64), velocity=np.zeros(0),
                                                  effort=np.zeros(0))


def _image(ts: Any, t: int, rgb: np.ndarray) -> Any:
    h, w, _ = rgb.shape
    return ts.types["sensor_msgs/msg/Image"](header=_header(ts, t), height=h, width=w, encoding="rgb8",
                                             is_bigendian=0, step=w * 3, data=rgb.reshape(-1))


def _chunk(ts: Any, t: int, rad: np.ndarray, latency_s: float) -> Any:
    return ts.types["vla_ros/msg/ActionChunk"](
        header=_header(ts, t), joint_names=list(JOINT_NAMES), fps=float(FPS), num_steps=len(rad),
        actions=np.asarray(rad, np.float32).reshape(-1), first_future_index=0, inference_latency_s=latency_s)


def write_traces(out_dir: Path, eps: Sequence[Episode], task: str = TRAIN_TASK, frames_per_camera: int = 4
                 ) -> Path:
    """``sim_evaluator`` traces (``episode_NNN.npz``) with its own writer (:class:`EpisodeTrace`):
    joint states at 30 Hz, commands 3 ms later, a few camera frames; radians, simulated seconds."""
    from vla_ros.evaluate.scoring import EpisodePlan
    from vla_ros.evaluate.trace import EpisodeTrace

    units = sim_units()
    for i, ep in enumerate(eps):
        start, duration = 100.0, (len(ep.action) - 1) / FPS
        trace = EpisodeTrace(EpisodePlan(i, task, "red", "red"), start, duration, list(ep.images),
                             frames_per_camera)
        rad_state, rad_action = units.to_ros(ep.state), units.to_ros(ep.action)
        for k in range(len(ep.action)):
            t = start + k / FPS
            trace.add_joint_state(t, rad_state[k])
            trace.add_command(t + 0.003, rad_action[k])
            for c, frames in ep.images.items():
                if trace.wants_frame(c, t + 0.001):
                    trace.add_frame(c, t + 0.001, frames[k])
        trace.save(out_dir)
    return out_dir
