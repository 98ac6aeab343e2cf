"""Configuration of the simulated SO-101 world (ROS-agnostic; the node turns it into parameters)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from vla_ros.config import param, range_problems
from vla_ros.errors import ConfigError
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.sim.randomization import CUBE_LAYOUTS, CUBE_SLOTS_XY_M

__all__ = ["DEFAULT_START_POSE_RAD", "SimConfig", "SimNodeConfig"]

DEFAULT_START_POSE_RAD: tuple[float, ...] = (0.0, -1.0, 0.8, 1.2, 0.0, 0.2)
"""Start pose (JOINT_NAMES order, rad): upper arm raised, wrist looking down at the table, gripper
slightly open; the finger tips hover about 13 cm above the table, behind the cubes."""

_SLOTS = ", ".join(f"{colour} ({x:g}, {y:g})" for colour, (x, y) in CUBE_SLOTS_XY_M.items())


@dataclass
class SimConfig:
    """What the simulator builds and how fast it runs.

    Raises:
        ConfigError: naming every field out of range, or a start pose that is not 6 finite angles.
    """

    seed: int = field(default=0, metadata=param(
        "Seed of the per-episode randomisation (episode e uses seed and e together)", range=(0, 2**31 - 1)))
    two_cubes: bool = field(default=False, metadata=param(
        "Put a red and a blue cube on the table (default: one red cube)"))
    cube_layout: str = field(default="random", metadata=param(
        "Cube placement per episode: 'random' (anywhere in the cube region) or 'slots' (each colour on its "
        f"fixed slot, x, y in m: {_SLOTS}, jittered by cube_jitter_m)", choices=CUBE_LAYOUTS))
    cube_jitter_m: float = field(default=0.01, metadata=param(
        "'slots' layout: uniform jitter of each cube's x and y around its slot, +- m", range=(0.0, 0.05)))
    swap_slots: bool = field(default=False, metadata=param(
        "'slots' layout with two cubes: the colours exchange slots with probability swap_probability per "
        "episode"))
    swap_probability: float = field(default=0.5, metadata=param(
        "swap_slots: probability per episode that the colours exchange slots (0.5: neither colour's slot "
        "tells which cube is where)", range=(0.0, 1.0)))
    scene_repeats: int = field(default=1, metadata=param(
        "Consecutive episodes that share one scene (cubes, colours, lights): episode e lays out scene "
        "e // scene_repeats. 2 with the expert's two alternating targets demonstrates every scene once per "
        "instruction, so only the instruction tells the demonstrations apart", range=(1, 100)))
    image_width: int = field(default=640, metadata=param("Camera image width, px", range=(16, 4096)))
    image_height: int = field(default=480, metadata=param("Camera image height, px", range=(16, 4096)))
    camera_fps: float = field(default=30.0, metadata=param(
        "Camera frames per second of simulated time, both cameras", range=(0.5, 120.0)))
    physics_rate_hz: float = field(default=500.0, metadata=param(
        "Physics steps per second of simulated time (MuJoCo timestep = 1/rate)", range=(100.0, 5000.0)))
    clock_rate_hz: float = field(default=100.0, metadata=param(
        "/clock messages per second of simulated time; physics advances in ticks of 1/rate",
        range=(10.0, 1000.0)))
    realtime: bool = field(default=True, metadata=param(
        "Pace simulated time to wall time; when rendering cannot keep up, simulated time runs slower "
        "(see /clock and the real-time factor). False: run as fast as possible"))
    start_pose_rad: list[float] = field(default_factory=lambda: list(DEFAULT_START_POSE_RAD), metadata=param(
        f"Joint angles after a reset, rad, in the order {list(JOINT_NAMES)}"))
    front_fovy_deg: float = field(default=50.0, metadata=param(
        "Vertical field of view of the front camera, degrees", range=(10.0, 150.0)))
    wrist_fovy_deg: float = field(default=65.0, metadata=param(
        "Vertical field of view of the wrist camera, degrees", range=(10.0, 150.0)))
    shadows: bool = field(default=False, metadata=param(
        "Render shadows (nicer, about twice the render time)"))
    msaa_samples: int = field(default=0, metadata=param(
        "Multisample anti-aliasing samples of the offscreen renderer: 0 is fastest; 4 gives smoother "
        "edges at about 2.5x the render time on a CPU (software EGL)", range=(0, 16)))

    def __post_init__(self) -> None:
        problems = range_problems(self)
        pose = list(self.start_pose_rad)
        if len(pose) != len(JOINT_NAMES) or not all(math.isfinite(v) for v in pose):
            problems.append(f"start_pose_rad={pose!r} must be {len(JOINT_NAMES)} finite angles")
        if self.physics_rate_hz < self.clock_rate_hz:
            problems.append(
                f"physics_rate_hz={self.physics_rate_hz} is below clock_rate_hz={self.clock_rate_hz}")
        if problems:
            raise ConfigError("; ".join(problems))
        self.start_pose_rad = [float(v) for v in pose]

    @property
    def timestep_s(self) -> float:
        """MuJoCo timestep, seconds."""
        return 1.0 / self.physics_rate_hz

    @property
    def steps_per_tick(self) -> int:
        """Physics steps per /clock tick (at least 1)."""
        return max(1, round(self.physics_rate_hz / self.clock_rate_hz))


@dataclass
class SimNodeConfig(SimConfig):
    """The ``so101_sim`` node's parameters: the world's plus the bus, calibration and frame ids."""

    port: str = field(default="/tmp/vla_ros/so101_sim_bus", metadata=param(
        "Stable path (symlink to the emulated bus's pseudo-terminal) the driver opens as its port",
        read_only=True))
    robot_id: str = field(default="so101_sim", metadata=param(
        "Robot id whose calibration file the simulator writes (the driver's robot_id)", read_only=True))
    calibration_dir: str = field(default="", metadata=param(
        "lerobot calibration root (default: HF_LEROBOT_CALIBRATION); the simulated arm's calibration "
        "is written to <dir>/robots/so_follower/<robot_id>.json", read_only=True))
    front_frame_id: str = field(default="front_camera_optical_frame", metadata=param(
        "frame_id of the front camera's images (REP-103 optical frame)"))
    wrist_frame_id: str = field(default="wrist_camera_optical_frame", metadata=param(
        "frame_id of the wrist camera's images (the URDF's optical frame)"))
    diagnostics_period_s: float = field(default=1.0, metadata=param(
        "Wall seconds between /diagnostics reports of the real-time factor", range=(0.1, 60.0)))
    objects_rate_hz: float = field(default=10.0, metadata=param(
        "sim/objects (cube and gripper-frame ground truth) messages per second of simulated time, at most "
        "one per clock tick; 0: only after each sim/reset", range=(0.0, 100.0)))
    swap_cameras: bool = field(default=False, metadata=param(
        "Publish the front camera's image on the wrist camera's topic and the wrist's on the front's, names "
        "unchanged: what swapped device paths do on hardware (the camera-identity guard's test case)"))
    freeze_cameras: bool = field(default=False, metadata=param(
        "Publish each camera's first frame for the whole run, with fresh stamps: the policy sees neither "
        "the arm move nor the scene change at a reset (the closed loop's blind control)"))

    def __post_init__(self) -> None:
        super().__post_init__()
        problems = [f"{n} must not be empty" for n in ("port", "robot_id", "front_frame_id", "wrist_frame_id")
                    if not getattr(self, n)]
        if problems:
            raise ConfigError("; ".join(problems))
