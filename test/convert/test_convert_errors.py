"""Bad input → a clear error naming bag, topic and time; nothing half-written at the output path."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from convert_testlib import NS, T0, BagSpec, image, joint_state, regular, standard_bag
from so101_reference import OFFICIAL_LIMITS

from vla_ros.convert import convert_bags, load_config
from vla_ros.convert.errors import (
    AlignmentError,
    BadBagError,
    ConvertError,
    CorruptBagError,
    DatasetError,
    EmptyBagError,
    MissingTopicError,
)
from vla_ros.convert.mapping import ConvertConfig, StreamSpec, TopicMapping
from vla_ros.convert.reader import scan_bag

ONE_CAMERA = TopicMapping(cameras={"front": StreamSpec("cameras/front/image_raw", 0.1)})


def config(**overrides: object) -> ConvertConfig:
    return load_config(**{"units": "rad", "vcodec": "h264", "mapping": ONE_CAMERA, **overrides})


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def no_leftovers(parent: Path, name: str) -> bool:
    return not [p for p in parent.iterdir() if p.name.startswith(f".{name}.")]


def test_missing_topic_names_bag_topic_and_what_is_there(tmp_path: Path) -> None:
    spec = standard_bag(1.0)
    spec.messages = [m for m in spec.messages if m[0] != "/joint_commands"]
    bag = spec.write(tmp_path / "bag")
    with pytest.raises(MissingTopicError) as err:
        convert_bags([bag], tmp_path / "ds", config(), progress=False)
    text = str(err.value)
    assert str(bag) in text and "topic /joint_commands: required topic not in the bag" in text
    assert "JointState topics: /joint_states" in text
    assert not (tmp_path / "ds").exists()


@pytest.mark.parametrize(
    ("kwargs", "expect"),
    [
        ({"data": np.zeros(30, dtype=np.uint8)}, "30 bytes of data, expected height x step = 48 x 192"),
        ({"encoding": "yuv422"}, "unsupported encoding 'yuv422'"),
    ],
)
def test_bad_image_names_bag_topic_and_time(tmp_path: Path, kwargs: dict, expect: str) -> None:
    spec = standard_bag(1.0)
    bad_t = T0 + 500_000_000
    spec.add(
        "/cameras/front/image_raw",
        "sensor_msgs/msg/Image",
        bad_t,
        image(bad_t, np.zeros((48, 64, 3), np.uint8), **kwargs),
    )
    bag = spec.write(tmp_path / "bag")
    with pytest.raises(BadBagError) as err:
        convert_bags([bag], tmp_path / "ds", config(), progress=False)
    text = str(err.value)
    assert str(bag) in text and "/cameras/front/image_raw" in text and expect in text
    assert "t=1700000000.500000000 s" in text


def test_non_monotonic_stamps(tmp_path: Path) -> None:
    spec = standard_bag(1.0)
    t = T0 + 400_000_000
    spec.add(
        "/joint_states", "sensor_msgs/msg/JointState", t + 1_000_000, joint_state(t - 50_000_000, [0.0] * 6)
    )
    bag = spec.write(tmp_path / "bag")
    with pytest.raises(BadBagError) as err:
        convert_bags([bag], tmp_path / "ds", config(), progress=False)
    assert "/joint_states" in str(err.value) and "non-monotonic stamps" in str(err.value)
    assert "t=1700000000.350000000 s" in str(err.value)


def test_unknown_joint_names_and_nan(tmp_path: Path) -> None:
    spec = standard_bag(1.0)
    t = T0 + 300_000_000
    spec.add("/joint_commands", "sensor_msgs/msg/JointState", t, joint_state(t, [0.1, 0.2], ["j1", "j2"]))
    spec.add("/joint_states", "sensor_msgs/msg/JointState", t + 5, joint_state(t + 5, [np.nan] * 6))
    bag = spec.write(tmp_path / "bag")
    with pytest.raises(BadBagError) as err:
        convert_bags([bag], tmp_path / "ds", config(), progress=False)
    text = str(err.value)
    assert "unknown joints ['j1', 'j2']" in text and "non-finite values" in text  # both reported at once


def test_empty_bag_and_topics_without_messages(tmp_path: Path) -> None:
    bag = BagSpec().write(tmp_path / "empty")
    with pytest.raises(EmptyBagError, match="no messages"):
        convert_bags([bag], tmp_path / "ds", config(), progress=False)
    spec = standard_bag(1.0)
    spec.messages = [m for m in spec.messages if m[0] != "/joint_states"]
    spec.declared["/joint_states"] = "sensor_msgs/msg/JointState"
    spec.write(tmp_path / "no_states")
    with pytest.raises(MissingTopicError, match="/joint_states: required topic has no messages"):
        convert_bags([tmp_path / "no_states"], tmp_path / "ds", config(), progress=False)


def test_corrupt_and_missing_bags(tmp_path: Path) -> None:
    bag = standard_bag(1.0).write(tmp_path / "bag")
    mcap = next(bag.glob("*.mcap"))
    mcap.write_bytes(mcap.read_bytes()[: mcap.stat().st_size // 2])
    with pytest.raises(CorruptBagError, match="ros2 bag reindex") as err:
        convert_bags([bag], tmp_path / "ds", config(), progress=False)
    assert str(bag) in str(err.value)
    with pytest.raises(CorruptBagError, match="no such bag"):
        convert_bags([tmp_path / "nothing"], tmp_path / "ds", config(), progress=False)
    assert not (tmp_path / "ds").exists()


def test_every_bad_bag_is_reported_at_once(tmp_path: Path) -> None:
    a = standard_bag(1.0, task=None).write(tmp_path / "a")
    b = BagSpec().write(tmp_path / "b")
    with pytest.raises(ConvertError) as err:
        convert_bags([a, b], tmp_path / "ds", config(), progress=False)
    text = str(err.value)
    assert "2 of 2 bags" in text and "no task" in text and "--task" in text and "no messages" in text


@pytest.mark.parametrize("name", ["test_bag_mcap", "test_bag_sqlite3"])
def test_real_edge_case_bags(shared_bags: Path, name: str) -> None:
    """geocamxyz/rosbags-rs test bags: a 640×480 Image with 30 bytes, a 10-byte JPEG, joints j1..j3."""
    bag = shared_bags / name
    mapping = TopicMapping(
        state=StreamSpec("/test/sensor_msgs/joint_state", 0.1),
        action=StreamSpec("/test/sensor_msgs/joint_state", 0.1),
        cameras={
            "front": StreamSpec("/test/sensor_msgs/image", 0.1),
            "wrist": StreamSpec("/test/sensor_msgs/compressed_image", 0.1),
        },
    )
    with pytest.raises(BadBagError) as err:
        scan_bag(bag, mapping, "header")
    text = str(err.value)
    assert str(bag) in text
    assert re.search(r"topic /test/sensor_msgs/image at t=17493153\d\d\.\d{9} s", text)
    assert "30 bytes of data, expected height x step = 480 x 1920" in text
    assert "topic /test/sensor_msgs/compressed_image at t=" in text and "cannot decode 10-byte" in text
    assert "unknown joints ['joint1', 'joint2', 'joint3']" in text
    with pytest.raises(MissingTopicError) as err:
        convert_bags([bag], "/nonexistent/never_written", config(), progress=False)
    text = str(err.value)
    assert "topic /joint_states: required topic not in the bag" in text
    assert "JointState topics: /test/sensor_msgs/joint_state" in text
    assert "topic /cameras/front/image_raw" in text and "/test/sensor_msgs/image" in text


def gap_bag(tmp_path: Path) -> Path:
    spec = standard_bag(2.0)
    spec.messages = [
        m
        for m in spec.messages
        if not (m[0] == "/cameras/front/image_raw" and T0 + 800_000_000 < m[2] < T0 + 1_200_000_000)
    ]
    return spec.write(tmp_path / "gap")


def test_ticks_outside_tolerance_fail_by_default(tmp_path: Path) -> None:
    bag = gap_bag(tmp_path)
    with pytest.raises(AlignmentError) as err:
        convert_bags([bag], tmp_path / "ds", config(), progress=False)
    text = str(err.value)
    # last frame before the gap: 0.001 + 23/30 s; first tick more than 100 ms later: 0.003 + 26/30 s
    assert "topic /cameras/front/image_raw at t=1700000000.869666667 s" in text
    assert "latest sample at or before it is 102.0 ms away" in text
    assert "ticks have no sample within 100 ms" in text and "--on-gap split" in text
    assert not (tmp_path / "ds").exists()


def test_ticks_outside_tolerance_split_and_are_reported(tmp_path: Path) -> None:
    result = convert_bags([gap_bag(tmp_path)], tmp_path / "ds", config(on_gap="split"), progress=False)
    assert len(result.episodes) == 2
    assert any("ticks outside tolerance dropped, split into 2 segments" in n for n in result.notes)
    lengths = [n for _, n in result.episodes]
    # frames whose latest image is older than 100 ms are dropped: about 0.4 s minus one tolerance
    assert 45 <= sum(lengths) <= 52 and min(lengths) >= 20


def test_existing_output_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "keep.txt").write_text("mine")
    bag = standard_bag(1.0).write(tmp_path / "bag")
    with pytest.raises(DatasetError, match="--append"):
        convert_bags([bag], tmp_path / "ds", config(), progress=False)
    assert (tmp_path / "ds" / "keep.txt").read_text() == "mine"


def corrupt_jpeg_bag(tmp_path: Path) -> Path:
    """Compressed images whose 20th frame does not decode: found only while writing (pass 2)."""
    spec = BagSpec(custom={"task": "t"})
    spec.joints("/joint_states", regular(T0, 100, 1.0))
    spec.joints("/joint_commands", regular(T0, 100, 1.0), offset=0.1)
    spec.camera("/cameras/front/image_raw", regular(T0, 30, 1.0), kind="compressed")
    bad = [m for m in spec.messages if m[0] == "/cameras/front/image_raw"][20]
    bad[3].data = np.frombuffer(b"\x89PNG broken", dtype=np.uint8)
    return spec.write(tmp_path / "badjpeg")


def test_failure_while_writing_leaves_nothing(tmp_path: Path) -> None:
    good = standard_bag(1.0).write(tmp_path / "good")
    with pytest.raises(BadBagError, match="cannot decode") as err:
        convert_bags([good, corrupt_jpeg_bag(tmp_path)], tmp_path / "ds", config(), progress=False)
    assert "/cameras/front/image_raw at t=1700000000.666" in str(err.value)
    assert not (tmp_path / "ds").exists() and no_leftovers(tmp_path, "ds")


def test_a_ctrl_c_python_swallowed_still_writes_nothing(tmp_path: Path) -> None:
    """``interrupted`` is the CLI's SIGINT latch: a KeyboardInterrupt raised inside a ``__del__`` is
    ignored by Python, the latch is not."""
    good = standard_bag(1.0).write(tmp_path / "good")
    with pytest.raises(KeyboardInterrupt):
        convert_bags([good], tmp_path / "ds", config(), progress=False, interrupted=lambda: True)
    assert not (tmp_path / "ds").exists() and no_leftovers(tmp_path, "ds")


def test_failed_append_leaves_the_dataset_untouched(tmp_path: Path) -> None:
    convert_bags([standard_bag(1.0).write(tmp_path / "first")], tmp_path / "ds", config(), progress=False)
    before = tree_digest(tmp_path / "ds")
    second = standard_bag(1.0, start_ns=T0 + 5 * NS).write(tmp_path / "second")
    with pytest.raises(BadBagError):
        convert_bags(
            [second, corrupt_jpeg_bag(tmp_path)], tmp_path / "ds", config(), append=True, progress=False
        )
    assert tree_digest(tmp_path / "ds") == before and no_leftovers(tmp_path, "ds")
    with pytest.raises(DatasetError) as err:
        convert_bags([second], tmp_path / "ds", config(fps=15), append=True, progress=False)
    assert "fps 30 ≠ 15" in str(err.value)
    with pytest.raises(DatasetError, match="pos_rad"):
        convert_bags(
            [second],
            tmp_path / "ds",
            config(units="lerobot", calibration=str(_calib(tmp_path))),
            append=True,
            progress=False,
        )
    assert tree_digest(tmp_path / "ds") == before and no_leftovers(tmp_path, "ds")


def _calib(tmp_path: Path) -> Path:
    from vla_ros.robot.calibration import save_calibration, sim_calibration

    return save_calibration(sim_calibration(OFFICIAL_LIMITS), tmp_path / "c.json")


def test_interrupted_conversion_leaves_nothing(tmp_path: Path) -> None:
    # Long enough that writing its frames takes a while after the first image appears: the interrupt
    # lands then, mid-episode (0.5 s for 900 frames on a quiet 2-core machine).
    bag = standard_bag(60.0, cameras=("front",)).write(tmp_path / "long")
    code = "import sys; from vla_ros.convert.cli import convert_main; sys.exit(convert_main(sys.argv[1:]))"
    cmd = [
        sys.executable,
        "-c",
        code,
        str(bag),
        "--out",
        str(tmp_path / "ds"),
        "--units",
        "rad",
        "--vcodec",
        "h264",
        "--image-writer-threads",
        "0",
        "--no-progress",
        "--config",
        str(_write_config(tmp_path)),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any((p / "images").is_dir() for p in tmp_path.glob(".ds.partial*")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert not (tmp_path / "ds").exists() and no_leftovers(tmp_path, "ds")


def _write_config(tmp_path: Path) -> Path:
    from vla_ros.paths import config_file

    text = (
        config_file("convert.yaml")
        .read_text()
        .replace("    wrist: {topic: cameras/wrist/image_raw, tolerance_s: 0.1}\n", "")
    )
    path = tmp_path / "convert.yaml"
    path.write_text(text)
    return path


def test_bad_config_lists_every_problem(tmp_path: Path) -> None:
    from vla_ros.errors import ConfigError

    path = tmp_path / "c.yaml"
    path.write_text("fps: 0\nstamps: gps\ntopics:\n  cameras:\n    front-cam: {topic: '', tolerance_s: -1}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    for part in ("fps=0", "stamps='gps'", "empty topic", "tolerance_s=-1", "camera name 'front-cam'"):
        assert part in text
    path.write_text("fsp: 30\n")
    with pytest.raises(ConfigError, match="unknown keys \\['fsp'\\]"):
        load_config(path)
    with pytest.raises(ConfigError, match="need the arm's calibration"):
        convert_bags(
            [standard_bag(1.0).write(tmp_path / "b")], tmp_path / "ds", load_config(), progress=False
        )
    shutil.rmtree(tmp_path / "b")
