"""The MuJoCo model of the SO-101 on a table, built from the project's URDF plus scene additions.

The arm comes from ``urdf/so101.urdf`` (MuJoCo's URDF importer), so the simulator, RViz and the
kinematics test share one description. This module adds what the URDF does not say: joint friction
and armature, one position actuator per joint (STS3215 stall torque), and the world: table, floor,
cube(s), a bin, lights, a fixed front camera and the wrist camera at ``wrist_camera_optical_frame``.

World frame: origin on the table top under ``base_link``, x forward (the arm's reach at zero
angles), z up (REP-103). Sizes in metres, masses in kg.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import mujoco
import numpy as np

from vla_ros.robot.description import joint_limits
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.sim.config import SimConfig
from vla_ros.sim.errors import SimError

__all__ = [
    "BIN_CENTER_XY",
    "CAMERA_NAMES",
    "COLLISION_GROUP",
    "CUBE_HALF_SIZE_M",
    "CUBE_NAMES",
    "FRONT_CAMERA_EYE",
    "FRONT_CAMERA_TARGET",
    "SERVO_STALL_TORQUE_NM",
    "build_model",
    "look_at_quat",
]

CAMERA_NAMES: tuple[str, str] = ("front", "wrist")
CUBE_NAMES: tuple[str, str] = ("red", "blue")
CUBE_HALF_SIZE_M = 0.0125
"""Half the edge of the cubes (2.5 cm cubes, the size used in SO-101 pick-and-place demos)."""
BIN_CENTER_XY = (0.12, 0.21)
BIN_INNER_HALF_M = 0.06
BIN_WALL_HEIGHT_M = 0.04
FRONT_CAMERA_EYE = (0.62, 0.0, 0.42)
"""Front camera position: in front of the arm, looking back at it and the table, like the usual
SO-101 setup's phone/USB camera on a stand."""
FRONT_CAMERA_TARGET = (0.15, 0.0, 0.03)
SERVO_STALL_TORQUE_NM = 2.94
"""Feetech STS3215 stall torque at 12 V (30 kg·cm, Feetech datasheet)."""
SERVO_KP_NM_RAD = 100.0
SERVO_KV_NMS_RAD = 2.0
JOINT_DAMPING_NMS_RAD = 0.5
JOINT_ARMATURE_KGM2 = 0.03
JOINT_FRICTIONLOSS_NM = 0.05
COLLISION_GROUP = 3
"""Geom group of collision shapes (hidden in rendering; visual shapes are group 1)."""
TABLE_HALF = (0.35, 0.45, 0.02)
TABLE_CENTER_XY = (0.2, 0.0)


def look_at_quat(eye: np.ndarray, target: np.ndarray, up: np.ndarray | None = None) -> np.ndarray:
    """Quaternion (w, x, y, z) of a MuJoCo camera at ``eye`` looking at ``target``.

    MuJoCo cameras look along their -z axis with +y up in the image (MuJoCo docs, "camera").
    """
    up = np.array([0.0, 0.0, 1.0]) if up is None else np.asarray(up, dtype=float)
    back = np.asarray(eye, dtype=float) - np.asarray(target, dtype=float)
    z = back / np.linalg.norm(back)
    x = np.cross(up, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.column_stack([x, y, z]).ravel())
    return quat


def _robot_spec(urdf: Path) -> mujoco.MjSpec:
    try:
        root = ET.parse(urdf).getroot()
    except (OSError, ET.ParseError) as err:
        raise SimError(f"cannot read robot description {urdf}: {err}") from err
    ext = ET.SubElement(root, "mujoco")
    ET.SubElement(ext, "compiler", discardvisual="false", fusestatic="false", angle="radian")
    try:
        return mujoco.MjSpec.from_string(ET.tostring(root, encoding="unicode"))
    except ValueError as err:
        raise SimError(f"MuJoCo cannot import {urdf}: {err}") from err


def _tune_robot(spec: mujoco.MjSpec, urdf: Path) -> None:
    for geom in spec.geoms:
        if geom.contype != 0:
            geom.group = COLLISION_GROUP
            geom.friction = [1.0, 0.005, 0.0001]
    limits = joint_limits(urdf)
    for name in JOINT_NAMES:
        joint = spec.joint(name)
        joint.damping = [JOINT_DAMPING_NMS_RAD, 0.0, 0.0]
        joint.armature = JOINT_ARMATURE_KGM2
        joint.frictionloss = JOINT_FRICTIONLOSS_NM
        act = spec.add_actuator(name=name, target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        act.set_to_position(kp=SERVO_KP_NM_RAD, kv=SERVO_KV_NMS_RAD)
        act.ctrlrange = [limits[name].lower_rad, limits[name].upper_rad]
        act.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-SERVO_STALL_TORQUE_NM, SERVO_STALL_TORQUE_NM]
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE


def _box(body: mujoco.MjsBody, name: str, pos: tuple[float, ...], half: tuple[float, ...],
         rgba: tuple[float, ...], **kw: object) -> mujoco.MjsGeom:
    return body.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_BOX, pos=list(pos), size=list(half),
                         rgba=list(rgba), **kw)


