"""The converter leaves its caller's CPU scheduling as it found it.

SVT-AV1 (lerobot's default codec) sets the encoding thread to SCHED_FIFO 99 where it may (root); a
process that converted, and everything it starts afterwards, then ran real-time (seen in CI: a headless
browser started after a conversion took both cores from the simulated arm). Real lerobot, real PyAV
encoder, real files.
"""

import os
from pathlib import Path

import numpy as np
import pytest

from vla_ros.convert.writer import DatasetWriter, dataset_features
from vla_ros.scheduling import keep_scheduling, scheduling


def _may_go_real_time() -> bool:
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (OSError, AttributeError):
        return False
    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    return True


needs_real_time = pytest.mark.skipif(not _may_go_real_time(), reason="this process may not use SCHED_FIFO "
                                     "(not root, no CAP_SYS_NICE): the encoder cannot change it either")


def _frames(n: int = 5):
    for i in range(n):
        yield {"observation.state": np.full(6, i, np.float32), "action": np.full(6, i, np.float32),
               "observation.images.front": np.full((48, 64, 3), 10 * i, np.uint8)}


@needs_real_time
def test_writing_av1_videos_keeps_the_callers_scheduling(tmp_path: Path) -> None:
    before = scheduling()
    features = dataset_features("lerobot", {"front": (48, 64, 3)})
    with DatasetWriter(tmp_path / "ds", features, 30, "so101_follower", vcodec="libsvtav1",
                       image_writer_threads=0) as writer:
        writer.add_episode(_frames(), "reach the red cube")
    assert any((tmp_path / "ds" / "videos").rglob("*.mp4"))
    assert scheduling() == before == (os.SCHED_OTHER, 0)


@needs_real_time
def test_keep_scheduling_restores_what_the_block_changed() -> None:
    with keep_scheduling():
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(99))
        assert scheduling() == (os.SCHED_FIFO, 99)
    assert scheduling() == (os.SCHED_OTHER, 0)
