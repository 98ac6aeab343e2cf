"""Round trips: bags with known trajectories and images → convert → LeRobotDataset → every value checked.

Expected values are computed here independently of the converter (explicit loops over the source
stamps), then compared with what lerobot loads back.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from convert_testlib import (
    NS,
    SHARED,
    T0,
    TS,
    BagSpec,
    frame_colour,
    load_dataset,
    regular,
    standard_bag,
    trajectory,
)

from vla_ros.convert import convert_bags, load_config, validate_dataset
from vla_ros.convert.mapping import StreamSpec
from vla_ros.convert.writer import dataset_features
from vla_ros.robot.calibration import load_calibration
from vla_ros.robot.units import UnitConverter

FPS = 30


def expected_ticks(streams: list[list[int]], fps: int = FPS) -> list[int]:
    start = max(s[0] for s in streams)
    end = min(s[-1] for s in streams)
    ticks, k = [], 0
    while (t := start + round(k * NS / fps)) <= end:
        ticks.append(t)
        k += 1
    return ticks


def latest_at_or_before(stamps: list[int], t: int) -> int:
    return max(i for i, s in enumerate(stamps) if s <= t)


def first_at_or_after(stamps: list[int], t: int) -> int:
    return min(i for i, s in enumerate(stamps) if s >= t)


def mean_colour(img_chw) -> np.ndarray:
    return img_chw.numpy().reshape(3, -1).mean(axis=1) * 255


def nearest_index(colour: np.ndarray, camera: int, count: int) -> int:
    return int(
        np.argmin([np.abs(frame_colour(i, camera).astype(float) - colour).max() for i in range(count)])
    )


def mixed_rate_bag(rng: np.random.Generator) -> tuple[BagSpec, dict[str, list[int]]]:
    """100 Hz joints (±1 ms jitter), 100 Hz commands, two 30 Hz cameras with ±4 ms jitter, dropped frames
    and 15 ms transport delay between header stamp and bag receive time."""
    joints = [t + int(rng.integers(-1_000_000, 1_000_000)) for t in regular(T0, 100, 2.0)]
    commands = regular(T0 + 5_000_000, 100, 2.0)
    cams = {}
    for c, (name, drops) in enumerate((("front", {10, 11, 25}), ("wrist", {40}))):
        base = regular(T0 + 2_000_000 + c * 7_000_000, 30, 2.0)
        cams[name] = [
            t + int(rng.integers(-4_000_000, 4_000_000)) for i, t in enumerate(base) if i not in drops
        ]
    spec = BagSpec(custom={"task": "stack the blocks"})
    spec.joints("/joint_states", joints, log_delay_ns=2_000_000)
    spec.joints("/joint_commands", commands, offset=0.1)
    for c, (name, stamps) in enumerate(cams.items()):
        spec.camera(f"/cameras/{name}/image_raw", stamps, camera=c, log_delay_ns=15_000_000)
    return spec, {"state": joints, "action": commands, **cams}


def test_mixed_rate_streams_align_as_specified(tmp_path: Path, calibration_file: Path) -> None:
    spec, stamps = mixed_rate_bag(np.random.default_rng(7))
    bag = spec.write(tmp_path / "mixed")
    config = load_config(calibration=str(calibration_file))
    cameras = {n: StreamSpec(f"cameras/{n}/image_raw", 0.15) for n in ("front", "wrist")}
    config = config.__class__(**{**config.__dict__, "mapping": config.mapping.__class__(cameras=cameras)})
    result = convert_bags([bag], tmp_path / "ds", config, progress=False)

    ticks = expected_ticks(list(stamps.values()))
    assert result.episodes == [(str(bag), len(ticks))]
    ds = load_dataset(tmp_path / "ds")
    assert ds.fps == FPS and ds.num_episodes == 1 and len(ds) == len(ticks)
    units = UnitConverter.from_calibration(load_calibration(calibration_file))
    table = ds.hf_dataset.with_format("numpy")[:]
    for k, t in enumerate(ticks):
        state_t = stamps["state"][latest_at_or_before(stamps["state"], t)]
        action_t = stamps["action"][first_at_or_after(stamps["action"], t)]
        assert state_t <= t and action_t >= t
        np.testing.assert_allclose(
            table["observation.state"][k], units.to_lerobot(trajectory(state_t)), rtol=1e-6, atol=1e-4
        )
        np.testing.assert_allclose(
            table["action"][k], units.to_lerobot(trajectory(action_t, 0.1)), rtol=1e-6, atol=1e-4
        )
        assert table["frame_index"][k] == k
        assert table["timestamp"][k] == pytest.approx(k / FPS, abs=1e-5)
    for k in range(0, len(ticks), 3):  # sampled pixels: the frame each tick shows is the expected one
        item = ds[k]
        for c, name in enumerate(("front", "wrist")):
            want = latest_at_or_before(stamps[name], ticks[k])
            colour = mean_colour(item[f"observation.images.{name}"])
            assert np.abs(colour - frame_colour(want, c)).max() < 12, (k, name)
            assert nearest_index(colour, c, len(stamps[name])) == want
    assert "observation.images.front" in result.report and "/joint_commands" in result.report


def test_header_versus_receive_stamps(tmp_path: Path) -> None:
    spec, stamps = mixed_rate_bag(np.random.default_rng(3))
    bag = spec.write(tmp_path / "bag")
    cameras = {n: StreamSpec(f"cameras/{n}/image_raw", 0.15) for n in ("front", "wrist")}
    base = load_config(units="rad", vcodec="h264", stamps="receive")
    config = base.__class__(**{**base.__dict__, "mapping": base.mapping.__class__(cameras=cameras)})
    convert_bags([bag], tmp_path / "ds", config, progress=False)
    table = load_dataset(tmp_path / "ds").hf_dataset.with_format("numpy")[:]
    receive = {
        "state": [t + 2_000_000 for t in stamps["state"]],
        "action": stamps["action"],
        **{n: [t + 15_000_000 for t in stamps[n]] for n in ("front", "wrist")},
    }
    ticks = expected_ticks(list(receive.values()))
    assert len(table["index"]) == len(ticks)
    for k, t in enumerate(ticks):
        i = latest_at_or_before(receive["state"], t)
        np.testing.assert_allclose(table["observation.state"][k], trajectory(stamps["state"][i]), atol=1e-6)


def test_episode_boundaries_tasks_and_schema(tmp_path: Path) -> None:
    bags = [
        standard_bag(1.0, task="pick the cube").write(tmp_path / "a"),
        standard_bag(1.5, task="place the cube", start_ns=T0 + 50 * NS).write(tmp_path / "b"),
    ]
    config = load_config(
        units="rad",
        vcodec="h264",
        mapping=load_config().mapping.__class__(
            cameras={"front": StreamSpec("cameras/front/image_raw", 0.1)}
        ),
    )
    result = convert_bags(bags, tmp_path / "ds", config, progress=False)
    lengths = [n for _, n in result.episodes]
    assert lengths == [30, 45]  # commands start 3 ms late: floor((1.0 - 0.003) * 30) + 1, idem for 1.5 s
    ds = load_dataset(tmp_path / "ds")
    assert ds.num_episodes == 2 and len(ds) == 75
    assert [int(e["length"]) for e in ds.meta.episodes] == lengths
    assert ds[0]["task"] == "pick the cube" and ds[30]["task"] == "place the cube"
    assert int(ds[29]["episode_index"]) == 0 and int(ds[30]["episode_index"]) == 1
    assert int(ds[30]["frame_index"]) == 0
    info = json.loads((tmp_path / "ds" / "meta" / "info.json").read_text())
    assert info["robot_type"] == "so101_follower" and info["fps"] == FPS
    assert info["features"]["observation.state"]["names"] == [
        f"{j}.pos_rad"
        for j in ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper")
    ]
    assert validate_dataset(tmp_path / "ds").ok


def test_features_equal_lerobot_record_for_so101_follower() -> None:
    from lerobot.cameras.opencv import OpenCVCameraConfig
    from lerobot.datasets.utils import hw_to_dataset_features
    from lerobot.robots.so_follower import SO101Follower, SO101FollowerConfig

    robot = SO101Follower(
        SO101FollowerConfig(
            port="/dev/null",
            cameras={
                "front": OpenCVCameraConfig(index_or_path=0, width=640, height=480, fps=30),
                "wrist": OpenCVCameraConfig(index_or_path=1, width=320, height=240, fps=30),
            },
        )
    )
    record = {
        **hw_to_dataset_features(robot.action_features, "action"),
        **hw_to_dataset_features(robot.observation_features, "observation"),
    }
    ours = dataset_features("lerobot", {"front": (480, 640, 3), "wrist": (240, 320, 3)})
    assert ours == record


def test_info_json_follows_lerobot_written_so101_dataset(tmp_path: Path, calibration_file: Path) -> None:
    example = SHARED / "data" / "lerobot_v3_nimi_example" / "meta" / "info.json"
    if not example.is_file():
        pytest.skip("shared lerobot example dataset not available")
    bag = standard_bag(1.0, cameras=("wrist",)).write(tmp_path / "bag")
    config = load_config(
        calibration=str(calibration_file),
        vcodec="h264",
        mapping=load_config().mapping.__class__(
            cameras={"wrist": StreamSpec("cameras/wrist/image_raw", 0.1)}
        ),
    )
    convert_bags([bag], tmp_path / "ds", config, progress=False)
    ours = json.loads((tmp_path / "ds" / "meta" / "info.json").read_text())
    ref = json.loads(example.read_text())
    for key in ("codebase_version", "robot_type", "chunks_size", "data_path", "video_path", "fps"):
        assert ours[key] == ref[key], key
    assert set(ours) >= set(ref) - {"video_files_size_in_mb"}
    assert set(ours["features"]) == set(ref["features"])
    for key, feature in ref["features"].items():
        mine = ours["features"][key]
        assert mine["dtype"] == feature["dtype"], key
        assert len(mine["shape"]) == len(feature["shape"]), key
        if key in ("observation.state", "action"):
            assert mine["shape"] == [6]
            assert mine["names"] == [
                f"{j}.pos"
                for j in (
                    "shoulder_pan",
                    "shoulder_lift",
                    "elbow_flex",
                    "wrist_flex",
                    "wrist_roll",
                    "gripper",
                )
            ]
        if feature["dtype"] == "video":
            assert set(mine["info"]) == set(feature["info"])
            assert mine["info"]["video.pix_fmt"] == feature["info"]["video.pix_fmt"]
            assert mine["shape"][2] == 3


@pytest.mark.parametrize(("storage", "version", "kind"), [("sqlite3", 8, "compressed"), ("mcap", 9, "raw")])
def test_storage_formats_versions_and_compressed_images(
    tmp_path: Path, storage: str, version: int, kind: str
) -> None:
    spec = BagSpec(custom={"task": "t"})
    spec.joints("/joint_states", regular(T0, 50, 1.0))
    spec.joints("/joint_commands", regular(T0, 50, 1.0), offset=0.1)
    cam = regular(T0, 30, 1.0)
    spec.camera("/cameras/front/image_raw", cam, kind=kind)
    bag = spec.write(tmp_path / "bag", storage=storage, version=version)
    config = load_config(
        units="rad",
        vcodec="h264",
        mapping=load_config().mapping.__class__(
            cameras={"front": StreamSpec("cameras/front/image_raw", 0.1)}
        ),
    )
    convert_bags([bag], tmp_path / "ds", config, progress=False)
    ds = load_dataset(tmp_path / "ds")
    assert len(ds) == 31
    colour = mean_colour(ds[17]["observation.images.front"])
    assert nearest_index(colour, 0, len(cam)) == 17


def test_split_bag_with_two_files(tmp_path: Path) -> None:
    """A rosbag2 bag split into two MCAP files (as ``ros2 bag record --max-bag-duration`` writes)."""
    import yaml

    full = standard_bag(2.0)
    half = T0 + NS
    parts = []
    for n, keep in enumerate((lambda t: t < half, lambda t: t >= half)):
        part = BagSpec(messages=[m for m in full.messages if keep(m[2])], custom=full.custom)
        parts.append(part.write(tmp_path / f"part{n}"))
    bag = tmp_path / "split"
    bag.mkdir()
    metas = []
    for n, part in enumerate(parts):
        (part / f"part{n}.mcap").rename(bag / f"split_{n}.mcap")
        metas.append(yaml.safe_load((part / "metadata.yaml").read_text())["rosbag2_bagfile_information"])
    merged = metas[0]
    merged["relative_file_paths"] = ["split_0.mcap", "split_1.mcap"]
    merged["files"] = [dict(m["files"][0], path=f"split_{n}.mcap") for n, m in enumerate(metas)]
    merged["message_count"] = sum(m["message_count"] for m in metas)
    merged["duration"]["nanoseconds"] = (
        metas[1]["starting_time"]["nanoseconds_since_epoch"]
        + metas[1]["duration"]["nanoseconds"]
        - metas[0]["starting_time"]["nanoseconds_since_epoch"]
    )
    for topic, other in zip(merged["topics_with_message_count"], metas[1]["topics_with_message_count"]):
        topic["message_count"] += other["message_count"]
    (bag / "metadata.yaml").write_text(yaml.safe_dump({"rosbag2_bagfile_information": merged}))
    config = load_config(
        units="rad",
        vcodec="h264",
        mapping=load_config().mapping.__class__(
            cameras={"front": StreamSpec("cameras/front/image_raw", 0.1)}
        ),
    )
    result = convert_bags([bag], tmp_path / "ds", config, progress=False)
    assert result.episodes == [(str(bag), 60)]  # floor((2.0 - 0.003) * 30) + 1


def test_episode_markers_split_a_long_bag(tmp_path: Path) -> None:
    spec = standard_bag(3.0)
    markers = ((T0 + 200_000_000, True), (T0 + NS, False), (T0 + 1_500_000_000, True))
    for t, value in markers:
        spec.add("/episode", "std_msgs/msg/Bool", t, TS.types["std_msgs/msg/Bool"](data=value))
    bag = spec.write(tmp_path / "long")
    mapping = load_config().mapping.__class__(
        cameras={"front": StreamSpec("cameras/front/image_raw", 0.1)}, episode_topic="episode"
    )
    result = convert_bags(
        [bag], tmp_path / "ds", load_config(units="rad", vcodec="h264", mapping=mapping), progress=False
    )
    streams = [
        [m[2] for m in spec.messages if m[0] == topic]
        for topic in ("/joint_states", "/joint_commands", "/cameras/front/image_raw")
    ]
    want = []
    for lo, hi in ((markers[0][0], markers[1][0]), (markers[2][0], T0 + 10 * NS)):
        want.append(len(expected_ticks([[t for t in s if lo <= t < hi] for s in streams])))
    assert [n for _, n in result.episodes] == want == [23, 45]
    ds = load_dataset(tmp_path / "ds")
    first_tick = max(min(t for t in s if t >= markers[2][0]) for s in streams)
    state_t = max(t for t in streams[0] if t <= first_tick)
    np.testing.assert_allclose(
        ds.hf_dataset.with_format("numpy")[23]["observation.state"], trajectory(state_t), atol=1e-6
    )


def test_append_episodes_to_existing_dataset(tmp_path: Path) -> None:
    config = load_config(
        units="rad",
        vcodec="h264",
        mapping=load_config().mapping.__class__(
            cameras={"front": StreamSpec("cameras/front/image_raw", 0.1)}
        ),
    )
    first = standard_bag(1.0, task="a").write(tmp_path / "a")
    second = standard_bag(1.0, task="b", start_ns=T0 + 10 * NS).write(tmp_path / "b")
    convert_bags([first], tmp_path / "ds", config, progress=False)
    before = load_dataset(tmp_path / "ds").hf_dataset.with_format("numpy")[:]["observation.state"]
    result = convert_bags([second], tmp_path / "ds", config, append=True, progress=False)
    assert result.episodes == [(str(second), 30)]
    ds = load_dataset(tmp_path / "ds")
    assert ds.num_episodes == 2 and len(ds) == 60
    after = ds.hf_dataset.with_format("numpy")[:]["observation.state"]
    np.testing.assert_array_equal(after[:30], before)
    np.testing.assert_allclose(after[30], trajectory(T0 + 10 * NS), atol=1e-6)
    assert ds[45]["task"] == "b"
    assert validate_dataset(tmp_path / "ds").ok
    assert not list(tmp_path.glob(".ds.*"))
