"""bag_recorder (rosbags backend) over real DDS: synthetic joint_states / joint_commands / camera images
published by a test node (record_testlib), recorded, converted with the converter, loaded with lerobot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rclpy.parameter import Parameter
from record_testlib import Graph

from vla_ros.convert import convert_bags, load_config
from vla_ros.convert.reader import read_custom_data


def messages_flowing(g: Graph) -> bool:
    return g.recorder.writer.recording and all(n > 0 for n in g.recorder.writer.counts.values())


@pytest.mark.parametrize("graph", [{"task": "pick the cube"}], indirect=True)
def test_record_convert_and_load(graph: Graph, tmp_path: Path) -> None:
    graph.wait_for(lambda: graph.status and graph.status[-1]["state"] == "idle")
    start = graph.call("record/start")
    assert start.success, start.message
    graph.wait_for(lambda: messages_flowing(graph))
    graph.wait_for(lambda: graph.recorder.writer.counts[f"{graph.ns}/cameras/front/image_raw"] >= 50, 60)
    graph.wait_for(lambda: graph.status[-1]["state"] == "recording")
    stop = graph.call("record/stop")
    assert stop.success and Path(stop.message).is_dir()
    graph.wait_for(lambda: graph.status[-1]["state"] == "idle" and graph.status[-1]["saved"] == 1)
    assert graph.status[-1]["last_saved"] == stop.message
    bag = Path(stop.message)
    assert bag.parent == tmp_path / "bags" and read_custom_data(bag)["task"] == "pick the cube"
    assert list(bag.glob("*.mcap"))

    config = load_config(units="rad", vcodec="h264", namespace=None)
    config = config.__class__(
        **{
            **config.__dict__,
            "mapping": config.mapping.__class__(namespace=graph.ns.strip("/")),
            "on_gap": "split",
        }
    )
    result = convert_bags([bag], tmp_path / "ds", config, progress=False)
    assert result.frames >= 40  # ≥ 50 frames at 25 Hz recorded: about 2 s, at 30 fps
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    ds = LeRobotDataset("local/ds", root=tmp_path / "ds", video_backend="pyav")
    assert len(ds) == result.frames and ds[0]["task"] == "pick the cube"
    item = ds[len(ds) // 2]
    assert item["observation.images.front"].shape == (3, 48, 64)
    state = ds.hf_dataset.with_format("numpy")[:]["observation.state"][:, 0]
    action = ds.hf_dataset.with_format("numpy")[:]["action"][:, 0]
    assert np.all(np.diff(state) >= 0) and np.all(action >= state + 0.1 - 1e-6)


@pytest.mark.parametrize("graph", [{"task": ""}], indirect=True)
def test_discard_and_task_required(graph: Graph, tmp_path: Path) -> None:
    refused = graph.call("record/start")
    assert not refused.success and "no task" in refused.message
    graph.recorder.set_parameters([Parameter("task", value="wave")])
    assert graph.call("record/start").success
    graph.wait_for(lambda: messages_flowing(graph))
    discarded = graph.call("record/discard")
    assert discarded.success and not Path(discarded.message).exists()
    assert not graph.call("record/stop").success
    assert not [p for p in (tmp_path / "bags").iterdir() if not p.name.startswith(".")]


@pytest.mark.parametrize(
    "graph", [{"task": "wave", "autostart": True, "episode_duration_s": 1.5}], indirect=True
)
def test_autostart_and_episode_duration(graph: Graph, tmp_path: Path) -> None:
    graph.wait_for(lambda: bool(graph.recorder.writer.saved), 60)
    bag = graph.recorder.writer.saved[0]
    assert not graph.recorder.writer.recording
    assert read_custom_data(bag)["task"] == "wave"
    from vla_ros.convert.reader import open_bag

    with open_bag(bag) as reader:
        span_s = (reader.end_time - reader.start_time) / 1e9
        topics = {c.topic for c in reader.connections}
    assert 1.0 <= span_s <= 3.0
    assert topics == {
        f"{graph.ns}/{t}"
        for t in ("joint_states", "joint_commands", "cameras/front/image_raw", "cameras/wrist/image_raw")
    }


def test_parameters_are_described(graph: Graph) -> None:
    described = {
        d.name: d
        for d in graph.recorder.describe_parameters(
            ["output_dir", "task", "autostart", "episode_duration_s", "storage"]
        )
    }
    assert described["output_dir"].read_only and described["storage"].read_only
    assert "0 = until record/stop" in described["episode_duration_s"].description
    assert described["episode_duration_s"].floating_point_range[0].to_value == 86400.0


@pytest.mark.parametrize("graph", [{"task": "wave", "on_shutdown": "discard"}, {"task": "wave"}],
                         indirect=True, ids=["discard", "save"])
def test_shutdown_saves_or_discards_the_running_episode(graph: Graph, tmp_path: Path) -> None:
    """``close()`` is what ``run_node`` calls on Ctrl-C: the running episode follows ``on_shutdown``."""
    assert graph.call("record/start").success
    graph.wait_for(lambda: messages_flowing(graph))
    graph.recorder.close()
    assert not graph.recorder.writer.recording
    kept = [p for p in (tmp_path / "bags").iterdir() if not p.name.startswith(".")]
    partial = tmp_path / "bags" / ".partial"
    assert not partial.exists() or not any(partial.iterdir()), "nothing half-written"
    if graph.recorder.cfg.on_shutdown == "discard":
        assert kept == []
    else:
        assert len(kept) == 1 and read_custom_data(kept[0])["task"] == "wave"
