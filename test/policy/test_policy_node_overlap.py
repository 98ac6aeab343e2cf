"""replace vs blend vs rtc over real DDS: on the same inputs (the same observation stream, smooth noise),
the largest per-step command jump at the ticks where a new chunk takes over is smaller with blend and
rtc than with replace. The random-weight checkpoint's actions are its noise, so the node runs with its
debug ``noise:=smooth`` (chunks smooth in time and different from each other, as a trained
multimodal policy's are)."""

import numpy as np
import pytest
import rclpy
from policy_ros_harness import Harness, policy_params


@pytest.fixture(scope="module", autouse=True)
def ros():
    rclpy.init()
    yield
    rclpy.shutdown()


def switch_jumps(h: Harness) -> list[float]:
    """Per chunk after the first that arrived in time to overlap the previous one (on a busy machine
    some come late or after the queue ran dry; with no overlap every mode jumps): the command step
    (worst joint, rad) at the tick it took over."""
    _, commands = h.command_array()
    jumps = []
    for chunk in h.chunks[1:]:
        rows = np.array(chunk.actions, dtype=np.float64).reshape(chunk.num_steps, 6)
        if chunk.first_future_index > 3:  # came late (machine busy): too little overlap left
            continue
        first = rows[chunk.first_future_index]
        hits = np.flatnonzero(np.abs(commands - first).max(axis=1) < 1e-5)
        i = hits[0] if len(hits) else 0
        held = i >= 2 and np.array_equal(commands[i - 1], commands[i - 2])  # the queue had run dry
        if i > 0 and not held:
            jumps.append(float(np.abs(commands[i] - commands[i - 1]).max()))
    return jumps


def run(tiny_ckpt, calibration, overlap: str) -> list[float]:
    # 5 Hz and a replan with 15 of 20 actions left: 3 s for a ~0.1 s inference, so chunks overlap even
    # when the shared test machine is busy
    h = Harness(policy_params(tiny_ckpt, calibration, overlap=overlap, noise="smooth", fps=5.0,
                              replan_threshold=15, rtc_execution_horizon=20))
    try:
        assert h.enable().success
        h.wait_for(lambda: len(switch_jumps(h)) >= 4, timeout_s=60)
        return switch_jumps(h)
    finally:
        h.close()


def test_blend_and_rtc_soften_chunk_boundaries(tiny_ckpt, calibration):
    worst = {overlap: max(run(tiny_ckpt, calibration, overlap)) for overlap in ("replace", "blend", "rtc")}
    assert worst["blend"] < 0.5 * worst["replace"], worst
    assert worst["rtc"] < 0.5 * worst["replace"], worst