def _add_table(spec: mujoco.MjSpec) -> None:
    world = spec.worldbody
    world.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[3, 3, 0.1], pos=[0, 0, -0.75],
                   rgba=[0.35, 0.35, 0.38, 1])
    tx, ty = TABLE_CENTER_XY
    _box(world, "table", (tx, ty, -TABLE_HALF[2]), TABLE_HALF, (0.6, 0.45, 0.3, 1))
    for i, (sx, sy) in enumerate([(1, 1), (1, -1), (-1, 1), (-1, -1)]):
        leg = (tx + sx * (TABLE_HALF[0] - 0.03), ty + sy * (TABLE_HALF[1] - 0.03), -0.385)
        _box(world, f"table_leg{i}", leg, (0.02, 0.02, 0.365), (0.3, 0.3, 0.3, 1))


def _add_bin(spec: mujoco.MjSpec) -> None:
    x, y = BIN_CENTER_XY
    body = spec.worldbody.add_body(name="bin", pos=[x, y, 0])
    inner, wall, h = BIN_INNER_HALF_M, 0.004, BIN_WALL_HEIGHT_M / 2
    rgba = (0.2, 0.4, 0.8, 1)
    _box(body, "bin_floor", (0, 0, 0.002), (inner + wall, inner + wall, 0.002), rgba)
    for name, pos, half in [
        ("bin_wall_px", (inner + wall / 2, 0, h), (wall / 2, inner + wall, h)),
        ("bin_wall_nx", (-inner - wall / 2, 0, h), (wall / 2, inner + wall, h)),
        ("bin_wall_py", (0, inner + wall / 2, h), (inner, wall / 2, h)),
        ("bin_wall_ny", (0, -inner - wall / 2, h), (inner, wall / 2, h)),
    ]:
        _box(body, name, pos, half, rgba)


def _add_cubes(spec: mujoco.MjSpec, count: int) -> None:
    colours = {"red": (0.85, 0.1, 0.1, 1), "blue": (0.1, 0.2, 0.85, 1)}
    half = CUBE_HALF_SIZE_M
    for i, name in enumerate(CUBE_NAMES[:count]):
        body = spec.worldbody.add_body(name=f"cube_{name}", pos=[0.25, 0.05 * i, half])
        body.add_freejoint(name=f"cube_{name}")
        _box(body, f"cube_{name}", (0, 0, 0), (half, half, half), colours[name], mass=0.02,
             friction=[1.2, 0.01, 0.001], condim=4)


def _add_lights_and_cameras(spec: mujoco.MjSpec, cfg: SimConfig) -> None:
    world = spec.worldbody
    world.add_light(name="key", pos=[0.3, -0.3, 1.2], dir=[-0.2, 0.25, -1], diffuse=[0.7, 0.7, 0.7],
                    specular=[0.2, 0.2, 0.2], castshadow=cfg.shadows)
    world.add_light(name="fill", pos=[-0.3, 0.4, 1.0], dir=[0.3, -0.3, -1], diffuse=[0.3, 0.3, 0.3],
                    specular=[0, 0, 0], castshadow=False)
    spec.visual.headlight.ambient = [0.25, 0.25, 0.25]
    spec.visual.headlight.diffuse = [0.15, 0.15, 0.15]
    spec.visual.headlight.specular = [0, 0, 0]
    world.add_camera(name="front", pos=list(FRONT_CAMERA_EYE),
                     quat=list(look_at_quat(np.array(FRONT_CAMERA_EYE), np.array(FRONT_CAMERA_TARGET))),
                     fovy=cfg.front_fovy_deg)
    # REP-103 optical frame (z forward, y down) -> MuJoCo camera (looks along -z, y up): half turn about x.
    optical = spec.body("wrist_camera_optical_frame")
    optical.add_camera(name="wrist", quat=[0, 1, 0, 0], fovy=cfg.wrist_fovy_deg)
    spec.visual.global_.offwidth = max(cfg.image_width, 640)
    spec.visual.global_.offheight = max(cfg.image_height, 480)
    spec.visual.quality.offsamples = cfg.msaa_samples


def build_model(cfg: SimConfig, urdf: str | Path | None = None) -> mujoco.MjModel:
    """Compile the simulated world.

    Args:
        cfg: the simulator configuration (timestep, cube count, camera sizes and fields of view).
        urdf: the arm's URDF; default: the project's ``urdf/so101.urdf``.

    Returns:
        The compiled model: joints and position actuators named as :data:`JOINT_NAMES`, cameras
        :data:`CAMERA_NAMES`, cube bodies ``cube_<colour>`` with free joints of the same name.

    Raises:
        SimError: the URDF cannot be read or the model does not compile.
    """
    if urdf is None:
        from vla_ros.paths import urdf_file

        urdf = urdf_file()
    urdf = Path(urdf)
    spec = _robot_spec(urdf)
    spec.modelname = "so101_tabletop"
    spec.option.timestep = cfg.timestep_s
    _tune_robot(spec, urdf)
    _add_table(spec)
    _add_bin(spec)
    _add_cubes(spec, 2 if cfg.two_cubes else 1)
    _add_lights_and_cameras(spec, cfg)
    try:
        return spec.compile()
    except ValueError as err:
        raise SimError(f"the simulated world does not compile: {err}") from err
