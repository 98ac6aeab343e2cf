"""The demonstrations' start distribution (contract, LeRobot dataset) and the start-state check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vla_ros.contract import DeploymentContract
from vla_ros.errors import CalibrationError
from vla_ros.robot.calibration import calibration_path, save_calibration, sim_calibration
from vla_ros.robot.joints import JOINT_NAMES, LEROBOT_FEATURE_NAMES
from vla_ros.robot.units import UnitConverter, Units
from vla_ros.safety.errors import StartStateSourceError
from vla_ros.safety.start_state import (
    StartStateDistribution,
    check_start_state,
    episode_start_states,
    load_converter,
    load_start_distribution,
)

SHARED_DATASET = Path(__file__).resolve().parents[3] / "shared" / "data" / "lerobot_v3_nimi_example"
# Demonstrations that start with the arm near zero and the gripper closed (LeRobot units).
DEMO_MEAN_LR = [-8.0, -95.0, 90.0, 70.0, 0.0, 1.2]
DEMO_STD_LR = [3.0, 2.0, 2.0, 2.0, 1.0, 0.8]


@pytest.fixture
def converter(limits) -> UnitConverter:
    calib = sim_calibration({n: (lim.lower_rad, lim.upper_rad) for n, lim in limits.items()})
    return UnitConverter.from_calibration(calib)


@pytest.fixture
def demo(converter) -> StartStateDistribution:
    return StartStateDistribution.from_stats(DEMO_MEAN_LR, DEMO_STD_LR, Units.LEROBOT, converter, "demo")


def test_std_converts_as_a_scale(converter, demo):
    np.testing.assert_allclose(demo.mean_rad, converter.to_ros(np.array(DEMO_MEAN_LR)))
    np.testing.assert_allclose(demo.std_rad[:5], np.radians(DEMO_STD_LR[:5]))
    assert demo.std_rad[5] == pytest.approx(0.8 / 100 * converter.gripper_span_rad)


def test_start_at_the_mean_passes(demo):
    report = check_start_state(demo.mean_rad, demo)
    assert report.ok and report.out == ()
    assert "within" in report.message


def test_gripper_open_when_demonstrations_start_closed_is_called_out(converter, demo):
    state = converter.to_ros(np.array([*DEMO_MEAN_LR[:5], 62.0]))
    report = check_start_state(state, demo, k=2.0, min_std_rad=0.0, converter=converter)
    assert not report.ok
    assert [d.joint for d in report.out] == ["gripper"]
    assert "gripper is open (62.0 %) but the demonstrations start closed (1.2 ± 0.8 %)" in report.message


def test_every_joint_out_is_reported_with_value_and_interval(converter, demo):
    state = demo.mean_rad + np.array([0.5, 0.0, -0.5, 0.0, 0.0, 1.0])
    report = check_start_state(state, demo, k=2.0, min_std_rad=0.05, converter=converter)
    assert [d.joint for d in report.out] == ["shoulder_pan", "elbow_flex", "gripper"]
    pan = report.out[0]
    assert pan.low_rad == pytest.approx(demo.mean_rad[0] - 2 * max(demo.std_rad[0], 0.05))
    assert f"shoulder_pan = {state[0]:.3f} rad" in report.message
    assert f"[{pan.low_rad:.3f}, {pan.high_rad:.3f}] rad" in report.message


def test_gripper_more_closed_without_converter_is_reported_in_radians(demo):
    state = demo.mean_rad.copy()
    state[5] -= 0.5
    report = check_start_state(state, demo, min_std_rad=0.01)
    assert "gripper is more closed" in report.message and "rad" in report.message


def test_std_floor_keeps_a_zero_variance_demo_set_usable():
    dist = StartStateDistribution(np.zeros(6), np.zeros(6), "constant demos")
    near = np.full(6, 0.03)
    assert check_start_state(near, dist, k=2.0, min_std_rad=0.05).ok
    assert not check_start_state(near, dist, k=2.0, min_std_rad=0.0).ok
    far = check_start_state(np.full(6, 0.2), dist, k=2.0, min_std_rad=0.05)
    assert [d.joint for d in far.out] == list(JOINT_NAMES)


def test_lerobot_units_without_calibration_is_a_clear_error():
    with pytest.raises(StartStateSourceError, match="robot_id"):
        StartStateDistribution.from_stats(DEMO_MEAN_LR, DEMO_STD_LR, Units.LEROBOT, None, "demo")


def _contract(mean, std, units=Units.LEROBOT) -> DeploymentContract:
    return DeploymentContract(tasks=["pick"], camera_map={}, fps=30.0, units=units,
                              start_state_mean=list(mean), start_state_std=list(std))


def test_contract_found_in_checkpoint_or_pretrained_model_dir(tmp_path, converter):
    model = tmp_path / "checkpoint" / "pretrained_model"
    model.mkdir(parents=True)
    _contract(DEMO_MEAN_LR, DEMO_STD_LR).save(model)
    for path in (model, model.parent):
        dist, notes = load_start_distribution(path, "", Units.LEROBOT, converter)
        assert dist is not None and notes == []
        np.testing.assert_allclose(dist.mean_rad, converter.to_ros(np.array(DEMO_MEAN_LR)))
        assert "vla_ros_contract.json" in dist.source


def test_contract_in_radians_needs_no_calibration(tmp_path):
    _contract([0.1] * 6, [0.01] * 6, Units.RADIANS).save(tmp_path)
    dist, _ = load_start_distribution(tmp_path, "", Units.LEROBOT, None)
    assert dist is not None
    np.testing.assert_allclose(dist.mean_rad, 0.1)


def test_missing_or_empty_contract_falls_back_with_a_note(tmp_path):
    dist, notes = load_start_distribution(tmp_path, "", Units.LEROBOT, None)
    assert dist is None and "start state unknown: no vla_ros_contract.json records it" in notes[0]
    _contract([], []).save(tmp_path)
    dist, notes = load_start_distribution(tmp_path, "", Units.LEROBOT, None)
    assert dist is None and "start state unknown" in notes[0]


def test_load_converter_reads_the_lerobot_calibration(tmp_path, limits, converter):
    calib = sim_calibration({n: (lim.lower_rad, lim.upper_rad) for n, lim in limits.items()})
    save_calibration(calib, calibration_path("sim_arm", tmp_path))
    assert load_converter("sim_arm", tmp_path) == converter
    assert load_converter("", tmp_path) is None
    with pytest.raises(CalibrationError, match="calibrate"):
        load_converter("other_arm", tmp_path)


def _write_dataset(root: Path, first_states: np.ndarray, names: list[str]) -> None:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    feature = {"dtype": "float32", "shape": (6,), "names": names}
    ds = LeRobotDataset.create("local/safety_test", fps=30, root=root, use_videos=False,
                               features={"observation.state": feature, "action": feature})
    for start in first_states:
        for i in range(4):
            state = (start + 0.1 * i).astype(np.float32)  # only frame 0 is the start
            ds.add_frame({"observation.state": state, "action": state, "task": "pick"})
        ds.save_episode()
    ds.finalize()


def test_dataset_episode_starts_give_mean_and_std(tmp_path, converter):
    rng = np.random.default_rng(1)
    starts = np.array(DEMO_MEAN_LR) + rng.normal(0, 1, (5, 6)) * np.array(DEMO_STD_LR)
    # Columns stored in reverse order: they must come back in JOINT_NAMES order.
    names = list(reversed(LEROBOT_FEATURE_NAMES))
    _write_dataset(tmp_path / "ds", starts[:, ::-1], names)
    got = episode_start_states(tmp_path / "ds")
    np.testing.assert_allclose(got, starts, atol=1e-4)
    dist, _ = load_start_distribution("", tmp_path / "ds", Units.LEROBOT, converter)
    assert dist is not None and "5 episodes" in dist.source
    np.testing.assert_allclose(dist.mean_rad, converter.to_ros(starts.mean(axis=0)), atol=1e-5)


def test_unreadable_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(StartStateSourceError, match="cannot read"):
        episode_start_states(tmp_path / "nothing_here")


@pytest.mark.skipif(not SHARED_DATASET.is_dir(), reason="shared reference dataset absent")
def test_shared_lerobot_dataset_has_one_start_per_episode():
    starts = episode_start_states(SHARED_DATASET)
    assert starts.shape == (6, 6)
    # A format fixture whose states are constant: zero variance, where the std floor matters.
    dist = StartStateDistribution.from_stats(starts.mean(0), starts.std(0), Units.RADIANS, None, "shared")
    assert np.all(dist.std_rad < 1e-6)
    assert check_start_state(dist.mean_rad + 0.05, dist, k=2.0, min_std_rad=0.05).ok
