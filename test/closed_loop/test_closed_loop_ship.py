"""Shipping a run's trained policy: whole or not at all, within the size limit."""

import json

import pytest

from vla_ros.closed_loop import ship as ship_module
from vla_ros.closed_loop.ship import ship
from vla_ros.closed_loop.shipped import trained_scene
from vla_ros.errors import ConfigError


def _run(tmp_path, weights: bytes = b"w" * 100):
    run = tmp_path / "run"
    ckpt = run / "train" / "checkpoints" / "last" / "pretrained_model"
    (ckpt / "vlm").mkdir(parents=True)
    (ckpt / "model.safetensors").write_bytes(weights)
    (ckpt / "config.json").write_text(json.dumps({"type": "smolvla", "vlm_model_name": "/abs/start/vlm"}))
    (ckpt / "vlm" / "config.json").write_text("{}")
    (run / "report.json").write_text(json.dumps(
        {"checks": {}, "config": {"cube_layout": "slots", "swap_slots": True, "steps": 2000}}))
    (run / "logs").mkdir()
    (run / "logs" / "train.log").write_text("budget: ...")
    return run


def test_ship_copies_the_checkpoint_and_reports_and_makes_the_vlm_relative(tmp_path):
    dest = ship(_run(tmp_path), tmp_path / "policies" / "p")
    assert (dest / "model.safetensors").read_bytes() == b"w" * 100
    assert json.loads((dest / "config.json").read_text())["vlm_model_name"] == "vlm"
    assert (dest / "closed_loop_report.json").is_file() and (dest / "training_log.txt").is_file()
    assert not (dest / "training_metrics.csv").exists()  # absent in the run: skipped
    assert sorted(p.name for p in dest.parent.iterdir()) == ["p"]  # no staging left
    assert trained_scene(dest) == {"cube_layout": "slots", "swap_slots": "true"}  # for demo:=true
    assert trained_scene(tmp_path) == {}  # any other checkpoint


def test_ship_refuses_a_run_without_a_checkpoint_and_an_oversized_policy(tmp_path, monkeypatch):
    dest = tmp_path / "policies" / "p"
    dest.mkdir(parents=True)
    (dest / "keep").write_text("old")
    with pytest.raises(ConfigError, match="no trained checkpoint"):
        ship(tmp_path / "nothing", dest)
    monkeypatch.setattr(ship_module, "MAX_SHIPPED_BYTES", 50)
    with pytest.raises(ConfigError, match="more than"):
        ship(_run(tmp_path), dest)
    assert (dest / "keep").read_text() == "old"  # left as it was
    assert sorted(p.name for p in dest.parent.iterdir()) == ["p"]


def test_report_summary_gives_success_per_instruction_and_the_missed_checks(tmp_path):
    from vla_ros.closed_loop.shipped import report_summary

    policy = tmp_path / "p"
    policy.mkdir()
    assert report_summary(policy) == ""  # not a shipped closed-loop policy
    (policy / "closed_loop_report.json").write_text(json.dumps({
        "conditions": {"trained": {"per_task": {"reach the red cube": {"successes": 9, "episodes": 10},
                                                "reach the blue cube": {"successes": 7, "episodes": 10}}}},
        "checks": {"trained_success": False, "uses_vision": False, "baseline_low": True,
                   "camera_swap_caught": None}}))
    assert report_summary(policy) == ("p: closed loop, trained: 'reach the red cube' 9/10, 'reach the blue "
                                      "cube' 7/10; checks missed: trained_success, uses_vision")
