"""``vla-ros diagnose`` end to end (report.json schema, plots, stdout, exit status) and bad input: a
clear error naming what is wrong, and nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from diagnose_testlib import episodes, write_bags, write_dataset

from vla_ros.cli import main
from vla_ros.diagnose import SCHEMA, SCHEMA_VERSION, DiagnoseInputError, diagnose
from vla_ros.errors import ConfigError


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["diagnose", *args, "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_writes_report_plots_and_summary(train_dataset, tmp_path, capsys):
    bags = write_bags(tmp_path / "bags", episodes(1, 2), task="Grasp a brain and put it in the bin.")
    out = tmp_path / "diag"
    code, stdout, _ = run_cli(capsys, "--train", str(train_dataset), "--deploy", *map(str, bags),
                              "--out", str(out), "--sim-calibration", "--fail-on", "critical")
    assert code == 3
    report = json.loads((out / "report.json").read_text())
    assert (report["schema"], report["schema_version"]) == (SCHEMA, SCHEMA_VERSION)
    first = report["findings"][0]
    assert {"check", "severity", "message", "joint"} <= set(first)
    assert (first["check"], first["severity"]) == ("task", "critical")
    assert report["summary"]["worst_severity"] == "critical"
    assert report["deployment"]["episodes"] == 2 and report["training"]["episodes"] == 12
    checks = {"task", "cameras", "gripper", "start_state", "smoothness", "distribution", "control"}
    assert set(report["checks"]) >= checks
    for name in report["plots"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {"action_histograms.png", "start_states.png", "jumps.png"} <= set(report["plots"])
    assert " 1. [critical] task: deployment task 'Grasp a brain" in stdout
    assert not list(tmp_path.glob(".diag.partial-*"))


def test_cli_refuses_existing_out(train_dataset, tmp_path, capsys):
    out = tmp_path / "diag"
    out.mkdir()
    (out / "keep").write_text("x")
    bags = write_bags(tmp_path / "bags", episodes(1, 1))
    code, _, err = run_cli(capsys, "--train", str(train_dataset), "--deploy", str(bags[0]), "--out", str(out),
                           "--sim-calibration", "--no-images")
    assert code == 1 and "exists" in err
    assert [p.name for p in out.iterdir()] == ["keep"]


def test_cli_bad_input_writes_nothing(train_dataset, tmp_path, capsys):
    deploy = write_dataset(tmp_path / "deploy_rad", episodes(1, 1), units="rad")
    out = tmp_path / "diag"
    code, _, err = run_cli(capsys, "--train", str(train_dataset), "--deploy", str(deploy), "--out", str(out))
    assert code == 1
    assert "shoulder_pan.pos_rad" in err and "(rad)" in err and "(lerobot)" in err
    assert not out.exists() and not list(tmp_path.glob(".diag*"))


def test_dataset_without_actions(tmp_path):
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    names = [f"j{i}" for i in range(6)]
    ds = LeRobotDataset.create("local/noact", 30, {"observation.state": {"dtype": "float32", "shape": (6,),
                                                                         "names": names}},
                               root=tmp_path / "noact", use_videos=False)
    for _ in range(3):
        ds.add_frame({"observation.state": np.zeros(6, np.float32), "task": "t"})
    ds.save_episode()
    ds.finalize()
    with pytest.raises(DiagnoseInputError, match=r"noact: no 'action' feature \(features: .*state"):
        diagnose(tmp_path / "noact", [tmp_path / "noact"], progress=False)


def test_nan_in_deployment_names_episode_and_frame(train_dataset, tmp_path, sim_config):
    eps = episodes(1, 2)
    eps[1].action[7, 2] = np.nan
    deploy = write_dataset(tmp_path / "deploy", eps)
    with pytest.raises(DiagnoseInputError, match=r"deploy episode 1: action has 1 NaN/inf values \(first at "
                                                 r"frame 7, column 2\)"):
        diagnose(train_dataset, [deploy], config=sim_config, images=False, progress=False)


def test_empty_bag_is_named(train_dataset, tmp_path, sim_config):
    from vla_ros.record.bag import EpisodeBagWriter

    writer = EpisodeBagWriter(tmp_path / "bags", {"/joint_states": "sensor_msgs/msg/JointState"})
    writer.start("Grab the brain")
    bag = writer.stop()
    with pytest.raises(DiagnoseInputError, match=rf"{bag.name}.*no messages"):
        diagnose(train_dataset, [bag], config=sim_config, images=False, progress=False)


def test_bags_in_lerobot_units_need_a_calibration(train_dataset, tmp_path):
    from vla_ros.convert.mapping import load_config

    bags = write_bags(tmp_path / "bags", episodes(1, 1))
    with pytest.raises(ConfigError, match="calibration"):
        diagnose(train_dataset, bags, config=load_config(), images=False, progress=False)


def test_missing_deployment_path(train_dataset, tmp_path):
    with pytest.raises(DiagnoseInputError, match="do not exist"):
        diagnose(train_dataset, [tmp_path / "nowhere"], progress=False)


def test_core_does_not_import_rclpy():
    code = ("import sys, vla_ros.diagnose, vla_ros.diagnose.cli, vla_ros.diagnose.plots; "
            "assert 'rclpy' not in sys.modules, 'rclpy imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent)


def test_bag_with_other_joint_names_is_named(train_dataset, tmp_path, sim_config):
    from diagnose_testlib import T0, chunk_typestore

    from vla_ros.record.bag import EpisodeBagWriter

    ts = chunk_typestore()
    topics = {"/joint_states": "sensor_msgs/msg/JointState", "/joint_commands": "sensor_msgs/msg/JointState"}
    writer = EpisodeBagWriter(tmp_path / "bags", topics, typestore=ts)
    writer.start("Grab the brain")
    names = ["joint1", "joint2", "joint3", "joint4", "joint5", "joint6"]
    for k in range(30):
        t = T0 + k * 33_333_333
        stamp = ts.types["builtin_interfaces/msg/Time"](sec=t // 1_000_000_000, nanosec=t % 1_000_000_000)
        msg = ts.types["sensor_msgs/msg/JointState"](
            header=ts.types["std_msgs/msg/Header"](stamp=stamp, frame_id=""), name=names,
            position=np.zeros(6), velocity=np.zeros(0), effort=np.zeros(0))
        for topic in ("/joint_states", "/joint_commands"):
            writer.write(topic, t, ts.serialize_cdr(msg, "sensor_msgs/msg/JointState"))
    bag = writer.stop()
    with pytest.raises(DiagnoseInputError, match=r"(?s)bags cannot be read.*topic /joint_commands.*"
                                                 r"unknown joints \['joint1'"):
        diagnose(train_dataset, [bag], config=sim_config, images=False, progress=False)
