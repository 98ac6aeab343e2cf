"""``vla-ros convert`` / ``vla-ros validate`` command lines, and validation catching broken datasets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from convert_testlib import NS, SHARED, T0, standard_bag

from vla_ros.convert.cli import convert_main, validate_main
from vla_ros.convert.validate import validate_dataset


def one_camera_config(tmp_path: Path) -> Path:
    from vla_ros.paths import config_file

    path = tmp_path / "convert.yaml"
    path.write_text(
        config_file("convert.yaml")
        .read_text()
        .replace("    wrist: {topic: cameras/wrist/image_raw, tolerance_s: 0.1}\n", "")
    )
    return path


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    bags = [
        str(standard_bag(1.0).write(tmp / "a")),
        str(standard_bag(1.0, task="other", start_ns=T0 + 3 * NS).write(tmp / "b")),
    ]
    status = convert_main(
        [
            *bags,
            "--out",
            str(tmp / "ds"),
            "--config",
            str(one_camera_config(tmp)),
            "--units",
            "rad",
            "--vcodec",
            "h264",
            "--no-progress",
        ]
    )
    assert status == 0
    return tmp / "ds"


def test_convert_cli_prints_sync_statistics(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bag = standard_bag(1.0, start_ns=T0 + 9 * NS).write(dataset.parent / "c")
    copy = dataset.parent / "appended"
    shutil.copytree(dataset, copy)
    status = convert_main(
        [
            str(bag),
            "--out",
            str(copy),
            "--append",
            "--config",
            str(one_camera_config(dataset.parent)),
            "--units",
            "rad",
            "--vcodec",
            "h264",
            "--task",
            "flag task",
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "observation.images.front" in out and "lag med/p95/max ms" in out and "/joint_states" in out
    assert "wrote 1 episodes, 30 frames" in out and "appended" in out


def test_convert_cli_errors_exit_1_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = standard_bag(1.0, task=None, cameras=("front", "wrist")).write(tmp_path / "bag")
    assert convert_main([str(bag), "--out", str(tmp_path / "ds"), "--units", "rad"]) == 1
    err = capsys.readouterr().err
    assert f"bag {bag}" in err and "no task" in err
    assert convert_main([str(bag), "--out", str(tmp_path / "ds")]) == 1
    assert "--sim-calibration" in capsys.readouterr().err
    assert not (tmp_path / "ds").exists()
    with pytest.raises(SystemExit):
        convert_main(["--out", "x"])


def test_validate_passes_a_converted_dataset(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate_main([str(dataset)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "observation.images.front:" in out and "frames decoded" in out


def test_validate_reports_every_problem(dataset: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(dataset, broken)
    info_path = broken / "meta" / "info.json"
    info = json.loads(info_path.read_text())
    info["total_frames"] += 5
    info_path.write_text(json.dumps(info))
    stats_path = broken / "meta" / "stats.json"
    stats = json.loads(stats_path.read_text())
    stats["action"]["max"][0] += 1.0
    del stats["observation.state"]
    stats_path.write_text(json.dumps(stats))
    data = next((broken / "data").rglob("*.parquet"))
    table = pd.read_parquet(data)
    table.loc[(table["episode_index"] == 0) & (table["frame_index"] == 3), "timestamp"] = 0.5
    table.to_parquet(data)
    report = validate_dataset(broken)
    text = "\n".join(report.problems)
    assert not report.ok
    assert "total_frames" in text
    assert "stats.json has no entry for observation.state" in text
    assert "stats action.max" in text
    assert "episode 0: timestamp of frame 3" in text


def test_validate_detects_missing_video_frames(dataset: Path, tmp_path: Path) -> None:
    import av
    import numpy as np

    broken = tmp_path / "short_video"
    shutil.copytree(dataset, broken)
    video = next((broken / "videos").rglob("*.mp4"))
    with av.open(str(video)) as src:
        frames = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    with av.open(str(video), "w") as dst:
        stream = dst.add_stream("h264", rate=30)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for img in frames[:-10]:
            for packet in stream.encode(
                av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            ):
                dst.mux(packet)
        for packet in stream.encode():
            dst.mux(packet)
    report = validate_dataset(broken)
    assert not report.ok
    assert any("video frames in" in p for p in report.problems), report.problems


def test_validate_non_dataset(tmp_path: Path) -> None:
    assert validate_main([str(tmp_path)]) == 1


def test_validate_lerobot_written_example(tmp_path: Path) -> None:
    example = SHARED / "data" / "lerobot_v3_nimi_example"
    if not example.is_dir():
        pytest.skip("shared lerobot example dataset not available")
    copy = tmp_path / "nimi"
    shutil.copytree(example, copy)
    for p in copy.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    report = validate_dataset(copy)
    assert report.ok, report.summary()
    assert report.frames == 1782 and report.video_frames["observation.images.wrist"] == 1782
