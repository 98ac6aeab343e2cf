"""The ``ros2 bag record`` backend: command lines per distro, and episodes run as child processes.

The ``ros2`` CLI cannot exist here (it is not pip-installable, like the arm's hardware), so
``fake_ros2.py``, installed as ``ros2`` on PATH, stands in for it: it logs its arguments and writes a
real (empty) bag with rosbags when it gets SIGINT, as rosbag2 does. Everything else is real: the
process handling, the metadata the converter reads, the node's services over DDS.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from record_testlib import Graph
from rosbags.rosbag2 import Reader

from vla_ros.convert.reader import read_custom_data
from vla_ros.record.bag import PARTIAL_DIR
from vla_ros.record.errors import RecorderError
from vla_ros.record.ros2bag import Ros2BagEpisodes, record_command, resolve_backend

TOPICS = ["/ns/joint_states", "/ns/joint_commands", "/ns/cameras/front/image_raw"]


@pytest.fixture
def fake_ros2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Puts the stand-in ``ros2`` first on PATH; returns the file its invocations are logged to."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "ros2"
    script.write_text(f"#!{sys.executable}\n" + (Path(__file__).with_name("fake_ros2.py")).read_text())
    script.chmod(0o755)
    log = tmp_path / "ros2_calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_ROS2_LOG", str(log))
    return log


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def wait_for_call(log: Path, n: int = 1, timeout_s: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while len(calls(log)) < n:
        assert time.monotonic() < deadline, "ros2 was not started"
        time.sleep(0.05)
    return calls(log)[n - 1]


@pytest.mark.parametrize(("distro", "tail"), [("humble", TOPICS), ("jazzy", ["--topics", *TOPICS]),
                                              ("kilted", ["--topics", *TOPICS])])
def test_the_command_line_uses_each_distros_topic_syntax(distro: str, tail: list[str]) -> None:
    command = record_command(Path("/b/episode"), TOPICS, storage="mcap", use_sim_time=True, distro=distro)
    assert command == ["ros2", "bag", "record", "-s", "mcap", "-o", "/b/episode", "--use-sim-time", *tail]
    assert "--use-sim-time" not in record_command(Path("/b/e"), TOPICS, distro=distro)


def test_auto_picks_ros2bag_only_where_the_cli_exists(fake_ros2: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # ros2cli without rosbag2 (as the pip-installed launch tools give): no `ros2 bag` verb.
    assert resolve_backend("auto") == "rosbags"
    # A ROS install has the verb's package on the Python path beside the CLI (stand-in package).
    (tmp_path / "verbs" / "ros2bag").mkdir(parents=True)
    (tmp_path / "verbs" / "ros2bag" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "verbs"))
    assert resolve_backend("auto") == "ros2bag"
    assert resolve_backend("rosbags") == "rosbags"
    monkeypatch.setenv("PATH", "/nonexistent")
    assert resolve_backend("auto") == "rosbags"
    assert resolve_backend("ros2bag") == "ros2bag"


def test_an_episode_is_saved_with_its_task_where_the_converter_reads_it(fake_ros2: Path,
                                                                        tmp_path: Path) -> None:
    episodes = Ros2BagEpisodes(tmp_path / "bags", TOPICS, use_sim_time=True)
    path = episodes.start("pick the red cube", {"recorded_by": "test"})
    args = wait_for_call(fake_ros2)
    assert episodes.recording
    assert args[args.index("-o") + 1] == str(tmp_path / "bags" / PARTIAL_DIR / path.name)
    assert "--use-sim-time" in args and args[-len(TOPICS):] == TOPICS
    with pytest.raises(RecorderError, match="already recording"):
        episodes.start("again")
    assert episodes.stop() == path and not episodes.recording
    assert read_custom_data(path) == {"recorded_by": "test", "task": "pick the red cube"}
    with Reader(path) as reader:
        assert sorted(c.topic for c in reader.connections) == sorted(TOPICS)
    assert episodes.saved == [path]
    assert not list((tmp_path / "bags" / PARTIAL_DIR).iterdir())


def test_a_discarded_episode_leaves_nothing(fake_ros2: Path, tmp_path: Path) -> None:
    episodes = Ros2BagEpisodes(tmp_path / "bags", TOPICS)
    path = episodes.start("pick")
    wait_for_call(fake_ros2)
    assert episodes.discard() == path
    assert not path.exists() and not list((tmp_path / "bags" / PARTIAL_DIR).iterdir())
    with pytest.raises(RecorderError, match="not recording"):
        episodes.stop()


def test_a_failed_recorder_is_reported_and_nothing_is_saved(fake_ros2: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_ROS2_FAIL", "1")
    episodes = Ros2BagEpisodes(tmp_path / "bags", TOPICS)
    path = episodes.start("pick")
    wait_for_call(fake_ros2)
    with pytest.raises(RecorderError, match=r"ros2 bag record \(exit status -?\d+\) left no bag"):
        episodes.stop()
    assert not path.exists() and not episodes.recording and episodes.saved == []


def test_start_waits_for_the_recorders_subscriptions(fake_ros2: Path, tmp_path: Path) -> None:
    asked: list[str] = []

    def subscribed(topic: str) -> bool:  # the graph shows the subscriptions after a few polls
        asked.append(topic)
        return len(asked) > 4

    episodes = Ros2BagEpisodes(tmp_path / "bags", TOPICS, subscribed=subscribed, ready_timeout_s=30.0)
    episodes.start("pick")
    assert len(asked) > 4 and set(asked) == set(TOPICS)  # polled until every topic was subscribed
    episodes.discard()
    never = Ros2BagEpisodes(tmp_path / "bags", TOPICS, subscribed=lambda _: False, ready_timeout_s=0.2)
    with pytest.raises(RecorderError, match="did not subscribe"):
        never.start("pick")
    assert not never.recording and not list((tmp_path / "bags" / PARTIAL_DIR).iterdir())


def test_no_task_or_no_ros2_refuses_to_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RecorderError, match="no task"):
        Ros2BagEpisodes(tmp_path, TOPICS).start(" ")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RecorderError, match="cannot run ros2 bag record"):
        Ros2BagEpisodes(tmp_path, TOPICS).start("pick")


@pytest.mark.parametrize("graph", [{"backend": "ros2bag", "task": "stack", "use_sim_time": True}],
                         indirect=True)
def test_the_node_records_its_resolved_topics_through_ros2_bag(fake_ros2: Path, graph: Graph) -> None:
    assert graph.recorder.backend == "ros2bag"
    assert not graph.recorder.get_subscriptions_info_by_topic(f"{graph.ns}/joint_states")
    start = graph.call("record/start")
    assert start.success, start.message
    args = wait_for_call(fake_ros2)
    recorded = ["joint_states", "joint_commands", "cameras/front/image_raw", "cameras/wrist/image_raw"]
    assert args[args.index("--topics") + 1:] == [f"{graph.ns}/{topic}" for topic in recorded]
    assert "--use-sim-time" in args
    stop = graph.call("record/stop")
    assert stop.success, stop.message
    assert read_custom_data(stop.message)["task"] == "stack"


@pytest.mark.parametrize("graph", [{"backend": "ros2bag", "task": "stack", "recorder_ready_timeout_s": 1.0}],
                         indirect=True)
def test_a_recorder_that_never_subscribes_is_refused_and_leaves_nothing(
        fake_ros2: Path, graph: Graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_ROS2_SUBSCRIBE", "0")
    start = graph.call("record/start")
    assert not start.success and "did not subscribe" in start.message
    assert not graph.recorder.writer.recording
    assert not [p for p in (tmp_path / "bags").iterdir() if p.name != PARTIAL_DIR]
    assert not list((tmp_path / "bags" / PARTIAL_DIR).iterdir())
