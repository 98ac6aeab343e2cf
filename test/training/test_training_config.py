"""TrainConfig validation and its command-line flags."""

from __future__ import annotations

import argparse

import pytest

from vla_ros.errors import ConfigError
from vla_ros.training.config import TrainConfig, add_config_arguments, config_from_args, parse_episode_weights


def test_defaults_are_the_seed_values() -> None:
    cfg = TrainConfig(datasets=["d"])
    assert cfg.video_backend == "pyav"
    assert (cfg.train_brightness, cfg.train_contrast) == ([0.8, 1.2], [0.8, 1.2])
    assert (cfg.train_saturation, cfg.train_hue) == ([0.5, 1.5], [-0.05, 0.05])
    assert cfg.val_brightness[1] <= 1.0 and cfg.val_contrast[0] >= 1.0  # darker, higher contrast
    assert cfg.wandb is False


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as err:
        TrainConfig(datasets=[], batch_size=0, video_backend="ffmpeg", train_hue=[0.1, -0.1],
                    joint_weights=[-1.0], episode_weights=["x=1"], rename_map=["nokey"])
    msg = str(err.value)
    for needle in ("datasets", "batch_size=0", "video_backend", "train_hue", "joint_weights",
                   "episode_weights", "rename_map"):
        assert needle in msg, needle


@pytest.mark.parametrize(("items", "expected"), [
    ([], {}),
    (["3=2.5"], {(0, 3): 2.5}),
    (["1:4=0", "0:2=3"], {(1, 4): 0.0, (0, 2): 3.0}),
])
def test_parse_episode_weights(items: list[str], expected: dict) -> None:
    assert parse_episode_weights(items) == expected


@pytest.mark.parametrize("item", ["a=1", "3=heavy", "3=-1", "3"])
def test_parse_episode_weights_rejects(item: str) -> None:
    with pytest.raises(ConfigError):
        parse_episode_weights([item])


def test_flags_build_the_config() -> None:
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, TrainConfig, positional="datasets")
    args = parser.parse_args(["ds1", "ds2", "--batch-size", "4", "--no-augment", "--joint-weights", "1", "2",
                              "1", "1", "1", "3", "--mixed-precision", "bf16",
                              "--rename-map", "observation.images.front=observation.images.c1"])
    cfg = config_from_args(TrainConfig, args)
    assert cfg.datasets == ["ds1", "ds2"] and cfg.batch_size == 4 and cfg.augment is False
    assert cfg.joint_weights == [1.0, 2.0, 1.0, 1.0, 1.0, 3.0]
    assert cfg.rename() == {"observation.images.front": "observation.images.c1"}
    assert cfg.steps == TrainConfig(datasets=["x"]).steps  # untouched flags keep defaults
    with pytest.raises(SystemExit):
        parser.parse_args(["ds", "--mixed-precision", "fp64"])


def test_json_round_trip() -> None:
    cfg = TrainConfig(datasets=["a"], temporal_alpha=1.5, episode_weights=["2=3"])
    import json
    assert TrainConfig.from_dict(json.loads(cfg.to_json())) == cfg
    with pytest.raises(ConfigError):
        TrainConfig.from_dict({"datasets": ["a"], "bogus": 1})
