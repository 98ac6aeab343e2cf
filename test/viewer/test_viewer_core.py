"""The viewer's logging core, without ROS: data logged to a real .rrd file and read back with
rerun.dataframe; the graph's viewer arguments; camera naming from a checkpoint's contract."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vla_ros.bringup.graph import build_graph
from vla_ros.errors import BadInputError, ConfigError
from vla_ros.robot.description import joint_limits
from vla_ros.robot.joints import JOINT_NAMES
from vla_ros.viewer.config import LoggerConfig
from vla_ros.viewer.entities import CameraFeed, joint_entity
from vla_ros.viewer.feeds import dataset_feeds, policy_feeds
from vla_ros.viewer.layout import blueprint
from vla_ros.viewer.logger import ViewerLogger
from vla_ros.viewer.session import open_session, rerun_missing
from vla_ros.viewer.status import LogLine, PolicyReport, SafetyReport

FEEDS = [CameraFeed("front", "observation.images.camera1"), CameraFeed("wrist", "observation.images.camera2")]


def _read(path: Path, entity: str) -> dict[str, np.ndarray]:
    import rerun.dataframe as rdf

    table = rdf.load_recording(path).view(index="ros_time", contents=entity).select().read_all()
    return {name: table.column(name).to_pylist() for name in table.column_names}


def _column(data: dict, suffix: str) -> list:
    (key,) = [k for k in data if k.endswith(suffix)]
    return [v for v in data[key] if v is not None]


def _record(tmp_path: Path) -> Path:
    path = tmp_path / "core.rrd"
    session = open_session(blueprint(FEEDS), serve=False, save_path=path)
    logger = ViewerLogger(session.streams, LoggerConfig(image_rate_hz=5.0, joint_rate_hz=30.0))
    logger.log_static(FEEDS)
    rng = np.random.default_rng(0)
    for i in range(90):  # 3 s at 30 Hz
        t = i / 30
        q = 0.2 * np.sin(t + np.arange(6))
        logger.joints("measured", JOINT_NAMES, q, t)
        logger.joints("command", JOINT_NAMES, q + 0.01, t)
        for feed in FEEDS:
            logger.camera(feed, rng.integers(0, 255, (96, 128, 3), dtype=np.uint8), t)
    chunk = np.linspace(0.0, 0.5, 20)[:, None] * np.ones((1, 6))
    logger.chunk(JOINT_NAMES, chunk, 30.0, 1.0, first_future=5)
    logger.objects({"red": np.array([0.25, 0.0, 0.0125])}, 1.0, 0.0125)
    logger.policy(PolicyReport("RUNNING", "pick", 0.3, 12), 1.5)
    logger.policy(PolicyReport("RUNNING", "pick", 0.3, 12, last_error="task 'fly' refused"), 2.0)
    logger.safety(SafetyReport("ESTOP", estop=True, reason="e-stop requested"), 2.5)
    logger.event(LogLine("WARN", "[safety_supervisor] clamped"), 2.6)
    logger.flush()
    session.close()
    return path


def test_logged_entities_read_back(tmp_path):
    path = _record(tmp_path)

    # Cameras under the policy feature they feed, rate-limited (5 Hz over 3 s), JPEG, with their source.
    image = _read(path, "/policy/observation.images.camera1")
    assert 14 <= len(_column(image, "EncodedImage:blob")) <= 16
    assert set(_column(image, "EncodedImage:media_type")[0]) == {"image/jpeg"}
    static = _read(path, "/policy/observation.images.camera2")
    assert _column(static, "source_camera")[0] == ["wrist"]

    # Joints in degrees, with the URDF limits.
    measured = _column(_read(path, joint_entity("elbow_flex", "measured")), "Scalars:scalars")
    assert len(measured) == 90
    assert measured[30][0] == pytest.approx(math.degrees(0.2 * math.sin(1.0 + 2)), abs=1e-4)
    limits = _column(_read(path, joint_entity("gripper", "limits")), "Scalars:scalars")
    lim = joint_limits()["gripper"]
    assert limits[0] == pytest.approx([math.degrees(lim.lower_rad), math.degrees(lim.upper_rad)])

    # The chunk's future: actions 5..19 at 1.0 + i/30 s, in degrees.
    import rerun.dataframe as rdf

    view = rdf.load_recording(path).view(index="ros_time", contents="/joints/gripper/chunk")
    table = view.select().read_all()
    times = [t.total_seconds() for t in table.column("ros_time").to_pylist()]
    values = [v[0] for v in table.column("/joints/gripper/chunk:Scalars:scalars").to_pylist() if v]
    assert times[0] == pytest.approx(1.0 + 5 / 30) and times[-1] == pytest.approx(1.0 + 19 / 30)
    assert values[-1] == pytest.approx(math.degrees(0.5))
    path3d = _column(_read(path, "/world/chunk_path"), "LineStrips3D:strips")
    assert len(path3d[0][0]) == 15

    # Status changes and events as text log entries, at their times and levels.
    log = _read(path, "/log")
    texts = [t[0] for t in _column(log, "TextLog:text")]
    levels = [t[0] for t in _column(log, "TextLog:level")]
    assert any("refused" in t for t in texts) and any("e-stop" in t for t in texts)
    assert "CRITICAL" in levels and "WARN" in levels
    assert _column(_read(path, "/world/cubes"), "Boxes3D:labels")[0] == ["red"]


def test_bad_input_is_refused_and_nothing_logged(tmp_path):
    session = open_session(blueprint(FEEDS), serve=False, save_path=tmp_path / "bad.rrd")
    logger = ViewerLogger(session.streams)
    with pytest.raises(BadInputError, match=r"NaN|inf|finite"):
        logger.joints("measured", JOINT_NAMES, [0, 0, float("nan"), 0, 0, 0], 0.0)
    with pytest.raises(BadInputError, match="unknown joints"):
        logger.joints("measured", ["elbow"], [0.0], 0.0)
    with pytest.raises(BadInputError, match="action chunk"):
        logger.chunk(JOINT_NAMES, np.zeros((5, 5)), 30.0, 0.0)
    with pytest.raises(BadInputError, match="action chunk"):
        logger.chunk(JOINT_NAMES, np.full((5, 6), np.inf), 30.0, 0.0)
    with pytest.raises(BadInputError, match="uint8"):
        logger.camera(FEEDS[0], np.zeros((4, 4)), 0.0)
    with pytest.raises(ValueError, match="unknown joint series"):
        logger.joints("wishes", JOINT_NAMES, [0.0] * 6, 0.0)
    logger.flush()
    session.close()
    import rerun.dataframe as rdf

    entities = {c.entity_path for c in rdf.load_recording(tmp_path / "bad.rrd").schema().component_columns()}
    assert not any(e.startswith(("/joints/elbow_flex/measured", "/world/chunk_path")) for e in entities)


def test_save_to_a_missing_directory_is_refused(tmp_path):
    from vla_ros.viewer.errors import ViewerError

    with pytest.raises(ViewerError, match="no directory"):
        open_session(blueprint(FEEDS), serve=False, save_path=tmp_path / "nope" / "x.rrd")
    with pytest.raises(ViewerError, match="nowhere"):
        open_session(blueprint(FEEDS), serve=False)


def test_cameras_are_named_by_the_policy_feature(tmp_path):
    from vla_ros.contract import DeploymentContract

    ckpt = tmp_path / "run" / "pretrained_model"
    ckpt.mkdir(parents=True)
    swapped = {"observation.images.front": "observation.images.camera2",
               "observation.images.wrist": "observation.images.camera1"}
    DeploymentContract(tasks=["t"], fps=30.0, camera_map=swapped).save(ckpt)
    from_contract = policy_feeds([], str(tmp_path / "run"), ["front", "wrist"])
    assert [(f.camera, f.entity) for f in from_contract] == [("wrist", "policy/observation.images.camera1"),
                                                            ("front", "policy/observation.images.camera2")]
    assert from_contract[0].label == "observation.images.camera1 ← wrist"
    given = policy_feeds(["front=camera1", "wrist=camera2", "camera3="], str(ckpt), ["front", "wrist"])
    assert [(f.camera, f.feature) for f in given] == [("front", "observation.images.camera1"),
                                                      ("wrist", "observation.images.camera2")]
    assert [f.entity for f in policy_feeds([], str(tmp_path / "none"), ["front"])] == [
        "policy/observation.images.front"]
    with pytest.raises(ConfigError):
        policy_feeds(["front"], "", ["front"])
    assert [f.entity for f in dataset_feeds()] == ["dataset/observation.images.front",
                                                   "dataset/observation.images.wrist"]


def test_graph_viewer_arguments(tmp_path):
    assert rerun_missing() is None
    plain = {s.name for s in build_graph("deploy", {})}
    assert "rerun_bridge" not in plain
    args = {"viewer": "rerun", "viewer_port": "9200", "viewer_save": str(tmp_path / "a.rrd")}
    (bridge,) = [s for s in build_graph("deploy", args) if s.name == "rerun_bridge"]
    assert not bridge.required
    assert bridge.parameters["serve"] is True and bridge.parameters["web_port"] == 9200
    assert bridge.parameters["save_path"] == str(tmp_path / "a.rrd")
    assert bridge.parameters["policy_node"] == "smolvla_policy"
    (saving,) = [s for s in build_graph("record", {"viewer_save": "x.rrd"}) if s.name == "rerun_bridge"]
    assert saving.parameters["serve"] is False and saving.parameters["policy_node"] == ""
    with pytest.raises(ConfigError, match="viewer:=rviz"):
        build_graph("deploy", {"viewer": "rviz"})


def test_without_rerun_the_graph_has_no_viewer_and_says_why(tmp_path):
    # A Python where `import rerun` fails (a shadowing module that raises), as on an install without it.
    (tmp_path / "rerun.py").write_text("raise ImportError('no rerun here')\n")
    code = ("import importlib.util, sys; sys.modules.pop('rerun', None)\n"
            "importlib.util.find_spec = lambda name, *a: None if name == 'rerun' else _find(name, *a)\n")
    probe = ("import importlib.util as u\n_find = u.find_spec\n" + code +
             "from vla_ros.bringup.graph import build_graph\n"
             "from vla_ros.viewer.session import rerun_missing\n"
             "names = [s.name for s in build_graph('deploy', {'viewer': 'rerun'})]\n"
             "print('bridge' if 'rerun_bridge' in names else 'none', rerun_missing())\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.startswith("none ") and "pip install rerun-sdk" in out
