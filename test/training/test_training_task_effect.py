"""The task-swap measure of offline evaluation: does the policy's output change with the instruction?

The listening policy is the one the closed loop trained and ships (``policies/so101_reach_cubes``: the
colours swap slots, so the words and the image pick the cube together; the cube reached follows the
instruction in 8 of 10 scenes), replayed through lerobot's SmolVLA on a two-task dataset of the
scene it was trained in (frames rendered by the simulator, the arm at its start pose, where the reach
is chosen); the deaf one is a copy with the embedding of "blue" overwritten by that of "red", so the
two instructions reach the model as the same tokens. A random-weight policy is no control: it barely
responds to one token (measured: under the threshold). On frames that show no cubes (the training
tests' synthetic datasets) this policy does not listen either: the words mean something only with
the cubes in sight.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file, save_file

from vla_ros.paths import shipped_policy_dir
from vla_ros.training.config import EvalConfig
from vla_ros.training.evaluate import evaluate, format_table
from vla_ros.training.task_effect import DEAF_BELOW_STD, swapped_tasks, task_effect

TASKS = ("reach the red cube", "reach the blue cube")


@pytest.fixture(scope="module")
def two_task_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four episodes of the shipped policy's scene (two cubes in slots that swap; 128x96 renders of both
    cameras at the start pose), the tasks alternating; state and action the training data's 10th
    percentile (near the start pose, LeRobot units) with small noise."""
    from lerobot.datasets.lerobot_dataset import LeRobotDataset
    from safetensors.torch import load_file as load_stats

    from vla_ros.robot.joints import LEROBOT_FEATURE_NAMES
    from vla_ros.scheduling import keep_scheduling
    from vla_ros.sim.config import SimConfig
    from vla_ros.sim.render import CameraRenderer
    from vla_ros.sim.world import SimWorld

    normalizer = "policy_preprocessor_step_*_normalizer_processor.safetensors"
    stats = load_stats(next(shipped_policy_dir().glob(normalizer)))
    start = stats["observation.state.q10"].numpy()
    names = list(LEROBOT_FEATURE_NAMES)
    features = {k: {"dtype": "float32", "shape": (6,), "names": names}
                for k in ("observation.state", "action")}
    features |= {f"observation.images.{cam}": {"dtype": "video", "shape": (96, 128, 3),
                                                "names": ["height", "width", "channels"]}
                 for cam in ("front", "wrist")}
    root = tmp_path_factory.mktemp("two_tasks") / "reach"
    ds = LeRobotDataset.create(root.name, fps=30, features=features, root=root, robot_type="so101_follower",
                               use_videos=True)
    world = SimWorld(SimConfig(image_width=128, image_height=96, seed=3, two_cubes=True, cube_layout="slots",
                               swap_slots=True))
    renderer = CameraRenderer(world, 128, 96)
    rng = np.random.default_rng(3)
    try:
        for episode in range(4):
            world.reset(episode + 1)
            world.set_joint_positions(world.start_pose_rad)
            views = {cam: renderer.render(cam) for cam in ("front", "wrist")}
            for _ in range(16):
                state = (start + rng.normal(0, 0.5, 6)).astype(np.float32)
                ds.add_frame({"observation.state": state, "action": state, "task": TASKS[episode % 2],
                              **{f"observation.images.{cam}": img for cam, img in views.items()}})
            with keep_scheduling():
                ds.save_episode()
    finally:
        renderer.close()
    ds.finalize()
    return root


@pytest.fixture(scope="module")
def listening_checkpoint() -> Path:
    return shipped_policy_dir()


def _deafened(checkpoint: Path, out: Path) -> Path:
    from transformers import AutoTokenizer

    shutil.copytree(checkpoint, out)
    ids = [AutoTokenizer.from_pretrained(out / "vlm").convert_tokens_to_ids(t) for t in ("Ġred", "Ġblue")]
    weights = load_file(out / "model.safetensors")
    (key,) = [k for k in weights if k.endswith("embed_tokens.weight")]
    weights[key][ids[1]] = weights[key][ids[0]]
    save_file(weights, out / "model.safetensors")
    return out


def _evaluate(checkpoint: Path, dataset: Path, out: Path, **kw) -> dict:  # type: ignore[no-untyped-def]
    report = evaluate(EvalConfig(checkpoints=[str(checkpoint)], datasets=[str(dataset)], output_dir=str(out),
                                 plot_episodes=0, **kw))
    return {"report": report, "json": json.loads((out / "report.json").read_text())["checkpoints"][0]}


def test_a_listening_policy_changes_its_actions_with_the_task(
        listening_checkpoint: Path, two_task_dataset: Path, tmp_path: Path) -> None:
    run = _evaluate(listening_checkpoint, two_task_dataset, tmp_path / "eval")
    effect = run["json"]["metrics"]["task_effect"]
    assert effect["swapped"] == {TASKS[1]: TASKS[0], TASKS[0]: TASKS[1]}
    assert effect["listens"] and effect["mean_z"] >= 3 * DEAF_BELOW_STD  # measured 0.30
    assert effect["z"][0] == max(effect["z"])  # shoulder_pan: the words choose left or right
    assert len(effect["rms"]) == 6 and all(np.isfinite(effect["rms"]))
    assert "task effect:" in format_table(run["report"]) and "may ignore" not in format_table(run["report"])
    plain = _evaluate(listening_checkpoint, two_task_dataset, tmp_path / "plain", task_swap=False)
    assert plain["json"]["metrics"]["task_effect"] is None
    assert plain["json"]["metrics"]["mae"] == run["json"]["metrics"]["mae"]  # the swap changes no score


def test_a_policy_that_cannot_read_the_colour_is_reported(
        listening_checkpoint: Path, two_task_dataset: Path, tmp_path: Path) -> None:
    deaf = _deafened(listening_checkpoint, tmp_path / "deaf")
    run = _evaluate(deaf, two_task_dataset, tmp_path / "eval")
    effect = run["json"]["metrics"]["task_effect"]
    assert effect["mean_z"] == pytest.approx(0.0, abs=1e-5) and not effect["listens"]
    assert "the policy may ignore it" in format_table(run["report"])


def test_one_task_has_nothing_to_swap() -> None:
    assert swapped_tasks(["pick up the cube"] * 3) == {}
    assert swapped_tasks(["b", "a", "c"]) == {"a": "b", "b": "c", "c": "a"}
    with pytest.raises(ValueError, match="same, non-empty"):
        task_effect([np.zeros((3, 6))], [np.zeros((4, 6))], np.ones(6), {})
