"""Inference in a child process: the same contract as in-process, errors cross the process boundary,
and the node runs that way over DDS. (Each child imports torch and lerobot: ~10 s per test.)"""

import numpy as np
import pytest
import rclpy
from policy_ros_harness import Harness, policy_params
from policy_testlib import CHUNK, TASKS, snapshot

from vla_ros.errors import StaleDataError
from vla_ros.msg import PolicyStatus
from vla_ros.policy.process import PipelineProcess, PipelineSpec


@pytest.mark.slow
def test_pipeline_in_a_child_process(tiny_ckpt, converter):
    proc = PipelineProcess(PipelineSpec(str(tiny_ckpt), gripper_span_rad=converter.gripper_span_rad,
                                        torch_threads=1))
    try:
        assert proc.chunk_size == CHUNK
        out = proc.predict(snapshot(3.0), TASKS[0], now_s=3.0, max_age_s=0.5)
        assert out.actions_rad.shape == (CHUNK, 6) and np.isfinite(out.actions_rad).all()
        assert out.obs_time_s == 3.0 and out.raw.shape == (CHUNK, 6)
        with pytest.raises(StaleDataError, match=r"is 2\.000 s old"):
            proc.predict(snapshot(1.0), TASKS[0], now_s=3.0, max_age_s=0.5)
        assert proc.predict(snapshot(3.0), TASKS[0], now_s=3.0, max_age_s=0.5).actions_rad.shape == (CHUNK, 6)
    finally:
        proc.close()


@pytest.mark.slow
def test_node_with_inference_in_a_child_process(tiny_ckpt, calibration):
    rclpy.init()
    h = Harness(policy_params(tiny_ckpt, calibration, inference_process=True))
    try:
        assert h.enable().success
        h.wait_for(lambda: len(h.commands) >= 15)
        status = h.wait_for(lambda: h.status.chunks_done >= 2 and h.status)
        assert status.state in (PolicyStatus.STATE_RUNNING, PolicyStatus.STATE_HOLDING)
    finally:
        h.close()
        rclpy.shutdown()
